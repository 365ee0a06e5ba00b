"""The training bias add: the bias gradient summed in float32 and rounded once, the input gradient passed through."""

import keras
import numpy as np
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertEncoder
from albert_tf.layers.bias_add import bias_add_for_training
from albert_tf.layers.training_dense import TrainingDense

BFLOAT16_UNIT_ROUNDOFF = 2.0 ** -8  # 8 significant bits, round to nearest
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


def _gradients(x, bias, upstream, add):
    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch([x, bias])
            y = add(x, bias)
        return y, tape.gradient(y, [x, bias], output_gradients=upstream)

    return run


def test_bias_gradient_is_the_float32_sum_rounded_once():
    rng = np.random.default_rng(0)
    rows, width = 1024, 48  # albert_base's batch 8 x seq 128 rows
    x = tf.constant(rng.standard_normal((8, rows // 8, width)), tf.bfloat16)
    bias = tf.constant(rng.standard_normal(width), tf.bfloat16)
    upstream = tf.constant(rng.standard_normal((8, rows // 8, width)), tf.bfloat16)
    y, (dx, dbias) = _gradients(x, bias, upstream, bias_add_for_training)()
    np.testing.assert_array_equal(y.numpy(), tf.nn.bias_add(x, bias).numpy())
    np.testing.assert_array_equal(dx.numpy(), upstream.numpy())  # passed through
    terms = tf.cast(tf.reshape(upstream, [rows, width]), tf.float64).numpy()
    exact = terms.sum(axis=0)
    # A float32 sum of `rows` terms is within (rows - 1) roundings of the sum of magnitudes (any
    # order); the result is then rounded once to bfloat16, relative 2^-8 of the (perturbed) sum.
    accumulated = (rows - 1) * FLOAT32_UNIT_ROUNDOFF * np.abs(terms).sum(axis=0)
    bound = BFLOAT16_UNIT_ROUNDOFF * (np.abs(exact) + accumulated) + accumulated
    assert dbias.dtype == tf.bfloat16
    assert np.all(np.abs(dbias.numpy().astype(np.float64) - exact) <= bound)


def test_float32_gradients_equal_the_plain_bias_add():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((64, 24)), tf.float32)
    bias = tf.constant(rng.standard_normal(24), tf.float32)
    upstream = tf.constant(rng.standard_normal((64, 24)), tf.float32)
    _, ours = _gradients(x, bias, upstream, bias_add_for_training)()
    _, plain = _gradients(x, bias, upstream, tf.nn.bias_add)()
    np.testing.assert_array_equal(ours[0].numpy(), plain[0].numpy())
    # The same 64 float32 terms in another order: within 63 roundings of the sum of magnitudes.
    bound = 63 * FLOAT32_UNIT_ROUNDOFF * np.abs(upstream.numpy()).sum(axis=0)
    assert np.all(np.abs(ours[1].numpy() - plain[1].numpy()) <= 2 * bound)


def _bias_gradient_ops(policy):
    config = AlbertConfig(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=12)
    keras.mixed_precision.set_global_policy(policy)
    try:
        encoder = AlbertEncoder(config)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    inputs = {"input_ids": tf.ones([2, 6], tf.int32), "input_mask": tf.ones([2, 6], tf.int32),
              "segment_ids": tf.zeros([2, 6], tf.int32)}
    encoder(inputs)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            output = encoder(inputs, training=True)["sequence_output"]
            loss = tf.reduce_sum(tf.cast(output, tf.float32))
        return tape.gradient(loss, encoder.trainable_variables)

    graph_def = step.get_concrete_function().graph.as_graph_def()
    # The step's own ops and those of the functions it calls (the custom gradients' bodies).
    ops = [node.op for node in graph_def.node]
    ops += [node.op for function in graph_def.library.function for node in function.node_def]
    return [op for op in ops if op == "BiasAddGrad"]


def test_the_encoder_takes_bfloat16_bias_gradients_in_float32_and_float32_ones_as_before():
    # Every bias on the path (the block's six dense layers in each layer, the embedding projection).
    assert _bias_gradient_ops("mixed_bfloat16") == []
    assert len(_bias_gradient_ops("float32")) >= 8


def test_training_dense_is_keras_dense_forward_with_the_same_weights_and_config():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        ours, plain = TrainingDense(5, activation="tanh"), keras.layers.Dense(5, activation="tanh")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    x = tf.constant(np.random.default_rng(2).standard_normal((3, 4, 6)), tf.float32)
    ours.build(x.shape)
    plain.build(x.shape)
    plain.set_weights(ours.get_weights())
    assert [w.path.split("/")[-1] for w in ours.weights] == ["kernel", "bias"]
    assert ours.get_config() == plain.get_config() | {"name": ours.name}
    for training in (False, True):
        np.testing.assert_array_equal(ours(x, training=training).numpy(), plain(x, training=training).numpy())
