"""BERT's basic + WordPiece tokenizer in Python (albert_zh and Google's zh models)."""

import os
import unicodedata

import numpy as np

from albert_tf.tokenization.text_normalization import (
    is_bert_control,
    is_bert_punctuation,
    is_bert_whitespace,
    is_cjk_character,
)

REQUIRED_SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[MASK]")
SUFFIX_INDICATOR = "##"


def load_vocab(vocab_file):
    """Token -> id, as the original `load_vocab`: the first word of line N is id N - 1.

    Raises:
        ValueError: the file is empty, or a token repeats (naming the lines): ids would no longer be line
            numbers, and every id after the repeat would point at another embedding row.
    """
    if not os.path.isfile(vocab_file):
        raise FileNotFoundError(f"vocab file not found: {vocab_file}")
    vocab, repeats = {}, []
    with open(vocab_file, encoding="utf-8") as reader:
        for number, line in enumerate(reader, 1):
            token = line.strip().split()[0] if line.strip() else " "
            if token in vocab:
                repeats.append(f"line {number} {token!r} repeats line {vocab[token] + 1}")
                continue
            vocab[token] = number - 1
    if not vocab:
        raise ValueError(f"vocab file {vocab_file} is empty")
    if repeats:
        raise ValueError(f"{vocab_file}: {len(repeats)} repeated token(s) ({'; '.join(repeats[:5])}"
                         f"{'; ...' if len(repeats) > 5 else ''}): a vocab.txt has one token a line, each once, the "
                         "line number giving its id; remove the repeated lines or use the model's own vocab.txt")
    return vocab


class WordPieceTokenizer:
    """BERT's `BasicTokenizer` followed by greedy longest-match WordPiece.

    The basic step drops NUL, U+FFFD and control characters, maps whitespace to
    spaces, puts spaces around CJK ideographs (so Chinese is tokenized per
    character), lower-cases and strips accents (NFD, drop Mn) when
    `do_lower_case`, and splits off punctuation. WordPiece then splits each
    word into the longest vocabulary pieces, continuation pieces carrying
    "##"; a word that cannot be split, or is longer than
    `max_input_chars_per_word` characters, becomes "[UNK]".

    Args:
        vocab_file: a `vocab.txt` with one token per line.
        do_lower_case: lower-case and strip accents.
        max_input_chars_per_word: longer words become "[UNK]" (BERT: 200).

    Example:
    >>> tokenizer = WordPieceTokenizer("vocab.txt")  # doctest: +SKIP
    >>> tokenizer.tokenize("ALBERT模型，unaffable")  # doctest: +SKIP
    ['al', '##bert', '模', '型', '，', 'una', '##ff', '##able']
    """

    def __init__(self, vocab_file, do_lower_case=True, max_input_chars_per_word=200,
                 unk_token="[UNK]"):
        self.vocab_file = vocab_file
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self.unk_token = unk_token
        self.vocab = load_vocab(vocab_file)
        if unk_token not in self.vocab:
            raise ValueError(f"vocab file {vocab_file} has no {unk_token} token")
        self.inv_vocab = {i: t for t, i in self.vocab.items()}

    @property
    def vocab_size(self):
        return len(self.vocab)

    def basic_tokenize(self, text):
        """Words after cleaning, CJK splitting, casing and punctuation splitting."""
        chars = []
        for char in text:
            if char == "\x00" or char == "\ufffd" or is_bert_control(char):
                continue
            if is_bert_whitespace(char):
                chars.append(" ")
            elif is_cjk_character(char):
                chars.extend((" ", char, " "))
            else:
                chars.append(char)
        words = []
        for word in "".join(chars).split():
            if self.do_lower_case:
                word = unicodedata.normalize("NFD", word.lower())
                word = "".join(c for c in word if unicodedata.category(c) != "Mn")
            words.extend(self._split_on_punctuation(word))
        return [w for word in words for w in word.split()]

    @staticmethod
    def _split_on_punctuation(word):
        pieces = []
        start_new = True
        for char in word:
            if is_bert_punctuation(char):
                pieces.append(char)
                start_new = True
            else:
                if start_new:
                    pieces.append("")
                start_new = False
                pieces[-1] += char
        return pieces

    def wordpiece_tokenize(self, word):
        """WordPiece pieces of one basic-tokenized word."""
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces = []
        start = 0
        while start < len(word):
            end = len(word)
            piece = None
            while start < end:
                candidate = word[start:end]
                if start > 0:
                    candidate = SUFFIX_INDICATOR + candidate
                if candidate in self.vocab:
                    piece = candidate
                    break
                end -= 1
            if piece is None:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text):
        return [p for word in self.basic_tokenize(text) for p in self.wordpiece_tokenize(word)]

    def normalize(self, text):
        """Only stripping: the basic tokenizer does all normalisation itself."""
        return text.strip()

    def encode_batch(self, texts, num_threads=1):
        """Token ids of many texts (one list per text); `num_threads` is unused."""
        vocab = self.vocab
        return [[vocab[t] for t in self.tokenize(text)] for text in texts]

    def convert_tokens_to_ids(self, tokens):
        return [self.vocab[t] for t in tokens]

    def convert_ids_to_tokens(self, ids):
        return [self.inv_vocab[int(i)] for i in ids]

    def special_token_ids(self):
        """Ids of [CLS], [SEP] and [MASK]; a clear error if the vocab lacks them."""
        missing = [t for t in REQUIRED_SPECIAL_TOKENS if t not in self.vocab]
        if missing:
            raise ValueError(f"vocab file {self.vocab_file} has no {', '.join(missing)} token(s)")
        return {t: self.vocab[t] for t in REQUIRED_SPECIAL_TOKENS}

    def word_start_mask(self):
        """Boolean array over the vocabulary: is this token not a "##" continuation?"""
        mask = np.ones(self.vocab_size, dtype=bool)
        for token, i in self.vocab.items():
            if token.startswith(SUFFIX_INDICATOR):
                mask[i] = False
        return mask
