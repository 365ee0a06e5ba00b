"""The settings of the token classification task (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig


@dataclasses.dataclass
class TokenClassificationConfig(FinetuningTaskConfig):
    """CoNLL-format files (`albert_tf.tasks.conll_data`) and which columns hold the token and its tag."""

    task_name: str = setting("ner", "Name in logs and in the prediction file's name.")
    train_file: Optional[str] = setting(None, "CoNLL-format training file.")
    dev_file: Optional[str] = setting(None, "CoNLL-format dev file (evaluated with --do_eval).")
    test_file: Optional[str] = setting(None, "CoNLL-format test file (tags not needed; predicted with --do_predict).")
    token_column: int = setting(0, "Column of the token.")
    label_column: int = setting(-1, "Column of the tag (-1: the last).")
    label_list: Optional[str] = setting(None, "Comma-separated tags (default: those of --train_file, else "
                                              "--dev_file).")

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
