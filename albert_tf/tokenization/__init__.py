"""Tokenizers: Python (`FullTokenizer`) and in-graph (`GraphTokenizer`) twins.

The names below are imported on first use (like every package of albert_tf), so that the Python
tokenizers stay light: `GraphTokenizer` needs TensorFlow and tensorflow-text, the others neither.
"""

from albert_tf.lazy_exports import lazy_exports

_EXPORTS = {
    "FullTokenizer": "albert_tf.tokenization.full_tokenizer",
    "GraphTokenizer": "albert_tf.tokenization.graph_tokenizer",
    "SentencePieceTokenizer": "albert_tf.tokenization.sentencepiece_tokenizer",
    "WordPieceTokenizer": "albert_tf.tokenization.wordpiece_tokenizer",
    "load_vocab": "albert_tf.tokenization.wordpiece_tokenizer",
    "preprocess_text": "albert_tf.tokenization.text_normalization",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("albert_tf.tokenization", _EXPORTS)
