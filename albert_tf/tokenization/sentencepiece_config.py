"""The settings of training a SentencePiece model (no TensorFlow; field names are the flag names).

The defaults are the ALBERT release's spm_train settings (its README), as `train_sentencepiece` applies them.
"""

import dataclasses
import os
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError


@dataclasses.dataclass
class SentencePieceConfig:
    """What albert-train-sentencepiece trains; `train_sentencepiece` takes the same settings as arguments."""

    input: Optional[str] = setting(None, "Text file(s): comma-separated paths or globs.")
    model_prefix: Optional[str] = setting(None, "Writes PREFIX.model and PREFIX.vocab.")
    vocab_size: int = setting(30000, "Vocabulary size (the release: 30000).")
    do_lower_case: bool = setting(True, "Lower-case the corpus (uncased model).")
    character_coverage: float = setting(0.99995, "Share of characters the vocabulary must cover.")
    input_sentence_size: int = setting(10_000_000, "Most sentences sampled for training.")
    hard_vocab_limit: bool = setting(True, "Fail if the corpus cannot fill the vocabulary (off: allow fewer).")
    random_seed: int = setting(12345, "Seed of sentence sampling and shuffling.")
    num_threads: int = setting(os.cpu_count() or 1, "Trainer threads.")
    overwrite: bool = setting(False, "Replace PREFIX.model/.vocab if they exist (without it: an error).")

    def validate(self):
        problems = [f"{name} is not set" for name in ("input", "model_prefix") if not getattr(self, name)]
        if self.vocab_size < 6:
            problems.append(f"vocab_size={self.vocab_size}: expected at least 6 (the 5 special pieces and one more)")
        ConfigError.check(problems, "SentencePiece settings")
        return self

    def trainer_settings(self):
        """The keyword arguments of `train_sentencepiece` besides the files."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                if field.name not in ("input", "model_prefix")}
