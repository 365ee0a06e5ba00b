"""The settings of the classifier task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.tasks.finetuning_config import FinetuningTaskConfig
from albert_tf.tasks.classification_tasks import TASKS, generic_task


@dataclasses.dataclass
class ClassifierConfig(FinetuningTaskConfig):
    """`task_name`: a GLUE/CLUE task (`classification_tasks.TASKS`) reading `data_dir`, or
    "generic" reading `train_file`/`dev_file`/`test_file` with the given columns."""

    task_name: Optional[str] = setting(None, "The task.", choices=sorted(TASKS) + ["generic"])
    data_dir: Optional[str] = setting(None, "Folder of the task's files.")
    train_file: Optional[str] = setting(None, "generic: training file (.tsv/.txt, .csv or .json/.jsonl).")
    dev_file: Optional[str] = setting(None, "generic: dev file.")
    test_file: Optional[str] = setting(None, "generic: test file (labels not needed).")
    text_a_column: str = setting("0", "generic: column index or JSON key of the first text.")
    text_b_column: Optional[str] = setting(None, "generic: column of the second text (pairs).")
    label_column: str = setting("1", "generic: column of the label.")
    index_column: Optional[str] = setting(None, "generic: column of the example id (predictions).")
    label_list: Optional[str] = setting(None, "generic: comma-separated labels; unset means regression.")
    has_header: bool = setting(True, "generic: TSV/CSV files start with a header row.")

    def validate(self):
        problems = self.problems()
        if self.task_name == "generic":
            if not (self.train_file or self.dev_file):
                problems.append("task_name='generic' needs train_file and/or dev_file")
        elif self.task_name not in TASKS:
            problems.append(f"task_name={self.task_name!r}: expected one of {sorted(TASKS) + ['generic']}")
        elif not self.data_dir:
            problems.append(f"task_name={self.task_name!r} needs data_dir (the folder of its files)")
        ConfigError.check(problems, "classifier settings")
        return self

    def classification_task(self):
        if self.task_name != "generic":
            return TASKS[self.task_name]
        return generic_task(self.train_file, self.dev_file, self.test_file, self.text_a_column,
                            self.text_b_column, self.label_column, self.index_column, self.label_list,
                            self.has_header)
