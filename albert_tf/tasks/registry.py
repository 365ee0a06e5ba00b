"""Every task by name. A new task is its config (`NAME_config.py`, no TensorFlow), its `Task`
(`NAME_task.py`) and a line here.

    task = create_task("squad", train_file="train-v2.0.json", predict_file="dev-v2.0.json",
                       version_2_with_negative=True, spm_model_file="30k-clean.model")
"""

from albert_tf.tasks.classifier_config import ClassifierConfig
from albert_tf.tasks.classifier_task import ClassifierTask
from albert_tf.tasks.pretraining_config import PretrainingConfig
from albert_tf.tasks.pretraining_task import PretrainingTask
from albert_tf.tasks.race_config import RaceConfig
from albert_tf.tasks.race_task import RaceTask
from albert_tf.tasks.squad_config import SquadConfig
from albert_tf.tasks.squad_task import SquadTask
from albert_tf.tasks.token_classification_config import TokenClassificationConfig
from albert_tf.tasks.token_classification_task import TokenClassificationTask

# name -> (task class, its config class)
TASKS = {
    "pretraining": (PretrainingTask, PretrainingConfig),
    "classifier": (ClassifierTask, ClassifierConfig),
    "squad": (SquadTask, SquadConfig),
    "race": (RaceTask, RaceConfig),
    "token_classification": (TokenClassificationTask, TokenClassificationConfig),
}


def create_task(name, config=None, **settings):
    """The task `name` from its config object, or from keyword settings of that config."""
    if name not in TASKS:
        raise ValueError(f"task {name!r}: expected one of {sorted(TASKS)}")
    task_class, config_class = TASKS[name]
    return task_class(config if config is not None else config_class(**settings))
