"""A tiny fine-tuning run (tiny_runs.tiny_regression_job, 12 steps, an evaluation at every checkpoint) that
SIGKILLs itself at a named moment of a save; run as a script by test_kill_points.py.

    python killed_job.py TEST_DATA DATA_DIR OUTPUT_DIR POINT OCCURRENCE

POINT (OCCURRENCE counts its matching calls from 1):
  none            no kill: the uninterrupted run
  mid-save        a ckpt-N save is half done: its shard is in ckpt-N_temp/, not yet merged into ckpt-N.*
  state-file      ckpt-N.* are complete, the `checkpoint` state file is not yet rewritten to name it
  best-swap       the old best/ is moved aside, the new one not yet in place
  export-index    export/model.ckpt-best: the old index removed and the new data in place, the new index not
  best-copy       best/ is committed, OUTPUT_DIR/best_eval.json not yet replaced by its copy
"""

import os
import pathlib
import signal
import sys

import keras  # noqa: F401  (Keras before the patches: it imports TensorFlow's modules they replace names in)
from tensorflow.python.checkpoint import functional_saver
from tensorflow.python.lib.io import file_io

from albert_tf.training.training_loop import run_training
from tiny_runs import tiny_regression_job

SETTINGS = dict(num_train_steps=12, save_checkpoints_steps=2, do_eval=True, deterministic=True,
                keep_checkpoint_max=3)


def kill_on(count, matches):
    """A wrapper factory: the wrapped call SIGKILLs this process on the `count`-th call that `matches`."""
    calls = [0]

    def wrap(original):
        def call(*args, **kwargs):
            if matches(*args, **kwargs):
                calls[0] += 1
                if calls[0] == count:
                    sys.stdout.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return call
    return wrap


def install(point, count):
    if point == "none":
        return
    if point == "mid-save":
        functional_saver.gen_io_ops.merge_v2_checkpoints = kill_on(
            count, lambda prefixes, destination, **_: "ckpt-" in str(destination.numpy()))(
            functional_saver.gen_io_ops.merge_v2_checkpoints)
    elif point == "state-file":
        file_io.rename = kill_on(count, lambda source, target, *_: str(target).endswith("/checkpoints/checkpoint"))(
            file_io.rename)
    else:
        name = {"best-swap": "best", "export-index": "model.ckpt-best.index", "best-copy": "best_eval.json"}[point]
        os.replace = kill_on(count, lambda source, target: os.path.basename(target) == name)(os.replace)


def job(test_data, data_dir, output_dir):
    return tiny_regression_job(test_data, pathlib.Path(data_dir), output_dir, **SETTINGS)


def main(test_data, data_dir, output_dir, point, count):
    install(point, int(count))
    from absl import logging
    logging.set_verbosity(logging.WARNING)
    run_training(*job(test_data, data_dir, output_dir))


if __name__ == "__main__":
    main(*sys.argv[1:])
