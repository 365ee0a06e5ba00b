"""The settings of the token classification task (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig


@dataclasses.dataclass
class TokenClassificationConfig(FinetuningTaskConfig):
    """CoNLL-format files (`albert_tf.tasks.conll_data`) and which columns hold the token and its tag."""

    task_name: str = "ner"  # for logs and prediction file names
    train_file: Optional[str] = None
    dev_file: Optional[str] = None
    test_file: Optional[str] = None  # labels not needed
    token_column: int = 0
    label_column: int = -1
    label_list: Optional[str] = None  # comma-separated tags; None: those of train_file (else dev_file)
    max_seq_length: int = 128

    def validate(self):
        problems = self.problems()
        if not (self.train_file or self.dev_file or self.test_file):
            problems.append("token classification needs train_file, dev_file and/or test_file")
        if self.label_list is not None and not [t for t in self.label_list.split(",") if t.strip()]:
            problems.append(f"label_list={self.label_list!r}: expected comma-separated tags such as O,B-PER,I-PER")
        ConfigError.check(problems, "token classification settings")
        return self

    def labels(self):
        return [t.strip() for t in self.label_list.split(",") if t.strip()] if self.label_list else None
