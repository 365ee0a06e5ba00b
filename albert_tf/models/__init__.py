"""ALBERT networks built from `albert_tf.layers`."""

from albert_tf.models.albert_encoder import AlbertEncoder
from albert_tf.models.albert_pretrainer import AlbertPretrainer
