"""Resuming that cannot destroy: find the newest checkpoint that restores, whatever the state file says.

`tf.train.CheckpointManager` trusts its `checkpoint` state file: without it
(deleted, lost in a copy) or when it names a missing checkpoint, a run would
start from step 0 and overwrite the `ckpt-N` files beside it. Here the
files themselves are the truth:

- the newest `ckpt-N` that restores is used; newer ones that fail (a
  truncated or corrupt save) are set aside as `corrupt-ckpt-N.*` with a
  warning naming both, and the state file is rewritten to list the valid ones;
- checkpoints that exist but none restores stop the run (`ResumeError`),
  unless the user asked to start over (`overwrite_output_dir`), in which
  case the old run's state is moved aside, never deleted;
- `ckpt-N_temp/` folders of saves that were interrupted are removed.
"""

import os
import re
import shutil
import time

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints.checkpoint_state import write_checkpoint_state
from albert_tf.errors import ResumeError
from albert_tf.outputs.run_lock import LOCK_NAME

CHECKPOINT_NAME = "ckpt"
_CHECKPOINT_INDEX = re.compile(rf"^{CHECKPOINT_NAME}-(\d+)\.index$")
_INTERRUPTED_SAVE = re.compile(rf"^{CHECKPOINT_NAME}-\d+_temp$")


def checkpoint_prefixes(directory):
    """[(step, prefix)] of the `ckpt-N` checkpoints in `directory`, newest first."""
    if not tf.io.gfile.isdir(directory):
        return []
    found = [(int(m.group(1)), os.path.join(directory, name[:-len(".index")]))
             for name in tf.io.gfile.listdir(directory) if (m := _CHECKPOINT_INDEX.match(name))]
    return sorted(found, reverse=True)


def remove_interrupted_saves(directory):
    """Deletes `ckpt-N_temp/` folders that TensorFlow leaves when a save is killed; returns their names."""
    if not tf.io.gfile.isdir(directory):
        return []
    removed = [name.rstrip("/") for name in tf.io.gfile.listdir(directory) if _INTERRUPTED_SAVE.match(name.rstrip("/"))]
    for name in removed:
        tf.io.gfile.rmtree(os.path.join(directory, name))
        logging.warning("removed %s: the temporary folder of an interrupted save", os.path.join(directory, name))
    return removed


def _set_aside(prefix):
    directory, name = os.path.split(prefix)
    for file_name in tf.io.gfile.listdir(directory):
        if file_name == name + ".index" or file_name.startswith(name + ".data-"):
            tf.io.gfile.rename(os.path.join(directory, file_name), os.path.join(directory, "corrupt-" + file_name),
                               overwrite=True)


def _restore(checkpoint, prefix, items, optional):
    """Restores `checkpoint` from `prefix` whole, or, when the checkpoint lacks some `optional` of its
    `items` (an older version's), the other items."""
    stored = {name.split("/", 1)[0] for name, _ in tf.train.list_variables(prefix)}
    absent = [name for name in optional if name in (items or {}) and name not in stored]
    if absent:
        logging.warning("%s was written by an earlier version, without %s: resuming with their initial values "
                        "(a dropout run then differs from an unbroken one)", prefix, ", ".join(absent))
        checkpoint = tf.train.Checkpoint(**{k: v for k, v in items.items() if k not in absent})
    checkpoint.restore(prefix).assert_existing_objects_matched()


def restore_newest_valid(checkpoint, directory, state_latest, items=None, optional=()):
    """Restores the newest `ckpt-N` of `directory` that restores whole; returns its prefix, or None if none exist.

    `state_latest` is what the state file names (None when it is missing).
    `items`: the keyword arguments `checkpoint` was made with; `optional`:
    those of them that a checkpoint of an earlier version may lack.
    Raises `ResumeError` when checkpoints exist and none restores.
    """
    found = checkpoint_prefixes(directory)
    if not found:
        return None
    prefixes = [prefix for _, prefix in found]
    if state_latest is None or os.path.abspath(state_latest) not in map(os.path.abspath, prefixes):
        logging.warning("%s holds %d checkpoint(s) (newest %s) but its state file %s; resuming from the files",
                        directory, len(found), os.path.basename(prefixes[0]),
                        "is missing" if state_latest is None else f"names {state_latest}, which is missing")
    failures = []
    for index, prefix in enumerate(prefixes):
        try:
            _restore(checkpoint, prefix, items, optional)
        except Exception as error:  # damaged files raise OpError, IndexError, ValueError or AssertionError
            failures.append((prefix, f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"))
            continue
        for bad, reason in failures:
            _set_aside(bad)
            logging.warning("checkpoint %s is damaged (%s); set aside as corrupt-%s and resumed from %s instead",
                            bad, reason, os.path.basename(bad), prefix)
        valid = prefixes[index:]
        write_checkpoint_state(directory, prefix, valid[::-1])
        return prefix
    raise ResumeError(
        f"{directory} holds checkpoints but none restores into this model:\n  "
        + "\n  ".join(f"{prefix}: {reason}" for prefix, reason in failures)
        + "\nNothing was overwritten. Point output_dir at another folder, repair the files, or pass "
        "overwrite_output_dir to set this run's state aside and start over.")


def set_run_state_aside(work_dir, keep=()):
    """Moves everything an earlier run left in WORK_DIR into WORK_DIR/replaced-TIME/ (overwrite_output_dir):
    checkpoints, best weights, results, predictions, exports, summaries. Returns that folder, or None.

    Not moved: the run lock, earlier replaced-* folders, other workers' folders, and the entries holding
    any path of `keep` (this run's inputs, should they lie inside WORK_DIR).
    """
    keep = [os.path.abspath(path) for path in keep]

    def holds_an_input(entry):
        return any(path == entry or path.startswith(entry + os.sep) for path in keep)

    present = sorted(name for name in os.listdir(work_dir)
                     if name != LOCK_NAME and not name.startswith(("replaced-", "worker_"))
                     and not holds_an_input(os.path.join(os.path.abspath(work_dir), name)))
    if not present:
        return None
    base = os.path.join(work_dir, time.strftime("replaced-%Y%m%d-%H%M%S"))
    target, suffix = base, 1
    while os.path.lexists(target):  # two starts over within one second
        suffix += 1
        target = f"{base}-{suffix}"
    os.makedirs(target)
    for name in present:
        shutil.move(os.path.join(work_dir, name), os.path.join(target, name))
    logging.warning("overwrite_output_dir: the earlier run's %s moved to %s", ", ".join(present), target)
    return target
