r"""ALBERT pretraining (MLM + SOP) with LAMB, tf.distribute and mixed precision.

    albert-pretrain --flagfile=flags/albert_base.flags --input_file='data/train.tfrecord-*' --output_dir=runs/base
    albert-pretrain --demo                  # the embedded demo (no network, 3 to 6 minutes on 2 cores)

(also `python run_pretraining.py ...` in the source tree, or `python -m albert_tf.cli.pretrain`).
The flags become a `TrainingConfig` and a `PretrainingConfig`; the run is
`albert_tf.training.training_loop.run_training` (its docstring says what
happens, in order).
"""

import os

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.distillation.distillation_config import DistillationConfig
from albert_tf.tasks.pretraining_config import PretrainingConfig
from albert_tf.training.training_config import TrainingConfig

FLAGS = flags.FLAGS
DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo")
DEFAULTS = TrainingConfig.for_pretraining()

flags.DEFINE_bool("demo", False, "Run the embedded demo: the settings of albert_tf/demo/demo.flags (flags "
                  "given on the command line win).")
flag_groups.define_flags(DEFAULTS, skip=("do_predict",), helps={
    "init_checkpoint": "Initial weights: one of our checkpoints (a directory or prefix written by this script) or "
                       "an original Google/albert_zh checkpoint. Ignored when resuming.",
    "export_saved_model": "Also export the encoder to OUTPUT_DIR/saved_model with the TF-Hub signatures (tokens, "
                          "sop, mlm, tokenization_info) and raw-text ones; needs the vocabulary (--spm_model_file, "
                          "--vocab_file or --corpus_file)."})
flag_groups.define_flags(PretrainingConfig())
flag_groups.define_flags(DistillationConfig())  # general distillation, with --teacher_checkpoint (a pretrainer)


def apply_demo_defaults():
    """The settings of demo.flags become defaults: flags the user gave keep their values."""
    with open(os.path.join(DEMO_DIR, "demo.flags"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip().startswith("--")]
    for line in lines:
        name, _, value = line[2:].partition("=")
        if name.endswith("_file"):
            value = os.path.join(DEMO_DIR, value)
        FLAGS.set_default(name, value if value else "true")


def configs_from_flags():
    """(pretraining data config, training config, distillation config or None) from the parsed flags,
    validated."""
    if FLAGS.demo:
        apply_demo_defaults()
    distillation = flag_groups.distillation_config()
    training = flag_groups.with_student_config(flag_groups.config_from_flags(DEFAULTS), distillation).validate()
    data = flag_groups.fit_to_model(flag_groups.config_from_flags(PretrainingConfig()), training.albert_config_file)
    return data.validate(), training, distillation


main, run = console.job_command("pretraining", configs_from_flags)  # run: the console script


if __name__ == "__main__":
    run()
