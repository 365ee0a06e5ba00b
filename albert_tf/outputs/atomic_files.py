"""Atomic outputs: a file or folder appears under its final name only when complete and flushed.

Everything is written under a temporary name in the same folder
(`.NAME.tmp-PID`), flushed to disk (fsync), and renamed into place; an
error or a kill leaves at most the temporary, which `remove_leftovers`
deletes on the next run. A reader never sees a torn file under a final name.
Remote paths (gs://...) are written directly: object stores publish an
object only when its upload completes.

    with atomic_open("results.json", "w") as f:
        json.dump(results, f)
    with atomic_path("export/saved_model") as temporary:   # a folder: its writer fills `temporary`
        tf.saved_model.save(module, temporary)
"""

import contextlib
import os
import re
import shutil

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)$")


def is_remote(path):
    return "://" in str(path)


def temporary_name(path, kind="tmp"):
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.{kind}-{os.getpid()}")


def _fsync(path):
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for name in files:
                _fsync(os.path.join(root, name))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def commit(temporary, path):
    """Flushes `temporary` (file or folder) and renames it onto `path`, replacing what was there."""
    _fsync(temporary)
    if os.path.isdir(temporary) and os.path.isdir(path):
        # A folder cannot be renamed over a non-empty one: move the old one aside first, so that
        # `path` is at every moment either the old complete folder, absent, or the new one.
        old = temporary_name(path, "old")
        os.replace(path, old)
        os.replace(temporary, path)
        _remove(old)
    else:
        os.replace(temporary, path)
    _fsync(os.path.dirname(os.path.abspath(path)))


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` for a writer to create; commits it if the block succeeds."""
    if is_remote(path):
        yield path
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = temporary_name(path)
    _remove(temporary)
    try:
        yield temporary
        commit(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """`open(path, mode)` whose file appears under `path` only if the block completes."""
    with atomic_path(path) as temporary:
        with open(temporary, mode, **kwargs) as handle:
            yield handle


def remove_leftovers(directory):
    """Deletes temporaries of interrupted atomic writes in `directory` whose writer is gone; returns them."""
    removed = []
    if is_remote(directory) or not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        match = _TEMPORARY.match(name)
        if match and not _alive(int(match.group("pid"))):
            _remove(os.path.join(directory, name))
            removed.append(name)
    return removed


def _alive(pid):
    if pid == os.getpid():
        return False  # ours: left by an earlier write of this process that failed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
