"""The teacher: a trained model of the task's kind, loaded whole and frozen."""

import os

import tensorflow as tf
from absl import logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.hf_checkpoint import read_hf_model
from albert_tf.checkpoints.original_checkpoint import load_checkpoint, resolve_checkpoint_path
from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import kind_of, model_for_original

DTYPE_POLICIES = {"float32": None, "bfloat16": "mixed_bfloat16"}  # variables stay float32 either way


def load_teacher(path, kind, dtype="float32"):
    """The frozen teacher of kind `kind` at `path`: an original-layout checkpoint with albert_config.json beside
    it (our runs' export/model.ckpt-best, Google's and albert_zh's releases) or a Hugging Face folder.

    Every variable must load (a teacher with random parts would teach noise)."""
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "config.json")):
        if dtype != "float32":
            raise ConfigError(f"teacher_dtype={dtype!r}: a Hugging Face teacher runs in float32; convert it with "
                              "albert-convert --output_checkpoint to run it in bfloat16")
        model, report, _ = read_hf_model(path)
        found = kind_of(model).name
        if found != kind:
            raise ConfigError(f"teacher {path}: a {found} model; this task distils a {kind} model")
    else:
        try:
            prefix = resolve_checkpoint_path(path)
        except (FileNotFoundError, ValueError) as error:
            raise ConfigError(f"teacher_checkpoint={path!r}: {error}") from None
        config_file = os.path.join(os.path.dirname(prefix), "albert_config.json")
        if not os.path.exists(config_file):
            raise ConfigError(f"teacher_checkpoint={path!r}: no albert_config.json beside {prefix}; the teacher's "
                              "config must be there (as in a run's export/ folder)")
        shapes = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
        model = model_for_original(AlbertConfig.from_json_file(config_file), shapes, kind,
                                   dtype=DTYPE_POLICIES[dtype])
        try:
            report = load_checkpoint(model, prefix, strict=True)
        except ValueError as error:
            raise ConfigError(f"teacher_checkpoint={path!r} does not hold a whole {kind} model: "
                              f"{str(error).splitlines()[0]}") from None
    model.trainable = False
    logging.info("teacher: %s model from %s (%s; %s)", kind, path, dtype, report.summary())
    return model
