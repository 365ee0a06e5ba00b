"""Activation functions by the names `albert_config.json` uses."""

import math

import tensorflow as tf

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715


def gelu(x):
    """GELU, tanh approximation, as the original `modeling.gelu`.

    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`. The erf form
    differs by up to ~1e-3 and is a known parity bug of other ports. This is
    spelt as `tf.nn.gelu(approximate=True)` because TensorFlow's oneDNN graph
    rewriter recognises that op pattern and fuses it into the preceding
    MatMul+BiasAdd on CPU, which is what inference wants.
    """
    return tf.nn.gelu(x, approximate=True)


@tf.function(jit_compile=True)
def _gelu_forward(x):
    return tf.cast(gelu(tf.cast(x, tf.float32)), x.dtype)


@tf.function(jit_compile=True)
def _gelu_derivative_times(x, dy):
    # d/dx of the tanh form, computed in float32:
    # 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    x32 = tf.cast(x, tf.float32)
    x_squared = x32 * x32
    t = tf.tanh(_SQRT_2_OVER_PI * x32 * (1.0 + _CUBIC * x_squared))
    slope = 0.5 * (1.0 + t) + 0.5 * x32 * (1.0 - t * t) * (
        _SQRT_2_OVER_PI * (1.0 + 3.0 * _CUBIC * x_squared)
    )
    return tf.cast(tf.cast(dy, tf.float32) * slope, dy.dtype)


@tf.custom_gradient
def gelu_for_training(x):
    """The same GELU, each direction one XLA-fused kernel, for training graphs.

    Without XLA, TensorFlow runs the tanh-form GELU in a training graph as about
    7 separate element-wise ops forward and 15 for its autodiff gradient: the
    oneDNN fusion above cannot apply when the backward pass also reads the
    pre-activation. On the [batch*seq, 3072] feed-forward activations of
    albert_base those ops are memory-bound on a CPU, and fusing them makes
    forward plus gradient faster (benchmarks/training_kernels.py; figures in
    benchmarks/RESULTS.md). Only the element-wise work is compiled; the matmuls stay
    with oneDNN. The gradient is the analytic derivative of the same formula
    (agrees with autodiff to about 1e-6 relative in float32).
    """

    def gradient(dy):
        return _gelu_derivative_times(x, dy)

    return _gelu_forward(x), gradient


def gelu_erf(x):
    """GELU in its exact form, x * Phi(x) (Hugging Face's `gelu`; ALBERT's own is the tanh approximation)."""
    return tf.nn.gelu(x, approximate=False)


def linear(x):
    return x


_ACTIVATIONS = {"gelu": gelu, "gelu_erf": gelu_erf, "relu": tf.nn.relu, "tanh": tf.tanh, "linear": linear}
_TRAINING_ACTIVATIONS = {"gelu": gelu_for_training}


def get_activation(name, training=False):
    """Maps an `albert_config.json` `hidden_act` string to a function.

    Args:
        name: the activation name.
        training: return the variant for graphs that take gradients (the
            same function, computed with fused kernels where that is faster).
    """
    try:
        function = _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unsupported activation {name!r}; expected one of {sorted(_ACTIVATIONS)}"
        ) from None
    return _TRAINING_ACTIVATIONS.get(name, function) if training else function
