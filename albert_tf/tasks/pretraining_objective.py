"""The MLM + SOP objective and its metrics, as sums for exact global averaging.

The original loss (run_pretraining.py of google-research/albert) is

    masked_lm_loss = Σ w·CE(mlm) / (Σ w + 1e-5)
    sentence_order_loss = mean CE(sop)
    total_loss = masked_lm_loss + sentence_order_loss

computed per batch. Here each replica and micro-batch returns sums, and the
training step divides by the totals of the whole global batch, so that
N replicas x M micro-batches give exactly the gradient of one batch of the
same global size.
"""

import tensorflow as tf

from albert_tf.models.albert_encoder import ENCODER_INPUTS


class PretrainingObjective:
    """MLM + SOP for `Trainer`: `AlbertPretrainer` outputs against TFRecord labels."""

    model_inputs = ENCODER_INPUTS + ("masked_lm_positions",)
    prediction_inputs = model_inputs
    prediction_outputs = ("mlm_logits", "sop_logits")
    # Metrics that describe the data, not the model (what learning nothing scores): evaluation results only.
    data_metrics = ("sentence_order_majority_rate", "sentence_order_examples")

    def normalizers(self, batch):
        """This batch's masked-token weight and example count (summed over the global batch)."""
        return [tf.reduce_sum(tf.cast(batch["masked_lm_weights"], tf.float32)),
                tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)]

    def sums(self, outputs, batch):
        """Per-batch sums of losses, correct predictions and weights (float32 scalars)."""
        mlm_logits = tf.cast(outputs["mlm_logits"], tf.float32)
        sop_logits = tf.cast(outputs["sop_logits"], tf.float32)
        labels = tf.cast(batch["masked_lm_ids"], tf.int32)
        weights = tf.cast(batch["masked_lm_weights"], tf.float32)
        mlm_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=mlm_logits)
        mlm_correct = tf.cast(tf.equal(tf.argmax(mlm_logits, -1, output_type=tf.int32), labels), tf.float32)
        sop_labels = tf.reshape(tf.cast(batch["next_sentence_labels"], tf.int32), [-1])
        sop_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sop_labels, logits=sop_logits)
        sop_correct = tf.cast(tf.equal(tf.argmax(sop_logits, -1, output_type=tf.int32), sop_labels), tf.float32)
        return {
            "mlm_loss_sum": tf.reduce_sum(mlm_loss * weights),
            "mlm_correct_sum": tf.reduce_sum(mlm_correct * weights),
            "mlm_weight_sum": tf.reduce_sum(weights),
            "sop_loss_sum": tf.reduce_sum(sop_loss),
            "sop_correct_sum": tf.reduce_sum(sop_correct),
            "sop_label_sum": tf.reduce_sum(tf.cast(sop_labels, tf.float32)),  # swapped pairs (label 1)
            "examples": tf.cast(tf.size(sop_labels), tf.float32),
        }

    def loss(self, sums, normalizers):
        """This batch's share of the global-batch loss, given the global totals."""
        total_weight, total_examples = normalizers
        return sums["mlm_loss_sum"] / (total_weight + 1e-5) + sums["sop_loss_sum"] / total_examples

    def metrics(self, sums):
        """The original eval metrics from summed counts, and the SOP labels' majority rate and count (the
        accuracy of always predicting the commoner order: what a model that learned nothing scores)."""
        weight = tf.maximum(sums["mlm_weight_sum"], 1e-12)
        examples = tf.maximum(sums["examples"], 1.0)
        masked_lm_loss = sums["mlm_loss_sum"] / (sums["mlm_weight_sum"] + 1e-5)
        sentence_order_loss = sums["sop_loss_sum"] / examples
        return {
            "loss": masked_lm_loss + sentence_order_loss,
            "masked_lm_accuracy": sums["mlm_correct_sum"] / weight,
            "masked_lm_loss": masked_lm_loss,
            "sentence_order_accuracy": sums["sop_correct_sum"] / examples,
            "sentence_order_loss": sentence_order_loss,
            "sentence_order_majority_rate": tf.maximum(sums["sop_label_sum"], examples - sums["sop_label_sum"])
            / examples,
            "sentence_order_examples": sums["examples"],
        }
