"""One run per output folder: an exclusive lock held for the run's life.

The lock is `fcntl.flock` on OUTPUT_DIR/.run.lock (the standard library;
`filelock` would add a dependency and does not record the holder). The
kernel drops it when the holding process dies, so a killed run leaves no
stale lock behind; the file keeps the pid and command of the last holder
so that a refused run can name it.
"""

import fcntl
import os
import socket
import sys

from albert_tf.errors import OutputFolderBusyError

LOCK_NAME = ".run.lock"


def holder_line():
    """Who holds a lock: `pid N on HOST: COMMAND`, written into the lock file for a refused process to name."""
    return f"pid {os.getpid()} on {socket.gethostname()}: {' '.join(sys.argv)}\n"


class RunLock:
    """`with RunLock(output_dir):` holds the folder's lock, or raises `OutputFolderBusyError` at once."""

    def __init__(self, output_dir):
        self.path = os.path.join(output_dir, LOCK_NAME)
        self._file = None

    def acquire(self):
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise OutputFolderBusyError(
                f"{os.path.dirname(self.path)} is in use by another run ({holder}); wait for it to end, "
                "stop it, or pick another output_dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(holder_line())
        handle.flush()
        self._file = handle
        return self

    def release(self):
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
