"""The `checkpoint` state file of a checkpoint folder, written atomically with names relative to it.

TensorFlow's writer of this file (`tf.compat.v1.train.update_checkpoint_state`) is deprecated, and
its reader (`tf.train.get_checkpoint_state`) returns absolute paths, so that a list merged from
both named one checkpoint twice. The file is the text form of TensorFlow's CheckpointState proto:
`model_checkpoint_path` (the latest), `all_model_checkpoint_paths` (oldest first) and their
`all_model_checkpoint_timestamps`: `tf.train.CheckpointManager` deletes, beyond `max_to_keep`, only the
checkpoints whose timestamps it finds there (without them a resumed run kept every checkpoint).
"""

import os
import time

import tensorflow as tf
from google.protobuf import text_encoding

from albert_tf.outputs.atomic_files import atomic_open

STATE_FILE = "checkpoint"


def _relative(directory, path):
    return os.path.relpath(path, directory) if os.path.isabs(path) else path


def checkpoint_names(directory):
    """The checkpoints the state file of `directory` lists (oldest first), relative to it; [] if none."""
    state = tf.train.get_checkpoint_state(directory)
    if state is None:
        return []
    directory = os.path.abspath(directory)
    return [_relative(directory, path) for path in state.all_model_checkpoint_paths]


def write_checkpoint_state(directory, latest, all_paths):
    """Writes DIRECTORY/checkpoint naming `latest` and `all_paths` (oldest first; `latest` goes last), each
    once and relative to the folder, atomically."""
    directory = os.path.abspath(directory)
    names = []
    for path in [*all_paths, latest]:  # a name listed again moves to its later place
        name = _relative(directory, os.fspath(path))
        if name in names:
            names.remove(name)
        names.append(name)
    latest = names[-1]

    def quoted(name):
        return '"' + text_encoding.CEscape(name, as_utf8=True) + '"'

    def saved_at(name):
        index = os.path.join(directory, name + ".index")
        return os.path.getmtime(index) if os.path.exists(index) else time.time()

    timestamps = [saved_at(name) for name in names]
    lines = [f"model_checkpoint_path: {quoted(latest)}"]
    lines += [f"all_model_checkpoint_paths: {quoted(name)}" for name in names]
    lines += [f"all_model_checkpoint_timestamps: {stamp!r}" for stamp in timestamps]
    # Older than every checkpoint listed: the manager may delete each of them in turn (max_to_keep).
    lines.append(f"last_preserved_timestamp: {min(timestamps) - 1.0!r}")
    with atomic_open(os.path.join(directory, STATE_FILE), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
