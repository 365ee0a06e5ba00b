"""Distributed MLM + SOP training steps with accumulation, clipping and loss scaling."""

import tensorflow as tf

from albert_tf.training.pretraining_objective import metrics_from_sums, objective_loss, objective_sums

MODEL_INPUTS = ("input_ids", "input_mask", "segment_ids", "masked_lm_positions")
MIXED_PRECISION = ("off", "bf16", "fp16")


class PretrainingTrainer:
    """Training and evaluation steps of an `AlbertPretrainer` under a tf.distribute strategy.

    One training step:

    1. Each replica splits its batch into `gradient_accumulation_steps`
       micro-batches and sums their gradients. The loss of every micro-batch
       is divided by the masked-token weight and example count of the whole
       global batch (all replicas, all micro-batches), so the summed gradient
       is exactly that of one global batch.
    2. Gradients are summed over replicas, unscaled (fp16), checked for
       Inf/NaN and clipped to global norm `clip_norm` (1.0 in the original).
    3. The optimizer (`AlbertLamb` with `gate_updates=True`) applies them;
       a non-finite step is skipped (its gate is 0) and counted. Under fp16 the
       dynamic loss scale then halves; it doubles after
       `loss_scale_growth_interval` finite steps.

    Args:
        model: an `AlbertPretrainer` (built under `strategy.scope()`).
        optimizer: an `AlbertLamb` created with `gate_updates=True`.
        strategy: a `tf.distribute.Strategy` (default: the current one).
        gradient_accumulation_steps: micro-batches per optimizer step.
        mixed_precision: "off", "bf16" or "fp16" (fp16 scales the loss).
        clip_norm: global-norm clipping threshold.

    Example:
    >>> trainer = PretrainingTrainer(model, optimizer)  # doctest: +SKIP
    >>> sums, finite = trainer.train_step(iterator)  # doctest: +SKIP
    """

    def __init__(self, model, optimizer, strategy=None, gradient_accumulation_steps=1,
                 mixed_precision="off", clip_norm=1.0, initial_loss_scale=2.0 ** 15,
                 loss_scale_growth_interval=2000):
        if mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision={mixed_precision!r}: expected one of {MIXED_PRECISION}")
        if gradient_accumulation_steps < 1:
            raise ValueError(f"gradient_accumulation_steps={gradient_accumulation_steps} must be >= 1")
        if not getattr(optimizer, "gate_updates", False):
            raise ValueError("PretrainingTrainer needs an AlbertLamb created with gate_updates=True")
        self.model = model
        self.optimizer = optimizer
        self.strategy = strategy or tf.distribute.get_strategy()
        self.accumulation_steps = gradient_accumulation_steps
        self.dynamic_loss_scale = mixed_precision == "fp16"
        self.clip_norm = clip_norm
        self.loss_scale_growth_interval = loss_scale_growth_interval
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
        """Objects to put in a `tf.train.Checkpoint` to resume training exactly."""
        return dict(model=self.model, optimizer=self.optimizer, step=self.step,
                    loss_scale=self.loss_scale, finite_steps=self.finite_steps,
                    skipped_steps=self.skipped_steps)

    @tf.function
    def train_step(self, iterator):
        """One optimizer step on the next global batch; returns (summed metrics, finite)."""
        sums, finite = self.strategy.run(self._replica_train_step, args=(next(iterator),))
        reduced = {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in sums.items()}
        finite = self.strategy.experimental_local_results(finite)[0]
        return reduced, finite

    @tf.function
    def eval_step(self, iterator):
        sums = self.strategy.run(self._replica_eval_step, args=(next(iterator),))
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
        return {k: float(v) for k, v in metrics_from_sums(totals).items()}

    def _replica_eval_step(self, batch):
        outputs = self.model({k: batch[k] for k in MODEL_INPUTS}, training=False)
        return objective_sums(outputs, batch)

    def _replica_train_step(self, batch):
        context = tf.distribute.get_replica_context()
        weights = tf.cast(batch["masked_lm_weights"], tf.float32)
        local_examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
        total_weight, total_examples = context.all_reduce(
            tf.distribute.ReduceOp.SUM, [tf.reduce_sum(weights), local_examples])
        variables = self.model.trainable_variables
        splits = {k: tf.split(v, self.accumulation_steps) for k, v in batch.items()}
        micro_batches = [{k: parts[i] for k, parts in splits.items()} for i in range(self.accumulation_steps)]
        gradients, sums = None, None
        for micro in micro_batches:
            with tf.GradientTape() as tape:
                outputs = self.model({k: micro[k] for k in MODEL_INPUTS}, training=True)
                micro_sums = objective_sums(outputs, micro)
                loss = objective_loss(micro_sums, total_weight, total_examples) * self.loss_scale
            micro_gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            if gradients is None:
                gradients, sums = micro_gradients, micro_sums
            else:
                gradients = [a + g for a, g in zip(gradients, micro_gradients)]
                sums = {k: sums[k] + micro_sums[k] for k in sums}

        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        gradients = [g / self.loss_scale for g in gradients]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in gradients])
        gradients = [tf.where(finite, g, tf.zeros_like(g)) for g in gradients]
        gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm)
        self.optimizer.apply_gate.assign(tf.cast(finite, tf.float32))
        # Every replica now holds the same global gradient; Keras sums
        # gradients over replicas again inside apply(), hence the division.
        replicas = float(context.num_replicas_in_sync)
        self.optimizer.apply([g / replicas for g in gradients], variables)
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
