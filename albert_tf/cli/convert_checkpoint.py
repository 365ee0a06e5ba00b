"""Convert ALBERT weights between the original layout, keras-hub and Keras files.

Reads one source and writes any of the outputs:

  # A Google release into a keras-hub preset and back to the original layout
  albert-convert \
      --input_checkpoint=albert_base/model.ckpt-best \
      --albert_config_file=albert_base/albert_config.json \
      --output_keras_hub_preset=albert_base_keras_hub

  albert-convert \
      --input_keras_hub_preset=albert_base_keras_hub \
      --output_checkpoint=converted/model.ckpt-best

With an original checkpoint the model is the pretrainer (encoder + MLM + SOP
heads) when the checkpoint holds the heads, else the encoder alone.
"""

from absl import flags

from albert_tf.checkpoints.conversion_config import ConversionConfig
from albert_tf.cli import console, flag_groups

flags.DEFINE_string("input_checkpoint", None, "Original-layout checkpoint: prefix, .index file or directory.")
flag_groups.define_config_flag("albert_config.json of --input_checkpoint (default: the one beside it).")
flags.DEFINE_string("preset", None, "AlbertConfig preset name instead of a config file.")
flags.DEFINE_bool("init_from_group0", False, "Initialise every group from group_0 of --input_checkpoint.")
flags.DEFINE_string("input_keras_hub_preset", None, "Directory of a keras-hub AlbertBackbone preset (read offline).")
flags.DEFINE_string("output_checkpoint", None, "Prefix to write in the original layout, e.g. out/model.ckpt-best.")
flags.DEFINE_string("output_keras_hub_preset", None,
                    "Directory to write a keras-hub AlbertBackbone preset to (encoder only).")
flags.DEFINE_string("output_keras_model", None, "Path of a .keras file to save the model to.")
flags.DEFINE_bool("overwrite", False, "Replace outputs that already exist (without it: an error naming them).")


def main(argv):
    del argv
    config = flag_groups.config_from_flags(ConversionConfig()).validate()
    console.start_tensorflow()
    # After start_tensorflow: TensorFlow starts quiet, and --helpfull does not wait for it.
    from albert_tf.checkpoints.conversion import convert

    for description, path in convert(config):
        print(f"{description}: {path}")


def run():
    """The `albert-convert` command."""
    console.run(main)


if __name__ == "__main__":
    run()
