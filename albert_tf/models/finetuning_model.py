"""What the fine-tuning models share: an encoder, a head, config round-trips."""

import keras
import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.models.albert_encoder import AlbertEncoder
from albert_tf.models.encoder_heads import EncoderHeads
from albert_tf.models.model_config import ConfigRoundTrip


class FinetuningModel(EncoderHeads, ConfigRoundTrip, keras.Model):
    """Base of every model with a task head (`DenseHeadModel`, `AlbertQuestionAnswerer`, `AlbertMultipleChoice`).

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

    def call(self, inputs, training=False):
        return self.head(self.encode(inputs, training), inputs, training)

    def encode(self, inputs, training):
        return self.encoder(self.encoder_inputs(inputs), training=training)


    def _build_with_dummy_batch(self, extra_inputs=None, leading_shape=(1,)):
        ids = tf.fill(list(leading_shape) + [8], 2)
        inputs = {"input_ids": ids, "input_mask": tf.ones_like(ids), "segment_ids": tf.zeros_like(ids)}
        inputs.update(extra_inputs or {})
        self(inputs, training=False)

