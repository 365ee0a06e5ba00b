"""LayerNorm computed in float32, as the original `tf.contrib.layers.layer_norm`."""

import keras
import tensorflow as tf


def _normalize_with_statistics(x, gamma, beta, epsilon):
    """The normalized output, and the mean and 1/std the gradient needs."""
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    rstd = tf.math.rsqrt(variance + epsilon)
    inv = rstd * gamma
    return x * inv + (beta - mean * inv), mean, rstd


def _normalize(x, gamma, beta, epsilon):
    return _normalize_with_statistics(x, gamma, beta, epsilon)[0]


_normalize_forward = tf.function(_normalize_with_statistics, jit_compile=True)


@tf.function(jit_compile=True)
def _normalize_backward(dy, x, gamma, mean, rstd):
    # With xhat = (x - mean) * rstd and g = dy * gamma, over the last axis:
    # dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
    xhat = (x - mean) * rstd
    g = dy * gamma
    dx = rstd * (
        g
        - tf.reduce_mean(g, axis=-1, keepdims=True)
        - xhat * tf.reduce_mean(g * xhat, axis=-1, keepdims=True)
    )
    rows = tf.reshape(dy, [-1, tf.shape(dy)[-1]])
    dgamma = tf.reduce_sum(rows * tf.reshape(xhat, tf.shape(rows)), axis=0)
    return dx, dgamma, tf.reduce_sum(rows, axis=0)


def _normalize_for_training(x, gamma, beta, epsilon):
    """`_normalize` with the forward and the gradient each one XLA-fused kernel.

    Unfused, a LayerNorm and its autodiff gradient are about 20 memory-bound
    element-wise and reduction ops; on albert_base's [batch*seq, 768]
    activations that is most of their cost on a CPU. The gradient is the
    analytic one of the same formula.
    """

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        y, mean, rstd = _normalize_forward(x, gamma, beta, epsilon)

        def gradient(dy):
            return _normalize_backward(dy, x, gamma, mean, rstd)

        return y, gradient

    # Read the variables here, so that the tape sees plain tensor inputs.
    return normalize(x, tf.convert_to_tensor(gamma), tf.convert_to_tensor(beta))


@keras.saving.register_keras_serializable(package="albert_tf")
class LayerNorm(keras.layers.Layer):
    """Layer normalization over the last axis, always computed in float32.

    Under a mixed-precision policy the input is cast up to float32 and the
    output stays float32 (callers cast it to their compute dtype): a
    half-precision variance is too coarse for eps 1e-12. The arithmetic follows
    `tf.nn.batch_normalization`, which the original layer norm used:
    `x * inv + (beta - mean * inv)` with `inv = gamma * rsqrt(var + eps)`.
    With `training=True` the same arithmetic runs as two XLA-compiled kernels
    (forward, analytic gradient), which is faster where gradients are taken.

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

    def call(self, inputs, training=None):
        # Keras casts float inputs to this layer's float32 compute dtype.
        # Training graphs take the fused path; inference keeps plain ops,
        # which TensorFlow's oneDNN rewriter fuses itself.
        normalize = _normalize_for_training if training else _normalize
        return normalize(inputs, self.gamma, self.beta, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        config.pop("dtype", None)
        return config
