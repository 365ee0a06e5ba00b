"""ALBERT's SQuAD 2.0 head (from XLNet): start, start-conditioned end, answerability."""

import keras
import tensorflow as tf

from albert_tf.layers.layer_norm import LayerNorm

NEG_INF = 1e30


@keras.saving.register_keras_serializable(package="albert_tf")
class SquadV2Head(keras.layers.Layer):
    """The span and answerability head of the original `run_squad_v2.py`.

    With `p_mask` marking positions that cannot be in an answer (question,
    [SEP], padding; [CLS] is allowed and means "no answer"):

    * start logits `dense_1(h_t)`, masked, log-softmax over positions;
    * end logits `dense_1(LN(tanh(dense_H([h_t ; h_start]))))` where h_start is
      the gold start's state in training and, at inference, each of the
      `start_n_top` best starts (the end's `end_n_top` best kept for each:
      a 5 x 5 beam by default);
    * answerability `dense_1,nobias(dropout(tanh(dense_H([Σ softmax(start)·h ;
      h_[CLS]]))))`, one logit per example (positive: no answer).

    Computed in float32 (the masking constant is 1e30). Sequences must be at
    least `start_n_top` and `end_n_top` long.

    Args:
        hidden_size: H.
        start_n_top: starts kept at inference.
        end_n_top: ends kept per start at inference.
        dropout_rate: dropout before the answerability logit.
        initializer_range: std of the truncated-normal kernel init.

    Call arguments:
        sequence_output: [B, S, H].
        p_mask: [B, S], 1 where no answer can start or end.
        start_positions: [B] gold starts (training), or None (inference).

    Returns (training): `start_log_probs`, `end_log_probs` [B, S] and
    `cls_logits` [B]. (inference): `start_top_log_probs`, `start_top_index`
    [B, start_n_top], `end_top_log_probs`, `end_top_index`
    [B, start_n_top * end_n_top] (row i * end_n_top + j: end j of start i)
    and `cls_logits`.

    Example:
    >>> head = SquadV2Head(hidden_size=8)
    >>> out = head(tf.random.normal([2, 10, 8]), tf.zeros([2, 10]))
    >>> out["end_top_index"].shape, out["cls_logits"].shape
    (TensorShape([2, 25]), TensorShape([2]))
    """

    def __init__(self, hidden_size, start_n_top=5, end_n_top=5, dropout_rate=0.1,
                 initializer_range=0.02, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout_rate = dropout_rate
        self.initializer_range = initializer_range

        def dense(units, name, activation=None, use_bias=True):
            return keras.layers.Dense(
                units, activation=activation, use_bias=use_bias, name=name,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range))

        self.start_dense = dense(1, "start_dense")
        self.end_dense_0 = dense(hidden_size, "end_dense_0", activation="tanh")
        self.end_layer_norm = LayerNorm(name="end_layer_norm")
        self.end_dense_1 = dense(1, "end_dense_1")
        self.answer_dense_0 = dense(hidden_size, "answer_dense_0", activation="tanh")
        self.answer_dropout = keras.layers.Dropout(dropout_rate)
        self.answer_dense_1 = dense(1, "answer_dense_1", use_bias=False)

    def build(self, sequence_output_shape, p_mask_shape=None, start_positions_shape=None):
        width = sequence_output_shape[-1]
        self.start_dense.build((None, None, width))
        self.end_dense_0.build((None, None, 2 * width))
        self.end_layer_norm.build((None, None, self.hidden_size))
        self.end_dense_1.build((None, None, self.hidden_size))
        self.answer_dense_0.build((None, 2 * width))
        self.answer_dense_1.build((None, self.hidden_size))

    def _end_log_probs(self, end_input, p_mask):
        logits = tf.squeeze(self.end_dense_1(self.end_layer_norm(self.end_dense_0(end_input))), -1)
        return tf.nn.log_softmax(logits * (1.0 - p_mask) - NEG_INF * p_mask, -1)

    def call(self, sequence_output, p_mask, start_positions=None, training=False):
        x = tf.cast(sequence_output, tf.float32)
        p_mask = tf.cast(p_mask, tf.float32)
        seq_length = tf.shape(x)[1]
        start_logits = tf.squeeze(self.start_dense(x), -1)
        start_masked = start_logits * (1.0 - p_mask) - NEG_INF * p_mask
        start_log_probs = tf.nn.log_softmax(start_masked, -1)
        outputs = {}
        if start_positions is not None:
            start_state = tf.gather(x, tf.reshape(start_positions, [-1]), batch_dims=1)  # [B, H]
            start_states = tf.tile(tf.expand_dims(start_state, 1), [1, seq_length, 1])
            outputs["start_log_probs"] = start_log_probs
            outputs["end_log_probs"] = self._end_log_probs(tf.concat([x, start_states], -1), p_mask)
        else:
            k_start, k_end = self.start_n_top, self.end_n_top
            start_top_log_probs, start_top_index = tf.math.top_k(start_log_probs, k=k_start)
            start_states = tf.gather(x, start_top_index, batch_dims=1)  # [B, k, H]
            # expand_dims, not [:, None]: LiteRT has no new-axis slicing
            end_input = tf.concat([tf.tile(tf.expand_dims(x, 1), [1, k_start, 1, 1]),
                                   tf.tile(tf.expand_dims(start_states, 2), [1, 1, seq_length, 1])], -1)
            end_log_probs = self._end_log_probs(end_input, tf.expand_dims(p_mask, 1))  # [B, k, S]
            end_top_log_probs, end_top_index = tf.math.top_k(end_log_probs, k=k_end)
            outputs["start_top_log_probs"] = start_top_log_probs
            outputs["start_top_index"] = start_top_index
            outputs["end_top_log_probs"] = tf.reshape(end_top_log_probs, [-1, k_start * k_end])
            outputs["end_top_index"] = tf.reshape(end_top_index, [-1, k_start * k_end])
        # Answerability: no dependency on the end, one logit per example.
        start_probs = tf.nn.softmax(start_masked, -1)
        start_feature = tf.linalg.matvec(x, start_probs, transpose_a=True)  # sum_s p_s h_s (LiteRT: no Einsum)
        answer = self.answer_dense_0(tf.concat([start_feature, x[:, 0]], -1))
        answer = self.answer_dropout(answer, training=training)
        outputs["cls_logits"] = tf.squeeze(self.answer_dense_1(answer), -1)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_size": self.hidden_size, "start_n_top": self.start_n_top,
                       "end_n_top": self.end_n_top, "dropout_rate": self.dropout_rate,
                       "initializer_range": self.initializer_range})
        return config
