"""Convert ALBERT weights between the original layout, Hugging Face folders, keras-hub presets and .keras files."""

import os

import tensorflow as tf
from absl import logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.conversion_config import ConversionConfig  # noqa: F401  (the argument of convert)
from albert_tf.checkpoints.keras_hub_interop import (model_from_keras_hub_preset, preset_spm_model_file,
                                                     save_keras_hub_preset)
from albert_tf.checkpoints.original_checkpoint import load_checkpoint, resolve_checkpoint_path, save_checkpoint
from albert_tf.errors import ConfigError
from albert_tf.checkpoints.hf_checkpoint import hf_architecture, read_hf_model, save_hf_model
from albert_tf.models.model_kinds import model_for_original
from albert_tf.outputs.atomic_files import atomic_files, atomic_path, prepare_outputs


def read_config(config, checkpoint_prefix):
    if config.preset:
        return AlbertConfig.from_preset(config.preset)
    path = config.albert_config_file or os.path.join(os.path.dirname(checkpoint_prefix), "albert_config.json")
    if not os.path.exists(path):
        raise ConfigError(f"no albert_config_file given and none at {path}: give albert_config_file or preset")
    return AlbertConfig.from_json_file(path)


def load_source(config):
    """(model, HfHeadInfo or None, SentencePiece model or None) of the source `config` names."""
    if config.input_hf:
        model, report, info = read_hf_model(config.input_hf)
        logging.info("%s", report.summary())
        spm = os.path.join(config.input_hf, "spiece.model")
        return model, info, spm if os.path.exists(spm) else None
    if config.input_keras_hub_preset:
        model, task_class = model_from_keras_hub_preset(config.input_keras_hub_preset)
        logging.info("keras-hub preset %s: %s -> %s", config.input_keras_hub_preset,
                     task_class or "AlbertBackbone", type(model).__name__)
        return model, None, preset_spm_model_file(config.input_keras_hub_preset)
    prefix = resolve_checkpoint_path(config.input_checkpoint)
    albert_config = read_config(config, prefix)
    names = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    model = model_for_original(albert_config, names, config.model_type)
    report = load_checkpoint(model, prefix, init_from_group0=config.init_from_group0)
    logging.info("%s", report.summary())
    return model, None, None


def convert(config):
    """Reads the source and writes every output `config` names; returns [(description, path)]."""
    config.validate()
    outputs = [config.output_keras_hub_preset, config.output_keras_model, config.output_hf]
    if config.output_checkpoint:
        outputs.append(config.output_checkpoint + ".index")
    with prepare_outputs(outputs, config.overwrite):
        return _write_outputs(config)


def _write_outputs(config):
    model, info, spm = load_source(config)
    spm = config.spm_model_file or spm
    written = []
    if config.output_checkpoint:
        written.append(("original-layout checkpoint (+ albert_config.json)",
                        save_checkpoint(model, config.output_checkpoint)))
    if config.output_keras_hub_preset:
        with atomic_path(config.output_keras_hub_preset) as temporary:
            kind = save_keras_hub_preset(model, temporary, spm_model_file=spm)
        tokenizer = " + AlbertTokenizer" if spm else " (no tokenizer: give spm_model_file)"
        written.append((f"keras-hub preset ({kind}{tokenizer})", config.output_keras_hub_preset))
    if config.output_keras_model:
        with atomic_files(config.output_keras_model) as staged:  # Keras wants the name to end in .keras
            model.save(staged)
        written.append(("Keras model (albert_tf.load_model)", config.output_keras_model))
    if config.output_hf:
        save_hf_model(model, config.output_hf, spm_model_file=spm,
                      id2label=info.id2label if info else None, problem_type=info.problem_type if info else None,
                      overwrite=True)  # prepare_outputs refused an existing one unless overwrite
        written.append((f"Hugging Face folder ({hf_architecture(model)})", config.output_hf))
    return written
