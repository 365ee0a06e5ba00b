"""Keras layers of ALBERT."""

from albert_tf.layers.albert_embedding import AlbertEmbedding
from albert_tf.layers.layer_norm import LayerNorm
from albert_tf.layers.masked_lm_head import MaskedLMHead
from albert_tf.layers.sentence_order_head import SentenceOrderHead
from albert_tf.layers.transformer_block import TransformerBlock

__all__ = [
    "AlbertEmbedding",
    "LayerNorm",
    "MaskedLMHead",
    "SentenceOrderHead",
    "TransformerBlock",
]
