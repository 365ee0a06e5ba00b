"""Settings every fine-tuning task has (no TensorFlow: the command lines read it before it starts)."""

import dataclasses

from albert_tf.config_fields import MAX_SEQ_LENGTH, SequenceSettings, setting
from albert_tf.tokenization.vocabulary_config import VocabularyConfig


@dataclasses.dataclass
class FinetuningTaskConfig(VocabularyConfig, SequenceSettings):
    """Settings every fine-tuning task has (field names are the flag names): the vocabulary and these."""

    max_seq_length: int = setting(MAX_SEQ_LENGTH, "Longest sequence in tokens; longer inputs are truncated.")
    length_aware_batching: bool = setting(
        True, "Pad each batch to its own longest sequence, training batches drawn from length buckets (off: pad "
        "every batch to --max_seq_length as the original).")
    dropout_rate: float = setting(0.1, "Dropout of the task head.")

    def problems(self):
        """Messages for settings that cannot work (the task's `validate` raises them together)."""
        problems = self.vocabulary_problems()
        if self.max_seq_length < 3:
            problems.append(f"max_seq_length={self.max_seq_length}: expected >= 3 ([CLS] x [SEP])")
        if not 0 <= self.dropout_rate < 1:
            problems.append(f"dropout_rate={self.dropout_rate}: expected 0 <= rate < 1")
        return problems
