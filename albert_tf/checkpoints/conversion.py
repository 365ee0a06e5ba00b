"""Convert ALBERT weights between the original layout, keras-hub presets and .keras files."""

import os

import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.conversion_config import ConversionConfig  # noqa: F401  (the argument of convert)
from albert_tf.checkpoints.keras_hub_interop import encoder_from_keras_hub, encoder_to_keras_hub
from albert_tf.checkpoints.original_checkpoint import load_checkpoint, resolve_checkpoint_path, save_checkpoint
from albert_tf.errors import ConfigError
from albert_tf.models import AlbertEncoder, AlbertPretrainer
from albert_tf.outputs.atomic_files import atomic_files, atomic_path, prepare_outputs


def read_config(config, checkpoint_prefix):
    if config.preset:
        return AlbertConfig.from_preset(config.preset)
    path = config.albert_config_file or os.path.join(os.path.dirname(checkpoint_prefix), "albert_config.json")
    if not os.path.exists(path):
        raise ConfigError(f"no albert_config_file given and none at {path}: give albert_config_file or preset")
    return AlbertConfig.from_json_file(path)


def load_source(config):
    """The model of the source: the pretrainer when an original checkpoint holds the heads, else the encoder."""
    if config.input_keras_hub_preset:
        return encoder_from_keras_hub(config.input_keras_hub_preset)
    prefix = resolve_checkpoint_path(config.input_checkpoint)
    albert_config = read_config(config, prefix)
    names = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    model = AlbertPretrainer(albert_config) if "cls/predictions/output_bias" in names else AlbertEncoder(albert_config)
    report = load_checkpoint(model, prefix, init_from_group0=config.init_from_group0)
    print(report.summary())
    return model


def convert(config):
    """Reads the source and writes every output `config` names; returns [(description, path)]."""
    config.validate()
    outputs = [config.output_keras_hub_preset, config.output_keras_model]
    if config.output_checkpoint:
        outputs.append(config.output_checkpoint + ".index")
    prepare_outputs(outputs, config.overwrite)
    model = load_source(config)
    written = []
    if config.output_checkpoint:
        written.append(("original-layout checkpoint (+ albert_config.json)",
                        save_checkpoint(model, config.output_checkpoint)))
    if config.output_keras_hub_preset:
        with atomic_path(config.output_keras_hub_preset) as temporary:
            encoder_to_keras_hub(getattr(model, "encoder", model), preset_dir=temporary)
        written.append(("keras-hub preset", config.output_keras_hub_preset))
    if config.output_keras_model:
        with atomic_files(config.output_keras_model) as staged:  # Keras wants the name to end in .keras
            model.save(staged)
        written.append(("Keras model (albert_tf.load_model)", config.output_keras_model))
    return written
