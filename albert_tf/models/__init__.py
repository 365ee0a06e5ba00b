"""ALBERT networks built from `albert_tf.layers`, and the table of model kinds (`model_kinds.KINDS`).

The names below are imported on first use, so that the TensorFlow-free table
of kinds (`model_kinds`, read by the commands before TensorFlow starts) stays light.
"""

from albert_tf.lazy_exports import lazy_exports

_EXPORTS = {
    "AlbertClassifier": "albert_tf.models.albert_classifier",
    "AlbertEncoder": "albert_tf.models.albert_encoder",
    "AlbertMultipleChoice": "albert_tf.models.albert_multiple_choice",
    "AlbertPretrainer": "albert_tf.models.albert_pretrainer",
    "AlbertQuestionAnswerer": "albert_tf.models.albert_question_answerer",
    "AlbertTokenClassifier": "albert_tf.models.albert_token_classifier",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("albert_tf.models", _EXPORTS)
