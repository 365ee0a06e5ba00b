"""The objective of a distillation run: the task's own loss (weighted) plus the distillation terms.

Any task's objective is wrapped (fine-tuning's, or pretraining's MLM + SOP for general distillation): its
sums and normalizers are kept and one normalizer is added, the example count. Each distillation term is
a mean over a replica's batch, summed as that mean times the replica's examples and divided by the global
batch's examples: with one replica (or equal batches) the loss is exactly
`hard_label_weight x the task's loss + the sum of the weighted terms`.

Metrics: the task's (`loss` stays the task's own loss against the gold labels, which a distillation run may
not train on) plus `distillation_loss`, the sum of the weighted terms, and each term by name.
"""

import tensorflow as tf


class DistillationObjective:
    """Wraps the task's objective (`task_objective`); evaluation and predictions are the task's."""

    def __init__(self, task_objective, hard_label_weight):
        self.task_objective = task_objective
        self.hard_label_weight = hard_label_weight
        self.model_inputs = task_objective.model_inputs
        self.prediction_inputs = task_objective.prediction_inputs
        self.prediction_outputs = task_objective.prediction_outputs
        self.data_metrics = task_objective.data_metrics

    def normalizers(self, batch):
        return list(self.task_objective.normalizers(_labelled(batch))) + [
            tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)]

    def loss(self, sums, normalizers):
        # a batch of teacher-labelled examples only has no labelled one: its task loss is 0, not 0 / 0
        loss = self.hard_label_weight * self.task_objective.loss(sums, [tf.maximum(n, 1e-12) for n in normalizers[:-1]])
        for name in sums:
            if name.startswith("distill_"):
                loss += sums[name] / normalizers[-1]
        return loss

    def sums(self, outputs, batch):
        terms = outputs.get("distillation_losses")
        task_outputs = {name: value for name, value in outputs.items() if name != "distillation_losses"}
        if "labelled" in batch:  # the task's loss on the gold-labelled examples only
            keep = batch["labelled"] > 0
            task_outputs = {name: tf.boolean_mask(value, keep) for name, value in task_outputs.items()}
        sums = dict(self.task_objective.sums(task_outputs, _labelled(batch)))
        if terms:  # training (evaluation runs the student alone)
            examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
            for name, value in terms.items():
                sums[f"distill_{name}"] = tf.cast(value, tf.float32) * examples
            sums["distilled_examples"] = examples
        return sums

    def metrics(self, sums):
        metrics = self.task_objective.metrics(sums)
        if "distilled_examples" in sums:
            examples = tf.maximum(sums["distilled_examples"], 1.0)
            terms = {name[len("distill_"):]: sums[name] / examples for name in sorted(sums)
                     if name.startswith("distill_")}
            metrics["distillation_loss"] = tf.add_n(list(terms.values())) if terms else tf.constant(0.0)
            metrics.update(terms)
        return metrics


def _labelled(batch):
    """The rows of `batch` with gold labels (all of them unless teacher-labelled extra examples are mixed in)."""
    if "labelled" not in batch:
        return batch
    keep = batch["labelled"] > 0
    return {name: tf.boolean_mask(value, keep) for name, value in batch.items()}
