"""Errors the library raises for bad settings or inputs, with messages meant for the user."""


class OutputFolderBusyError(RuntimeError):
    """Another live process is running on this output folder."""


class ResumeError(RuntimeError):
    """Checkpoints exist but none can be restored; nothing was overwritten."""


class ConfigError(ValueError):
    """A setting that cannot work; the message names each setting, its value and what is expected."""

    @classmethod
    def check(cls, problems, what):
        """Raises one error listing every problem (strings), if there are any."""
        if problems:
            raise cls(f"invalid {what}:\n  " + "\n  ".join(problems))
