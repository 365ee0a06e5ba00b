r"""Export an ALBERT model as a SavedModel for TF Serving or any TensorFlow program.

    python tools/export_savedmodel.py --model_type=classifier \
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
import sys

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import albert_tf  # noqa: E402,F401  (sets KERAS_BACKEND before Keras is imported)
import tensorflow as tf  # noqa: E402

from albert_tf import AlbertConfig  # noqa: E402
from albert_tf.checkpoints import resolve_checkpoint_path  # noqa: E402
from albert_tf.export import serving_module  # noqa: E402
from albert_tf.models import (AlbertClassifier, AlbertMultipleChoice, AlbertPretrainer,  # noqa: E402
                              AlbertQuestionAnswerer)
from albert_tf.training.runner_utils import load_initial_weights  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("model_type", "encoder", ["encoder", "classifier", "squad", "race"], "What to export.")
flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("checkpoint", None, "Weights: an original-layout checkpoint or one of ours.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (English models).")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (Chinese models).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case text in the raw-text signatures.")
flags.DEFINE_string("export_dir", None, "Where to write the SavedModel.")
flags.DEFINE_integer("max_seq_length", 512, "Longest packed sequence of the raw-text signatures.")
flags.DEFINE_integer("num_classes", None, "classifier: outputs (1 = regression); default: from the checkpoint.")
flags.DEFINE_bool("version_2_with_negative", None, "squad: the v2 head; default: from the checkpoint.")
flags.DEFINE_integer("max_query_length", 64, "squad: question tokens kept by the text signature.")
flags.DEFINE_integer("max_qa_length", 128, "race: question+option tokens kept by the text signature.")


def _original_shapes(path):
    try:
        prefix = resolve_checkpoint_path(path)
    except (FileNotFoundError, ValueError):
        return {}
    return tf.train.load_checkpoint(prefix).get_variable_to_shape_map()


def build_model(model_type, config, checkpoint):
    shapes = _original_shapes(checkpoint)
    if model_type == "encoder":
        return AlbertPretrainer(config), False
    if model_type == "classifier":
        num_classes = FLAGS.num_classes or (shapes["output_weights"][0] if "output_weights" in shapes else None)
        if not num_classes:
            raise app.UsageError("set --num_classes (the checkpoint has no original-layout output_weights)")
        return AlbertClassifier(config, num_classes), True
    if model_type == "squad":
        v2 = FLAGS.version_2_with_negative
        if v2 is None:
            v2 = "answer_class/dense_0/kernel" in shapes
        return AlbertQuestionAnswerer(config, version_2_with_negative=v2), True
    return AlbertMultipleChoice(config), True


def main(argv):
    del argv
    if not (FLAGS.spm_model_file or FLAGS.vocab_file):
        raise app.UsageError("set --spm_model_file or --vocab_file")
    config = AlbertConfig.from_json_file(FLAGS.albert_config_file)
    model, strict = build_model(FLAGS.model_type, config, FLAGS.checkpoint)
    # A fine-tuned model must load whole; an encoder checkpoint may lack the pretraining heads.
    load_initial_weights(model, FLAGS.checkpoint, strict=strict)
    common = dict(vocab_file=FLAGS.vocab_file, spm_model_file=FLAGS.spm_model_file,
                  do_lower_case=FLAGS.do_lower_case)
    module = {
        "encoder": lambda: serving_module.EncoderServing(model, FLAGS.max_seq_length, **common),
        "classifier": lambda: serving_module.ClassifierServing(model, FLAGS.max_seq_length, **common),
        "squad": lambda: serving_module.SquadServing(model, FLAGS.max_seq_length, FLAGS.max_query_length, **common),
        "race": lambda: serving_module.MultipleChoiceServing(model, FLAGS.max_seq_length, FLAGS.max_qa_length,
                                                             **common),
    }[FLAGS.model_type]()
    names = serving_module.export_saved_model(module, FLAGS.export_dir)
    logging.info("exported %s with signatures %s", FLAGS.export_dir, ", ".join(names))
    print(f"SavedModel: {os.path.abspath(FLAGS.export_dir)} (signatures: {', '.join(names)})")


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "checkpoint", "export_dir"])
    app.run(main)
