"""The interface between a task and the one training loop.

A task contributes only what is its own: data, the model with its head,
the objective, metrics, prediction files and what to export. Strategy,
precision, optimizer and schedule, resuming, progress, summaries,
checkpoints, evaluation and export are the loop's
(`albert_tf.training.training_loop.run_training`).
"""

from albert_tf.export.export_config import serving_info
from albert_tf.export.serving_module import serving_module_for
from albert_tf.models.model_kinds import kind_named


# How a learned-nothing warning ends: what usually fixes it.
NO_LEARNING_HINT = "more steps, a pretrained --init_checkpoint or another learning rate"


def one_answer_warnings(where, answers, what, learner, note=""):
    """The learned-nothing warning of a model that gave one answer to everything: `["WHERE: WHAT 'A'NOTE;
    the LEARNER learned nothing (hint)"]` when `answers` (hashable values) hold one value, else []."""
    values = set(answers)
    if len(values) != 1:
        return []
    return [f"{where}: {what} {next(iter(values))!r}{note}; the {learner} learned nothing ({NO_LEARNING_HINT})"]


class Task:
    """Base of every task in `albert_tf.tasks.registry.TASKS`.

    Attributes:
        name: for logs.
        kind: the model kind (`albert_tf.models.model_kinds`): the model class `build_model` builds with
            `model_options()`, and the serving module `serving_module` exports it with.
        objective: a `Trainer` objective (`albert_tf.tasks.finetuning_objectives`
            or `PretrainingObjective`).
        primary_metric: the evaluation metric that picks the best weights
            (higher is better); None keeps the last weights.
        eval_splits: splits evaluated with `do_eval`; the first is scored at
            every checkpoint, the others once at the end (MNLI's dev_mismatched).
        prediction_splits: splits predicted with `do_predict`.
        config: the task's own config (a dataclass with at least `max_seq_length`).
    """

    name = "task"
    kind = None
    objective = None
    primary_metric = None
    eval_splits = ("dev",)
    prediction_splits = ("test",)
    strict_init = True  # init_checkpoint must hold the whole model (else: the encoder, heads if they match)
    expects_init_checkpoint = False  # warn when training starts from random weights

    def __init__(self, config):
        self.config = config

    def prepare(self, albert_config, work_dir, is_chief, seed):
        """Work before training (data preparation); returns (description, path) lines for the summary."""
        return []

    def check_inputs(self, albert_config):
        """Checks the task's files against the model before any work starts (raises with a clear message)."""

    def model_options(self):
        """The constructor options of the kind's model (num_classes, dropout_rate, ...)."""
        return {}

    def build_model(self, albert_config):
        """The Keras model to train (built under the strategy's scope)."""
        return kind_named(self.kind).build(albert_config, **self.model_options())

    def exported_model(self, model):
        """The part of the trained model that is saved in the original layout, exported and initialised from
        init_checkpoint (a distillation run's student); the model itself for every other task."""
        return model

    def dataset(self, split, batch_size, is_training, input_context, seed, skip_batches=0):
        """The `tf.data.Dataset` of one input pipeline; `batch_size` is the global batch size."""
        raise NotImplementedError

    def score(self, split, trainer, dataset, max_steps=None):
        """(metrics: dict of floats, predictions or None) of a distributed evaluation dataset."""
        raise NotImplementedError

    def learning_warnings(self, split, predictions, metrics):
        """Signs in the final evaluation that the model learned nothing (strings for the log)."""
        return []

    summary_metrics = ()  # the metrics the run's last lines lead with (default: the evaluation's first ones)

    def read_splits(self, splits):
        """Reads (and tokenizes) every split the run will use, before step 1: a missing or bad file stops the
        run at the start, not after training."""

    def damaged_inputs(self):
        """Which input files are damaged and where ("path: what"), after reading them failed (DataLossError)."""
        return []

    def write_predictions(self, split, predictions, output_dir):
        """Writes prediction files of `Trainer.predict` outputs; returns their paths."""
        raise NotImplementedError

    def vocabulary(self):
        """The vocabulary the model reads (vocab_file / spm_model_file / do_lower_case), or None."""
        return None

    def output_labels(self):
        """The names of the model's outputs in order (a classifier's labels), or None."""
        return None

    def _export_settings(self):
        return {name: getattr(self.config, name) for name in kind_named(self.kind).export_options}

    def serving_settings(self):
        """The settings a server answers with, for export_info.json's "serving" block: the kind's
        `export_options` (a task adds what its answers depend on)."""
        return self._export_settings()

    def serving_module(self, model):
        """The SavedModel serving module of the kind's row around `model`, with the task's settings of its
        `export_options`; None when there is no vocabulary to serve or the kind has no serving module."""
        kind, vocabulary = kind_named(self.kind), self.vocabulary()
        if kind.serving is None or not vocabulary or not (vocabulary.get("vocab_file")
                                                          or vocabulary.get("spm_model_file")):
            return None
        return serving_module_for(kind.name, model, self.config.max_seq_length, vocabulary, **self._export_settings())

    def serving_info(self):
        """export_info.json's "serving" block of the run's SavedModel (see `export_config.serving_info`)."""
        vocabulary = self.vocabulary()
        return serving_info(self.kind, vocabulary.get("spm_model_file") or vocabulary.get("vocab_file"),
                            vocabulary.get("do_lower_case", True), self.config.max_seq_length, self.output_labels(),
                            self.serving_settings())
