"""ALBERT networks built from `albert_tf.layers`."""

from albert_tf.models.albert_classifier import AlbertClassifier
from albert_tf.models.albert_encoder import AlbertEncoder
from albert_tf.models.albert_multiple_choice import AlbertMultipleChoice
from albert_tf.models.albert_pretrainer import AlbertPretrainer
from albert_tf.models.albert_question_answerer import AlbertQuestionAnswerer
from albert_tf.models.albert_token_classifier import AlbertTokenClassifier

__all__ = [
    "AlbertClassifier",
    "AlbertEncoder",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertQuestionAnswerer",
    "AlbertTokenClassifier",
]
