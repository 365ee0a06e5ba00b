"""The losses of knowledge distillation, each written once (TensorFlow; float32 whatever the model's dtype).

Prediction layer:
- `soft_target_loss`: Hinton et al.'s soft targets as DistilBERT and TinyBERT use them: KL(teacher || student)
  of the logits' softmax at temperature T, times T^2 (so that its gradients keep their size as T grows).
  The KL is the soft cross-entropy minus the teacher's entropy, a constant for the student: same gradients.
  Sequence-level logits ([batch, classes]; SQuAD's start or end logits [batch, seq] with padding at -1e30)
  go through `keras.distillation.LogitsDistillation`; per-token logits with a padding mask ([batch, seq,
  classes], NER) through the same formula here, because Keras' class has no mask (it would average the
  padding in).
- `regression_distillation_loss`: mean squared error between the teacher's and the student's scores.

Intermediate layers (all averaged over real tokens only: the batches are length-aware, so padding differs
from batch to batch and must not count):
- `hidden_state_loss`: TinyBERT's MSE between a teacher layer's output and a student layer's output mapped
  to the teacher's width by a learned projection (`projection`, any callable; identity when the widths
  match). Also the embedding-layer loss (`embedding_output`).
- `attention_score_loss`: TinyBERT's MSE between attention logits (scaled scores, before the softmax), per
  head; teacher and student need the same number of heads. Masked keys (logits at -10000) are left out as
  TinyBERT zeroes them.
- `attention_distribution_loss`: MiniLM's KL between the self-attention distributions, per head and query.
- `self_relation_loss`: MiniLM's value relation KL(softmax(V_t V_t^T / sqrt(d)) || the student's), and
  MiniLM v2's query-query and key-key relations: with `relation_heads`, both models' heads are concatenated
  and split again into that many relation heads, so that teacher and student may have different head counts.

`keras.distillation.FeatureDistillation` does not fit the intermediate losses: it takes layer outputs by
name from functional models (ours are subclassed around a functional encoder) and has no padding mask.
"""

import math

import keras
import tensorflow as tf



def _float(x):
    return tf.cast(x, tf.float32)


def _masked_mean(values, mask):
    """Mean of `values` [batch, seq, ...] over the positions where `mask` [batch, seq] is 1 (all other axes
    averaged first)."""
    values = _float(values)
    per_position = tf.reduce_mean(values, axis=list(range(2, values.shape.rank))) if values.shape.rank > 2 \
        else values
    mask = _float(mask)
    return tf.reduce_sum(per_position * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def _kl(teacher_logits, student_logits):
    """KL(softmax(teacher) || softmax(student)) over the last axis."""
    teacher_log_probs = tf.nn.log_softmax(_float(teacher_logits), -1)
    student_log_probs = tf.nn.log_softmax(_float(student_logits), -1)
    return tf.reduce_sum(tf.exp(teacher_log_probs) * (teacher_log_probs - student_log_probs), -1)


def soft_target_loss(teacher_logits, student_logits, temperature=1.0, mask=None):
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the examples (or, with `mask`
    [batch, seq] for per-token logits [batch, seq, classes], over the real tokens)."""
    if mask is None:
        # The KLDivergence instance, not the string "kl_divergence" (the default): the string resolves to a
        # function, which LogitsDistillation applies to the scaled logits as if they were probabilities
        # (Keras 3.15); only the instance takes its softmax-then-KL path.
        loss = keras.distillation.LogitsDistillation(temperature=temperature, loss=keras.losses.KLDivergence())
        return loss.compute_loss(_float(teacher_logits), _float(student_logits))
    kl = _kl(_float(teacher_logits) / temperature, _float(student_logits) / temperature)
    return temperature ** 2 * _masked_mean(kl, mask)


def regression_distillation_loss(teacher_scores, student_scores):
    """Mean squared error between the scores of a regression head (STS-B)."""
    return tf.reduce_mean(tf.square(_float(student_scores) - _float(teacher_scores)))


def hidden_state_loss(teacher_states, student_states, mask, projection=None):
    """MSE between teacher states [batch, seq, H_t] and the projected student states [batch, seq, H_s],
    averaged over the hidden units and the real tokens."""
    student_states = _float(student_states if projection is None else projection(student_states))
    if student_states.shape[-1] != teacher_states.shape[-1]:
        raise ValueError(f"hidden widths differ ({student_states.shape[-1]} student, {teacher_states.shape[-1]} "
                         "teacher): map the student's states with a learned projection")
    return _masked_mean(tf.square(student_states - _float(teacher_states)), mask)


def _per_query(values, mask):
    """[batch, heads, seq (queries), ...] -> mean over heads and the trailing axes, per query: [batch, seq]."""
    axes = [1] + list(range(3, values.shape.rank))
    return tf.reduce_mean(values, axis=axes)


def attention_score_loss(teacher_logits, student_logits, mask):
    """TinyBERT's attention loss: MSE between attention logits [batch, heads, seq, seq] over the real
    queries and keys, averaged over heads."""
    if teacher_logits.shape[1] != student_logits.shape[1]:
        raise ValueError(f"attention-score distillation needs as many heads in the student as in the teacher "
                         f"({student_logits.shape[1]} and {teacher_logits.shape[1]}); use the MiniLM losses "
                         "(attention distributions and relations with relation heads) instead")
    teacher_logits, student_logits = _float(teacher_logits), _float(student_logits)
    keys = _float(mask)[:, None, None, :]  # real keys; TinyBERT zeroes the masked ones in both
    squared = tf.square(student_logits - teacher_logits) * keys
    per_query = tf.reduce_sum(squared, -1) / tf.maximum(tf.reduce_sum(keys, -1), 1.0)  # [batch, heads, seq]
    return _masked_mean(tf.reduce_mean(per_query, 1), mask)


def attention_distribution_loss(teacher_logits, student_logits, mask):
    """MiniLM's attention transfer: KL between the attention distributions (the softmax of the logits over
    the keys; masked keys carry no probability in either), averaged over heads and the real queries. The
    head counts must match (MiniLM v2 relations lift that)."""
    if teacher_logits.shape[1] != student_logits.shape[1]:
        raise ValueError(f"attention distributions need as many heads in the student as in the teacher "
                         f"({student_logits.shape[1]} and {teacher_logits.shape[1]}); use self-relations with "
                         "relation_heads instead")
    return _masked_mean(_per_query(_kl(teacher_logits, student_logits), mask), mask)


def _relation_heads(vectors, relation_heads):
    """[batch, heads, seq, d] -> [batch, relation_heads, seq, heads * d / relation_heads]."""
    vectors = _float(vectors)
    if relation_heads is None:
        return vectors
    shape = tf.shape(vectors)
    width = vectors.shape[1] * vectors.shape[3]
    if width % relation_heads:
        raise ValueError(f"relation_heads={relation_heads} does not divide the width {width}")
    joined = tf.reshape(tf.transpose(vectors, [0, 2, 1, 3]), [shape[0], shape[2], width])
    split = tf.reshape(joined, [shape[0], shape[2], relation_heads, width // relation_heads])
    return tf.transpose(split, [0, 2, 1, 3])


def self_relation_logits(vectors, mask, relation_heads=None):
    """softmax logits of MiniLM's self-relation: (V V^T) / sqrt(d) per (relation) head, masked keys at -10000,
    as the attention masks them."""
    vectors = _relation_heads(vectors, relation_heads)
    logits = tf.matmul(vectors, vectors, transpose_b=True) / math.sqrt(vectors.shape[-1])
    return logits + (1.0 - _float(mask))[:, None, None, :] * -10000.0


def self_relation_loss(teacher_vectors, student_vectors, mask, relation_heads=None):
    """MiniLM's relation transfer: KL between the self-relation distributions of teacher and student values
    (or queries, keys) [batch, heads, seq, d], averaged over (relation) heads and the real queries.
    Without `relation_heads` the head counts must match; with it, each model's heads are regrouped into
    `relation_heads` heads (MiniLM v2), so widths and head counts may differ."""
    if relation_heads is None and teacher_vectors.shape[1] != student_vectors.shape[1]:
        raise ValueError(f"self-relations need as many heads in the student as in the teacher "
                         f"({student_vectors.shape[1]} and {teacher_vectors.shape[1]}); set relation_heads")
    teacher = self_relation_logits(teacher_vectors, mask, relation_heads)
    student = self_relation_logits(student_vectors, mask, relation_heads)
    return _masked_mean(_per_query(_kl(teacher, student), mask), mask)
