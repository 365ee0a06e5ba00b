"""Tokenizers: Python (`FullTokenizer`) and in-graph (`GraphTokenizer`) twins.

`GraphTokenizer` needs tensorflow-text and is imported on first use, so the
Python tokenizers stay light (no TensorFlow import).
"""

import importlib

from albert_tf.tokenization.full_tokenizer import FullTokenizer
from albert_tf.tokenization.sentencepiece_tokenizer import SentencePieceTokenizer
from albert_tf.tokenization.text_normalization import preprocess_text
from albert_tf.tokenization.wordpiece_tokenizer import WordPieceTokenizer, load_vocab

__all__ = [
    "FullTokenizer",
    "GraphTokenizer",
    "SentencePieceTokenizer",
    "WordPieceTokenizer",
    "load_vocab",
    "preprocess_text",
]


def __getattr__(name):
    if name == "GraphTokenizer":
        return importlib.import_module("albert_tf.tokenization.graph_tokenizer").GraphTokenizer
    raise AttributeError(f"module 'albert_tf.tokenization' has no attribute {name!r}")
