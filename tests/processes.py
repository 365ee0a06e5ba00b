"""Subprocesses that tests always reap: each runs in its own process group, killed whole on timeout or exit.

A TensorFlow worker can ignore SIGTERM while it waits on a collective, so
the group gets SIGKILL.
"""

import contextlib
import os
import signal
import subprocess


def _kill_group(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def run(args, timeout=600, capture_output=True, text=True, check=False, **kwargs):
    """`subprocess.run(args, capture_output=True, text=True, timeout=timeout)` that reaps on timeout.

    Output is always captured as text (the two arguments are accepted for familiarity).
    """
    del capture_output, text
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, **kwargs)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        _kill_group(process)
        raise
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args, stdout, stderr)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


@contextlib.contextmanager
def started(*commands, **kwargs):
    """Starts each (args, extra Popen kwargs) in its own group; kills what is still running at exit."""
    processes = []
    try:
        for args, extra in commands:
            processes.append(subprocess.Popen(args, start_new_session=True, **{**kwargs, **extra}))
        yield processes
    finally:
        for process in processes:
            _kill_group(process)
