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
    with atomic_files("export/model.ckpt-best", marker=".index") as staged:   # a checkpoint's files
        tf.raw_ops.SaveV2(prefix=staged, ...)

`atomic_files` is for writers that insist on the final name (Keras wants
`.keras` at the end) or write several files from one prefix (a checkpoint's
`.index` and `.data-*`): they write into a staging folder `.NAME.tmp-PID/`
and the files move out when all are complete. Several renames are not one,
so a `marker` file (a checkpoint's `.index`, without which readers see no
checkpoint) is removed first and moved in last: at every moment the prefix
is the old complete checkpoint, absent, or the new one.
"""

import contextlib
import os
import re
import shutil

from absl import logging

from albert_tf.errors import refuse_to_overwrite
from albert_tf.outputs.output_claims import claim_outputs

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)$")


def is_remote(path):
    return "://" in str(path)


def temporary_name(path, kind="tmp"):
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.{kind}-{os.getpid()}")


def _fsync(path, recursive=True):
    """Flushes `path` to disk: a file, or a folder (its entries; with `recursive`, every file under it too)."""
    if recursive and os.path.isdir(path):
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
    _fsync(os.path.dirname(os.path.abspath(path)), recursive=False)  # the rename itself, not the neighbours


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


@contextlib.contextmanager
def atomic_files(path, marker=None):
    """Yields DIR/.NAME.tmp-PID/NAME for a writer of NAME or of files NAME*; moves them into DIR if the block succeeds.

    `marker`: the suffix of the file that makes the set valid (".index" for a
    checkpoint prefix); the old one is removed before any file moves and the
    new one moves last.
    """
    if is_remote(path):
        yield path
        return
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    staging = temporary_name(path)
    _remove(staging)
    os.makedirs(staging)
    try:
        yield os.path.join(staging, name)
        _fsync(staging)
        written = os.listdir(staging)
        last = [f for f in written if marker is not None and f == name + marker]
        if last and os.path.lexists(path + marker):
            os.remove(path + marker)
            _fsync(directory, recursive=False)
        for group in ([f for f in written if f not in last], last):
            for file_name in group:
                os.replace(os.path.join(staging, file_name), os.path.join(directory, file_name))
            _fsync(directory, recursive=False)  # the files of the set are in place before the marker
    finally:
        _remove(staging)


def with_default_mode(path):
    """Gives a file the permissions `open` would (0666 less the umask): some writers create theirs owner-only."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return path


def remove_leftovers(directory):
    """Cleans up after interrupted atomic writes in `directory` whose writer is gone; returns what it did.

    Temporaries are deleted. An old folder set aside by a replacement that
    was killed before the new folder moved in (`.NAME.old-PID` with no NAME)
    is moved back: the old complete folder is kept until a new one is complete.
    """
    cleaned = []
    if is_remote(directory) or not os.path.isdir(directory):
        return cleaned
    for name in sorted(os.listdir(directory)):
        match = _TEMPORARY.match(name)
        if not match or _alive(int(match.group("pid"))):
            continue
        final = os.path.join(directory, match.group("name"))
        if name.endswith(f".old-{match.group('pid')}") and not os.path.lexists(final):
            os.replace(os.path.join(directory, name), final)
            cleaned.append(f"{name} (moved back to {match.group('name')})")
        else:
            _remove(os.path.join(directory, name))
            cleaned.append(name)
    return cleaned


def prepare_outputs(paths, overwrite):
    """Before a tool writes `paths`: claims them for this process (a second run writing the same outputs
    is refused at once), cleans up interrupted writes beside them, and refuses existing ones unless
    `overwrite` (what the user has is replaced only when asked). Returns the claim: `with
    prepare_outputs(...):` around the writing releases it after; otherwise it is held until exit."""
    paths = [os.fspath(p) for p in paths if p]
    claim = claim_outputs([p for p in paths if not is_remote(p)])
    try:
        for directory in sorted({os.path.dirname(os.path.abspath(p)) for p in paths if not is_remote(p)}):
            for name in remove_leftovers(directory):
                logging.warning("cleaned up %s in %s, left by an interrupted write", name, directory)
        if not overwrite:
            refuse_to_overwrite(paths, "overwrite (--overwrite)")
    except BaseException:
        claim.release()
        raise
    return claim


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
