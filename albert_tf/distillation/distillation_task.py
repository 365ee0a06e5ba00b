"""Distillation as a task of the one training loop: the task's data, evaluation and exports, a student that
learns from a teacher.

    task = DistillationTask(create_task("classifier", task_name="sst-2", data_dir=...),
                            DistillationConfig(teacher_checkpoint="runs/sst-2/export/model.ckpt-best"))
    run_training(task, TrainingConfig(albert_config_file="student_config.json", ...))

The run's albert_config is the student's. Everything a run does works for the student as for any model:
resume, locks, atomic outputs, progress, TensorBoard, evaluation (of the student), the best-weights copy,
export/model.ckpt-best (the student, original layout) and the SavedModel (the student's serving module).
"""

from absl import logging

from albert_tf.distillation.distillation_model import DistillationModel
from albert_tf.distillation.distillation_objective import DistillationObjective
from albert_tf.distillation.layer_map import parse_layer_map
from albert_tf.distillation.student_init import copy_teacher_layers
from albert_tf.distillation.teacher import load_teacher
from albert_tf.errors import ConfigError
from albert_tf.tasks.task import Task


class DistillationTask(Task):
    """`task` (any fine-tuning task) with its model trained by distillation from the teacher of `config`."""

    def __init__(self, task, config):
        super().__init__(task.config)
        self.task, self.distillation = task, config.validate()
        self.name = f"{task.name} (distilled)"
        self.kind = task.kind
        self.objective = DistillationObjective(task.objective, config.hard_label_weight)
        self.primary_metric = task.primary_metric
        self.eval_splits, self.prediction_splits = task.eval_splits, task.prediction_splits
        self.strict_init = task.strict_init
        self.summary_metrics = task.summary_metrics
        self._augmented = None

    # --- the model: the student with its teacher -----------------------------------------------

    def build_model(self, albert_config):
        student = self.task.build_model(albert_config)
        teacher = load_teacher(self.distillation.teacher_checkpoint, self.kind, self.distillation.teacher_dtype)
        for option, value in self.task.model_options().items():
            if option in ("num_classes", "num_choices", "version_2_with_negative") and \
                    getattr(teacher, option, value) != value:
                raise ConfigError(f"teacher_checkpoint={self.distillation.teacher_checkpoint!r}: the teacher has "
                                  f"{option}={getattr(teacher, option)}, the task's student {value}; distil a "
                                  "teacher of this task")
        if self.distillation.student_init == "teacher_layers":
            pairs = parse_layer_map(self.distillation.layer_map, teacher.encoder.config.num_hidden_layers,
                                    albert_config.num_hidden_layers)
            sources = copy_teacher_layers(student, teacher, pairs)
            logging.info("student initialised from the teacher: student group <- teacher group %s", sources)
        return DistillationModel(student, teacher, self.distillation, name="distillation")

    def exported_model(self, model):
        return model.student

    # --- everything else is the task's -------------------------------------------------------------

    def prepare(self, albert_config, work_dir, is_chief, seed):
        return self.task.prepare(albert_config, work_dir, is_chief, seed)

    def check_inputs(self, albert_config):
        self.task.check_inputs(albert_config)

    def model_options(self):
        return self.task.model_options()

    def dataset(self, split, batch_size, is_training, input_context, seed, skip_batches=0):
        if split != "train" or not self.distillation.augment_file:
            return self.task.dataset(split, batch_size, is_training, input_context, seed, skip_batches)
        return self.task.dataset_of(self.training_features(), batch_size, is_training, input_context, seed,
                                    skip_batches)

    def training_features(self):
        """The task's training features and the augment file's (`labelled` 1 and 0: the hard-label loss skips
        the teacher-labelled ones)."""
        if self._augmented is None:
            path = self.distillation.augment_file
            if not hasattr(self.task, "unlabelled_features"):
                raise ConfigError(f"augment_file={path!r}: extra unlabelled text is taken by classifier "
                                  f"distillations; this one distils a {self.kind} model")
            labelled, extra = self.task.features("train"), self.task.unlabelled_features(path)
            merged = {name: list(labelled[name]) + list(extra[name]) for name in labelled}
            merged["example_index"] = list(range(len(merged["input_ids"])))
            merged["labelled"] = [1] * len(labelled["input_ids"]) + [0] * len(extra["input_ids"])
            logging.info("%s: %d training examples and %d unlabelled ones from %s, labelled by the teacher",
                         self.name, len(labelled["input_ids"]), len(extra["input_ids"]), path)
            self._augmented = merged
        return self._augmented

    def score(self, split, trainer, dataset, max_steps=None):
        return self.task.score(split, trainer, dataset, max_steps)

    def learning_warnings(self, split, predictions, metrics):
        return self.task.learning_warnings(split, predictions, metrics)

    def read_splits(self, splits):
        self.task.read_splits(splits)
        if "train" in splits and self.distillation.augment_file:
            self.training_features()  # a missing or empty augment file stops the run before step 1

    def damaged_inputs(self):
        return self.task.damaged_inputs()

    def write_predictions(self, split, predictions, output_dir):
        return self.task.write_predictions(split, predictions, output_dir)

    def vocabulary(self):
        return self.task.vocabulary()

    def output_labels(self):
        return self.task.output_labels()

    def serving_settings(self):
        return self.task.serving_settings()

    def serving_module(self, model):
        return self.task.serving_module(self.exported_model(model))
