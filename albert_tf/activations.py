"""Activation functions by the names `albert_config.json` uses."""

import tensorflow as tf


def gelu(x):
    """GELU, tanh approximation, as the original `modeling.gelu`.

    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`. The erf form
    differs by up to ~1e-3 and is a known parity bug of other ports. This is
    spelt as `tf.nn.gelu(approximate=True)` because TensorFlow's oneDNN graph
    rewriter recognises that op pattern and fuses it into the preceding
    MatMul+BiasAdd on CPU.
    """
    return tf.nn.gelu(x, approximate=True)


def linear(x):
    return x


_ACTIVATIONS = {"gelu": gelu, "relu": tf.nn.relu, "tanh": tf.tanh, "linear": linear}


def get_activation(name):
    """Maps an `albert_config.json` `hidden_act` string to a function."""
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unsupported activation {name!r}; expected one of {sorted(_ACTIVATIONS)}"
        ) from None
