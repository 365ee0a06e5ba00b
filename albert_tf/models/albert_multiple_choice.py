"""ALBERT for multiple choice (RACE)."""


import keras
import tensorflow as tf

from albert_tf.layers.output_projection import OutputProjection
from albert_tf.models.albert_encoder import ENCODER_INPUTS
from albert_tf.models.finetuning_model import FinetuningModel


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMultipleChoice(FinetuningModel):
    """Scores each choice's `[CLS] article [SEP] question+option [SEP]` encoding.

    The `[B, K, S]` inputs are encoded as `B*K` sequences; each pooled output
    goes through dropout and a one-unit dense layer, reshaped to `[B, K]`
    logits (softmax over the choices), as the original run_race.

    Inputs: `input_ids`, `input_mask`, `segment_ids` int32 [batch, K, seq].
    Outputs: `{"logits": [batch, K]}` in float32.

    Args:
        config: an `AlbertConfig`.
        num_choices: K (4 for RACE) of the batch the variables are built with; a call scores as many
            choices as its inputs hold.
        dropout_rate: dropout on the pooled outputs in training.
        dtype: a dtype policy name; defaults to the global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> model = AlbertMultipleChoice(config, num_choices=4)
    >>> ids = tf.fill([2, 4, 6], 7)
    >>> model({"input_ids": ids, "input_mask": tf.ones_like(ids),
    ...        "segment_ids": tf.zeros_like(ids)})["logits"].shape
    TensorShape([2, 4])
    """

    def __init__(self, config, num_choices=4, dropout_rate=0.1, dtype=None, **kwargs):
        # === Layers ===
        super().__init__(config, dtype=dtype, **kwargs)
        self.num_choices = num_choices
        self.dropout_rate = dropout_rate
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=dtype)
        self.scorer = OutputProjection(1, self.config.initializer_range, dtype=dtype, name="scorer")
        # === Variables ===
        self._build_with_dummy_batch(leading_shape=(1, num_choices))

    def encoder_inputs(self, inputs):
        """[batch, choices, length] -> [batch * choices, length]."""
        return {name: tf.reshape(inputs[name], [-1, tf.shape(inputs[name])[-1]]) for name in ENCODER_INPUTS}

    def head(self, encoder_outputs, inputs, training):
        scores = self.scorer(self.dropout(encoder_outputs["pooled_output"], training=training))
        return {"logits": tf.reshape(scores, tf.shape(inputs["input_ids"])[:-1])}  # [B, K] of these inputs

    def get_config(self):
        return {**self._base_config(), "num_choices": self.num_choices, "dropout_rate": self.dropout_rate}
