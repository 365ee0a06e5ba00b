"""Export a checkpoint as a SavedModel: the model type's network, its weights, its serving module.

    export_checkpoint(ExportConfig(model_type="classifier", albert_config_file="runs/sst-2/export/albert_config.json",
                                   checkpoint="runs/sst-2/export/model.ckpt-best",
                                   spm_model_file="30k-clean.model", export_dir="exported/sst-2"))

The network and its serving module are those of the model kind's row
(`albert_tf.models.model_kinds`); the config is `ExportConfig` (no TensorFlow).
"""

import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.initial_weights import load_initial_weights
from albert_tf.checkpoints.original_checkpoint import resolve_checkpoint_path
from albert_tf.errors import ConfigError
from albert_tf.export.export_config import ExportConfig  # noqa: F401  (the argument of export_checkpoint)
from albert_tf.export.serving_module import export_saved_model, serving_module_for
from albert_tf.models.model_kinds import kind_named, model_for_original
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

    A fine-tuned model must load whole (strict); an encoder is exported with the pretraining heads
    (`ModelKind.export_builds`), which its checkpoint may lack.
    """
    kind = kind_named(config.model_type)
    built = kind.export_builds or kind.name
    given = {"num_classes": config.num_classes, "version_2_with_negative": config.version_2_with_negative}
    given = {key: value for key, value in given.items() if key in kind_named(built).options}
    try:
        model = model_for_original(albert_config, _original_shapes(config.checkpoint), built, **given)
    except ConfigError as error:
        raise ConfigError(f"{config.checkpoint}: {error}") from None
    return model, kind.export_builds is None


def load_model(config):
    """The model `config` names with its checkpoint's weights, after checking the settings against its config."""
    albert_config = AlbertConfig.from_json_file(config.albert_config_file)
    config.check_against(albert_config, config.albert_config_file)
    check_vocabulary(FullTokenizer(**config.vocabulary()), albert_config)
    model, strict = build_model(config, albert_config)
    labels = config.serving_info()["labels"]
    if labels and len(labels) != getattr(model, "num_classes", None):
        outputs = (f"a model of {model.num_classes} outputs" if hasattr(model, "num_classes")
                   else f"a {config.model_type} model")
        raise ConfigError(f"labels={config.labels!r}: {len(labels)} names for {outputs}; give one name per output "
                          "of a classifier")
    load_initial_weights(model, config.checkpoint, strict=strict)
    return model


def serving_module(config, model):
    return serving_module_for(config.model_type, model, config.max_seq_length, config.vocabulary(),
                              **config.module_options())


def export_checkpoint(config):
    """Writes the SavedModel `config` describes; returns its signature names."""
    config.validate()
    if config.format != "saved_model":
        raise ConfigError(f"format={config.format!r}: export_checkpoint writes SavedModels; use "
                          "albert_tf.export.model_export.export_model for onnx")
    with prepare_outputs([config.export_dir], config.overwrite):
        return export_saved_model(serving_module(config, load_model(config)), config.export_dir)
