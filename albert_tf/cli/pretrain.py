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
from albert_tf.tasks.pretraining_config import PretrainingConfig
from albert_tf.training.training_config import TrainingConfig

FLAGS = flags.FLAGS
DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo")
DEFAULTS = TrainingConfig.for_pretraining()

flags.DEFINE_bool("demo", False, "Run the embedded demo: the settings of albert_tf/demo/demo.flags (flags "
                  "given on the command line win).")
flag_groups.define_model_flags("Initial weights: one of our checkpoints (a directory or prefix written by this "
                               "script) or an original Google/albert_zh checkpoint. Ignored when resuming.")
flag_groups.define_vocabulary_flags("SentencePiece model (dynamic masking, --corpus_file, the SavedModel's "
                                    "text signatures).", lower_case=False)
flags.DEFINE_string("input_file", None, "Training TFRecords: comma-separated paths or globs.")
flags.DEFINE_string("eval_file", None, "Evaluation TFRecords (default: --input_file).")
flags.DEFINE_integer("max_seq_length", 512, "Sequence length the TFRecords were written with.")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Masked positions per sequence in the TFRecords.")
flags.DEFINE_bool("dynamic_masking", False,
                  "Mask each example anew every epoch in the input pipeline (needs --spm_model_file "
                  "or --vocab_file for the special ids).")
flags.DEFINE_integer("shuffle_buffer_size", 10000, "Records in the shuffle buffer.")
flags.DEFINE_string("corpus_file", None,
                    "Text (one sentence per line, blank line between documents) to prepare data from: "
                    "a SentencePiece model (unless --spm_model_file exists) and TFRecords are written "
                    "to OUTPUT_DIR/data once, and --input_file/--eval_file default to them.")
flags.DEFINE_integer("eval_documents", 3, "With --corpus_file: last documents held out for evaluation.")
flags.DEFINE_integer("dupe_factor", 5, "With --corpus_file: create_pretraining_data's dupe_factor.")
flag_groups.define_training_flags(DEFAULTS)
flags.DEFINE_integer("max_eval_steps", DEFAULTS.max_eval_steps, "Evaluation batches.")
flags.DEFINE_bool("eval_during_training", DEFAULTS.eval_during_training,
                  "With --do_eval: also evaluate at every checkpoint (held-out MLM/SOP curves in "
                  "OUTPUT_DIR/eval for TensorBoard).")
flag_groups.define_distribution_flags()
flag_groups.define_output_flags(
    DEFAULTS, "Also export the encoder to OUTPUT_DIR/saved_model with the TF-Hub signatures (tokens, sop, mlm, "
    "tokenization_info) and raw-text ones; needs the vocabulary (--spm_model_file, --vocab_file or "
    "--corpus_file).")


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
    """(pretraining data config, training config) from the parsed flags, validated."""
    if FLAGS.demo:
        apply_demo_defaults()
    training = flag_groups.config_from_flags(DEFAULTS).validate()
    data = flag_groups.fit_to_model(flag_groups.config_from_flags(PretrainingConfig()), training.albert_config_file)
    return data.validate(), training


def main(argv):
    del argv
    console.run_job("pretraining", *configs_from_flags())


def run():
    """The `albert-pretrain` command."""
    console.run(main)


if __name__ == "__main__":
    run()
