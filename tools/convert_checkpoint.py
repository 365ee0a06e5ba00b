"""Convert ALBERT weights between the original layout, keras-hub and Keras files.

Reads one source and writes any of the outputs:

  # A Google release into a keras-hub preset and back to the original layout
  python tools/convert_checkpoint.py \
      --input_checkpoint=albert_base/model.ckpt-best \
      --albert_config_file=albert_base/albert_config.json \
      --output_keras_hub_preset=albert_base_keras_hub

  python tools/convert_checkpoint.py \
      --input_keras_hub_preset=albert_base_keras_hub \
      --output_checkpoint=converted/model.ckpt-best

With an original checkpoint the model is the pretrainer (encoder + MLM + SOP
heads) when the checkpoint holds the heads, else the encoder alone.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from absl import app, flags, logging  # noqa: E402

flags.DEFINE_string("input_checkpoint", None,
                    "Original-layout checkpoint: prefix, .index file or directory.")
flags.DEFINE_string("albert_config_file", None,
                    "albert_config.json of --input_checkpoint (default: the one beside it).")
flags.DEFINE_string("preset", None, "AlbertConfig preset name instead of a config file.")
flags.DEFINE_bool("init_from_group0", False,
                  "Initialise every group from group_0 of --input_checkpoint.")
flags.DEFINE_string("input_keras_hub_preset", None,
                    "Directory of a keras-hub AlbertBackbone preset (read offline).")
flags.DEFINE_string("output_checkpoint", None,
                    "Prefix to write in the original layout, e.g. out/model.ckpt-best.")
flags.DEFINE_string("output_keras_hub_preset", None,
                    "Directory to write a keras-hub AlbertBackbone preset to (encoder only).")
flags.DEFINE_string("output_keras_model", None, "Path of a .keras file to save the model to.")

FLAGS = flags.FLAGS


def read_config(checkpoint_prefix):
    from albert_tf import AlbertConfig

    if FLAGS.preset:
        return AlbertConfig.from_preset(FLAGS.preset)
    path = FLAGS.albert_config_file or os.path.join(
        os.path.dirname(checkpoint_prefix), "albert_config.json")
    if not os.path.exists(path):
        raise app.UsageError(
            f"No config given and none at {path}: pass --albert_config_file or --preset")
    return AlbertConfig.from_json_file(path)


def load_source():
    import tensorflow as tf

    from albert_tf import AlbertEncoder, AlbertPretrainer, load_checkpoint
    from albert_tf.checkpoints import encoder_from_keras_hub, resolve_checkpoint_path

    if bool(FLAGS.input_checkpoint) == bool(FLAGS.input_keras_hub_preset):
        raise app.UsageError("Pass exactly one of --input_checkpoint, --input_keras_hub_preset")
    if FLAGS.input_keras_hub_preset:
        return encoder_from_keras_hub(FLAGS.input_keras_hub_preset)
    prefix = resolve_checkpoint_path(FLAGS.input_checkpoint)
    config = read_config(prefix)
    names = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    has_heads = "cls/predictions/output_bias" in names
    model = AlbertPretrainer(config) if has_heads else AlbertEncoder(config)
    report = load_checkpoint(model, prefix, init_from_group0=FLAGS.init_from_group0)
    print(report.summary())
    return model


def main(argv):
    del argv
    from albert_tf import save_checkpoint
    from albert_tf.checkpoints import encoder_to_keras_hub

    outputs = (FLAGS.output_checkpoint, FLAGS.output_keras_hub_preset, FLAGS.output_keras_model)
    if not any(outputs):
        raise app.UsageError(
            "Nothing to write: pass --output_checkpoint, --output_keras_hub_preset "
            "and/or --output_keras_model")
    model = load_source()
    if FLAGS.output_checkpoint:
        prefix = save_checkpoint(model, FLAGS.output_checkpoint)
        print(f"original-layout checkpoint: {prefix} (+ albert_config.json)")
    if FLAGS.output_keras_hub_preset:
        encoder = getattr(model, "encoder", model)
        encoder_to_keras_hub(encoder, preset_dir=FLAGS.output_keras_hub_preset)
        print(f"keras-hub preset: {FLAGS.output_keras_hub_preset}")
    if FLAGS.output_keras_model:
        model.save(FLAGS.output_keras_model)
        print(f"Keras model: {FLAGS.output_keras_model}")
    logging.info("done")


if __name__ == "__main__":
    app.run(main)
