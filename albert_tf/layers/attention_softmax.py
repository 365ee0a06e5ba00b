"""The attention softmax: scaled scores plus the additive mask, softmax in float32."""

import tensorflow as tf


def attention_softmax(scores, adder, scale):
    """softmax(float32(scores) * scale + adder) over the last axis, in the dtype of `scores`.

    `adder` is the original's additive mask, (1 - mask) * -10000, shaped to
    broadcast against the [B, N, S, S] scores ([B, 1, 1, S]).
    """
    logits = tf.cast(scores, tf.float32) * scale + adder
    return tf.cast(tf.nn.softmax(logits), scores.dtype)


_forward = tf.function(attention_softmax, jit_compile=True)


@tf.function(jit_compile=True)
def _backward(dprobs, scores, adder, scale):
    # The softmax is recomputed from the scores (kept in their own dtype, half the
    # memory of float32 probabilities under bf16): with p = softmax(z),
    # dz = p * (dp - sum(dp * p)), and dscores = scale * dz.
    probs = tf.nn.softmax(tf.cast(scores, tf.float32) * scale + adder)
    dp = tf.cast(dprobs, tf.float32)
    dz = probs * (dp - tf.reduce_sum(dp * probs, axis=-1, keepdims=True))
    return tf.cast(dz * scale, scores.dtype)


def attention_softmax_for_training(scores, adder, scale):
    """`attention_softmax` with the forward and the gradient each one XLA-fused kernel.

    Unfused under mixed precision, the casts, scale, mask, softmax and their
    gradients are about a dozen memory-bound passes over the [B, N, S, S]
    scores of every layer (benchmarks/step_profile.py; figures in
    benchmarks/RESULTS.md). The mask gets no gradient (it is a constant of the
    input), and `scale` is a Python float.
    """

    @tf.custom_gradient
    def softmax(scores):
        def gradient(dprobs):
            return _backward(dprobs, scores, adder, scale)

        return _forward(scores, adder, scale), gradient

    return softmax(scores)
