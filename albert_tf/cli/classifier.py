r"""Fine-tune ALBERT for classification or regression: GLUE, CLUE and your own files.

    albert-classifier --flagfile=flags/glue/sst-2.flags --data_dir=glue/SST-2 \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/sst-2

(also `python run_classifier.py ...` or `python -m albert_tf.cli.classifier`). Tasks
(--task_name): cola, sst-2, mrpc, sts-b (regression), qqp, mnli (dev_matched, also scored on
dev_mismatched), qnli, rte, wnli, lcqmc, afqmc, xnli-zh, and `generic`: any TSV/CSV/JSON-lines
files given by --train_file/--dev_file/--test_file with --text_a_column, --text_b_column,
--label_column and --label_list. The task is `albert_tf.tasks.classifier_task`; the loop
`albert_tf.training.training_loop`.
"""

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.tasks.classification_tasks import TASKS
from albert_tf.tasks.classifier_config import ClassifierConfig

FLAGS = flags.FLAGS

flag_groups.define_finetuning_flags()
flags.DEFINE_enum("task_name", None, sorted(TASKS) + ["generic"], "The task.")
flags.DEFINE_string("train_file", None, "generic: training file (.tsv/.txt, .csv or .json/.jsonl).")
flags.DEFINE_string("dev_file", None, "generic: dev file.")
flags.DEFINE_string("test_file", None, "generic: test file (labels not needed).")
flags.DEFINE_string("text_a_column", "0", "generic: column index or JSON key of the first text.")
flags.DEFINE_string("text_b_column", None, "generic: column of the second text (pairs).")
flags.DEFINE_string("label_column", "1", "generic: column of the label.")
flags.DEFINE_string("index_column", None, "generic: column of the example id (predictions).")
flags.DEFINE_string("label_list", None, "generic: comma-separated labels; unset means regression.")
flags.DEFINE_bool("has_header", True, "generic: TSV/CSV files start with a header row.")


def configs_from_flags():
    """(task config, training config) from the parsed flags, validated."""
    return flag_groups.finetuning_configs(ClassifierConfig())


def main(argv):
    del argv
    console.run_job("classifier", *configs_from_flags())


def run():
    """The `albert-classifier` command."""
    console.run(main)


if __name__ == "__main__":
    run()
