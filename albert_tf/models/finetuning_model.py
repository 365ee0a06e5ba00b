"""What the fine-tuning models share: an encoder, a head, config round-trips."""

import keras
import tensorflow as tf

from albert_tf.albert_config import AlbertConfig
from albert_tf.models.albert_encoder import ENCODER_INPUTS, AlbertEncoder
from albert_tf.models.model_config import ConfigRoundTrip


class FinetuningModel(ConfigRoundTrip, keras.Model):
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

    def encoder_inputs(self, inputs):
        """The encoder's inputs among the model's (multiple choice flattens its choices)."""
        return {name: inputs[name] for name in ENCODER_INPUTS}

    def encode(self, inputs, training):
        return self.encoder(self.encoder_inputs(inputs), training=training)

    def head(self, encoder_outputs, inputs, training):
        """The head's outputs (a dict) from the encoder's (`sequence_output`, `pooled_output`) and the inputs."""
        raise NotImplementedError

    def internals(self, inputs, training=False):
        """(outputs, encoder internals) of one forward pass: what distillation matches of a task model
        (`AlbertEncoder.internals`)."""
        internals = self.encoder.internals(self.encoder_inputs(inputs), training=training)
        return self.head(internals, inputs, training), internals

    def _build_with_dummy_batch(self, extra_inputs=None, leading_shape=(1,)):
        ids = tf.fill(list(leading_shape) + [8], 2)
        inputs = {"input_ids": ids, "input_mask": tf.ones_like(ids), "segment_ids": tf.zeros_like(ids)}
        inputs.update(extra_inputs or {})
        self(inputs, training=False)

