"""What the fine-tuning models share: an encoder, a head, config round-trips."""

import keras
import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.models.albert_encoder import ENCODER_INPUTS, AlbertEncoder


class FinetuningModel(keras.Model):
    """Base of `AlbertClassifier`, `AlbertQuestionAnswerer` and `AlbertMultipleChoice`.

    Subclasses create their head layers, then call `_build_with_dummy_batch`
    so that every variable exists (checkpoints load right after
    construction). The original checkpoint names of the heads are
    `albert_tf.checkpoints.variable_names.head_variables`.
    """

    def __init__(self, config, dtype=None, **kwargs):
        if isinstance(config, dict):
            config = AlbertConfig.from_dict(config)
        super().__init__(dtype=dtype, **kwargs)
        self.config = config
        self.encoder = AlbertEncoder(config, dtype=dtype, name="encoder")

    def encode(self, inputs, training):
        return self.encoder({name: inputs[name] for name in ENCODER_INPUTS}, training=training)

    def _build_with_dummy_batch(self, extra_inputs=None, leading_shape=(1,)):
        ids = tf.fill(list(leading_shape) + [8], 2)
        inputs = {"input_ids": ids, "input_mask": tf.ones_like(ids), "segment_ids": tf.zeros_like(ids)}
        inputs.update(extra_inputs or {})
        self(inputs, training=False)

    def _base_config(self):
        return {"config": self.config.to_dict(),
                "dtype": keras.dtype_policies.serialize(self.dtype_policy), "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
