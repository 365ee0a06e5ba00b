"""Convert ALBERT weights between the original layout, Hugging Face folders, keras-hub presets and Keras files.

Reads one source and writes any of the outputs:

  # A Google release into a keras-hub preset (AlbertMaskedLM + tokenizer) and back to the original layout
  albert-convert \
      --input_checkpoint=albert_base/model.ckpt-best \
      --albert_config_file=albert_base/albert_config.json \
      --spm_model_file=albert_base/30k-clean.model \
      --output_keras_hub_preset=albert_base_keras_hub

  albert-convert \
      --input_keras_hub_preset=albert_base_keras_hub \
      --output_checkpoint=converted/model.ckpt-best

  # A Hugging Face folder (a fine-tuned classifier, say) into the original layout, and back
  albert-convert --input_hf=albert-base-v2-sst2 --output_checkpoint=sst2/model.ckpt-best
  albert-convert --input_checkpoint=sst2/model.ckpt-best --output_hf=sst2_hf \
      --spm_model_file=albert_base/30k-clean.model

The model class comes from the input: an HF folder's config.json names it;
an original checkpoint holds the pretraining heads (pretrainer), a SQuAD head
(squad), a token classifier's head (token_classifier), a classifier's
output_weights (classifier), or none (encoder): the model kinds of
albert_tf.models.model_kinds. A 1-row output_weights is taken as a regression
classifier; --model_type=race says it is RACE's.
A keras-hub preset gets the task keras-hub has for the model (a classifier:
AlbertTextClassifier; the pretrainer: AlbertMaskedLM, without the
sentence-order head keras-hub lacks), else the backbone alone.
"""


from albert_tf.checkpoints.conversion_config import ConversionConfig
from albert_tf.cli import console, flag_groups

flag_groups.define_flags(ConversionConfig())


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
