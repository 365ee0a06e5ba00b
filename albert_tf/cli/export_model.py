r"""Export an ALBERT model: a SavedModel (TF Serving), ONNX (ONNX Runtime) or LiteRT (model.tflite).

    albert-export --model_type=classifier        # or python tools/export_model.py \
        --albert_config_file=runs/sst-2/export/albert_config.json \
        --checkpoint=runs/sst-2/export/model.ckpt-best \
        --spm_model_file=albert_base/30k-clean.model --export_dir=exported/sst-2
    albert-export ... --format=onnx --quantize=int8 --export_dir=exported/sst-2-onnx-int8

--format:
  saved_model  the signatures below; serving needs tensorflow and tensorflow-text.
  onnx         model.onnx: inputs input_ids, input_mask, segment_ids (int32
               [batch, length]; race [batch, choices, length]), outputs named as
               the Keras model's (sequence_output, pooled_output / logits /
               start_logits, end_logits / SQuAD 2.0's beam and cls_logits);
               ONNX Runtime's fused Attention,
               SkipLayerNormalization and FastGelu, every shared weight stored
               once. --quantize=int8: dynamic int8. Serving needs onnxruntime.
  litert       model.tflite: signature tokens (as onnx) and, for SentencePiece
               encoders and classifiers, text and text_pair (raw strings;
               lower-cased by Unicode case folding: ß becomes ss;
               tensorflow-text's FastBertNormalize + FastSentencepieceTokenize
               inside). Runs in ai_edge_litert's InterpreterWithCustomOps with
               tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS.
               --quantize=int8: dynamic-range int8 weights.

--model_type (the SavedModel's signatures; ONNX and LiteRT take the tokens):
  encoder     the original TF-Hub signatures: tokens (input_ids, input_mask,
              segment_ids -> sequence_output, pooled_output), sop (+ sop_logits),
              mlm (+ mlm_positions -> mlm_logits), tokenization_info; and text,
              text_pair (raw strings). Built with the pretraining heads, loaded
              where the checkpoint has them (a pretrainer's checkpoint is
              exported as encoder).
  classifier  tokens -> logits, probabilities, predictions (regression: predictions);
              text, text_pair.
  squad       tokens -> start/end logits (v1) or the v2 beam and cls_logits;
              text_pair (question, context).
  race        tokens ([batch, 4, length]) and text (article, question, options [batch, 4]).

--checkpoint is an original-layout checkpoint (Google, albert_zh, or the
`export/` folder our runners write) or one of our checkpoints. A SavedModel
needs only tensorflow and tensorflow-text to serve: `import tensorflow_text` before
`tf.saved_model.load` (TF Serving: a build with the tf-text ops). The
SentencePiece model or vocab and albert_config.json are in the SavedModel's
assets/.
"""

import os

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.export.export_config import ExportConfig

FLAGS = flags.FLAGS
flag_groups.define_flags(ExportConfig(), helps={"spm_model_file": "SentencePiece model (English models)."})


def main(argv):
    del argv
    config = flag_groups.config_from_flags(ExportConfig())
    config = flag_groups.fit_to_model(config, config.albert_config_file).validate()
    console.start_tensorflow()
    # After start_tensorflow: TensorFlow starts quiet, and --helpfull does not wait for it.
    from albert_tf.export.model_export import export_model

    description, _ = export_model(config)
    print(f"{description}: {os.path.abspath(config.export_dir)}")


def run():
    """The `albert-export` command."""
    console.run(main)


if __name__ == "__main__":
    run()
