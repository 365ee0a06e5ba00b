"""The settings of the squad task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig


@dataclasses.dataclass
class SquadConfig(FinetuningTaskConfig):
    train_file: Optional[str] = None
    predict_file: Optional[str] = None  # evaluated (do_eval) and predicted (do_predict)
    version_2_with_negative: bool = False
    doc_stride: int = 128
    max_query_length: int = 64
    n_best_size: int = 20
    max_answer_length: int = 30
    start_n_top: int = 5
    end_n_top: int = 5
    null_score_diff_threshold: Optional[float] = None  # v2; None: the best one found in evaluation

    def validate(self):
        problems = self.problems()
        for name in ("doc_stride", "max_query_length", "n_best_size", "max_answer_length", "start_n_top",
                     "end_n_top"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: expected >= 1")
        if self.max_query_length >= self.max_seq_length - 3:
            problems.append(f"max_query_length={self.max_query_length}: expected < max_seq_length - 3 = "
                            f"{self.max_seq_length - 3} (room for the paragraph)")
        ConfigError.check(problems, "SQuAD settings")
        return self
