"""Tiny models and synthetic pretraining batches for the trainer tests."""

import numpy as np
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.optimization import create_optimizer
from albert_tf.tasks.pretraining_objective import PretrainingObjective
from albert_tf.training.trainer import Trainer

SEQ, PRED, VOCAB = 32, 5, 60


def tiny_config():
    return AlbertConfig(vocab_size=VOCAB, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=SEQ,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def synthetic_batches(num_examples, seed=0):
    """Pretraining features with varying lengths and masked counts."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(8, SEQ + 1, num_examples)
    ids = np.zeros((num_examples, SEQ), np.int32)
    mask = np.zeros((num_examples, SEQ), np.int32)
    positions = np.zeros((num_examples, PRED), np.int32)
    labels = np.zeros((num_examples, PRED), np.int32)
    weights = np.zeros((num_examples, PRED), np.float32)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(5, VOCAB, n)
        mask[row, :n] = 1
        k = int(rng.integers(1, PRED + 1))
        positions[row, :k] = np.sort(rng.choice(np.arange(1, n - 1), k, replace=False))
        labels[row, :k] = ids[row, positions[row, :k]]
        weights[row, :k] = 1.0
    segments = (np.arange(SEQ)[None, :] >= (lengths // 2)[:, None]).astype(np.int32) * mask
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments,
            "masked_lm_positions": positions, "masked_lm_ids": labels, "masked_lm_weights": weights,
            "next_sentence_labels": rng.integers(0, 2, num_examples).astype(np.int32)}


def make_trainer(strategy=None, accumulation=1, mixed_precision="off", weights=None, jit_compile=False,
                 **optimizer_args):
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = AlbertPretrainer(tiny_config())
        if weights is not None:
            model.set_weights(weights)
        optimizer = create_optimizer(**{"optimizer": "lamb", "learning_rate": 1e-2, "num_train_steps": 20,
                                        "num_warmup_steps": 0,
                                        "gate_updates": True, "aggregate_gradients": False,
                                        **optimizer_args})
    return Trainer(model, PretrainingObjective(), optimizer, strategy, gradient_accumulation_steps=accumulation,
                   mixed_precision=mixed_precision, jit_compile=jit_compile)


def train(trainer, features, batch_size, steps):
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(batch_size, drop_remainder=True).repeat()
    iterator = iter(trainer.strategy.experimental_distribute_dataset(dataset))
    results = [trainer.train_step(iterator) for _ in range(steps)]
    return results


def max_relative_difference(weights_a, weights_b):
    """max over tensors of max|a - b| / max|a|, the scale floored at 1e-3.

    The floor matters for tensors whose gradient is zero in exact arithmetic
    (the attention key bias: softmax ignores a constant shift). Adam-type
    updates turn their 1e-10 rounding noise into steps of about 1e-11 whose
    sign differs between equivalent computations.
    """
    return max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-3)) for a, b in zip(weights_a, weights_b))


# Two computations of one global gradient (replicas vs one device, micro-batches vs one batch)
# differ only by float32 rounding; these helpers turn that into bounds on what the runs may differ by.
#
# A float32 sum of n terms is off by at most n * 2^-24 * sum|terms| (Higham's gamma_n); a gradient
# element sums n = (global batch tokens) terms, so, to first order, |dg| <= n * 2^-24 * max|g|.
# With LAMB's epsilon of 1e-6, a rounding flip in a gradient element that is zero in exact
# arithmetic moves a weight by up to lr * r * (1 - beta_1) * |dg| / epsilon: a 1e5 amplification
# that no fixed tolerance covers (a 1e-5 tolerance failed once at 1.16e-5). The equivalence tests
# therefore train with EQUIVALENCE_EPSILON = 1, where the update (1 - beta_1) g / (sqrt(1 - beta_2)
# |g| + 1) is at most (1 - beta_1) times as sensitive to g as g itself.
EQUIVALENCE_EPSILON = 1.0
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


def train_with_bounds(trainer, features, batch_size, steps, summed_terms):
    """Trains like `train`, and returns (results, weight bound, gradient scales) for comparing runs.

    Before each step the global gradient g is taken here on the same batch. Over s steps a
    rounding error dg of every gradient reaches the first moment m as at most
    sum_j (1 - beta_1) beta_1^(s-j) dg_j, and a weight, through the update and the trust ratio
    r = |w| / |update| (which moves by the same relative amount, hence the factor 2), by at most
    lr * max(r, 1) * (1 - beta_1) * s * 2 * dg per step. The weight bound sums that over steps,
    relative to each tensor's scale as `max_relative_difference` measures it (the weight differences
    this creates feed back into later gradients at the same 1e-7 relative order, far inside the
    worst-case n * 2^-24). Gradient scales are max over steps of max|g| per tensor (m's scale).
    """
    optimizer, objective = trainer.optimizer, trainer.objective
    assert float(optimizer.epsilon) == EQUIVALENCE_EPSILON
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(batch_size, drop_remainder=True).repeat()
    iterator = iter(trainer.strategy.experimental_distribute_dataset(dataset))
    variables = trainer.model.trainable_variables
    results, bound, scales = [], 0.0, np.zeros(len(variables))
    for step in range(steps):
        batch = {k: tf.constant(v[step * batch_size:(step + 1) * batch_size]) for k, v in features.items()}
        with tf.GradientTape() as tape:
            outputs = trainer.model({k: batch[k] for k in objective.model_inputs}, training=True)
            loss = objective.loss(objective.sums(outputs, batch), objective.normalizers(batch))
        gradients = tape.gradient(loss, variables)
        lr = float(optimizer.learning_rate_schedule(step))
        step_bound = 0.0
        for index, (variable, gradient) in enumerate(zip(variables, gradients)):
            if gradient is None:
                continue
            g, w = tf.convert_to_tensor(gradient).numpy(), variable.numpy()
            scales[index] = max(scales[index], float(np.max(np.abs(g))))
            update = (1 - optimizer.beta_1) * g / (np.sqrt(1 - optimizer.beta_2) * np.abs(g) + EQUIVALENCE_EPSILON)
            update = update + optimizer.weight_decay_rate * w
            ratio = np.linalg.norm(w) / max(np.linalg.norm(update), 1e-30) if np.linalg.norm(w) > 0 else 1.0
            rounding = summed_terms * FLOAT32_UNIT_ROUNDOFF * scales[index]
            change = lr * max(ratio, 1.0) * (1 - optimizer.beta_1) * (step + 1) * 2 * rounding
            step_bound = max(step_bound, change / max(float(np.max(np.abs(w))), 1e-3))
        bound += step_bound
        results.append(trainer.train_step(iterator))
    return results, bound, scales


def first_moments(trainer):
    """The optimizer's first-moment slots, in the order of the trainable variables."""
    return [v.numpy() for v in trainer.optimizer.variables if "momentum" in v.path]


def max_moment_difference(trainer_a, trainer_b, scales):
    """max|m_a - m_b| / ((1 - beta_1) * G) over all first moments, G the largest gradient element.

    G stands for the size of the terms each gradient element sums (a gradient that is zero in exact
    arithmetic, such as the attention key bias's, is a sum of such terms that cancel); by rounding
    alone the result is at most steps * n * 2^-24. A gradient off by any factor moves it by ~1.
    """
    beta_1 = trainer_a.optimizer.beta_1
    scale = (1 - beta_1) * float(np.max(scales))
    return max(float(np.max(np.abs(a - b))) / scale for a, b in zip(first_moments(trainer_a), first_moments(trainer_b)))
