"""The masked-LM head of ALBERT pretraining."""

import keras
import tensorflow as tf

from albert_tf.activations import get_activation
from albert_tf.layers.layer_norm import LayerNorm


@keras.saving.register_keras_serializable(package="albert_tf")
class MaskedLMHead(keras.layers.Layer):
    """Predicts the ids at masked positions, computed only at those positions.

    `gather(sequence_output, positions)` -> Dense(transform_size) + activation
    -> LayerNorm -> tied output `embedding.attend(x)` + `output_bias` [V].
    Google layout: transform_size = E. brightmart layout: transform_size = H
    and the embedding's word projection maps H back to E. Logits are float32.

    Args:
        embedding: the encoder's `AlbertEmbedding`, whose word table is tied.
        transform_size: width of the transform dense layer.
        hidden_act: activation name of `albert_config.json`.
        initializer_range: std of the truncated-normal kernel init.

    Example:
    >>> embedding = AlbertEmbedding(vocab_size=10, embedding_size=4)
    >>> ids = tf.constant([[2, 5, 3]])
    >>> sequence = tf.zeros([1, 3, 6])
    >>> _ = embedding(ids, tf.zeros_like(ids))
    >>> head = MaskedLMHead(embedding, transform_size=4)
    >>> head(sequence, tf.constant([[1]])).shape
    TensorShape([1, 1, 10])
    """

    def __init__(self, embedding, transform_size, hidden_act="gelu",
                 initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding
        self.transform_size = transform_size
        self.hidden_act = hidden_act
        self.initializer_range = initializer_range
        self.activation = get_activation(hidden_act)
        self.layer_norm = LayerNorm(name="layer_norm")

    def build(self, sequence_output_shape, masked_positions_shape=None):
        self.transform_kernel = self.add_weight(
            name="transform_kernel",
            shape=(sequence_output_shape[-1], self.transform_size),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )
        self.transform_bias = self.add_weight(
            name="transform_bias", shape=(self.transform_size,), initializer="zeros"
        )
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.embedding.vocab_size,), initializer="zeros"
        )
        self.layer_norm.build((None, self.transform_size))

    def call(self, sequence_output, masked_positions):
        x = tf.gather(sequence_output, masked_positions, batch_dims=1)  # [B, P, H]
        # As [B*P, H] rows: the table's gradient is then one GEMM, where a
        # [B, P, E] x [V, E]^T broadcast matmul builds a [B, V, E] gradient
        # and sums it over B (slower: benchmarks/training_kernels.py).
        x = tf.reshape(x, [-1, sequence_output.shape[-1]])
        x = self.activation(tf.matmul(x, self.transform_kernel) + self.transform_bias)
        x = tf.cast(self.layer_norm(x), self.compute_dtype)
        logits = self.embedding.attend(x) + self.output_bias
        logits = tf.reshape(logits, tf.concat([tf.shape(masked_positions), [-1]], 0))
        return tf.cast(logits, tf.float32)

    def compute_output_spec(self, sequence_output, masked_positions):
        shape = tuple(masked_positions.shape) + (self.embedding.vocab_size,)
        return keras.KerasTensor(shape, dtype="float32")
