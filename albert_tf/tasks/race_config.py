"""The settings of the race task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional, Tuple

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig
from albert_tf.tasks.race_data import LEVELS


@dataclasses.dataclass
class RaceConfig(FinetuningTaskConfig):
    data_dir: Optional[str] = setting(None, "The RACE folder: train/, dev/ and test/, each with middle/ and high/.")
    max_qa_length: int = setting(128, "Question+option tokens kept (the last ones).")
    levels: Tuple[str, ...] = setting(LEVELS, "RACE levels to read: middle, high or both.")

    def validate(self):
        problems = self.problems()
        if not self.data_dir:
            problems.append("data_dir is not set: the RACE folder with train/, dev/ and test/")
        unknown = [level for level in self.levels if level not in LEVELS]
        if unknown or not self.levels:
            problems.append(f"levels={list(self.levels)}: expected some of {list(LEVELS)}")
        if self.max_qa_length < 1:
            problems.append(f"max_qa_length={self.max_qa_length}: expected >= 1")
        ConfigError.check(problems, "RACE settings")
        return self
