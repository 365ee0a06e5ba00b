"""Errors the library raises for bad settings or inputs, with messages meant for the user."""

import os


class OutputFolderBusyError(RuntimeError):
    """Another live process is running on this output folder."""


class ResumeError(RuntimeError):
    """Checkpoints exist but none can be restored; nothing was overwritten."""


class RunInterrupted(Exception):
    """A run stopped by a signal at a step boundary, its checkpoint saved; `exit_status` is 128 + the signal."""

    def __init__(self, message, exit_status):
        super().__init__(message)
        self.exit_status = exit_status


class ConfigError(ValueError):
    """A setting that cannot work; the message names each setting, its value and what is expected."""

    @classmethod
    def check(cls, problems, what):
        """Raises one error listing every problem (strings), if there are any."""
        if problems:
            raise cls(f"invalid {what}:\n  " + "\n  ".join(problems))


def refuse_to_overwrite(paths, flag="overwrite"):
    """Raises `ConfigError` if any of `paths` exists: what a user has is replaced only when asked."""
    present = [str(p) for p in paths if "://" not in str(p) and os.path.lexists(p)]
    if present:
        raise ConfigError(f"{len(present)} output(s) already exist: {', '.join(present[:5])}"
                          f"{', ...' if len(present) > 5 else ''}; pass {flag} to replace them, or write elsewhere")
