"""The attention softmax: scaled scores plus the additive mask, softmax in float32."""

import tensorflow as tf

from albert_tf.layers.dropout import apply_dropout_bits


def attention_softmax(scores, adder, scale):
    """softmax(float32(scores) * scale + adder) over the last axis, in the dtype of `scores`.

    `adder` is the original's additive mask, (1 - mask) * -10000, shaped to
    broadcast against the [B, N, S, S] scores ([B, 1, 1, S]).
    """
    logits = tf.cast(scores, tf.float32) * scale + adder
    return tf.cast(tf.nn.softmax(logits), scores.dtype)


@tf.function(jit_compile=True)
def _forward(scores, adder, scale, bits, threshold, keep_scale):
    probs = tf.nn.softmax(tf.cast(scores, tf.float32) * scale + adder)
    return tf.cast(apply_dropout_bits(probs, bits, threshold, keep_scale), scores.dtype)


@tf.function(jit_compile=True)
def _backward(dprobs, scores, adder, scale, bits, threshold, keep_scale):
    # The softmax is recomputed from the scores (kept in their own dtype, half the
    # memory of float32 probabilities under bf16): with p = softmax(z),
    # dz = p * (dp - sum(dp * p)), and dscores = scale * dz; dp is the upstream
    # gradient through the dropout (masked and scaled as the forward).
    probs = tf.nn.softmax(tf.cast(scores, tf.float32) * scale + adder)
    dp = apply_dropout_bits(tf.cast(dprobs, tf.float32), bits, threshold, keep_scale)
    dz = probs * (dp - tf.reduce_sum(dp * probs, axis=-1, keepdims=True))
    return tf.cast(dz * scale, scores.dtype)


def attention_softmax_for_training(scores, adder, scale, keep_bits=None, threshold=0, keep_scale=1.0):
    """`attention_softmax` then the attention dropout, forward and gradient each one XLA-fused kernel.

    Unfused under mixed precision, the casts, scale, mask, softmax, the
    dropout and their gradients are about a dozen memory-bound passes over
    the [B, N, S, S] scores of every layer (benchmarks/step_profile.py;
    figures in benchmarks/RESULTS.md). The mask gets no gradient (it is a
    constant of the input), and `scale` is a Python float. `keep_bits`
    (uint16, `dropout_bits`; None: no dropout): a probability is kept where
    its bits are at least `threshold`, and scaled by `keep_scale`, in float32
    before the one rounding to the dtype of `scores`.
    """

    @tf.custom_gradient
    def softmax(scores):
        def gradient(dprobs):
            return _backward(dprobs, scores, adder, scale, keep_bits, threshold, keep_scale)

        return _forward(scores, adder, scale, keep_bits, threshold, keep_scale), gradient

    return softmax(scores)
