"""The vocabulary settings several configs share (no TensorFlow; field names are the flag names)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import setting


@dataclasses.dataclass
class VocabularyConfig:
    """Exactly one vocabulary: `spm_model_file` (English ALBERT) or `vocab_file` (Chinese WordPiece;
    used when no SentencePiece model is given)."""

    spm_model_file: Optional[str] = setting(None, "SentencePiece model (English ALBERT).")
    vocab_file: Optional[str] = setting(None, "WordPiece vocab.txt (Chinese ALBERT); used without "
                                              "--spm_model_file.")
    do_lower_case: bool = setting(True, "Lower-case the text (as the model was pretrained).")

    def vocabulary(self):
        """Keyword arguments of `FullTokenizer`, `GraphTokenizer` and the serving modules."""
        return dict(vocab_file=self.vocab_file, spm_model_file=self.spm_model_file,
                    do_lower_case=self.do_lower_case)

    def vocabulary_problems(self):
        if self.spm_model_file or self.vocab_file:
            return []
        return ["spm_model_file/vocab_file: neither is set; set spm_model_file (English SentencePiece) or "
                "vocab_file (Chinese WordPiece vocab.txt)"]
