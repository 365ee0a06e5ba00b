"""Original-layout checkpoints in and out, and keras-hub weight conversion."""

from albert_tf.checkpoints.original_checkpoint import (
    CheckpointMismatchError,
    LoadReport,
    load_checkpoint,
    resolve_checkpoint_path,
    save_checkpoint,
)
from albert_tf.checkpoints.keras_hub_interop import (
    encoder_from_keras_hub,
    encoder_to_keras_hub,
)
