"""albert-tf: ALBERT for TensorFlow 2 / Keras 3.

The top-level names are imported lazily, so that `albert_tf.tokenization` and
`tools/create_pretraining_data.py` work without loading TensorFlow (importing
TensorFlow costs seconds and hundreds of MiB of memory per process).
"""

import os

# This package is written for Keras 3 on its TensorFlow backend.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.lazy_exports import lazy_exports  # noqa: E402  (after the backend is chosen)

__version__ = "0.1.0"

_EXPORTS = {
    "AlbertConfig": "albert_tf.albert_config",
    "CheckpointMismatchError": "albert_tf.checkpoints.original_checkpoint",
    "load_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "save_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "AlbertEncoder": "albert_tf.models",
    "AlbertPretrainer": "albert_tf.models",
    "load_model": "albert_tf.models.model_loading",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("albert_tf", _EXPORTS)
