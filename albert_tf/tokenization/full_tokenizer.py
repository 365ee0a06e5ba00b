"""`FullTokenizer`: the original ALBERT tokenizer API over SentencePiece or WordPiece."""

from albert_tf.errors import ConfigError
from albert_tf.tokenization.sentencepiece_tokenizer import SentencePieceTokenizer
from albert_tf.tokenization.wordpiece_tokenizer import WordPieceTokenizer


class FullTokenizer:
    """Drop-in for `tokenization.FullTokenizer` of google-research/albert.

    With `spm_model_file` it tokenizes with SentencePiece (the English
    models); otherwise with BERT's basic + WordPiece tokenizer over
    `vocab_file` (the Chinese models). Unlike the original, `tokenize`
    applies ALBERT's normalisation itself, so callers no longer need to call
    `preprocess_text` first (doing so anyway gives the same result).

    Args:
        vocab_file: WordPiece `vocab.txt`; ignored when `spm_model_file` is set.
        do_lower_case: lower-case (and strip accents) before tokenizing.
        spm_model_file: SentencePiece `.model` file.

    Example:
    >>> tokenizer = FullTokenizer(spm_model_file="30k-clean.model")  # doctest: +SKIP
    >>> tokens = tokenizer.tokenize("Hello world")  # doctest: +SKIP
    >>> tokenizer.convert_tokens_to_ids(tokens)  # doctest: +SKIP
    [10975, 126]
    """

    def __init__(self, vocab_file=None, do_lower_case=True, spm_model_file=None):
        if not spm_model_file and not vocab_file:
            raise ValueError("FullTokenizer needs spm_model_file or vocab_file")
        self.vocab_file = vocab_file
        self.spm_model_file = spm_model_file
        self.do_lower_case = do_lower_case
        if spm_model_file:
            self.backend = SentencePieceTokenizer(spm_model_file, do_lower_case=do_lower_case)
            self.sp_model = self.backend.sp_model
        else:
            self.backend = WordPieceTokenizer(vocab_file, do_lower_case=do_lower_case)
            self.sp_model = None
        self.vocab = self.backend.vocab
        self.inv_vocab = {i: t for t, i in self.vocab.items()}

    @property
    def vocab_size(self):
        return len(self.vocab)

    def tokenize(self, text):
        """Normalised tokens (pieces) of `text`."""
        return self.backend.tokenize(text)

    def encode(self, text):
        """Token ids of `text`: `convert_tokens_to_ids(tokenize(text))`."""
        return self.backend.convert_tokens_to_ids(self.backend.tokenize(text))

    def convert_tokens_to_ids(self, tokens):
        return self.backend.convert_tokens_to_ids(tokens)

    def convert_ids_to_tokens(self, ids):
        return self.backend.convert_ids_to_tokens(ids)

    def special_token_ids(self):
        """{"[CLS]": id, "[SEP]": id, "[MASK]": id}; ValueError naming the file if absent."""
        return self.backend.special_token_ids()

    def word_start_mask(self):
        """Per vocabulary id: does the token start a whole word (for masking)?"""
        return self.backend.word_start_mask()


def check_vocabulary(tokenizer, albert_config):
    """The tokenizer's [CLS]/[SEP]/[MASK] are real tokens and its size is the model's `vocab_size`."""
    tokenizer.special_token_ids()  # ValueError naming the file otherwise (they would map to <pad>/<unk>)
    if tokenizer.vocab_size != albert_config.vocab_size:
        raise ConfigError(
            f"{tokenizer.spm_model_file or tokenizer.vocab_file} has {tokenizer.vocab_size} tokens but the model "
            f"config says vocab_size={albert_config.vocab_size}: it is not the vocabulary the model (and its data) "
            "was made with; pass that spm_model_file/vocab_file")
