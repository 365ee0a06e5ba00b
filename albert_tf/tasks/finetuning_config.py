"""Settings every fine-tuning task has (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional


@dataclasses.dataclass
class FinetuningTaskConfig:
    """Settings every fine-tuning task has (field names are the flag names).

    Exactly one vocabulary: `spm_model_file` (English ALBERT) or
    `vocab_file` (Chinese WordPiece; used when no SentencePiece model is given).
    """

    spm_model_file: Optional[str] = None
    vocab_file: Optional[str] = None
    do_lower_case: bool = True
    max_seq_length: int = 512
    length_aware_batching: bool = True
    dropout_rate: float = 0.1

    def vocabulary(self):
        """Keyword arguments of `FullTokenizer` and the serving modules."""
        return dict(vocab_file=self.vocab_file, spm_model_file=self.spm_model_file,
                    do_lower_case=self.do_lower_case)

    def problems(self):
        """Messages for settings that cannot work (the task's `validate` raises them together)."""
        problems = []
        if not (self.spm_model_file or self.vocab_file):
            problems.append("spm_model_file/vocab_file: neither is set; set spm_model_file (English "
                            "SentencePiece) or vocab_file (Chinese WordPiece vocab.txt)")
        if self.max_seq_length < 3:
            problems.append(f"max_seq_length={self.max_seq_length}: expected >= 3 ([CLS] x [SEP])")
        if not 0 <= self.dropout_rate < 1:
            problems.append(f"dropout_rate={self.dropout_rate}: expected 0 <= rate < 1")
        return problems
