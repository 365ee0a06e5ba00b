"""LayerNorm computed in float32, as the original `tf.contrib.layers.layer_norm`."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="albert_tf")
class LayerNorm(keras.layers.Layer):
    """Layer normalization over the last axis, always computed in float32.

    Under a mixed-precision policy the input is cast up to float32 and the
    output stays float32 (callers cast it to their compute dtype): a
    half-precision variance is too coarse for eps 1e-12. The arithmetic follows `tf.nn.batch_normalization`, which
    the original layer norm used: `x * inv + (beta - mean * inv)` with
    `inv = gamma * rsqrt(var + eps)`.

    Args:
        epsilon: added to the variance; the original uses 1e-12 everywhere.

    Example:
    >>> norm = LayerNorm()
    >>> norm(tf.ones([2, 3, 4])).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, epsilon=1e-12, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        width = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(width,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(width,), initializer="zeros")

    def call(self, inputs):
        # Keras casts float inputs to this layer's float32 compute dtype.
        mean, variance = tf.nn.moments(inputs, axes=[-1], keepdims=True)
        inv = tf.math.rsqrt(variance + self.epsilon) * self.gamma
        return inputs * inv + (self.beta - mean * inv)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        config.pop("dtype", None)
        return config
