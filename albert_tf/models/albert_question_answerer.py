"""ALBERT for extractive question answering (SQuAD v1.1 and v2.0)."""


import keras
import tensorflow as tf

from albert_tf.layers.output_projection import OutputProjection
from albert_tf.layers.squad_v2_head import NEG_INF, SquadV2Head
from albert_tf.models.finetuning_model import FinetuningModel


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertQuestionAnswerer(FinetuningModel):
    """Span prediction over the encoder's sequence output.

    v1 (`version_2_with_negative=False`): a dense layer of 2 units over every
    position gives start and end logits (`cls/squad/output_weights` [2, H]).
    Padded positions get -1e30 so that results do not depend on padding
    (the original pads every sequence to 384 and leaves them unmasked).
    Outputs `start_logits`, `end_logits` [batch, seq], float32.

    v2: `SquadV2Head`, ALBERT's head with an answerability classifier. Needs
    the `p_mask` input; in training also `start_positions` (the end is
    conditioned on the gold start). See `SquadV2Head` for the outputs.

    Args:
        config: an `AlbertConfig`.
        version_2_with_negative: the v2 head.
        start_n_top, end_n_top: the inference beam of the v2 head.
        dropout_rate: dropout of the v2 answerability classifier.
        dtype: a dtype policy name; defaults to the global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> model = AlbertQuestionAnswerer(config)
    >>> ids = tf.constant([[2, 10, 3, 11, 12, 3]])
    >>> model({"input_ids": ids, "input_mask": tf.ones_like(ids),
    ...        "segment_ids": tf.zeros_like(ids)})["start_logits"].shape
    TensorShape([1, 6])
    """

    def __init__(self, config, version_2_with_negative=False, start_n_top=5, end_n_top=5,
                 dropout_rate=0.1, dtype=None, **kwargs):
        # === Layers ===
        super().__init__(config, dtype=dtype, **kwargs)
        self.version_2_with_negative = version_2_with_negative
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout_rate = dropout_rate
        if version_2_with_negative:
            self.span_head = SquadV2Head(self.config.hidden_size, start_n_top, end_n_top, dropout_rate,
                                         self.config.initializer_range, name="squad_v2_head")
        else:
            self.span_head = OutputProjection(2, self.config.initializer_range, dtype=dtype, name="squad")
        # === Variables ===
        self._build_with_dummy_batch(
            {"p_mask": tf.zeros([1, 8], tf.int32)} if version_2_with_negative else None)

    def head(self, encoder_outputs, inputs, training):
        sequence_output = encoder_outputs["sequence_output"]
        if self.version_2_with_negative:
            return self.span_head(sequence_output, inputs["p_mask"], inputs.get("start_positions"),
                                  training=training)
        logits = self.span_head(sequence_output)
        mask = tf.cast(inputs["input_mask"], tf.float32)
        mask = tf.expand_dims(mask, -1)  # (not mask[..., None]: LiteRT has no new-axis slicing)
        logits = logits * mask - NEG_INF * (1.0 - mask)
        return {"start_logits": logits[..., 0], "end_logits": logits[..., 1]}

    def get_config(self):
        return {**self._base_config(), "version_2_with_negative": self.version_2_with_negative,
                "start_n_top": self.start_n_top, "end_n_top": self.end_n_top,
                "dropout_rate": self.dropout_rate}
