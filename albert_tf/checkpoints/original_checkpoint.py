"""Reading and writing checkpoints in the original (TF1, name-based) layout.

`load_checkpoint` fills an ALBERT model of this package from a Google or
brightmart checkpoint; `save_checkpoint` writes one that the original code
(tf.compat.v1.train.Saver with the original variable names) can restore.
"""

import dataclasses
import glob
import os
import re

import numpy as np
import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints import variable_names  # a submodule: the package imports nothing eagerly
from albert_tf.checkpoints.checkpoint_state import checkpoint_names, write_checkpoint_state
from albert_tf.errors import ConfigError
from albert_tf.models.model_config import albert_config_of
from albert_tf.outputs.atomic_files import atomic_files

_DATA_SUFFIX_RE = re.compile(r"\.data-\d{5}-of-\d{5}$")
_KERAS_WEIGHT_SUFFIXES = (".h5", ".hdf5", ".keras")


class CheckpointMismatchError(ValueError):
    """The checkpoint's variables do not match the model's."""


class CheckpointReadError(ValueError):
    """The checkpoint's files cannot be read whole (truncated or corrupt); nothing was assigned."""


@dataclasses.dataclass
class LoadReport:
    """What `load_checkpoint` did.

    Attributes:
        checkpoint: the resolved checkpoint prefix.
        loaded: model variable names (original layout) that were assigned,
            mapped to the checkpoint name each came from.
        unused: checkpoint model variables that were not loaded.
        not_loaded: model variables left at their initial values.
        skipped_non_model: optimizer slots, global_step and the like.
    """

    checkpoint: str
    loaded: dict
    unused: list
    not_loaded: list
    skipped_non_model: list

    def summary(self, shown=8):
        """One line: what was loaded, then each kind of leftover that there is (up to `shown` names each)."""
        def names(values):
            return ", ".join(values[:shown]) + (f", ... ({len(values) - shown} more)" if len(values) > shown else "")

        parts = [f"loaded {len(self.loaded)} variables from {self.checkpoint}"]
        if self.not_loaded:
            parts.append(f"{len(self.not_loaded)} model variables left at initial values: {names(self.not_loaded)}")
        if self.unused:
            parts.append(f"{len(self.unused)} checkpoint variables unused: {names(self.unused)}")
        if self.skipped_non_model:
            parts.append(f"{len(self.skipped_non_model)} optimizer/step variables skipped")
        return "; ".join(parts)


def resolve_checkpoint_path(path):
    """The checkpoint prefix that `path` designates.

    Accepts a prefix (`.../model.ckpt-best`), its `.index`, `.meta` or
    `.data-*` file, a directory holding a `checkpoint` state file or a single
    checkpoint, or a TF-Hub/SavedModel directory (`variables/variables`).

    Raises:
        FileNotFoundError: nothing usable at `path`, saying what was expected.
        ValueError: `path` is another kind of file (Keras weights, several
            checkpoints in one directory without a state file, ...).
    """
    path = os.path.normpath(os.fspath(path))
    if os.path.isdir(path):
        hub_prefix = os.path.join(path, "variables", "variables")
        if os.path.exists(hub_prefix + ".index"):
            return hub_prefix
        latest = tf.train.latest_checkpoint(path)
        if latest and os.path.exists(latest + ".index"):
            return latest
        candidates = sorted(glob.glob(os.path.join(path, "*.index")))
        if len(candidates) == 1:
            return candidates[0][: -len(".index")]
        if not candidates:
            raise FileNotFoundError(
                f"No checkpoint in directory {path}: expected a `<prefix>.index` file "
                "(such as model.ckpt-best.index), a `checkpoint` state file, or "
                "variables/variables.index of a TF-Hub module"
            )
        raise ValueError(
            f"Directory {path} holds {len(candidates)} checkpoints and no `checkpoint` "
            "state file; pass one prefix: "
            + ", ".join(c[: -len(".index")] for c in candidates)
        )
    for suffix in (".index", ".meta"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    else:
        path = _DATA_SUFFIX_RE.sub("", path)
    if os.path.exists(path + ".index"):
        return path
    if os.path.isfile(path):
        if path.endswith(_KERAS_WEIGHT_SUFFIXES):
            raise ValueError(
                f"{path} is a Keras weights file, not a TensorFlow checkpoint; load it "
                "with model.load_weights()"
            )
        raise ValueError(
            f"{path} is not a TensorFlow checkpoint: no {path}.index beside it. Pass "
            "the checkpoint prefix, e.g. .../model.ckpt-best"
        )
    raise FileNotFoundError(
        f"No checkpoint at {path}: expected {path}.index (pass the prefix such as "
        ".../model.ckpt-best, its .index file, or the directory holding it)"
    )


def _open(prefix):
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as error:
        raise ValueError(
            f"Cannot read checkpoint {prefix}: {error.__class__.__name__}: "
            f"{getattr(error, 'message', error)}"
        ) from None
    if "_CHECKPOINTABLE_OBJECT_GRAPH" in shapes:
        raise ValueError(
            f"{prefix} is a TF2 object-based checkpoint (tf.train.Checkpoint), not the "
            "original name-based layout; restore it with tf.train.Checkpoint, or export "
            "it with albert_tf.save_checkpoint first"
        )
    return reader, {name: tuple(shape) for name, shape in shapes.items()}


def _layout_hint(checkpoint_names, variant):
    bright = any("/layer_shared/" in name for name in checkpoint_names)
    google = any("/transformer/group_" in name for name in checkpoint_names)
    if bright and variant == "google":
        return (
            "\nThe checkpoint uses brightmart's albert_zh layout (bert/encoder/"
            "layer_shared); build the model from that release's albert_config.json "
            "(its `ln_type` key selects variant 'bright')."
        )
    if google and variant == "bright":
        return (
            "\nThe checkpoint uses the Google layout (bert/encoder/transformer/group_*); "
            "build the model from a config without `ln_type` (variant 'google')."
        )
    return ""


def _format(title, rows):
    return f"\n  {title} ({len(rows)}):\n    " + "\n    ".join(rows) if rows else ""


def load_checkpoint(model, path, strict=True, init_from_group0=False):
    """Loads an original ALBERT checkpoint into a model of this package.

    Args:
        model: an `AlbertEncoder`, `AlbertPretrainer`, `AlbertClassifier`,
            `AlbertQuestionAnswerer` or `AlbertMultipleChoice` (head names:
            `variable_names.head_variables`).
        path: see `resolve_checkpoint_path`.
        strict: every model variable must be in the checkpoint and every
            model variable of the checkpoint must be used (optimizer slots and
            `global_step` are always skipped). With `strict=False` the
            encoder must be complete; head variables are loaded where the
            checkpoint has them with the same shape (say, a fine-tuned
            classifier of the same task), and whatever is left out on either
            side is reported, never silently dropped.
        init_from_group0: every group (and inner block) starts from group_0,
            as the original's flag of that name: lets a checkpoint of a shared
            model initialise a model with more groups.

    Returns:
        A `LoadReport`.

    Raises:
        CheckpointMismatchError: listing every missing, unexpected and
            mis-shaped variable with both shapes. Nothing is assigned then.
    """
    prefix = resolve_checkpoint_path(path)
    reader, shapes = _open(prefix)
    return assign_tensors(model, shapes, reader.get_tensor, f"Checkpoint {prefix}", prefix, strict=strict,
                          init_from_group0=init_from_group0)


def assign_tensors(model, shapes, read, description, source, strict=True, init_from_group0=False, optional=(),
                   hint=None, display=str):
    """Assigns tensors named as in the original checkpoints to `model`: all of them or, on any problem, none.

    The core of `load_checkpoint`, for any source of such tensors (a TF1
    checkpoint, a Hugging Face folder after renaming).

    Args:
        model, strict, init_from_group0: as for `load_checkpoint`.
        shapes: {name: shape} of every tensor the source holds; optimizer
            slots and the step are skipped (`variable_names.is_model_variable`).
        read: `read(name)` returns that tensor (a truncated source raises).
        description: the source in messages ("Checkpoint out/model.ckpt-best").
        source: the path recorded in the `LoadReport`.
        optional: model variable names the source may lack (left at their
            initial values and reported as not loaded).
        hint: text to end a mismatch error with (default: the layout hint).
        display: the name a mismatch error shows for a tensor name (the source's own spelling).

    Returns:
        A `LoadReport`.
    """
    encoder_vars, head_vars = variable_names.model_variables(model)
    wanted = dict(encoder_vars)
    if strict:
        wanted.update(head_vars)
    model_names = [name for name in shapes if variable_names.is_model_variable(name)]
    available = set(model_names)

    sources, missing, misshaped = {}, [], {}
    for name, variable in wanted.items():
        origin = variable_names.group0_source(name, available) if init_from_group0 else name
        if origin not in available:
            if name not in optional:
                missing.append(f"{display(name)} {list(variable.shape)}")
        elif tuple(shapes[origin]) != tuple(variable.shape):
            misshaped[origin] = (
                f"{display(origin)}: checkpoint {list(shapes[origin])} vs model {list(variable.shape)}"
            )
        else:
            sources[name] = origin
    if not strict:  # heads are loaded where the checkpoint has them with the same shapes
        sources.update({name: name for name, variable in head_vars.items()
                        if name in available and tuple(shapes[name]) == tuple(variable.shape)})
    used = set(sources.values()) | set(misshaped)
    unused = sorted(name for name in model_names if name not in used)
    # With init_from_group0 the checkpoint's other groups are skipped on
    # purpose; otherwise a strict load must use every model variable.
    unexpected = [] if (not strict or init_from_group0) else [
        f"{display(name)} {list(shapes[name])}" for name in unused
    ]
    if missing or misshaped or unexpected:
        variant = albert_config_of(model).variant
        raise CheckpointMismatchError(
            f"{description} does not match {type(model).__name__} "
            f"(variant '{variant}', strict={strict}):"
            + _format("missing from the checkpoint", missing)
            + _format("unexpected in the checkpoint", unexpected)
            + _format("shape mismatch", list(misshaped.values()))
            + (_layout_hint(model_names, variant) if hint is None else hint)
            + (
                "\nTo load only the encoder and report the rest, pass strict=False."
                if strict and not missing and not misshaped
                else ""
            )
        )

    # All or nothing: every tensor is read (and a truncated or corrupt file fails) before any
    # variable changes.
    all_variables = {**encoder_vars, **head_vars}
    values = {}
    for name, origin in sources.items():
        try:
            values[name] = np.asarray(read(origin), dtype=all_variables[name].dtype)
        except Exception as error:  # readers raise several error types for a damaged file
            raise CheckpointReadError(
                f"{description} could not be read at {origin} ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); it is truncated or corrupt. "
                "No variable was changed; use an intact copy or an earlier checkpoint.") from error
    for name, value in values.items():
        all_variables[name].assign(value)
    report = LoadReport(
        checkpoint=source,
        loaded=sources,
        unused=unused,
        not_loaded=sorted(set(all_variables) - set(sources)),
        skipped_non_model=sorted(set(shapes) - available),
    )
    return report


def save_checkpoint(model, prefix, global_step=None, write_config=True):
    """Writes the model's weights under their original names.

    The files are `<prefix>.index` and `<prefix>.data-00000-of-00001`, the
    TF1 name-based format that the original code's `tf.train.Saver` and other
    converters read; a `checkpoint` state file and (by default)
    `albert_config.json` go beside them.

    Args:
        model: as for `load_checkpoint`; heads are saved too.
        prefix: e.g. `out/model.ckpt-best`.
        global_step: written as the int64 `global_step` variable if given.
        write_config: also write the model's `albert_config.json`.

    Returns:
        The prefix written.

    Raises:
        ConfigError: `albert_config.json` beside `prefix` describes another model (it belongs to another
            checkpoint in that folder); nothing is written.
    """
    prefix = os.fspath(prefix)
    directory = os.path.dirname(os.path.abspath(prefix))
    config_path = os.path.join(directory, "albert_config.json")
    if write_config:
        _check_config_beside(config_path, albert_config_of(model))
    encoder_vars, head_vars = variable_names.model_variables(model)
    names, tensors = [], []
    for name, variable in {**encoder_vars, **head_vars}.items():
        names.append(name)
        tensors.append(tf.convert_to_tensor(variable.value))
    if global_step is not None:
        names.append("global_step")
        tensors.append(tf.constant(int(global_step), tf.int64))
    # Staged and moved into place index last: the prefix is at every moment the old checkpoint, none, or this one.
    with atomic_files(prefix, marker=".index") as staged:
        tf.raw_ops.SaveV2(prefix=staged, tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
    write_checkpoint_state(directory, os.path.abspath(prefix), checkpoint_names(directory))
    if write_config and not os.path.exists(config_path):
        albert_config_of(model).to_json_file(config_path)
    return prefix


def _check_config_beside(config_path, config):
    """Refuses to save beside an albert_config.json of another model (it would be overwritten)."""
    if not os.path.exists(config_path):
        return
    existing = AlbertConfig.from_json_file(config_path).to_dict()
    wanted = config.to_dict()
    if existing == wanted:
        return
    differences = [f"{key} {existing.get(key)!r} there, {wanted.get(key)!r} here"
                   for key in sorted(set(existing) | set(wanted)) if existing.get(key) != wanted.get(key)]
    raise ConfigError(
        f"{config_path} describes another model ({'; '.join(differences[:4])}): it belongs to another checkpoint "
        f"in {os.path.dirname(config_path)}. Nothing was written; save this model in another folder")
