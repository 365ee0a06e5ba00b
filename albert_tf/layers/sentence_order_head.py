"""The sentence-order prediction (SOP) head of ALBERT pretraining."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="albert_tf")
class SentenceOrderHead(keras.layers.Layer):
    """Two-way classifier on the pooled output: `pooled @ W^T + b`.

    W is stored `[2, H]` (out, in) as the original `cls/seq_relationship`.
    Label 0 means the segments are in order, 1 means swapped. Logits are
    float32.

    Args:
        initializer_range: std of the truncated-normal init of W.

    Example:
    >>> SentenceOrderHead()(tf.zeros([3, 8])).shape
    TensorShape([3, 2])
    """

    def __init__(self, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_range = initializer_range

    def build(self, pooled_shape):
        self.output_weights = self.add_weight(
            name="output_weights",
            shape=(2, pooled_shape[-1]),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )
        self.output_bias = self.add_weight(name="output_bias", shape=(2,), initializer="zeros")

    def call(self, pooled_output):
        logits = tf.matmul(pooled_output, self.output_weights, transpose_b=True)
        return tf.cast(logits + self.output_bias, tf.float32)

    def compute_output_spec(self, pooled_output):
        return keras.KerasTensor((pooled_output.shape[0], 2), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update({"initializer_range": self.initializer_range})
        return config
