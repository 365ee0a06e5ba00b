"""The training-graph paths of GELU, LayerNorm and the attention softmax compute the same function and gradient.

With gradients being taken, `gelu_for_training` and `LayerNorm(training=True)`
run XLA-fused kernels with analytic gradients instead of TensorFlow's op-by-op
autodiff. Here both paths are compared on the same inputs: values and every
gradient agree to 1e-5 relative (max |difference| / max |reference|, float32),
for the layers alone and for a whole encoder with dropout off.
"""

import numpy as np
import pytest
import tensorflow as tf

from albert_reference import relative_error
from albert_tf import AlbertConfig, AlbertEncoder
from albert_tf.activations import gelu, gelu_for_training, get_activation
from albert_tf.layers.attention_softmax import attention_softmax, attention_softmax_for_training
from albert_tf.layers.layer_norm import LayerNorm

TOLERANCE = 1e-5


def value_and_gradients(function, inputs, weights, upstream):
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        value = function(*inputs)
        loss = tf.reduce_sum(tf.cast(value, tf.float32) * upstream)
    return [value] + tape.gradient(loss, list(inputs) + list(weights))


@pytest.mark.parametrize("shape", [(64, 48), (3, 7, 16)])
def test_gelu_for_training_matches_gelu(shape):
    x = tf.random.stateless_normal(shape, seed=[1, 2]) * 3.0
    upstream = tf.random.stateless_normal(shape, seed=[3, 4])
    plain = value_and_gradients(gelu, [x], [], upstream)
    fused = value_and_gradients(gelu_for_training, [x], [], upstream)
    for name, ours, reference in zip(["value", "d/dx"], fused, plain):
        assert relative_error(ours, reference) <= TOLERANCE, name


def test_gelu_for_training_keeps_bfloat16_and_computes_in_float32():
    x = tf.random.stateless_normal([32, 24], seed=[5, 6]) * 3.0
    upstream = tf.random.stateless_normal([32, 24], seed=[7, 8])
    half = value_and_gradients(gelu_for_training, [tf.cast(x, tf.bfloat16)], [], upstream)
    assert half[0].dtype == tf.bfloat16 and half[1].dtype == tf.bfloat16
    full = value_and_gradients(gelu, [tf.cast(tf.cast(x, tf.bfloat16), tf.float32)], [], upstream)
    for ours, reference in zip(half, full):
        assert relative_error(tf.cast(ours, tf.float32), reference) <= 1e-2  # bfloat16 rounding


def test_training_activation_only_differs_for_gelu():
    assert get_activation("gelu", training=True) is gelu_for_training
    assert get_activation("gelu") is gelu
    for name in ("relu", "tanh", "linear"):
        assert get_activation(name, training=True) is get_activation(name)


@pytest.mark.parametrize("shape", [(40, 16), (3, 5, 16)])
def test_layer_norm_training_path_matches_inference_path(shape):
    layer = LayerNorm()
    layer.build(shape)
    layer.gamma.assign(tf.random.stateless_normal([16], seed=[1, 1]))
    layer.beta.assign(tf.random.stateless_normal([16], seed=[2, 2]))
    x = tf.random.stateless_normal(shape, seed=[3, 3]) * 4.0 + 2.0
    upstream = tf.random.stateless_normal(shape, seed=[4, 4])
    weights = [layer.gamma, layer.beta]
    plain = value_and_gradients(lambda v: layer(v, training=False), [x], weights, upstream)
    fused = value_and_gradients(lambda v: layer(v, training=True), [x], weights, upstream)
    for name, ours, reference in zip(["value", "d/dx", "d/dgamma", "d/dbeta"], fused, plain):
        assert relative_error(ours, reference) <= TOLERANCE, name


@pytest.mark.parametrize("variant, ln_type", [("google", "postln"), ("bright", "preln")])
def test_encoder_gradients_match_between_paths(variant, ln_type):
    config = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=3,
                          num_attention_heads=4, intermediate_size=32, hidden_act="gelu",
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                          max_position_embeddings=16, variant=variant, ln_type=ln_type)
    encoder = AlbertEncoder(config)
    ids = tf.constant(np.random.default_rng(0).integers(1, 50, (2, 9)), tf.int32)
    inputs = {"input_ids": ids, "input_mask": tf.constant([[1] * 9, [1] * 6 + [0] * 3]),
              "segment_ids": tf.constant([[0] * 5 + [1] * 4] * 2)}
    upstream = tf.random.stateless_normal([2, 9, 16], seed=[9, 9])

    def run(training):
        with tf.GradientTape() as tape:
            output = encoder(inputs, training=training)["sequence_output"]
            loss = tf.reduce_sum(output * upstream)
        return [output] + tape.gradient(loss, encoder.trainable_variables)

    fused, plain = run(True), run(False)
    names = ["sequence_output"] + [v.path for v in encoder.trainable_variables]
    # The pooler does not feed sequence_output: no gradient on either path.
    assert [t is None for t in fused] == [t is None for t in plain]
    kept = [i for i, t in enumerate(plain) if t is not None]
    names = [names[i] for i in kept]
    fused, plain = [[tf.convert_to_tensor(ts[i]) for i in kept] for ts in (fused, plain)]
    largest = max(float(tf.reduce_max(tf.abs(t))) for t in plain[1:])
    for name, ours, reference in zip(names, fused, plain):
        if name.endswith("key_bias"):
            # Exactly zero in exact arithmetic (softmax ignores a shift shared by
            # all keys), so both paths give round-off: compare to the largest gradient.
            assert max(float(tf.reduce_max(tf.abs(ours))), float(tf.reduce_max(tf.abs(reference)))) \
                <= TOLERANCE * largest, name
            continue
        assert relative_error(ours, reference) <= TOLERANCE, name


def attention_inputs(dtype, scores_seed, upstream_seed):
    """[B, N, S, S] scores with the first sequence padded after 3 tokens, their additive mask, an upstream gradient."""
    scores = tf.cast(tf.random.stateless_normal([2, 3, 5, 5], seed=scores_seed) * 4.0, dtype)
    mask = tf.constant([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], tf.float32)
    adder = tf.reshape((1.0 - mask) * -10000.0, [2, 1, 1, 5])
    return scores, adder, tf.random.stateless_normal([2, 3, 5, 5], seed=upstream_seed)


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_attention_softmax_for_training_matches_autodiff(dtype):
    # The scale 0.125 is that of 64-wide heads.
    scores, adder, upstream = attention_inputs(dtype, [9, 10], [11, 12])
    plain = value_and_gradients(lambda s: attention_softmax(s, adder, 0.125), [scores], [], upstream)
    fused = value_and_gradients(lambda s: attention_softmax_for_training(s, adder, 0.125), [scores], [], upstream)
    # Both compute in float32 and differ only in the order of operations; in bfloat16 the last rounding
    # of each output can then land one bfloat16 step (2^-8 relative) apart.
    tolerance = TOLERANCE if dtype == tf.float32 else 2.0 ** -8
    for name, ours, reference in zip(["value", "d/dscores"], fused, plain):
        assert ours.dtype == dtype, name
        assert relative_error(tf.cast(ours, tf.float32), tf.cast(reference, tf.float32)) <= tolerance, name
    assert float(tf.reduce_max(tf.cast(fused[0], tf.float32)[0, :, :, 3:])) == 0.0  # padding gets no weight


def _keep(shape, rate, seed):
    from albert_tf.layers.dropout import dropout_bits, dropout_threshold, keep_scale

    threshold = dropout_threshold(rate)
    return {"keep_bits": dropout_bits(shape, seed), "threshold": threshold, "keep_scale": keep_scale(threshold)}


@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_add_and_normalize_matches_dropout_add_then_layer_norm(rate):
    from albert_tf.layers.dropout import dropout

    layer = LayerNorm()
    layer.build((40, 16))
    layer.gamma.assign(tf.random.stateless_normal([16], seed=[1, 5]))
    layer.beta.assign(tf.random.stateless_normal([16], seed=[2, 5]))
    x = tf.random.stateless_normal([40, 16], seed=[3, 5]) * 4.0 + 2.0
    branch = tf.random.stateless_normal([40, 16], seed=[4, 5]) * 2.0
    upstream = tf.random.stateless_normal([40, 16], seed=[5, 5])
    seed = tf.constant([7, 8])
    keep = _keep([40, 16], rate, seed) if rate else {}
    weights = [layer.gamma, layer.beta]
    # The reference: the mask of `dropout` with the same seed, then the sum, then the inference-path norm.
    plain = value_and_gradients(lambda a, b: layer(a + (dropout(b, rate, seed) if rate else b), training=False),
                                [x, branch], weights, upstream)
    fused = value_and_gradients(lambda a, b: layer.add_and_normalize_for_training(a, b, **keep),
                                [x, branch], weights, upstream)
    if rate:
        assert float(tf.reduce_sum(tf.cast(fused[2] == 0, tf.float32))) > 0  # dropped elements get no gradient
    for name, ours, reference in zip(["value", "d/dx", "d/dbranch", "d/dgamma", "d/dbeta"], fused, plain):
        assert relative_error(ours, reference) <= TOLERANCE, name


def test_add_and_normalize_in_bfloat16_rounds_once():
    layer = LayerNorm()
    layer.build((32, 24))
    x = tf.cast(tf.random.stateless_normal([32, 24], seed=[1, 6]) * 3.0, tf.bfloat16)
    branch = tf.cast(tf.random.stateless_normal([32, 24], seed=[2, 6]), tf.bfloat16)
    upstream = tf.random.stateless_normal([32, 24], seed=[3, 6])
    keep = _keep([32, 24], 0.1, tf.constant([1, 2]))
    half = value_and_gradients(lambda a, b: layer.add_and_normalize_for_training(a, b, **keep),
                               [x, branch], [], upstream)
    assert [t.dtype for t in half] == [tf.bfloat16] * 3
    # The float32 reference on the same bfloat16 inputs: ours computes in float32 and rounds each
    # output once to bfloat16 (2^-8 relative); the reference gets the upstream gradient rounded to
    # bfloat16 as ours receives it.
    mask = tf.cast(keep["keep_bits"] >= keep["threshold"], tf.float32) * keep["keep_scale"]
    full = value_and_gradients(lambda a, b: layer(a + b * mask, training=False),
                               [tf.cast(x, tf.float32), tf.cast(branch, tf.float32)], [],
                               tf.cast(tf.cast(upstream, tf.bfloat16), tf.float32))
    for name, ours, reference in zip(["value", "d/dx", "d/dbranch"], half, full):
        assert relative_error(tf.cast(ours, tf.float32), reference) <= 2.0 ** -8, name


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_attention_softmax_with_dropout_matches_softmax_then_dropout(dtype):
    from albert_tf.layers.dropout import dropout

    scores, adder, upstream = attention_inputs(dtype, [9, 13], [11, 13])
    seed = tf.constant([3, 4])
    # The reference in float32 on the same inputs, the mask of `dropout` with the same seed; ours rounds
    # each output once to `dtype` (bfloat16: 2^-8 relative).
    # The upstream gradient reaches ours through the cast to `dtype`: the reference gets it rounded alike.
    reference_scores = tf.cast(scores, tf.float32)
    reference_upstream = tf.cast(tf.cast(upstream, dtype), tf.float32)
    plain = value_and_gradients(lambda s: dropout(attention_softmax(s, adder, 0.125), 0.2, seed),
                                [reference_scores], [], reference_upstream)
    fused = value_and_gradients(
        lambda s: attention_softmax_for_training(s, adder, 0.125, **_keep([2, 3, 5, 5], 0.2, seed)),
        [scores], [], upstream)
    tolerance = TOLERANCE if dtype == tf.float32 else 2.0 ** -8
    for name, ours, reference in zip(["value", "d/dscores"], fused, plain):
        assert ours.dtype == dtype, name
        assert relative_error(tf.cast(ours, tf.float32), reference) <= tolerance, name
    assert float(tf.reduce_sum(tf.cast(fused[0] == 0, tf.float32))) > 3 * 5 * 2  # dropped beyond the padding (30)
