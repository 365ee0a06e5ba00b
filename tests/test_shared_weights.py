"""The shared block's weights cast once per forward pass under mixed precision, gradients summed in float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertEncoder
from albert_tf.layers.shared_weights import cast_for_uses

FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


def test_one_cast_per_value_and_the_gradient_is_the_float32_sum():
    rng = np.random.default_rng(0)
    values = [tf.constant(rng.standard_normal(shape), tf.float32) for shape in [(7, 5), (5,), (3, 4)]]
    uses = 6
    upstream = [[tf.constant(rng.standard_normal(v.shape), tf.bfloat16) for v in values] for _ in range(uses)]
    # Use 2 sends no gradient to the second value: an unconnected alias counts as zero.
    connected = [(i, j) for i in range(uses) for j in range(len(values)) if (i, j) != (2, 1)]

    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch(values)
            aliases = cast_for_uses(values, tf.bfloat16, uses)
            loss = tf.add_n([tf.reduce_sum(tf.cast(aliases[i][j] * upstream[i][j], tf.float32))
                             for i, j in connected])
        return aliases, tape.gradient(loss, values)

    aliases, gradients = run()
    for per_use in aliases:
        for alias, value in zip(per_use, values):
            assert alias.dtype == tf.bfloat16
            np.testing.assert_array_equal(alias.numpy(), tf.cast(value, tf.bfloat16).numpy())
    casts = [op for op in run.get_concrete_function().graph.get_operations()
             if op.type == "Cast" and op.get_attr("DstT") == tf.bfloat16 and "gradient_tape" not in op.name]
    assert len(casts) == len(values)  # once each, not once per use
    for j, gradient in enumerate(gradients):
        # The d(loss)/d(alias) are the products alias * upstream rounded to bfloat16 by the multiply;
        # their float32 sum over the uses differs from the exact one by at most (uses - 1) roundings,
        # (uses - 1) * 2^-24 of the sum of magnitudes.
        terms = [tf.cast(upstream[i][j], tf.float64).numpy() for i in range(uses) if (i, j) in connected]
        exact = np.sum(terms, axis=0)
        bound = (uses - 1) * FLOAT32_UNIT_ROUNDOFF * np.sum(np.abs(terms), axis=0)
        assert gradient.dtype == tf.float32
        assert np.all(np.abs(gradient.numpy() - exact) <= bound)


def _encoder(layers):
    config = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=layers,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=12)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        return AlbertEncoder(config)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _inputs():
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 50, (3, 12)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 8:] = 0
    return {"input_ids": tf.constant(ids), "input_mask": tf.constant(mask), "segment_ids": tf.zeros_like(ids)}


def _weight_casts(graph):
    """The transformer block's variables cast to bfloat16 in a traced graph."""
    return [op for op in graph.get_operations()
            if op.type == "Cast" and op.get_attr("DstT") == tf.bfloat16 and "group_0_inner_0" in op.name
            and op.inputs[0].op.type == "ReadVariableOp"]


@pytest.mark.parametrize("recompute", [False, True])
def test_shared_casts_give_the_per_layer_casts_gradients(recompute):
    encoder = _encoder(layers=2)
    inputs = _inputs()
    block = encoder.groups[0][0]
    block.recompute = recompute
    probe = tf.constant(np.random.default_rng(2).standard_normal((3, 12, 16)), tf.float32)

    def loss_of(sequence_output):
        return tf.reduce_sum(tf.cast(sequence_output, tf.float32) * probe)

    @tf.function
    def shared():
        with tf.GradientTape() as tape:
            loss = loss_of(encoder(inputs, training=True)["sequence_output"])
        return tape.gradient(loss, encoder.trainable_variables)

    @tf.function
    def per_layer():
        # The encoder's wiring, with the block called without its place among the calls.
        with tf.GradientTape() as tape:
            x = encoder.embedding(inputs["input_ids"], inputs["segment_ids"], training=True)
            x = encoder.embedding_projection(x, training=True)
            for _ in range(2):
                x = block(x, inputs["input_mask"], training=True)
            loss = loss_of(x) + 0.0 * tf.reduce_sum(tf.cast(encoder.pooler(x[:, 0, :]), tf.float32))
        return tape.gradient(loss, encoder.trainable_variables)

    a, b = shared(), per_layer()
    # Block weights: 12 dense weights, one bf16 cast each per pass instead of one per layer.
    assert len(_weight_casts(shared.get_concrete_function().graph)) == 12
    assert len(_weight_casts(per_layer.get_concrete_function().graph)) == 2 * 12
    # Same forward values, same per-layer bf16 gradients; their float32 sum over 2 layers is one
    # correctly rounded addition whatever the order, so the block's gradients are equal bit for bit.
    # The one exception is the embedding LayerNorm's gamma: an XLA reduction over the 36 tokens
    # compiled in two different graphs, whose summation order may differ (measured: 1 ulp), within
    # 36 roundings of its largest element.
    for variable, x, y in zip(encoder.trainable_variables, a, b):
        if "pooler" in variable.path:
            continue
        x, y = tf.convert_to_tensor(x).numpy(), tf.convert_to_tensor(y).numpy()
        if variable.path == "embeddings/layer_norm/gamma":
            assert np.max(np.abs(x - y)) <= 36 * FLOAT32_UNIT_ROUNDOFF * np.max(np.abs(y))
        else:
            np.testing.assert_array_equal(x, y, err_msg=variable.path)


def test_inference_casts_per_call_and_float32_not_at_all():
    encoder = _encoder(layers=3)
    inputs = _inputs()
    # Inference takes no gradient, so there is nothing to sum: each call casts its own.
    outputs = tf.function(lambda: encoder(inputs, training=False)["sequence_output"])
    assert len(_weight_casts(outputs.get_concrete_function().graph)) == 3 * 12
    float32 = AlbertEncoder(encoder.config)
    trained = tf.function(lambda: float32(inputs, training=True)["sequence_output"])
    graph = trained.get_concrete_function().graph
    assert not [op for op in graph.get_operations() if op.type == "Cast" and op.inputs[0].op.type == "ReadVariableOp"]
