"""AlbertLamb and the schedule against a NumPy transcription of the original update rule."""

import re

import keras
import numpy as np
import pytest

from albert_tf.optimization import AlbertLamb, WarmupPolynomialDecay, create_optimizer


def original_update(params, grads, m, v, lr, weight_decay_rate, layer_adaptation, eps=1e-6,
                    beta_1=0.9, beta_2=0.999, exclude=("LayerNorm", "layer_norm", "bias")):
    """google-research/albert lamb_optimizer.py / AdamWeightDecayOptimizer, in NumPy (float64)."""
    for name in params:
        g = grads[name]
        m[name] = beta_1 * m[name] + (1 - beta_1) * g
        v[name] = beta_2 * v[name] + (1 - beta_2) * g * g
        update = m[name] / (np.sqrt(v[name]) + eps)
        excluded = any(re.search(p, name) for p in exclude)
        if weight_decay_rate and not excluded:
            update += weight_decay_rate * params[name]
        ratio = 1.0
        if layer_adaptation and not excluded:
            w_norm, g_norm = np.linalg.norm(params[name]), np.linalg.norm(update)
            ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
        params[name] = params[name] - ratio * lr * update


def original_learning_rate(step, init_lr, total, warmup, power=1.0):
    decayed = init_lr * (1 - min(step, total) / total) ** power
    return init_lr * step / warmup if warmup and step < warmup else decayed


@pytest.mark.parametrize("optimizer_name", ["lamb", "adamw"])
def test_updates_match_the_original_rule(optimizer_name):
    rng = np.random.default_rng(0)
    shapes = {"dense/kernel": (6, 4), "dense/bias": (4,), "LayerNorm/gamma": (4,), "zero/kernel": (3,)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    params["zero/kernel"][:] = 0.0  # ‖θ‖ = 0: trust ratio 1
    variables = {k: keras.Variable(params[k].astype(np.float32), name=k.replace("/", "_")) for k in shapes}
    names = {variables[k].path: k for k in shapes}
    optimizer = create_optimizer(optimizer_name, learning_rate=0.01, num_train_steps=10, num_warmup_steps=3,
                                 weight_decay_rate=0.01, variable_names=names)
    m = {k: np.zeros(s) for k, s in shapes.items()}
    v = {k: np.zeros(s) for k, s in shapes.items()}
    for step in range(6):
        grads = {k: rng.normal(size=s) for k, s in shapes.items()}
        optimizer.apply([grads[k].astype(np.float32) for k in shapes], [variables[k] for k in shapes])
        original_update(params, grads, m, v, original_learning_rate(step, 0.01, 10, 3), 0.01,
                        layer_adaptation=optimizer_name == "lamb")
        for k in shapes:
            np.testing.assert_allclose(variables[k].numpy(), params[k], rtol=1e-5, atol=1e-7, err_msg=k)
    no_decay, no_adaptation = optimizer.excluded_variables()
    assert sorted(names[p] for p in no_decay) == ["LayerNorm/gamma", "dense/bias"]
    assert sorted(names[p] for p in no_adaptation) == (
        ["LayerNorm/gamma", "dense/bias"] if optimizer_name == "lamb" else sorted(shapes))


def test_schedule_matches_the_original():
    schedule = WarmupPolynomialDecay(0.00176, total_steps=125000, warmup_steps=3125, power=1.0)
    for step in (0, 1, 1000, 3124, 3125, 50000, 124999, 125000, 130000):
        assert float(schedule(step)) == pytest.approx(original_learning_rate(step, 0.00176, 125000, 3125),
                                                      rel=1e-6, abs=1e-10)  # float32, as the original


def test_gated_update_is_skipped():
    variable = keras.Variable(np.ones(3, np.float32), name="kernel")
    optimizer = AlbertLamb(learning_rate=0.1, gate_updates=True)
    optimizer.build([variable])
    optimizer.apply_gate.assign(0.0)
    optimizer.apply([np.ones(3, np.float32)], [variable])
    np.testing.assert_array_equal(variable.numpy(), np.ones(3))
    assert not optimizer._momentums[0].numpy().any()
    optimizer.apply_gate.assign(1.0)
    optimizer.apply([np.ones(3, np.float32)], [variable])
    assert (variable.numpy() < 1).all()
    # A gated step leaves the variable and both moments exactly as they were, even when its gradient
    # is not finite (the gate is folded into scalar factors, and the moments take a no-NaN product).
    before = [t.numpy().copy() for t in (variable, optimizer._momentums[0], optimizer._velocities[0])]
    optimizer.apply_gate.assign(0.0)
    optimizer.apply([np.array([np.nan, np.inf, -np.inf], np.float32)], [variable])
    after = [t.numpy() for t in (variable, optimizer._momentums[0], optimizer._velocities[0])]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_our_paths_exclude_the_same_variables_as_the_original_names():
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.checkpoints.variable_names import model_variables

    config = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=32)
    model = AlbertPretrainer(config)
    encoder_names, head_names = model_variables(model)
    original = {var.path: name for name, var in {**encoder_names, **head_names}.items()}
    by_path, by_name = AlbertLamb(weight_decay_rate=0.01), AlbertLamb(weight_decay_rate=0.01,
                                                                       variable_names=original)
    by_path.build(model.trainable_variables)
    by_name.build(model.trainable_variables)
    assert by_path.excluded_variables() == by_name.excluded_variables()
    assert len(by_path.excluded_variables()[0]) > 10
