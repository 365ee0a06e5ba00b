"""ALBERT with its pretraining heads: masked LM and sentence order."""

import keras

from albert_tf.albert_config import AlbertConfig
from albert_tf.layers.masked_lm_head import MaskedLMHead
from albert_tf.layers.sentence_order_head import SentenceOrderHead
from albert_tf.models.albert_encoder import ENCODER_INPUTS, AlbertEncoder
from albert_tf.models.encoder_heads import EncoderHeads
from albert_tf.models.model_config import ConfigRoundTrip


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertPretrainer(EncoderHeads, ConfigRoundTrip, keras.Model):
    """The encoder plus the masked-LM and sentence-order heads.

    Inputs: the encoder's `input_ids`, `input_mask`, `segment_ids` and
    `masked_lm_positions` (int32 `[batch, P]`).
    Outputs: `sequence_output`, `pooled_output`, `mlm_logits` [batch, P, V]
    and `sop_logits` [batch, 2] (logits in float32).

    Args:
        config: an `AlbertConfig`.
        dtype: a dtype policy name; defaults to the global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> model = AlbertPretrainer(config)
    >>> ids = tf.constant([[2, 10, 4, 3, 0]])
    >>> outputs = model({"input_ids": ids,
    ...                  "input_mask": tf.cast(ids > 0, tf.int32),
    ...                  "segment_ids": tf.zeros_like(ids),
    ...                  "masked_lm_positions": tf.constant([[2]])})
    >>> outputs["mlm_logits"].shape, outputs["sop_logits"].shape
    (TensorShape([1, 1, 100]), TensorShape([1, 2]))
    """

    def __init__(self, config, dtype=None, **kwargs):
        if isinstance(config, dict):
            config = AlbertConfig.from_dict(config)

        # === Layers ===
        encoder = AlbertEncoder(config, dtype=dtype, name="encoder")
        masked_lm_head = MaskedLMHead(
            encoder.embedding,
            transform_size=config.mlm_transform_size,
            hidden_act=config.hidden_act,
            initializer_range=config.initializer_range,
            dtype=dtype,
            name="masked_lm_head",
        )
        sentence_order_head = SentenceOrderHead(
            initializer_range=config.initializer_range, dtype=dtype, name="sentence_order_head"
        )

        # === Functional model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ENCODER_INPUTS + ("masked_lm_positions",)
        }
        encoded = encoder({name: inputs[name] for name in encoder.input})
        outputs = _pretraining_outputs(masked_lm_head, sentence_order_head, encoded, inputs)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        self.encoder = encoder
        self.masked_lm_head = masked_lm_head
        self.sentence_order_head = sentence_order_head

    def head(self, encoder_outputs, inputs, training):
        return _pretraining_outputs(self.masked_lm_head, self.sentence_order_head, encoder_outputs, inputs,
                                    training=training)

    def get_config(self):
        return self._base_config()


def _pretraining_outputs(masked_lm_head, sentence_order_head, encoded, inputs, **mode):
    """The model's outputs from the encoder's: the functional model's wiring and `head`'s, once."""
    return {
        "sequence_output": encoded["sequence_output"],
        "pooled_output": encoded["pooled_output"],
        "mlm_logits": masked_lm_head(encoded["sequence_output"], inputs["masked_lm_positions"], **mode),
        "sop_logits": sentence_order_head(encoded["pooled_output"], **mode),
    }
