"""The settings of the squad task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig


@dataclasses.dataclass
class SquadConfig(FinetuningTaskConfig):
    train_file: Optional[str] = setting(None, "SQuAD JSON for training.")
    predict_file: Optional[str] = setting(None, "SQuAD JSON to evaluate on (--do_eval) and predict (--do_predict).")
    version_2_with_negative: bool = setting(False, "SQuAD 2.0: questions may have no answer (the v2 head).")
    doc_stride: int = setting(128, "Tokens between the starts of a paragraph's windows.")
    max_query_length: int = setting(64, "Question tokens kept.")
    n_best_size: int = setting(20, "Candidates per question in nbest_predictions.json.")
    max_answer_length: int = setting(30, "Longest answer in tokens.")
    start_n_top: int = setting(5, "v2 beam: starts kept.")
    end_n_top: int = setting(5, "v2 beam: ends kept per start.")
    null_score_diff_threshold: Optional[float] = setting(
        None, "v2: answer \"\" when the no-answer score exceeds this; unset: the best threshold found on "
        "--predict_file during evaluation (as the original), else 0.")

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
