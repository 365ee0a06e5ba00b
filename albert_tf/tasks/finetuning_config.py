"""Settings every fine-tuning task has (no TensorFlow: the command lines read it before it starts)."""

import dataclasses

from albert_tf.tokenization.vocabulary_config import VocabularyConfig


@dataclasses.dataclass
class FinetuningTaskConfig(VocabularyConfig):
    """Settings every fine-tuning task has (field names are the flag names): the vocabulary and these."""

    max_seq_length: int = 512
    length_aware_batching: bool = True
    dropout_rate: float = 0.1

    def problems(self):
        """Messages for settings that cannot work (the task's `validate` raises them together)."""
        problems = self.vocabulary_problems()
        if self.max_seq_length < 3:
            problems.append(f"max_seq_length={self.max_seq_length}: expected >= 3 ([CLS] x [SEP])")
        if not 0 <= self.dropout_rate < 1:
            problems.append(f"dropout_rate={self.dropout_rate}: expected 0 <= rate < 1")
        return problems
