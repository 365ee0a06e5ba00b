"""How every albert-tf command starts and ends: quiet TensorFlow, readable lines, clear errors.

By default a command prints only its own lines: TensorFlow's C++ runtime
(oneDNN and CUDA banners, a cuInit error on CPU machines) and Python
deprecation notices are silenced before TensorFlow is imported.
`--verbosity=1` (absl's flag) or `ALBERT_TF_VERBOSE=1` brings them back,
together with full tracebacks of errors. `--helpfull` exits 0 without
importing TensorFlow.
"""

import contextlib
import errno
import functools
import logging as std_logging
import os
import re
import sys
import tempfile
import time
import warnings

from absl import app, flags, logging

from albert_tf.errors import ConfigError, OutputFolderBusyError, ResumeError, RunInterrupted

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELP_FLAGS = {"-?", "-h", "-help", "--help", "-helpshort", "--helpshort", "-helpfull", "--helpfull",
              "-helpxml", "--helpxml"}
# Errors of bad settings, inputs or the machine (a full disk, a read-only folder): printed as one message, with
# no traceback unless verbose.
USER_ERRORS = (ConfigError, OSError, FloatingPointError, ValueError, app.UsageError, OutputFolderBusyError,
               ResumeError)
# What to do about the operating system's errors, by errno.
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space (or write elsewhere) and rerun; nothing complete was replaced",
    errno.EDQUOT: "the disk quota is exhausted: free space (or write elsewhere) and rerun",
    errno.EFBIG: "the file grew past the size this process may write (ulimit -f)",
    errno.EACCES: "no permission: write to a folder you own, or fix its permissions",
    errno.EPERM: "not permitted: write to a folder you own",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.ENOTDIR: "a file stands where a folder is expected: pick another path",
    errno.EEXIST: "a file stands where a folder is expected: pick another path",
    errno.EISDIR: "a folder stands where a file is expected: pick another path",
}


def describe(error):
    """The one line printed for a user error: the message, an OSError as `PATH: what happened; what to do`."""
    if isinstance(error, OSError) and error.strerror and not isinstance(error, FileNotFoundError):
        where = f"{error.filename}: " if error.filename else ""
        hint = _OS_HINTS.get(error.errno)
        return f"{where}{error.strerror}" + (f" ({hint})" if hint else "")
    if type(error).__module__.startswith("tensorflow") and hasattr(error, "message"):
        # `{{function_node __wrapped__SaveV2...}} PATH; File too large [Op:SaveV2]` -> `PATH: File too large`
        text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error.message.strip().splitlines()[0])
        text = re.sub(r"\s*\[Op:\w+\].*$", "", text).replace("; ", ": ", 1)
        hint = next((hint for number, hint in _OS_HINTS.items() if os.strerror(number) in text), None)
        return text + (f" ({hint})" if hint else "")
    return str(error)


def verbose():
    return os.environ.get("ALBERT_TF_VERBOSE", "") not in ("", "0") or flags.FLAGS["verbosity"].value > 0


class _LineFormatter(std_logging.Formatter):
    """`12:03:04 message` (warnings and errors say so), instead of absl's long prefix."""

    def format(self, record):
        level = "" if record.levelno < std_logging.WARNING else f"{record.levelname.lower()}: "
        return f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {level}{record.getMessage()}"


class _OwnLinesFilter(std_logging.Filter):
    """Passes albert-tf's records; other libraries' (TensorFlow's Python side) only from ERROR up."""

    def filter(self, record):
        return record.levelno >= std_logging.ERROR or record.pathname.startswith(PACKAGE_DIR)


@contextlib.contextmanager
def _stderr_to_file():
    """Sends file descriptor 2 (C++ logging) to a temporary file; replays it if the block fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def start_tensorflow():
    """Imports TensorFlow and Keras, quietly unless verbose; call before importing the library."""
    if verbose():
        import tensorflow  # noqa: F401
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    std_logging.getLogger("tensorflow").setLevel(std_logging.ERROR)
    # The C++ runtime writes some banners (oneDNN, CUDA drivers) while loading, before it reads its
    # log level. Devices are not touched here: multi-worker strategies must configure them first.
    with _stderr_to_file():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def run_job(task_name, task_config, training_config, distillation_config=None):
    """Starts TensorFlow quietly, then runs the one training loop on the task (its model distilled from a teacher
    when `distillation_config` is given); prints and returns its outputs."""
    start_tensorflow()
    # Imported here rather than at the top: TensorFlow must start after the settings above, and
    # `--helpfull` should not wait for it.
    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_loop import run_training

    task = create_task(task_name, task_config)
    if distillation_config is not None:
        from albert_tf.distillation.distillation_task import DistillationTask

        task = DistillationTask(task, distillation_config)
    outputs = run_training(task, training_config)
    print(f"\nOutputs in {os.path.abspath(training_config.output_dir)}")
    for description, path in outputs:
        print(f"  {description}: {path}")
    return outputs


def job_command(task_name, configs_from_flags):
    """(main, run) of a command that runs one job of the training loop: `configs_from_flags()` gives
    (task config, training config), `run()` is the console script."""

    def main(argv):
        del argv
        run_job(task_name, *configs_from_flags())

    main.__module__ = configs_from_flags.__module__  # --help shows that command's docstring
    return main, functools.partial(run, main)


def _own_flags_in_help(main):
    """`--help` lists the command's own flags (those defined under albert_tf.cli), `--helpfull` all.

    absl's `--help` shows the key flags of the main module, which it names by `sys.argv[0]`: for a
    console script that is the installed wrapper, which defines no flag and has no docstring.
    """
    main_module = sys.argv[0]
    for module, module_flags in flags.FLAGS.flags_by_module_dict().items():
        if module.startswith("albert_tf.cli") and module != main_module:
            for flag in module_flags:
                flags.FLAGS.register_key_flag_for_module(main_module, flag)
    entry = sys.modules["__main__"]
    if not entry.__doc__:
        entry.__doc__ = sys.modules[main.__module__].__doc__


def _tensorflow_errors():
    """TensorFlow's errors of the machine and the data, once TensorFlow is loaded (a file that cannot be
    written or read, memory); a bug's own errors keep their traceback."""
    if "tensorflow" not in sys.modules:
        return ()
    errors = sys.modules["tensorflow"].errors
    return (errors.ResourceExhaustedError, errors.PermissionDeniedError, errors.NotFoundError,
            errors.DataLossError, errors.FailedPreconditionError, errors.OutOfRangeError)


def run(main, argv=None):
    """`absl.app.run(main)` with help exiting 0 and bad-input errors as one clear line."""
    argv = list(sys.argv if argv is None else argv)
    _own_flags_in_help(main)

    def guarded(args):
        if not verbose():
            handler = logging.get_absl_handler()
            handler.setFormatter(_LineFormatter())
            handler.addFilter(_OwnLinesFilter())
        try:
            return main(args)
        except RunInterrupted as stopped:
            logging.flush()
            sys.stderr.write(f"{stopped}\n")
            sys.exit(stopped.exit_status)
        except KeyboardInterrupt:
            logging.flush()
            sys.stderr.write("interrupted: stopped at once (outside a training step, or a second signal); every "
                             "file already written under its name is complete, and a rerun resumes from the last "
                             "checkpoint\n")
            sys.exit(130)
        except USER_ERRORS + _tensorflow_errors() as error:
            if verbose():
                raise
            logging.flush()
            sys.stderr.write(f"error: {describe(error)}\n")
            sys.exit(1)

    try:
        app.run(guarded, argv)
    except SystemExit as exit_:
        if exit_.code == 1 and HELP_FLAGS.intersection(argv[1:]):
            sys.exit(0)
        raise
