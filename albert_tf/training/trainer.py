"""Distributed training steps with accumulation, clipping and loss scaling."""

import numpy as np
import tensorflow as tf

from albert_tf.layers.transformer_block import TransformerBlock
from albert_tf.training.training_config import MIXED_PRECISION


OPTIONAL_CHECKPOINT_ITEMS = ("random_states",)  # absent from checkpoints of earlier versions


def transformer_blocks(layer):
    """The distinct `TransformerBlock`s inside a Keras layer or model (a shared block once)."""
    found = [layer] if isinstance(layer, TransformerBlock) else []
    for sublayer in getattr(layer, "layers", ()):
        found += [block for block in transformer_blocks(sublayer) if all(block is not f for f in found)]
    return found


def _concatenate_padded(arrays):
    """Concatenates along axis 0, zero-padding axis 1 where batch lengths differ."""
    if arrays[0].ndim >= 2:
        width = max(a.shape[1] for a in arrays)
        arrays = [np.pad(a, [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2)) for a in arrays]
    return np.concatenate(arrays)


class Trainer:
    """Training, evaluation and prediction steps of a model under a tf.distribute strategy.

    What is trained is given by an objective (`PretrainingObjective`, or one
    of `albert_tf.tasks.finetuning_objectives`), an object with
    `model_inputs` (the batch features the model reads in training),
    `prediction_inputs` and `prediction_outputs` (for `predict`), `normalizers(batch)`
    (float32 scalars such as the example count, summed over the global
    batch), `sums(outputs, batch)` (float32 scalars: loss and metric sums),
    `loss(sums, normalizers)` and `metrics(sums)`.

    One training step:

    1. Each replica splits its batch into `gradient_accumulation_steps`
       micro-batches and sums their gradients. The loss of every micro-batch
       is divided by the normalizers of the whole global batch (all
       replicas, all micro-batches), so the summed gradient is exactly that
       of one global batch.
    2. Gradients are summed over replicas, unscaled (fp16), checked for
       Inf/NaN and clipped to global norm `clip_norm` (1.0 in the original).
    3. The optimizer (`AlbertLamb` with `gate_updates=True` and
       `aggregate_gradients=False`: the sum of step 2 is the only gradient
       reduction of the step) applies them;
       a non-finite step is skipped (its gate is 0) and counted. Under fp16 the
       dynamic loss scale then halves; it doubles after
       `loss_scale_growth_interval` finite steps.

    Args:
        model: a Keras model built under `strategy.scope()`.
        objective: see above.
        optimizer: an `AlbertLamb` created with `gate_updates=True,
            aggregate_gradients=False`.
        strategy: a `tf.distribute.Strategy` (default: the current one).
        gradient_accumulation_steps: micro-batches per optimizer step.
        mixed_precision: "off", "bf16" or "fp16" (fp16 scales the loss).
        clip_norm: global-norm clipping threshold.
        jit_compile: compile with XLA each replica's forward and backward
            passes (all micro-batches) and its evaluation and prediction
            steps. Cross-replica sums, clipping and the optimizer update stay
            outside XLA, so the option works under every strategy.
        recompute_blocks: recompute each transformer block's activations in
            the backward pass instead of keeping them (see `TransformerBlock`):
            less memory for one more forward pass per step.

    Example:
    >>> trainer = Trainer(model, PretrainingObjective(), optimizer)  # doctest: +SKIP
    >>> sums, finite = trainer.train_step(iterator)  # doctest: +SKIP
    """

    def __init__(self, model, objective, optimizer, strategy=None, gradient_accumulation_steps=1,
                 mixed_precision="off", clip_norm=1.0, initial_loss_scale=2.0 ** 15,
                 loss_scale_growth_interval=2000, jit_compile=False, recompute_blocks=False):
        if mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision={mixed_precision!r}: expected one of {MIXED_PRECISION}")
        if gradient_accumulation_steps < 1:
            raise ValueError(f"gradient_accumulation_steps={gradient_accumulation_steps} must be >= 1")
        if not getattr(optimizer, "gate_updates", False) or getattr(optimizer, "aggregate_gradients", True):
            raise ValueError("Trainer needs an AlbertLamb created with gate_updates=True, "
                             "aggregate_gradients=False (it sums and clips the gradients itself)")
        self.model = model
        self.objective = objective
        self.optimizer = optimizer
        self.strategy = strategy or tf.distribute.get_strategy()
        self.accumulation_steps = gradient_accumulation_steps
        self.dynamic_loss_scale = mixed_precision == "fp16"
        self.clip_norm = clip_norm
        self.loss_scale_growth_interval = loss_scale_growth_interval
        self.jit_compile = jit_compile
        self.recompute_blocks = recompute_blocks
        blocks = transformer_blocks(model)
        if recompute_blocks and not blocks:
            raise ValueError("recompute_blocks=True: the model has no TransformerBlock to recompute")
        for block in blocks:
            block.recompute = recompute_blocks
        compiled = (lambda fn: tf.function(fn, jit_compile=True)) if jit_compile else (lambda fn: fn)
        self._local_gradients = compiled(self._accumulated_gradients)
        self._eval_sums = compiled(self._replica_eval_step)
        self._predictions = compiled(self._replica_predict_step)
        first_replica = tf.VariableAggregation.ONLY_FIRST_REPLICA
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, aggregation=first_replica,
                                    name="global_step")
            self.loss_scale = tf.Variable(initial_loss_scale if self.dynamic_loss_scale else 1.0,
                                          dtype=tf.float32, trainable=False, aggregation=first_replica,
                                          name="loss_scale")
            self.finite_steps = tf.Variable(0, dtype=tf.int64, trainable=False, aggregation=first_replica,
                                            name="finite_steps_since_scale_change")
            self.skipped_steps = tf.Variable(0, dtype=tf.int64, trainable=False, aggregation=first_replica,
                                             name="skipped_steps")
            self.optimizer.build(self.model.trainable_variables)

    def checkpoint_items(self):
        """Objects to put in a `tf.train.Checkpoint` to resume training exactly.

        `random_states` are the model's non-trainable variables: the state of
        each dropout layer's Keras SeedGenerator, which `tf.train.Checkpoint`
        does not reach through the model (Keras tracks it, TensorFlow's object
        graph does not). Without them a resumed run would draw again the
        dropout masks of its first steps. Checkpoints written before they were
        saved lack the item (`OPTIONAL_CHECKPOINT_ITEMS`).
        """
        items = dict(model=self.model, optimizer=self.optimizer, step=self.step,
                     loss_scale=self.loss_scale, finite_steps=self.finite_steps,
                     skipped_steps=self.skipped_steps)
        if self.model.non_trainable_variables:
            items["random_states"] = list(self.model.non_trainable_variables)
        return items

    @tf.function
    def train_step(self, iterator):
        """One optimizer step on the next global batch; returns (summed metrics, finite)."""
        sums, finite = self.strategy.run(self._replica_train_step, args=(next(iterator),))
        reduced = {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in sums.items()}
        finite = self.strategy.experimental_local_results(finite)[0]
        return reduced, finite

    @tf.function
    def eval_step(self, iterator):
        sums = self.strategy.run(self._eval_sums, args=(next(iterator),))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in sums.items()}

    def evaluate(self, dataset, max_steps=None):
        """The original eval metrics over `dataset` (a distributed dataset)."""
        totals = None
        iterator = iter(dataset)
        steps = 0
        while max_steps is None or steps < max_steps:
            try:
                sums = self.eval_step(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                break
            totals = sums if totals is None else {k: totals[k] + sums[k] for k in totals}
            steps += 1
        if totals is None:
            raise ValueError("the evaluation data is empty")
        return {k: float(v) for k, v in self.objective.metrics(totals).items()}

    @tf.function
    def predict_step(self, iterator):
        """The objective's `prediction_outputs` and `example_index` of the next batch, per replica."""
        outputs = self.strategy.run(self._predictions, args=(next(iterator),))
        return {k: self.strategy.experimental_local_results(v) for k, v in outputs.items()}

    def predict(self, dataset):
        """NumPy outputs over a whole distributed dataset, rows in the order of `example_index`.

        Replicas see interleaved parts of each batch; every batch carries the
        `example_index` feature so that rows are put back in input order.
        Per-position outputs of length-aware batches are zero-padded to the
        longest batch: callers read each row up to its own length.
        """
        parts = {}
        iterator = iter(dataset)
        while True:
            try:
                outputs = self.predict_step(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                break
            for name, values in outputs.items():
                parts.setdefault(name, []).extend(np.asarray(v) for v in values)
        if not parts:
            raise ValueError("the prediction data is empty")
        results = {name: _concatenate_padded(values) for name, values in parts.items()}
        order = np.argsort(results["example_index"], kind="stable")
        return {name: values[order] for name, values in results.items()}

    def _replica_predict_step(self, batch):
        outputs = self.model({k: batch[k] for k in self.objective.prediction_inputs}, training=False)
        outputs = {k: outputs[k] for k in self.objective.prediction_outputs}
        outputs["example_index"] = batch["example_index"]
        return outputs

    def _replica_eval_step(self, batch):
        outputs = self.model({k: batch[k] for k in self.objective.model_inputs}, training=False)
        return self.objective.sums(outputs, batch)

    def _accumulated_gradients(self, batch, normalizers):
        """(gradient of each trainable variable, None where the loss does not reach it; summed metrics)."""
        variables = self.model.trainable_variables
        splits = {k: tf.split(v, self.accumulation_steps) for k, v in batch.items()}
        gradients, sums = None, None
        for i in range(self.accumulation_steps):
            micro = {k: parts[i] for k, parts in splits.items()}
            with tf.GradientTape() as tape:
                outputs = self.model({k: micro[k] for k in self.objective.model_inputs}, training=True)
                micro_sums = self.objective.sums(outputs, micro)
                loss = self.objective.loss(micro_sums, normalizers) * self.loss_scale
            micro_gradients = [None if g is None else tf.convert_to_tensor(g)
                               for g in tape.gradient(loss, variables)]
            if gradients is None:
                gradients, sums = micro_gradients, micro_sums
            else:
                gradients = [None if a is None else a + g for a, g in zip(gradients, micro_gradients)]
                sums = {k: sums[k] + micro_sums[k] for k in sums}
        return gradients, sums

    def _replica_train_step(self, batch):
        context = tf.distribute.get_replica_context()
        normalizers = context.all_reduce(tf.distribute.ReduceOp.SUM, self.objective.normalizers(batch))
        gradients, sums = self._local_gradients(batch, normalizers)
        # Variables the objective does not reach (the pooler under a span
        # head) get no update at all, as in the original, whose optimizer
        # skips variables without a gradient.
        trained = [v for v, g in zip(self.model.trainable_variables, gradients) if g is not None]
        gradients = [g for g in gradients if g is not None]
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        # One pass over the summed gradients: the loss scale (a power of two, so exact) and the
        # clipping to the global norm are one scalar factor, as tf.clip_by_global_norm computes it.
        # An inf or NaN element makes the global norm non-finite: the step is then skipped by the
        # optimizer's gate, which also discards the gradient itself (AlbertLamb), so no tf.where
        # over every gradient is needed. (A finite norm that overflows float32 is skipped as well,
        # where clipping by it would have made every gradient NaN.)
        norm = tf.linalg.global_norm(gradients) / self.loss_scale
        finite = tf.math.is_finite(norm)
        factor = self.clip_norm * tf.minimum(1.0 / norm, 1.0 / self.clip_norm) / self.loss_scale
        gradients = [g * tf.cast(factor, g.dtype) for g in gradients]
        self.optimizer.apply_gate.assign(tf.cast(finite, tf.float32))
        # Every replica now holds the same global gradient and applies it to
        # its copy of the variables (no second sum: aggregate_gradients=False).
        self.optimizer.apply(gradients, trained)
        self._update_loss_scale(finite)
        self.step.assign_add(1)
        return sums, finite

    def _update_loss_scale(self, finite):
        self.skipped_steps.assign_add(tf.cast(~finite, tf.int64))
        if not self.dynamic_loss_scale:
            return
        grow = finite & (self.finite_steps + 1 >= self.loss_scale_growth_interval)
        new_scale = tf.where(finite, tf.where(grow, self.loss_scale * 2.0, self.loss_scale),
                             tf.maximum(self.loss_scale / 2.0, 1.0))
        self.loss_scale.assign(new_scale)
        self.finite_steps.assign(tf.where(finite & ~grow, self.finite_steps + 1, tf.zeros_like(self.finite_steps)))
