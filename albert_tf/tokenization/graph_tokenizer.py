"""`GraphTokenizer`: in-graph twin of `FullTokenizer` built on tensorflow-text."""

import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.tokenization.full_tokenizer import FullTokenizer
from albert_tf.tokenization.text_normalization import (
    CJK_RANGES,
    SPIECE_UNDERLINE,
    is_bert_control,
    is_bert_whitespace,
    is_combining,
    is_nonspacing_mark,
    is_python_digit,
    is_python_space,
    regex_class,
)
from albert_tf.tokenization.wordpiece_tokenizer import SUFFIX_INDICATOR


def _removed_by_bert_cleaning(char):
    return char in ("\x00", "\ufffd") or is_bert_control(char)


def _bert_punctuation_class():
    # BERT's punctuation, spelled as ASCII ranges plus the Unicode P* categories.
    return r"[\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}\p{P}]"


class GraphTokenizer(tf.Module):
    """Text to token ids inside a TensorFlow graph, identical to `FullTokenizer`.

    Every normalisation step of the Python tokenizers is spelled with
    TensorFlow / tensorflow-text string ops (regex classes are generated from
    the same Python character predicates), so tf.data pipelines and exported
    SavedModels produce exactly the ids of `FullTokenizer.encode`.

    Ops used (all available to TF Serving builds that link tensorflow-text):
    StaticRegexReplace, StringLower, NormalizeUTF8 (tf-text),
    SentencepieceOp / SentencepieceTokenizeOp, FastWordpieceTokenizeWithOffsets
    and RegexSplitWithOffsets (tf-text).

    Args:
        vocab_file: WordPiece vocab; ignored when `spm_model_file` is set.
        do_lower_case: lower-case (and strip accents) as the Python tokenizer.
        spm_model_file: SentencePiece `.model` file.

    Example:
    >>> tokenizer = GraphTokenizer(spm_model_file="30k-clean.model")  # doctest: +SKIP
    >>> tokenizer.tokenize(tf.constant(["Hello world", "9,9"]))  # doctest: +SKIP
    <tf.RaggedTensor [[10975, 126], [...]]>
    """

    def __init__(self, vocab_file=None, do_lower_case=True, spm_model_file=None, name=None):
        super().__init__(name=name)
        python_tokenizer = FullTokenizer(vocab_file, do_lower_case, spm_model_file)
        self.do_lower_case = do_lower_case
        self.vocab_size = python_tokenizer.vocab_size
        self.spm_model_file = spm_model_file
        self.vocab_file = None if spm_model_file else vocab_file
        if spm_model_file:
            with open(spm_model_file, "rb") as f:
                self._sentencepiece = tf_text.SentencepieceTokenizer(model=f.read(), out_type=tf.string)
            self._space_class = regex_class(is_python_space)
            self._combining_class = regex_class(is_combining)
            self._digit_class = regex_class(is_python_digit)
        else:
            vocab = python_tokenizer.vocab
            tokens = sorted(vocab, key=vocab.get)
            self._max_chars_per_word = python_tokenizer.backend.max_input_chars_per_word
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=tokens, suffix_indicator=SUFFIX_INDICATOR,
                # Bytes limit above any 200-character word; the character limit
                # is applied separately, as the Python tokenizer counts chars.
                max_bytes_per_word=4 * self._max_chars_per_word + 4,
                token_out_type=tf.int32, unknown_token=python_tokenizer.backend.unk_token,
                no_pretokenization=True)
            self._removed_class = regex_class(_removed_by_bert_cleaning)
            self._bert_space_class = regex_class(is_bert_whitespace)
            self._space_class = regex_class(is_python_space)
            self._mark_class = regex_class(is_nonspacing_mark)
            self._cjk_class = "[" + "".join(
                f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in CJK_RANGES) + "]"

    def tokenize(self, texts):
        """Token ids, a `tf.RaggedTensor` of int32 `[batch, (tokens)]`, of a 1-D string tensor."""
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if self.spm_model_file:
            return self._sentencepiece_ids(texts)
        return self._wordpiece_ids(texts)

    # SentencePiece path -------------------------------------------------

    def _albert_normalize(self, texts):
        space = self._space_class
        texts = tf.strings.regex_replace(texts, f"^{space}+|{space}+$", "")
        texts = tf.strings.regex_replace(texts, f"{space}+", " ")
        texts = tf_text.normalize_utf8(texts, "NFKD")
        texts = tf.strings.regex_replace(texts, self._combining_class, "")
        if self.do_lower_case:
            texts = tf.strings.lower(texts, encoding="utf-8")
        return texts

    def _sentencepiece_ids(self, texts):
        pieces = self._sentencepiece.tokenize(self._albert_normalize(texts))
        pieces = self._split_digit_commas(pieces)
        return tf.cast(self._sentencepiece.string_to_id(pieces), tf.int32)

    def _split_digit_commas(self, pieces):
        """ALBERT's rule: "▁9," -> "▁9", "," (re-encoding the piece without the comma)."""
        flat = pieces.flat_values
        needs_split = tf.strings.regex_full_match(flat, f".*{self._digit_class},")
        split_index = tf.cast(tf.where(needs_split)[:, 0], tf.int32)
        keep_index = tf.cast(tf.where(~needs_split)[:, 0], tf.int32)
        to_split = tf.gather(flat, split_index)
        stem = tf.strings.regex_replace(tf.strings.regex_replace(to_split, ",$", ""), SPIECE_UNDERLINE, "")
        sub = self._sentencepiece.tokenize(stem)
        sub_values = sub.flat_values
        sub_rows = tf.cast(sub.value_rowids(), tf.int32)
        # A piece without "▁" re-encodes with a leading "▁" that must go again
        # (and a bare "▁" first piece is dropped).
        is_first = tf.range(tf.shape(sub_values)[0], dtype=tf.int64) == tf.gather(
            sub.row_splits, sub.value_rowids())
        piece_starts_word = tf.strings.regex_full_match(to_split, f"{SPIECE_UNDERLINE}.*")
        strip = (is_first & ~tf.gather(piece_starts_word, sub_rows)
                 & tf.strings.regex_full_match(sub_values, f"{SPIECE_UNDERLINE}.*"))
        stripped = tf.strings.regex_replace(sub_values, f"^{SPIECE_UNDERLINE}", "")
        sub_values = tf.where(strip, stripped, sub_values)
        keep_sub = ~(strip & tf.equal(stripped, ""))
        # Stitch kept pieces, re-encoded pieces and commas back in order: a
        # stable sort by source position keeps each group's internal order.
        values = tf.concat([tf.gather(flat, keep_index), tf.boolean_mask(sub_values, keep_sub),
                            tf.fill(tf.shape(split_index), ",")], axis=0)
        rows = tf.concat([keep_index, tf.gather(split_index, tf.boolean_mask(sub_rows, keep_sub)),
                          split_index], axis=0)
        order = tf.argsort(rows, stable=True)
        n = tf.shape(flat)[0]
        counts = tf.math.bincount(rows, minlength=n, maxlength=n, dtype=tf.int64)
        new_row_lengths = tf.math.unsorted_segment_sum(counts, pieces.value_rowids(), pieces.nrows())
        return tf.RaggedTensor.from_row_lengths(tf.gather(values, order), new_row_lengths)

    # WordPiece path -----------------------------------------------------

    def _wordpiece_ids(self, texts):
        texts = tf.strings.regex_replace(texts, self._removed_class, "")
        texts = tf.strings.regex_replace(texts, self._bert_space_class, " ")
        texts = tf.strings.regex_replace(texts, f"({self._cjk_class})", r" \1 ")
        if self.do_lower_case:
            texts = tf.strings.lower(texts, encoding="utf-8")
            texts = tf_text.normalize_utf8(texts, "NFD")
            texts = tf.strings.regex_replace(texts, self._mark_class, "")
        punctuation = _bert_punctuation_class()
        words = tf_text.regex_split(
            texts, delim_regex_pattern=f"{self._space_class}+|{punctuation}",
            keep_delim_regex_pattern=punctuation)
        flat_words = words.flat_values
        too_long = tf.strings.length(flat_words, unit="UTF8_CHAR") > self._max_chars_per_word
        # Words longer than max_chars characters are one [UNK] in the Python
        # tokenizer; "[UNK]" is a vocabulary entry, so it maps to that one id.
        pieces = self._wordpiece.tokenize(tf.where(too_long, "[UNK]", flat_words))
        return tf.RaggedTensor.from_row_splits(pieces.values, tf.gather(pieces.row_splits, words.row_splits))
