"""Dropout with 16 random bits per element: half the random numbers of TensorFlow's."""

import tensorflow as tf

_LEVELS = 2 ** 16


def dropout_rate_used(rate):
    """The rate `dropout` applies: `rate` rounded to a multiple of 2^-16 (within 2^-17 of it)."""
    return round(rate * _LEVELS) / _LEVELS


def dropout(x, rate, seed):
    """Zeroes each element with probability `dropout_rate_used(rate)`, scales the rest by 1 / (1 - that).

    `tf.nn.experimental.stateless_dropout` draws one float32 uniform (32
    Philox bits) per element; on a CPU that random generation is most of a
    dropout's cost (about 90 ms of albert_base's bf16 training step at batch 8,
    benchmarks/RESULTS.md). Here one 32-bit draw gives two elements' 16-bit
    draws, and an element is kept when its draw is at least the threshold
    rate * 2^16. The kept fraction is exactly 1 - rate' in expectation, so the
    output is unbiased; rate' differs from `rate` by at most 2^-17. The scale
    1 / (1 - rate') is rounded to the dtype of `x` (in bfloat16 1.109375 for
    rate 0.1, as TensorFlow's own dropout gives).

    Args:
        x: the tensor.
        rate: the drop probability, a Python float in [0, 1).
        seed: an int32 tensor of shape [2] (a stateless seed); the same seed
            gives the same mask.
    """
    threshold = round(rate * _LEVELS)
    if threshold == 0:
        return x
    shape = tf.shape(x)
    size = tf.size(x)
    words = tf.random.stateless_uniform([(size + 1) // 2], seed, minval=None, maxval=None, dtype=tf.int32)
    bits = tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:size]
    keep = tf.reshape(bits >= threshold, shape)
    scale = tf.cast(_LEVELS / (_LEVELS - threshold), x.dtype)
    return tf.where(keep, x * scale, tf.zeros_like(x))
