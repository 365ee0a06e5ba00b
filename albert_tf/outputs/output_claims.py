"""One writer per output: a command claims the files and folders it will write before it starts.

Checking that an output does not exist and writing it later leaves a window in which a second run,
started a moment after the first, passes the same check and then replaces the first run's output. A
claim closes it: `.NAME.claim` beside each output, locked with `fcntl.flock` (as `RunLock` locks an
output folder) from the check until the process ends. A second process that wants the same output
is refused at once, naming the holder; once the holder is done its output exists and the existence
check refuses (unless asked to overwrite). The kernel drops the lock of a killed process; the claim
file is removed by its holder at exit, under the lock, and a process that locked a file which was
removed meanwhile locks again.
"""

import atexit
import fcntl
import os

from albert_tf.errors import OutputFolderBusyError
from albert_tf.outputs.run_lock import holder_line

_HELD = {}  # claim file -> open handle, for this process's life


def claim_name(path):
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.claim")


def _lock(claim):
    """An open handle holding the lock of the file `claim` (which exists under that name), or None if busy."""
    while True:
        handle = open(claim, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        try:
            same = os.stat(claim).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()  # its holder removed it after we opened it: lock the new one


def _holder(claim):
    try:
        with open(claim) as f:
            return f.read().strip() or "another process"
    except OSError:
        return "another process"


class OutputClaim:
    """The claims `claim_outputs` took; `with` releases them at the end of the block (else: at exit)."""

    def __init__(self, claims):
        self.claims = claims

    def release(self):
        for claim in self.claims:
            if claim in _HELD:
                _release(claim)
        self.claims = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def claim_outputs(paths):
    """Claims every (local) path of `paths` for this process; returns the `OutputClaim`. Raises
    `OutputFolderBusyError` naming the output and the process writing it (nothing is claimed then).
    Paths this process holds already pass (and stay with the claim that took them)."""
    taken = OutputClaim([])
    try:
        for path in paths:
            claim = claim_name(path)
            if claim in _HELD:
                continue
            try:
                os.makedirs(os.path.dirname(claim), exist_ok=True)
                handle = _lock(claim)
            except OSError as error:  # a folder that cannot be written: name it, not the claim file
                raise OSError(error.errno, error.strerror, os.path.dirname(claim)) from None
            if handle is None:
                raise OutputFolderBusyError(
                    f"{path} is being written by another run ({_holder(claim)}); wait for it to end, stop it, or "
                    "write elsewhere")
            handle.seek(0)
            handle.truncate()
            handle.write(holder_line())
            handle.flush()
            _HELD[claim] = handle
            taken.claims.append(claim)
    except BaseException:
        taken.release()
        raise
    return taken


def _release(claim):
    handle = _HELD.pop(claim)
    try:
        os.remove(claim)  # under the lock: a process that opened it meanwhile sees it gone and locks anew
    except OSError:
        pass
    handle.close()


@atexit.register
def release_all():
    """Removes and unlocks this process's claims (at exit; tests may call it)."""
    for claim in list(_HELD):
        _release(claim)
