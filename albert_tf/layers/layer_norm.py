"""LayerNorm computed in float32, as the original `tf.contrib.layers.layer_norm`."""

import keras
import tensorflow as tf

from albert_tf.layers.dropout import apply_dropout_bits


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


def _residual_sum(x, branch, bits, threshold, scale):
    # x + dropout(branch) in float32; `bits` None: no dropout.
    return tf.cast(x, tf.float32) + apply_dropout_bits(tf.cast(branch, tf.float32), bits, threshold, scale)


@tf.function(jit_compile=True)
def _add_normalize_forward(x, branch, bits, gamma, beta, epsilon, threshold, scale):
    y, mean, rstd = _normalize_with_statistics(_residual_sum(x, branch, bits, threshold, scale), gamma, beta, epsilon)
    return tf.cast(y, x.dtype), mean, rstd


@tf.function(jit_compile=True)
def _add_normalize_backward(dy, x, branch, bits, gamma, mean, rstd, threshold, scale):
    # The sum is recomputed from its (half-precision) terms rather than kept in float32.
    summed = _residual_sum(x, branch, bits, threshold, scale)
    dsum, dgamma, dbeta = _normalize_backward.python_function(tf.cast(dy, tf.float32), summed, gamma, mean, rstd)
    dbranch = apply_dropout_bits(dsum, bits, threshold, scale)
    return tf.cast(dsum, x.dtype), tf.cast(dbranch, branch.dtype), dgamma, dbeta


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
        # Never cast, even when read inside a half-precision layer (add_and_normalize_for_training).
        self.gamma = self.add_weight(name="gamma", shape=(width,), initializer="ones", autocast=False)
        self.beta = self.add_weight(name="beta", shape=(width,), initializer="zeros", autocast=False)

    def add_and_normalize_for_training(self, x, branch, keep_bits=None, threshold=0, keep_scale=1.0):
        """LN(x + dropout(branch)) for training graphs, in the dtype of `x`: one fused kernel each way.

        The transformer block's post-LN residual. Unfused under mixed
        precision, the dropout (scale, select), the residual add, the casts
        to float32 and back and their gradients are each a memory-bound pass
        over the [batch*seq, H] activations (about 60 ms of albert_base's bf16
        step on a CPU, benchmarks/RESULTS.md). Here the sum and the norm are
        computed in float32 from the half-precision terms (one rounding, at
        the output) and the backward kernel recomputes the sum from them.

        Args:
            x: the residual stream, [..., H].
            branch: the sublayer output, same shape and dtype.
            keep_bits: uint16 bits of `dropout_bits` for the branch, or None
                for no dropout; an element is kept where its bits are at
                least `threshold`, and then scaled by `keep_scale`.
        Returns:
            The normalized sum, in the dtype of `x`.
        """
        epsilon = self.epsilon

        @tf.custom_gradient
        def add_normalize(x, branch, gamma, beta):
            y, mean, rstd = _add_normalize_forward(x, branch, keep_bits, gamma, beta, epsilon, threshold, keep_scale)

            def gradient(dy):
                return _add_normalize_backward(dy, x, branch, keep_bits, gamma, mean, rstd, threshold, keep_scale)

            return y, gradient

        return add_normalize(x, branch, tf.convert_to_tensor(self.gamma), tf.convert_to_tensor(self.beta))

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
