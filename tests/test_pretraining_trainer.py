"""Trainer with the pretraining objective: accumulation, replicas, mixed precision, non-finite steps."""

import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertPretrainer
from albert_tf.tasks.pretraining_objective import PretrainingObjective
from trainer_helpers import (EQUIVALENCE_EPSILON, FLOAT32_UNIT_ROUNDOFF, SEQ, make_trainer, max_moment_difference,
                             max_relative_difference, synthetic_batches, tiny_config, train, train_with_bounds)
import processes

TESTS = os.path.dirname(os.path.abspath(__file__))


def test_gradient_accumulation_equals_one_large_batch():
    features = synthetic_batches(48, seed=1)
    large = make_trainer(accumulation=1, epsilon=EQUIVALENCE_EPSILON)
    initial = large.model.get_weights()
    accumulated = make_trainer(accumulation=4, weights=initial, epsilon=EQUIVALENCE_EPSILON)
    steps, batch_size = 3, 16
    _, weight_bound, scales = train_with_bounds(large, features, batch_size, steps, summed_terms=batch_size * SEQ)
    train(accumulated, features, batch_size, steps)
    assert max_relative_difference(initial, large.model.get_weights()) > 1e-3  # it did train
    # The same global gradient summed in another order: bounds from the float32 arithmetic
    # (trainer_helpers.train_with_bounds); a wrong scale of the gradient moves m by ~100%.
    assert max_relative_difference(large.model.get_weights(), accumulated.model.get_weights()) <= weight_bound
    assert max_moment_difference(large, accumulated, scales) <= steps * batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF
    assert weight_bound < 1e-2  # the bound itself is tight enough to mean something


def test_jit_compile_matches_the_graph_step():
    features = synthetic_batches(48, seed=5)
    graph = make_trainer(accumulation=2, epsilon=EQUIVALENCE_EPSILON)
    initial = graph.model.get_weights()
    xla = make_trainer(accumulation=2, weights=initial, epsilon=EQUIVALENCE_EPSILON, jit_compile=True)
    steps, batch_size = 3, 16
    results, weight_bound, scales = train_with_bounds(graph, features, batch_size, steps, batch_size * SEQ)
    xla_results = train(xla, features, batch_size, steps)
    assert max_relative_difference(initial, graph.model.get_weights()) > 1e-3  # it did train
    # XLA fuses and reorders the same float32 sums (and has its own exp/tanh, a few ulps each, far
    # smaller than the n * 2^-24 reordering bound of trainer_helpers.train_with_bounds).
    assert max_relative_difference(graph.model.get_weights(), xla.model.get_weights()) <= weight_bound < 1e-2
    assert max_moment_difference(graph, xla, scales) <= steps * batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF
    for (sums, _), (xla_sums, _) in zip(results, xla_results):
        loss, xla_loss = float(sums["mlm_loss_sum"]), float(xla_sums["mlm_loss_sum"])
        assert abs(loss - xla_loss) <= batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF * abs(loss)
    # Evaluation through the compiled step: the same sums (one batch of 16 x SEQ tokens).
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(batch_size)
    xla.model.set_weights(graph.model.get_weights())
    ours, compiled = graph.evaluate(dataset), xla.evaluate(dataset)
    for name in ours:
        assert abs(ours[name] - compiled[name]) <= batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF * max(abs(ours[name]), 1)


@pytest.mark.integration  # a subprocess with two logical CPUs
def test_mirrored_two_replicas_match_one_device():
    result = processes.run([sys.executable, os.path.join(TESTS, "mirrored_equivalence_check.py")],
                           capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    values = dict(zip(*[iter([x for x in result.stdout.splitlines() if x.startswith("RESULT")][-1].split()[1:])] * 2))
    values = {k: float(v) for k, v in values.items()}
    # Bounds derived from float32 rounding of one global gradient (trainer_helpers.train_with_bounds);
    # the loss sums of a batch are the same sums in another order: n * 2^-24 of their size.
    assert values["moved"] > 1e-3
    assert values["weights"] <= values["weight_bound"] < 1e-2
    assert values["moments"] <= values["moment_bound"]
    assert values["loss"] <= values["loss_bound"]
    # One gradient reduction per step (plus one of the normalizers), none inside the optimizer, whether
    # or not gradients are accumulated or the loss is scaled; before aggregate_gradients=False Keras
    # summed the already summed gradients again in apply() (3 reductions, 1 in the optimizer).
    for setup in ("plain", "accumulation", "fp16"):
        assert values[f"{setup}_reductions"] == 2, (setup, values)
        assert values[f"{setup}_optimizer_reductions"] == 0, (setup, values)


def test_non_finite_step_is_skipped_and_counted():
    features = synthetic_batches(16, seed=2)
    features["masked_lm_weights"][3, 0] = np.nan
    trainer = make_trainer()
    before = trainer.model.get_weights()
    (sums, finite), = train(trainer, features, 16, 1)
    assert not bool(finite) and int(trainer.skipped_steps.numpy()) == 1 and int(trainer.step.numpy()) == 1
    assert max_relative_difference(before, trainer.model.get_weights()) == 0.0


def test_fp16_dynamic_loss_scaling_skips_overflow_then_trains():
    keras.mixed_precision.set_global_policy("mixed_float16")
    trainer = make_trainer(mixed_precision="fp16", num_train_steps=1000)
    trainer.loss_scale.assign(2.0 ** 30)  # float16 gradients overflow until the scale comes down
    before = trainer.model.get_weights()
    results = train(trainer, synthetic_batches(32, seed=4), 16, 30)
    finite = [bool(f) for _, f in results]
    # Overflowing steps come first and halve the scale until the gradients fit.
    # Near the fitting scale (2^17-2^18 here) a later step may overflow again and
    # halve once more: that is the mechanism working, and which step it hits
    # varies with oneDNN's threaded float16 sums, so only the pattern is checked.
    first_finite = finite.index(True)
    assert first_finite >= 5  # every step before it overflowed
    assert sum(finite[first_finite:]) >= 0.8 * len(finite[first_finite:])
    assert int(trainer.skipped_steps.numpy()) == finite.count(False)
    assert float(trainer.loss_scale.numpy()) == 2.0 ** (30 - finite.count(False))
    assert max_relative_difference(before, trainer.model.get_weights()) > 0
    assert trainer.model.get_layer("masked_lm_head").compute_dtype == "float16"


def test_bf16_trains():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    trainer = make_trainer(mixed_precision="bf16")
    results = train(trainer, synthetic_batches(32, seed=5), 16, 3)
    assert all(bool(f) for _, f in results)
    losses = [float(s["mlm_loss_sum"] / s["mlm_weight_sum"]) for s, _ in results]
    assert np.isfinite(losses).all()
    assert all(v.dtype == tf.float32 for v in trainer.model.trainable_variables)


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_recomputed_blocks_give_the_same_gradients(dropout):
    """With dropout the recomputed masks must be the forward pass's: a re-drawn mask moves gradients by ~100%."""
    from albert_tf.training.trainer import transformer_blocks

    config = tiny_config()
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = dropout
    features = synthetic_batches(16, seed=6)
    batch = {k: tf.constant(v) for k, v in features.items()}
    objective = PretrainingObjective()
    model = AlbertPretrainer(config)
    model({k: batch[k] for k in objective.model_inputs})
    blocks = transformer_blocks(model)
    assert len(blocks) == 1  # the shared block, once
    states = [v.numpy() for v in model.non_trainable_variables]
    assert len(states) >= (4 if dropout else 0)  # embedding + the block's three dropout layers

    def gradients(recompute):
        for block in blocks:
            block.recompute = recompute
        for variable, state in zip(model.non_trainable_variables, states):  # the dropout seed generators
            variable.assign(state)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                outputs = model({k: batch[k] for k in objective.model_inputs}, training=True)
                loss = objective.loss(objective.sums(outputs, batch), objective.normalizers(batch))
            return loss, tape.gradient(loss, model.trainable_variables)
        return step()

    loss, plain = gradients(False)
    recomputed_loss, recomputed = gradients(True)
    # The same ops on the same values: the forward pass is repeated exactly, and the backward pass
    # differs only in where oneDNN's threaded sums split (float32 reordering over the 16 x SEQ
    # tokens a weight gradient sums: n * 2^-24 relative to the largest gradient element).
    assert abs(float(loss) - float(recomputed_loss)) <= FLOAT32_UNIT_ROUNDOFF * 16 * abs(float(loss))
    bound = 16 * SEQ * FLOAT32_UNIT_ROUNDOFF
    for a, b in zip(plain, recomputed):
        a, b = tf.convert_to_tensor(a).numpy(), tf.convert_to_tensor(b).numpy()
        assert np.max(np.abs(a - b)) <= bound * max(np.max(np.abs(a)), 1e-30)

