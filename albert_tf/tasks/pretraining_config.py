"""The settings of the pretraining task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.errors import ConfigError


@dataclasses.dataclass
class PretrainingConfig:
    """The pretraining data (field names are the flag names)."""

    input_file: Optional[str] = None  # comma-separated paths or globs of training TFRecords
    eval_file: Optional[str] = None  # default: input_file
    max_seq_length: int = 512
    max_predictions_per_seq: int = 20
    dynamic_masking: bool = False  # mask anew every epoch in the input pipeline (needs a vocabulary)
    spm_model_file: Optional[str] = None
    vocab_file: Optional[str] = None
    shuffle_buffer_size: int = 10000
    corpus_file: Optional[str] = None  # prepare the data from this text (one sentence a line)
    eval_documents: int = 3
    dupe_factor: int = 5

    def validate(self):
        problems = []
        if not (self.input_file or self.corpus_file):
            problems.append("input_file is not set: the pretraining TFRecords (or corpus_file, a text to "
                            "prepare them from)")
        if self.dynamic_masking and not (self.spm_model_file or self.vocab_file or self.corpus_file):
            problems.append("dynamic_masking needs spm_model_file or vocab_file (the special token ids)")
        for name in ("max_seq_length", "max_predictions_per_seq", "shuffle_buffer_size", "eval_documents",
                     "dupe_factor"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: expected >= 1")
        ConfigError.check(problems, "pretraining data settings")
        return self
