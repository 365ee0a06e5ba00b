"""Tiny models and synthetic pretraining batches for the trainer tests."""

import numpy as np
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.optimization import create_optimizer
from albert_tf.training.pretraining_objective import PretrainingObjective
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


def make_trainer(strategy=None, accumulation=1, mixed_precision="off", weights=None, **optimizer_args):
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = AlbertPretrainer(tiny_config())
        if weights is not None:
            model.set_weights(weights)
        optimizer = create_optimizer(**{"learning_rate": 1e-2, "num_train_steps": 20, "num_warmup_steps": 0,
                                        "gate_updates": True, **optimizer_args})
    return Trainer(model, PretrainingObjective(), optimizer, strategy, gradient_accumulation_steps=accumulation,
                              mixed_precision=mixed_precision)


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
