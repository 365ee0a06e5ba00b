"""The objective of a distillation run: the task's own loss (weighted) plus the distillation terms.

`Trainer` divides an objective's sums by the global batch's normalizer (examples, or labelled tokens for
NER); the distillation terms are means over a replica's batch, so each is counted as that mean times the
replica's own normalizer: with one replica (or equal batches) the loss is exactly
hard_label_weight x task loss + the sum of the weighted terms.
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
        return self.task_objective.normalizers(batch)

    def loss(self, sums, normalizers):
        return self.task_objective.loss(sums, normalizers)

    def sums(self, outputs, batch):
        sums = dict(self.task_objective.sums(outputs, batch))
        terms = outputs.get("distillation_losses") if isinstance(outputs, dict) else None
        if not terms:  # evaluation: the student alone, on the task's loss
            return sums
        count = tf.cast(self.task_objective.normalizers(batch)[0], tf.float32)
        sums["hard_loss_sum"] = sums["loss_sum"]
        sums["loss_sum"] = self.hard_label_weight * sums["loss_sum"]
        for name, value in terms.items():
            sums[f"{name}_sum"] = tf.cast(value, tf.float32) * count
            sums["loss_sum"] += sums[f"{name}_sum"]
        sums["normalizer"] = count
        return sums

    def metrics(self, sums):
        metrics = self.task_objective.metrics(sums)
        if "hard_loss_sum" in sums:
            count = tf.maximum(sums["normalizer"], 1.0)
            metrics["loss"] = sums["loss_sum"] / count
            metrics["hard_loss"] = sums["hard_loss_sum"] / count
            for name in sorted(sums):
                if name.endswith("_sum") and name not in ("loss_sum", "hard_loss_sum"):
                    metrics[name[:-len("_sum")]] = sums[name] / count
        return metrics
