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
    threshold = dropout_threshold(rate)
    if threshold == 0:
        return x
    keep = dropout_bits(tf.shape(x), seed) >= threshold
    scale = tf.cast(keep_scale(threshold), x.dtype)
    return tf.where(keep, x * scale, tf.zeros_like(x))


def dropout_threshold(rate):
    """The 16-bit draws below this are dropped: `rate` * 2^16, rounded (0: no dropout)."""
    return round(rate * _LEVELS)


def keep_scale(threshold):
    """1 / (1 - rate') for the rate' = threshold / 2^16 that `dropout_threshold` gives, a Python float."""
    return _LEVELS / (_LEVELS - threshold)


def dropout_bits(shape, seed):
    """The 16 random bits of each element of a tensor of `shape` (uint16), as `dropout` draws them.

    Fused kernels take these and keep an element where its bits are at least
    `dropout_threshold(rate)`: the same mask as `dropout(x, rate, seed)`.
    """
    size = tf.reduce_prod(shape)
    words = tf.random.stateless_uniform([(size + 1) // 2], seed, minval=None, maxval=None, dtype=tf.int32)
    return tf.reshape(tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:size], shape)
