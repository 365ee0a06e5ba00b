"""albert-tf: ALBERT for TensorFlow 2 / Keras 3."""

import os

# This package is written for Keras 3 on its TensorFlow backend.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.albert_config import AlbertConfig  # noqa: E402
from albert_tf.checkpoints import (  # noqa: E402
    CheckpointMismatchError,
    load_checkpoint,
    save_checkpoint,
)
from albert_tf.models import AlbertEncoder, AlbertPretrainer  # noqa: E402

__version__ = "0.1.0"
