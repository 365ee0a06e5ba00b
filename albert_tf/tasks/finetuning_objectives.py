"""Fine-tuning objectives for `Trainer`: the original losses as global-batch means.

Each returns sums; `Trainer` divides by the number of examples in the whole
global batch, so replicas and accumulation give the mean loss of one batch
as in the original scripts.
"""

import tensorflow as tf

from albert_tf.models.albert_encoder import ENCODER_INPUTS


class _MeanOverExamples:
    model_inputs = ENCODER_INPUTS
    prediction_inputs = ENCODER_INPUTS
    prediction_outputs = ("logits",)
    data_metrics = ()  # metrics describing the data (left out of progress lines): none

    def normalizers(self, batch):
        return [tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)]

    def loss(self, sums, normalizers):
        return sums["loss_sum"] / normalizers[0]

    def metrics(self, sums):
        examples = tf.maximum(sums["examples"], 1.0)
        metrics = {"loss": sums["loss_sum"] / examples}
        if "correct" in sums:
            metrics["accuracy"] = sums["correct"] / examples
        return metrics


class ClassificationObjective(_MeanOverExamples):
    """Softmax cross-entropy of `logits` against `label_ids` (also multiple choice)."""

    def sums(self, outputs, batch):
        logits = tf.cast(outputs["logits"], tf.float32)
        labels = tf.cast(batch["label_ids"], tf.int32)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        return {"loss_sum": tf.reduce_sum(loss), "correct": tf.reduce_sum(correct),
                "examples": tf.cast(tf.size(labels), tf.float32)}


class RegressionObjective(_MeanOverExamples):
    """Squared error of the single output against float `label_ids` (STS-B)."""

    def sums(self, outputs, batch):
        predictions = tf.reshape(tf.cast(outputs["logits"], tf.float32), [-1])
        labels = tf.cast(batch["label_ids"], tf.float32)
        return {"loss_sum": tf.reduce_sum(tf.square(predictions - labels)),
                "examples": tf.cast(tf.size(labels), tf.float32)}


class SquadV1Objective(_MeanOverExamples):
    """(start CE + end CE) / 2 over the v1 head's logits."""

    prediction_outputs = ("start_logits", "end_logits")

    def sums(self, outputs, batch):
        def cross_entropy(logits, positions):
            return tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(positions, tf.int32), logits=tf.cast(logits, tf.float32))

        loss = 0.5 * (cross_entropy(outputs["start_logits"], batch["start_positions"])
                      + cross_entropy(outputs["end_logits"], batch["end_positions"]))
        return {"loss_sum": tf.reduce_sum(loss),
                "examples": tf.cast(tf.size(batch["start_positions"]), tf.float32)}


class SquadV2Objective(_MeanOverExamples):
    """(start CE + end CE) / 2 + 0.5 · sigmoid CE(answerability), as run_squad_v2."""

    model_inputs = ENCODER_INPUTS + ("p_mask", "start_positions")
    prediction_inputs = ENCODER_INPUTS + ("p_mask",)
    prediction_outputs = ("start_top_log_probs", "start_top_index", "end_top_log_probs",
                          "end_top_index", "cls_logits")

    def sums(self, outputs, batch):
        def nll(log_probs, positions):
            return -tf.gather(log_probs, tf.cast(positions, tf.int32), batch_dims=1)

        span = 0.5 * (nll(outputs["start_log_probs"], batch["start_positions"])
                      + nll(outputs["end_log_probs"], batch["end_positions"]))
        answerability = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(batch["is_impossible"], tf.float32), logits=outputs["cls_logits"])
        return {"loss_sum": tf.reduce_sum(span + 0.5 * answerability),
                "examples": tf.cast(tf.size(batch["start_positions"]), tf.float32)}


class TokenClassificationObjective(_MeanOverExamples):
    """Softmax cross-entropy at every labelled position (`token_labels` >= 0), averaged over those positions
    of the whole global batch (transformers' AlbertForTokenClassification: the mean over labels != -100)."""

    def normalizers(self, batch):
        return [tf.reduce_sum(tf.cast(batch["token_labels"] >= 0, tf.float32))]

    def loss(self, sums, normalizers):
        return sums["loss_sum"] / tf.maximum(normalizers[0], 1.0)

    def sums(self, outputs, batch):
        logits = tf.cast(outputs["logits"], tf.float32)
        labels = tf.cast(batch["token_labels"], tf.int32)
        scored = tf.cast(labels >= 0, tf.float32)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.maximum(labels, 0), logits=logits)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        return {"loss_sum": tf.reduce_sum(loss * scored), "correct": tf.reduce_sum(correct * scored),
                "examples": tf.reduce_sum(scored)}
