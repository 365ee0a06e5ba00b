r"""Distil a fine-tuned ALBERT into a smaller, faster student: albert-distill TASK [the task's flags].

    albert-distill classifier --task_name=sst-2 --data_dir=glue/SST-2 --spm_model_file=30k-clean.model \
        --teacher_checkpoint=runs/sst-2/export/model.ckpt-best --student_num_hidden_layers=4 \
        --student_hidden_size=312 --output_dir=runs/sst-2-student --do_train --do_eval \
        --soft_target_weight=1 --temperature=2 --hidden_weight=1 --attention_score_weight=1

TASK is pretrain (general distillation: TinyBERT's first stage, on pretraining data, the teacher a pretrained
model), classifier, squad, race or ner (task distillation): the command takes every flag of albert-TASK
(data, model, training) and needs --teacher_checkpoint, the teacher (a run's export/model.ckpt-best, an
original checkpoint with albert_config.json beside it, or a Hugging Face folder; a model of the same task).
The student is the teacher's config with the shape of --student_preset and the --student_* sizes (or
--albert_config_file, a config of your own). A general-distilled student's export is the --init_checkpoint
of the task distillation that follows. The loss weights (--soft_target_weight, --hard_label_weight,
--hidden_weight, --embedding_weight, --attention_score_weight, --attention_kl_weight, --value_relation_weight,
--query_key_relation_weight; 0 turns one off), --temperature, --relation_heads and --layer_map choose the
recipe (albert_tf.distillation). The run is an ordinary run of the loop: it resumes, evaluates the student,
keeps its best weights and exports the student (export/, saved_model/). `albert-TASK --teacher_checkpoint=...`
runs the same job.
"""

import importlib
import sys

from absl import flags

from albert_tf.cli import console
from albert_tf.errors import ConfigError

COMMANDS = {"pretrain": "albert_tf.cli.pretrain", "classifier": "albert_tf.cli.classifier",
            "squad": "albert_tf.cli.squad", "race": "albert_tf.cli.race", "ner": "albert_tf.cli.ner"}


def usage():
    return (f"usage: albert-distill TASK [flags]  (TASK: {', '.join(COMMANDS)}; "
            "albert-distill TASK --help lists the flags)")


def run():
    """The `albert-distill` command."""
    argv = list(sys.argv)
    if len(argv) < 2 or argv[1] not in COMMANDS:
        if len(argv) > 1 and argv[1] in console.HELP_FLAGS:
            print(__doc__.strip() + "\n\n" + usage())
            sys.exit(0)
        sys.stderr.write(f"error: {'no TASK given' if len(argv) < 2 else f'TASK={argv[1]!r} is not a task'}\n"
                         f"{usage()}\n")
        sys.exit(2)
    command = importlib.import_module(COMMANDS[argv[1]])

    def main(args):
        if not flags.FLAGS.teacher_checkpoint:
            raise ConfigError("teacher_checkpoint is not set: albert-distill needs the teacher (e.g. "
                              "--teacher_checkpoint=runs/sst-2/export/model.ckpt-best)")
        return command.main(args)

    main.__module__ = __name__  # --help shows this docstring
    console.run(main, [f"{argv[0]} {argv[1]}"] + argv[2:])


if __name__ == "__main__":
    run()
