"""Original-layout checkpoints in and out, keras-hub interop and conversion.

The names below are imported on first use, so that the TensorFlow-free
config of this package (`conversion_config`) stays light.
"""

from albert_tf.lazy_exports import lazy_exports

_EXPORTS = {
    "CheckpointMismatchError": "albert_tf.checkpoints.original_checkpoint",
    "CheckpointReadError": "albert_tf.checkpoints.original_checkpoint",
    "LoadReport": "albert_tf.checkpoints.original_checkpoint",
    "load_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "load_initial_weights": "albert_tf.checkpoints.initial_weights",
    "resolve_checkpoint_path": "albert_tf.checkpoints.original_checkpoint",
    "save_checkpoint": "albert_tf.checkpoints.original_checkpoint",
    "encoder_from_keras_hub": "albert_tf.checkpoints.keras_hub_interop",
    "encoder_to_keras_hub": "albert_tf.checkpoints.keras_hub_interop",
    "model_from_keras_hub_preset": "albert_tf.checkpoints.keras_hub_interop",
    "save_keras_hub_preset": "albert_tf.checkpoints.keras_hub_interop",
    "load_hf": "albert_tf.checkpoints.hf_checkpoint",
    "load_hf_model": "albert_tf.checkpoints.hf_checkpoint",
    "read_hf_model": "albert_tf.checkpoints.hf_checkpoint",
    "save_hf_model": "albert_tf.checkpoints.hf_checkpoint",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("albert_tf.checkpoints", _EXPORTS)
