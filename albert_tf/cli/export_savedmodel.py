r"""Export an ALBERT model as a SavedModel for TF Serving or any TensorFlow program.

    albert-export --model_type=classifier        # or python tools/export_savedmodel.py \
        --albert_config_file=runs/sst-2/export/albert_config.json \
        --checkpoint=runs/sst-2/export/model.ckpt-best \
        --spm_model_file=albert_base/30k-clean.model --export_dir=exported/sst-2

--model_type:
  encoder     the original TF-Hub signatures: tokens (input_ids, input_mask,
              segment_ids -> sequence_output, pooled_output), sop (+ sop_logits),
              mlm (+ mlm_positions -> mlm_logits), tokenization_info; and text,
              text_pair (raw strings).
  classifier  tokens -> logits, probabilities, predictions (regression: predictions);
              text, text_pair.
  squad       tokens -> start/end logits (v1) or the v2 beam and cls_logits;
              text_pair (question, context).
  race        tokens ([batch, 4, length]) and text (article, question, options [batch, 4]).

--checkpoint is an original-layout checkpoint (Google, albert_zh, or the
`export/` folder our runners write) or one of our checkpoints. Serving
needs only tensorflow and tensorflow-text: `import tensorflow_text` before
`tf.saved_model.load` (TF Serving: a build with the tf-text ops). The
SentencePiece model or vocab and albert_config.json are in the SavedModel's
assets/.
"""

import os

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.export.export_config import MODEL_TYPES, ExportConfig

FLAGS = flags.FLAGS
flags.DEFINE_enum("model_type", "encoder", MODEL_TYPES, "What to export.")
flag_groups.define_config_flag()
flags.DEFINE_string("checkpoint", None, "Weights: an original-layout checkpoint or one of ours.")
flag_groups.define_vocabulary_flags("SentencePiece model (English models).")
flags.DEFINE_string("export_dir", None, "Where to write the SavedModel.")
flags.DEFINE_integer("max_seq_length", 512, "Longest packed sequence of the raw-text signatures.")
flags.DEFINE_integer("num_classes", None, "classifier: outputs (1 = regression); default: from the checkpoint.")
flags.DEFINE_bool("version_2_with_negative", None, "squad: the v2 head; default: from the checkpoint.")
flags.DEFINE_integer("max_query_length", 64, "squad: question tokens kept by the text signature.")
flags.DEFINE_integer("max_qa_length", 128, "race: question+option tokens kept by the text signature.")
flags.DEFINE_bool("overwrite", False, "Replace --export_dir if it exists (without it: an error).")


def main(argv):
    del argv
    config = flag_groups.config_from_flags(ExportConfig()).validate()
    console.start_tensorflow()
    # After start_tensorflow: TensorFlow starts quiet, and --helpfull does not wait for it.
    from albert_tf.export.savedmodel_export import export_checkpoint

    names = export_checkpoint(config)
    print(f"SavedModel: {os.path.abspath(config.export_dir)} (signatures: {', '.join(names)})")


def run():
    """The `albert-export` command."""
    console.run(main)


if __name__ == "__main__":
    run()
