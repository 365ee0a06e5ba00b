"""The student with its frozen teacher: one Keras model for the one training loop.

In training, `call` runs the student and the teacher (in inference mode, no gradient) on the same batch and
returns the student's outputs plus `distillation_losses`, a dict of the weighted loss terms of
`DistillationConfig` (`DistillationObjective` adds them to the task's own loss). Outside training it is the
student alone: evaluation, predictions and metrics are the student's. Checkpoints hold both (resume is
exact); `student` is what is exported.

`keras.distillation.Distiller` does not fit here: it is a Model with its own `compile`/`fit` train step,
while every albert-tf run trains through `Trainer` (accumulation, mixed precision, replicas, exact resume).
Its loss classes are used where they fit (`distillation_losses.soft_target_loss`).
"""

import keras
import tensorflow as tf

from albert_tf.distillation import distillation_losses as losses
from albert_tf.distillation.layer_map import parse_layer_map
from albert_tf.models.model_kinds import kind_of


class DistillationModel(keras.Model):
    """`student` learns from `teacher` (same kind) by the weights of `config` (a `DistillationConfig`)."""

    def __init__(self, student, teacher, config, **kwargs):
        # === Layers ===
        super().__init__(**kwargs)
        self.student, self.teacher = student, teacher
        self.config = config
        self.kind = kind_of(student).name
        teacher_config, student_config = teacher.encoder.config, student.encoder.config
        self.layer_pairs = parse_layer_map(config.layer_map, teacher_config.num_hidden_layers,
                                           student_config.num_hidden_layers) if config.uses_layers() else []
        self.uses_internals = config.uses_layers() or bool(config.embedding_weight)
        self.projection = None
        if (config.hidden_weight or config.embedding_weight) and \
                teacher_config.hidden_size != student_config.hidden_size:
            # TinyBERT's W_h: one learned map from the student's width to the teacher's, for every layer pair
            # and the embeddings (trained with the student, not exported)
            self.projection = keras.layers.Dense(teacher_config.hidden_size, name="hidden_projection")
            self.projection.build((None, student_config.hidden_size))

    def call(self, inputs, training=False):
        if not training:
            return self.student(inputs, training=False)
        if not self.uses_internals:  # the predictions alone: the models' plain forward passes
            student_outputs = self.student(inputs, training=True)
            teacher_outputs = tf.nest.map_structure(tf.stop_gradient, self.teacher(inputs, training=False))
            terms = self._prediction_terms(teacher_outputs, student_outputs, inputs)
            return {**student_outputs, "distillation_losses": terms}
        student_outputs, student_internals = self.student.internals(inputs, training=True)
        teacher_outputs, teacher_internals = tf.nest.map_structure(
            tf.stop_gradient, self.teacher.internals(inputs, training=False))
        mask = self.student.encoder_inputs(inputs)["input_mask"]
        terms = self._prediction_terms(teacher_outputs, student_outputs, inputs)
        terms.update(self._layer_terms(teacher_internals, student_internals, mask))
        return {**student_outputs, "distillation_losses": terms}

    def _prediction_terms(self, teacher, student, inputs):
        weight, temperature = self.config.soft_target_weight, self.config.temperature
        if not weight:
            return {}
        if self.kind == "pretrainer":  # general distillation: the masked tokens' predictions (DistilBERT)
            real = tf.cast(inputs["masked_lm_positions"] > 0, tf.int32)  # padded slots point at [CLS], 0
            loss = losses.soft_target_loss(teacher["mlm_logits"], student["mlm_logits"], temperature, mask=real)
        elif self.kind == "squad" and "start_logits" in teacher:  # SQuAD 1.1: start and end
            loss = 0.5 * (losses.soft_target_loss(teacher["start_logits"], student["start_logits"], temperature)
                          + losses.soft_target_loss(teacher["end_logits"], student["end_logits"], temperature))
        elif self.kind == "squad":
            # SQuAD 2.0 as its objective weighs it: the start, the end given the gold start (both heads see
            # start_positions in training), and half the answerability, a two-way softmax of (0, cls logit)
            def answerable(logits):
                return tf.stack([tf.zeros_like(logits), logits], -1)

            loss = (0.5 * (losses.soft_target_loss(teacher["start_log_probs"], student["start_log_probs"],
                                                   temperature)
                           + losses.soft_target_loss(teacher["end_log_probs"], student["end_log_probs"],
                                                     temperature))
                    + 0.5 * losses.soft_target_loss(answerable(teacher["cls_logits"]),
                                                    answerable(student["cls_logits"]), temperature))
        elif self.kind == "token_classifier":
            loss = losses.soft_target_loss(teacher["logits"], student["logits"], temperature,
                                           mask=inputs["input_mask"])
        elif self.kind == "classifier" and self.student.num_classes == 1:
            loss = losses.regression_distillation_loss(teacher["logits"], student["logits"])
        else:  # classifier, race
            loss = losses.soft_target_loss(teacher["logits"], student["logits"], temperature)
        return {"soft_target": weight * loss}

    def _layer_terms(self, teacher, student, mask):
        config, terms = self.config, {}

        def add(name, weight, value):
            terms[name] = terms.get(name, 0.0) + weight * value

        # layer 0 is the embeddings (the transformer's input), layer l the output of layer l
        t_states = [teacher["embedding_output"]] + list(teacher["hidden_states"])
        s_states = [student["embedding_output"]] + list(student["hidden_states"])
        if config.embedding_weight:
            add("embedding", config.embedding_weight,
                losses.hidden_state_loss(t_states[0], s_states[0], mask, self.projection))
        count = len(self.layer_pairs)
        for s_layer, t_layer in self.layer_pairs:
            if config.hidden_weight:
                add("hidden", config.hidden_weight / count,
                    losses.hidden_state_loss(t_states[t_layer], s_states[s_layer], mask, self.projection))
            if s_layer == 0 or t_layer == 0:  # the embeddings have no attention
                continue
            t_attention, s_attention = teacher["attention"][t_layer - 1], student["attention"][s_layer - 1]
            if config.attention_score_weight:
                add("attention_score", config.attention_score_weight / count, losses.attention_score_loss(
                    t_attention["attention_logits"], s_attention["attention_logits"], mask))
            if config.attention_kl_weight:
                add("attention_kl", config.attention_kl_weight / count, losses.attention_distribution_loss(
                    t_attention["attention_logits"], s_attention["attention_logits"], mask))
            if config.value_relation_weight:
                add("value_relation", config.value_relation_weight / count, losses.self_relation_loss(
                    t_attention["values"], s_attention["values"], mask, config.relation_heads))
            if config.query_key_relation_weight:
                for part in ("queries", "keys"):
                    add("query_key_relation", 0.5 * config.query_key_relation_weight / count,
                        losses.self_relation_loss(t_attention[part], s_attention[part], mask, config.relation_heads))
        return terms
