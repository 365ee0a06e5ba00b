"""Export a checkpoint as a SavedModel: the model type's network, its weights, its serving module.

    export_checkpoint(ExportConfig(model_type="classifier", albert_config_file="runs/sst-2/export/albert_config.json",
                                   checkpoint="runs/sst-2/export/model.ckpt-best",
                                   spm_model_file="30k-clean.model", export_dir="exported/sst-2"))

The serving modules are those of `SERVING_MODULES` (the one registry of
export targets); the config is `ExportConfig` (no TensorFlow).
"""

import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.initial_weights import load_initial_weights
from albert_tf.checkpoints.original_checkpoint import resolve_checkpoint_path
from albert_tf.errors import ConfigError
from albert_tf.export.export_config import ExportConfig  # noqa: F401  (the argument of export_checkpoint)
from albert_tf.export.serving_module import SERVING_MODULES, export_saved_model
from albert_tf.models import AlbertClassifier, AlbertMultipleChoice, AlbertPretrainer, AlbertQuestionAnswerer
from albert_tf.outputs.atomic_files import prepare_outputs
from albert_tf.tokenization.full_tokenizer import FullTokenizer, check_vocabulary


def _original_shapes(path):
    """Variable shapes of an original-layout checkpoint ({} for ours or a path that is none)."""
    try:
        prefix = resolve_checkpoint_path(path)
    except (FileNotFoundError, ValueError):
        return {}
    return tf.train.load_checkpoint(prefix).get_variable_to_shape_map()


def build_model(config, albert_config):
    """(model, strict): the network of `config.model_type`, its head sized from the checkpoint when unset.

    A fine-tuned model must load whole (strict); an encoder checkpoint may lack the pretraining heads.
    """
    shapes = _original_shapes(config.checkpoint)
    if config.model_type == "encoder":
        return AlbertPretrainer(albert_config), False
    if config.model_type == "classifier":
        num_classes = config.num_classes or (shapes["output_weights"][0] if "output_weights" in shapes else None)
        if not num_classes:
            raise ConfigError(f"num_classes is not set and {config.checkpoint} has no original-layout "
                              "output_weights to read it from; set num_classes (1 for regression)")
        return AlbertClassifier(albert_config, num_classes), True
    if config.model_type == "squad":
        v2 = config.version_2_with_negative
        if v2 is None:
            v2 = "answer_class/dense_0/kernel" in shapes
        return AlbertQuestionAnswerer(albert_config, version_2_with_negative=v2), True
    return AlbertMultipleChoice(albert_config), True


def load_model(config):
    """The model `config` names with its checkpoint's weights, after checking the settings against its config."""
    albert_config = AlbertConfig.from_json_file(config.albert_config_file)
    if config.max_seq_length > albert_config.max_position_embeddings:
        raise ConfigError(f"max_seq_length={config.max_seq_length}: expected at most max_position_embeddings="
                          f"{albert_config.max_position_embeddings} of {config.albert_config_file}; set "
                          f"max_seq_length to at most {albert_config.max_position_embeddings}")
    check_vocabulary(FullTokenizer(**config.vocabulary()), albert_config)
    model, strict = build_model(config, albert_config)
    load_initial_weights(model, config.checkpoint, strict=strict)
    return model


def serving_module(config, model):
    return SERVING_MODULES[config.model_type](model, config.max_seq_length, **config.module_options(),
                                              **config.vocabulary())


def export_checkpoint(config):
    """Writes the SavedModel `config` describes; returns its signature names."""
    config.validate()
    if config.format != "saved_model":
        raise ConfigError(f"format={config.format!r}: export_checkpoint writes SavedModels; use "
                          "albert_tf.export.model_export.export_model for onnx")
    with prepare_outputs([config.export_dir], config.overwrite):
        return export_saved_model(serving_module(config, load_model(config)), config.export_dir)
