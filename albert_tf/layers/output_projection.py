"""A dense output layer with the original fine-tuning heads' weight layout."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="albert_tf")
class OutputProjection(keras.layers.Layer):
    """`x @ W^T + b` with W stored `[units, in]` (out, in), logits in float32.

    The original heads create `output_weights` this way: the SOP head
    (`cls/seq_relationship`), the classifier (`output_weights`), the SQuAD
    v1 head (`cls/squad`) and the RACE head. Storing the same layout makes
    checkpoints convert by name without transposes.

    Args:
        units: output width.
        initializer_range: std of the truncated-normal init of W.

    Example:
    >>> OutputProjection(3)(tf.zeros([2, 5, 8])).shape
    TensorShape([2, 5, 3])
    """

    def __init__(self, units, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.initializer_range = initializer_range

    def build(self, input_shape):
        self.output_weights = self.add_weight(
            name="output_weights",
            shape=(self.units, input_shape[-1]),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )
        self.output_bias = self.add_weight(name="output_bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        # A 2-D matmul: float16 `einsum("...h,oh->...o")` gives wrong rows on
        # TF 2.21's CPU kernels (found by the mixed-precision parity test).
        flat = tf.reshape(inputs, [-1, tf.shape(inputs)[-1]])
        logits = tf.matmul(flat, tf.cast(self.output_weights, flat.dtype), transpose_b=True)
        logits = tf.reshape(logits, tf.concat([tf.shape(inputs)[:-1], [self.units]], 0))
        return tf.cast(logits + tf.cast(self.output_bias, logits.dtype), tf.float32)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(tuple(inputs.shape[:-1]) + (self.units,), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "initializer_range": self.initializer_range})
        return config
