"""A bias add for half-precision training graphs, whose bias gradient is summed in float32."""

import tensorflow as tf


def _column_sum(gradient):
    # [..., W] -> [W], the sum over every row: a ones-vector matmul, which oneDNN (and Eigen)
    # accumulate in float32 and round once to the input dtype.
    rows = tf.reshape(gradient, [-1, tf.shape(gradient)[-1]])
    return tf.matmul(tf.ones([1, tf.shape(rows)[0]], rows.dtype), rows)[0]


def bias_add_for_training(x, bias):
    """`tf.nn.bias_add(x, bias)` whose gradient for `bias` is summed in float32.

    TensorFlow's CPU `BiasAddGrad` sums a bfloat16 gradient in bfloat16: over
    albert_base's 1024 rows (batch 8, seq 128) its error is a sizeable part
    of the sum itself (tests/test_bias_add.py). For a half-precision `bias`
    the column sum here is a matrix product with a ones vector, which the
    matmul kernels accumulate in float32 and round once to the dtype of
    `bias` (the way GPU frameworks take a bias gradient), and on a CPU no
    slower (benchmarks/RESULTS.md); the gradient for `x` passes through. A
    float32 `bias` takes the plain op, whose gradient is summed in float32.
    """
    # Read a variable here (in the dtype it is autocast to), so that the tape sees a plain tensor input.
    bias = tf.convert_to_tensor(bias)
    if bias.dtype == tf.float32:
        return tf.nn.bias_add(x, bias)

    @tf.custom_gradient
    def add(x, bias):
        def gradient(upstream):
            return upstream, _column_sum(upstream)

        return tf.nn.bias_add(x, bias), gradient

    return add(x, bias)
