"""`albert_tf.layers.dropout`: 16-bit draws, the rate to 2^-17, unbiased, reproducible from its seed."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.layers.dropout import dropout, dropout_rate_used


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_drops_the_rate_and_keeps_the_expectation(rate):
    n = 2 ** 20
    x = tf.ones([n // 64, 64])
    y = dropout(x, rate, tf.constant([1, 2])).numpy()
    used = dropout_rate_used(rate)
    assert abs(used - rate) <= 2.0 ** -17
    kept = y != 0
    scale = 1.0 / (1.0 - used)
    np.testing.assert_allclose(y[kept], scale, rtol=1e-7)  # float32 rounding of the scale only
    # Each element is kept independently with probability 1 - used: the kept fraction and the mean
    # of y are within 6 standard errors of 1 - used and 1 (sigma = sqrt(p (1 - p) / n)).
    sigma = np.sqrt(used * (1 - used) / n)
    assert abs(kept.mean() - (1 - used)) <= 6 * sigma
    assert abs(y.mean() - 1.0) <= 6 * sigma * scale


def test_same_seed_same_mask_any_shape_and_dtype():
    x = tf.cast(tf.random.stateless_normal([3, 5, 7], seed=[3, 4]), tf.bfloat16)  # odd size: 105 elements
    a = dropout(x, 0.3, tf.constant([5, 6])).numpy()
    b = dropout(x, 0.3, tf.constant([5, 6])).numpy()
    c = dropout(x, 0.3, tf.constant([5, 7])).numpy()
    assert a.dtype == b.dtype == tf.bfloat16.as_numpy_dtype
    np.testing.assert_array_equal(a, b)
    assert ((a == 0) != (c == 0)).any()


def test_gradient_is_the_mask_times_the_scale():
    x = tf.random.stateless_normal([40, 30], seed=[7, 8])
    seed = tf.constant([9, 10])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = dropout(x, 0.25, seed)
    gradient = tape.gradient(y, x).numpy()
    kept = y.numpy() != 0
    np.testing.assert_array_equal(gradient[kept], np.float32(1 / (1 - dropout_rate_used(0.25))))
    assert not gradient[~kept].any()


def test_a_rate_below_half_a_level_is_no_dropout():
    x = tf.random.stateless_normal([8, 8], seed=[1, 1])
    assert dropout(x, 2.0 ** -18, tf.constant([1, 2])) is x


@pytest.mark.parametrize("shape", [(8, 12, 16, 16), (3, 5, 7), (1,)])
def test_bits_are_tensorflows_philox_stream(shape):
    # dropout_bits computes Philox-4x32-10 itself (one XLA kernel); its words must be the ones
    # TensorFlow's stateless kernel draws for the same seed: block b's word j is TensorFlow's word
    # 4b + j, placed in the j-th quarter of the elements, two 16-bit halves (low first) each.
    from albert_tf.layers.dropout import dropout_bits

    seed = tf.constant([12345, -678])
    size = int(np.prod(shape))
    blocks = (size + 7) // 8
    words = tf.random.stateless_uniform([4 * blocks], seed, minval=None, maxval=None, dtype=tf.int32)
    expected = tf.bitcast(words, tf.uint32).numpy().reshape(blocks, 4).T.reshape(-1).view(np.uint16)[:size]
    bits = dropout_bits(tf.constant(shape), seed).numpy()
    assert bits.dtype == np.uint16 and bits.shape == shape
    np.testing.assert_array_equal(bits.reshape(-1), expected)


def test_bits_of_neighbouring_elements_are_uncorrelated():
    # Kept/dropped flags of adjacent elements (the two halves of one word, and across the quarter
    # boundaries) are independent: the rate of "both dropped" is rate^2 within 6 standard errors.
    from albert_tf.layers.dropout import dropout_bits

    n = 2 ** 20
    dropped = dropout_bits(tf.constant([n]), tf.constant([3, 4])).numpy() < round(0.5 * 2 ** 16)
    for lag in (1, 2, n // 4):
        both = np.mean(dropped[:-lag] & dropped[lag:])
        sigma = np.sqrt(0.25 * 0.75 / (n - lag))
        assert abs(both - 0.25) <= 6 * sigma, lag
