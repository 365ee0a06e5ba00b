"""albert-tf: ALBERT for TensorFlow 2 / Keras 3.

The top-level names are imported lazily, so that `albert_tf.tokenization` and
`tools/create_pretraining_data.py` work without loading TensorFlow (importing
TensorFlow costs about 6 s and 600 MiB of memory per process).
"""

import importlib
import os

# This package is written for Keras 3 on its TensorFlow backend.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_EXPORTS = {
    "AlbertConfig": "albert_tf.albert_config",
    "CheckpointMismatchError": "albert_tf.checkpoints.original_checkpoint",
    "load_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "save_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "AlbertEncoder": "albert_tf.models",
    "AlbertPretrainer": "albert_tf.models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
