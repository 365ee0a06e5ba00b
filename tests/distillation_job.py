"""The toy distillation of test_distillation (deterministic, 60 steps, a checkpoint every 20) that SIGKILLs
itself right after its N-th checkpoint state file is written (0: no kill); run as a script by
test_distillation.py.

    python distillation_job.py FOLDER OUTPUT_DIR N
"""

import pathlib
import sys

import keras  # noqa: F401  (Keras before the patch: it imports TensorFlow's modules the patch replaces names in)
from tensorflow.python.lib.io import file_io

from albert_tf.training.training_loop import run_training
from killed_job import kill_on
from test_distillation import toy_distillation

SETTINGS = dict(num_train_steps=60, save_checkpoints_steps=20, num_warmup_steps=5, deterministic=True)


def main(folder, output_dir, count):
    if int(count):  # the rename that makes checkpoint N the newest, then the kill
        def after_rename(original):
            killer = kill_on(int(count), lambda source, target, *_: str(target).endswith("/checkpoints/checkpoint"))

            def call(source, target, *args):
                original(source, target, *args)
                return killer(lambda *a: None)(source, target, *args)
            return call
        file_io.rename = after_rename(file_io.rename)
    from absl import logging
    logging.set_verbosity(logging.WARNING)
    run_training(*toy_distillation(pathlib.Path(folder), output_dir, **SETTINGS))


if __name__ == "__main__":
    main(*sys.argv[1:])
