"""Stopping a run cleanly: SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) end it at a step boundary.

The handlers only record the signal; the training loop looks at `requested` after each step, saves a
checkpoint and stops with `RunInterrupted`, whose exit status is the shell's for that signal (130,
143). A second signal while the step finishes stops at once (KeyboardInterrupt); the checkpoints
already written are complete (they are written atomically), so a rerun resumes from the last one.
"""

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """`with StopSignals() as stop:` ... `if stop.requested:`; handlers installed in the main thread only."""

    def __init__(self):
        self.requested = None  # the signal number, once one arrived
        self._previous = {}

    def _handle(self, number, frame):
        if self.requested is not None:
            raise KeyboardInterrupt  # the second signal: stop now
        self.requested = number

    @property
    def name(self):
        return signal.Signals(self.requested).name if self.requested else None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}
