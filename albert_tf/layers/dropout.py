"""Dropout with 16 random bits per element: half the random numbers of TensorFlow's."""

import tensorflow as tf

_LEVELS = 2 ** 16


def dropout_rate_used(rate):
    """The rate `dropout` applies: `rate` rounded to a multiple of 2^-16 (within 2^-17 of it)."""
    return dropout_threshold(rate) / _LEVELS


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
    scale = tf.cast(keep_scale(threshold), x.dtype)
    return apply_dropout_bits(x, dropout_bits(tf.shape(x), seed), threshold, scale)


def apply_dropout_bits(x, bits, threshold, scale):
    """x with the elements whose `bits` are below `threshold` zeroed and the others times `scale`.

    `bits` None: x as it is. The one place the mask is applied: by `dropout`,
    and inside the fused kernels (attention softmax, residual LayerNorm),
    forward and backward alike.
    """
    if bits is None:
        return x
    return tf.where(bits >= threshold, x * scale, tf.zeros_like(x))


def dropout_threshold(rate):
    """The 16-bit draws below this are dropped: `rate` * 2^16, rounded (0: no dropout)."""
    return round(rate * _LEVELS)


def keep_scale(threshold):
    """1 / (1 - rate') for the rate' = threshold / 2^16 that `dropout_threshold` gives, a Python float."""
    return _LEVELS / (_LEVELS - threshold)


def dropout_bits(shape, seed):
    """The 16 random bits of each element of a tensor of `shape` (uint16), as `dropout` draws them.

    Fused kernels take these and keep an element where its bits are at least
    `dropout_threshold(rate)`: the same mask as `dropout(x, rate, seed)`. The
    bits are TensorFlow's own stateless Philox-4x32-10 stream for `seed` (the
    words `tf.random.stateless_uniform` gives, tests/test_dropout.py checks
    them), computed by `_philox_words` in one XLA kernel, about twice as fast
    on a CPU as TensorFlow's kernel; word j of each 4-word Philox block goes
    to the j-th quarter of the elements.
    """
    size = tf.reduce_prod(shape)
    key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(seed=seed)
    words = tf.concat(_philox_words(key, counter, (size + 7) // 8), 0)
    return tf.reshape(tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:size], shape)


def _halves(value):
    # uint64 -> (low, high) uint32.
    return tf.cast(value, tf.uint32), tf.cast(tf.bitwise.right_shift(value, tf.constant(32, tf.uint64)), tf.uint32)


@tf.function(jit_compile=True)
def _philox_words(key, counter, blocks):
    """Philox-4x32-10 (Salmon et al., SC'11) of the counters counter + 0 .. blocks - 1 under `key`.

    `key` (uint64 [1]) and `counter` (uint64 [2], the 128-bit counter's low
    and high halves) as `tf.raw_ops.StatelessRandomGetKeyCounter` derives
    them from a seed; block b is the b-th draw of TensorFlow's Philox
    generator (tensorflow/core/lib/random/philox_random.h). Returns the four
    words of every block as four uint32 [blocks] tensors: as separate outputs
    one fused loop writes them, where an interleaved or concatenated output
    makes XLA recompute the rounds for each word.
    """
    k0, k1 = _halves(key[0])
    index = tf.cast(tf.range(blocks), tf.uint64)
    low = counter[0] + index
    high = counter[1] + tf.cast(low < index, tf.uint64)  # the carry of the 128-bit add
    (x0, x1), (x2, x3) = _halves(low), _halves(high)
    for round_index in range(10):
        low0, high0 = _halves(tf.cast(x0, tf.uint64) * 0xD2511F53)
        low1, high1 = _halves(tf.cast(x2, tf.uint64) * 0xCD9E8D57)
        x0, x1, x2, x3 = high1 ^ x1 ^ k0, low1, high0 ^ x3 ^ k1, low0
        if round_index < 9:
            k0, k1 = k0 + 0x9E3779B9, k1 + 0xBB67AE85
    return x0, x1, x2, x3
