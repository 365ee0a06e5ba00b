"""ALBERT's SentencePiece tokenizer in Python."""

import os

import numpy as np
import sentencepiece

from albert_tf.tokenization.text_normalization import SPIECE_UNDERLINE, preprocess_text

# The punctuation set of the original whole-word masking
# (google-research/albert create_pretraining_data.py, `_is_start_piece_sp`).
# It has no apostrophe, "<", "=" or ">"; its "€" and "£" entries were bytes
# objects that never match a str piece, so they are left out here too.
_START_PUNCTUATION = frozenset('!"#$%&()*+,-./:;?@[\\]^_`{|}~')
_ENGLISH_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

REQUIRED_SPECIAL_PIECES = ("[CLS]", "[SEP]", "[MASK]")


def _has_digit_comma(text):
    """Whether a digit is directly followed by a comma (the only case the comma rule changes)."""
    position = text.find(",", 1)
    while position > 0:
        if text[position - 1].isdigit():
            return True
        position = text.find(",", position + 1)
    return False


def is_sentencepiece_word_start(piece):
    """Whether `piece` starts a word for whole-word masking (original rule).

    A piece starts a word when it begins with "▁" or "<", is a single
    punctuation mark, or holds any character that is neither an English letter
    nor punctuation (digits and non-Latin scripts count as whole words).
    """
    if piece.startswith(SPIECE_UNDERLINE) or piece.startswith("<") or piece in _START_PUNCTUATION:
        return True
    return not all(c.lower() in _ENGLISH_LETTERS or c in _START_PUNCTUATION for c in piece)


class SentencePieceTokenizer:
    """SentencePiece tokenization with ALBERT's normalisation and comma rule.

    `tokenize` normalises the text with `preprocess_text` first (whitespace,
    NFKD, accents, optional lower-casing), then encodes it with the model and
    re-splits pieces such as "▁9," that end in a comma after a digit, so the
    comma becomes its own piece ("▁9", ","), as `encode_pieces` in the
    original tokenization.py does.

    Args:
        model_file: path of a SentencePiece `.model` file.
        do_lower_case: lower-case the text before encoding.

    Example:
    >>> tokenizer = SentencePieceTokenizer("30k-clean.model")  # doctest: +SKIP
    >>> tokenizer.tokenize("Hello, 1,000 WORLDS!")  # doctest: +SKIP
    ['▁hello', ',', '▁1', ',', '000', '▁worlds', '!']
    """

    def __init__(self, model_file, do_lower_case=True):
        if not os.path.isfile(model_file):
            raise FileNotFoundError(f"SentencePiece model not found: {model_file}")
        self.model_file = model_file
        self.do_lower_case = do_lower_case
        self.sp_model = sentencepiece.SentencePieceProcessor()
        try:
            self.sp_model.Load(model_file)
        except (OSError, RuntimeError) as error:
            raise ValueError(
                f"{model_file} is not a SentencePiece model: {error}") from error
        self.vocab = {self.sp_model.IdToPiece(i): i for i in range(self.sp_model.GetPieceSize())}
        self.unk_id = self.sp_model.unk_id()

    @property
    def vocab_size(self):
        return len(self.vocab)

    def normalize(self, text):
        return preprocess_text(text, lower=self.do_lower_case)

    def tokenize(self, text):
        """Normalises `text` and returns its pieces."""
        return self.encode_pieces(self.normalize(text))

    def encode_pieces(self, text):
        """Pieces of already-normalised `text`, with the digit-comma rule."""
        return self._split_digit_commas(self.sp_model.EncodeAsPieces(text))

    def encode_batch(self, texts, num_threads=1):
        """Token ids of many already-normalised texts (one list per text).

        Ids come straight from the model, except for texts where a digit is
        followed by a comma: those go through the pieces and the comma rule.
        """
        texts = list(texts)
        all_ids = self.sp_model.Encode(texts, out_type=int, num_threads=num_threads)
        for i, text in enumerate(texts):
            if _has_digit_comma(text):
                all_ids[i] = self.convert_tokens_to_ids(self.encode_pieces(text))
        return all_ids

    def _split_digit_commas(self, pieces):
        new_pieces = []
        for piece in pieces:
            if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
                sub_pieces = self.sp_model.EncodeAsPieces(
                    piece[:-1].replace(SPIECE_UNDERLINE, ""))
                if piece[0] != SPIECE_UNDERLINE and sub_pieces and sub_pieces[0][0] == SPIECE_UNDERLINE:
                    if len(sub_pieces[0]) == 1:
                        sub_pieces = sub_pieces[1:]
                    else:
                        sub_pieces[0] = sub_pieces[0][1:]
                sub_pieces.append(piece[-1])
                new_pieces.extend(sub_pieces)
            else:
                new_pieces.append(piece)
        return new_pieces

    def convert_tokens_to_ids(self, tokens):
        return [self.vocab.get(t, self.unk_id) for t in tokens]

    def convert_ids_to_tokens(self, ids):
        return [self.sp_model.IdToPiece(int(i)) for i in ids]

    def special_token_ids(self):
        """Ids of [CLS], [SEP] and [MASK]; a clear error if the model lacks them."""
        missing = [p for p in REQUIRED_SPECIAL_PIECES if p not in self.vocab]
        if missing:
            raise ValueError(
                f"SentencePiece model {self.model_file} has no {', '.join(missing)} piece(s). "
                "ALBERT needs [CLS], [SEP] and [MASK] as control symbols; train one with "
                "tools/train_sentencepiece.py (ids 0-4: <pad> <unk> [CLS] [SEP] [MASK]).")
        return {p: self.vocab[p] for p in REQUIRED_SPECIAL_PIECES}

    def word_start_mask(self):
        """Boolean array over the vocabulary: does this piece start a word?"""
        return np.array(
            [is_sentencepiece_word_start(self.sp_model.IdToPiece(i)) for i in range(self.vocab_size)],
            dtype=bool)
