"""The teacher: a trained model of the task's kind, loaded whole and frozen."""

import os

import tensorflow as tf
from absl import logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.hf_checkpoint import read_hf_config, read_hf_model
from albert_tf.checkpoints.original_checkpoint import load_checkpoint, resolve_checkpoint_path
from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import kind_of, model_for_original
from albert_tf.outputs.atomic_files import atomic_open

DTYPE_POLICIES = {"float32": None, "bfloat16": "mixed_bfloat16"}  # variables stay float32 either way


def is_hf_folder(path):
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "config.json"))


def original_config_file(path):
    """(checkpoint prefix, albert_config.json beside it) of an original-layout teacher at `path`."""
    try:
        prefix = resolve_checkpoint_path(path)
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(f"teacher_checkpoint={path!r}: {error}") from None
    config_file = os.path.join(os.path.dirname(prefix), "albert_config.json")
    if not os.path.exists(config_file):
        raise ConfigError(f"teacher_checkpoint={path!r}: no albert_config.json beside {prefix}; the teacher's "
                          "config must be there (as in a run's export/ folder)")
    return prefix, config_file


def teacher_config(path):
    """The AlbertConfig of the teacher at `path` (what a student's shape starts from)."""
    if is_hf_folder(path):
        return read_hf_config(path)[0]
    return AlbertConfig.from_json_file(original_config_file(path)[1])


STUDENT_CONFIG_FILE = "student_albert_config.json"


def write_student_config(config, output_dir, overwrite=False):
    """The path of the student's albert_config.json in `output_dir`, written from the DistillationConfig `config`
    (the teacher's config with the student's shape). A run there keeps its student: the same shape again is
    the same file; another shape is refused unless `overwrite` (--overwrite_output_dir)."""
    text = config.student_config(teacher_config(config.teacher_checkpoint)).to_json_string()
    path = os.path.join(output_dir, STUDENT_CONFIG_FILE)
    if os.path.exists(path) and not overwrite:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return path
        raise ConfigError(f"{path}: the run in output_dir={output_dir!r} has a student of another shape than the "
                          "flags give; resume it with its flags, or give another --output_dir (or "
                          "--overwrite_output_dir to start over)")
    os.makedirs(output_dir, exist_ok=True)
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def load_teacher(path, kind, dtype="float32"):
    """The frozen teacher of kind `kind` at `path`: an original-layout checkpoint with albert_config.json beside
    it (our runs' export/model.ckpt-best, Google's and albert_zh's releases) or a Hugging Face folder.

    Every variable must load (a teacher with random parts would teach noise)."""
    if is_hf_folder(path):
        if dtype != "float32":
            raise ConfigError(f"teacher_dtype={dtype!r}: a Hugging Face teacher runs in float32; convert it with "
                              "albert-convert --output_checkpoint to run it in bfloat16")
        model, report, _ = read_hf_model(path)
        found = kind_of(model).name
        if found != kind:
            raise ConfigError(f"teacher {path}: a {found} model; this task distils a {kind} model")
    else:
        prefix, config_file = original_config_file(path)
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
