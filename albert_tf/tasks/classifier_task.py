"""Sentence(-pair) classification and regression: GLUE, CLUE and your own files.

Each example becomes `[CLS] A [SEP] (B [SEP])`; the head is dropout + dense
on the pooled output (softmax cross-entropy, or squared error for
regression). Metrics are those GLUE reports for the task; the first picks
the best checkpoint. Predictions are the GLUE submission files (`SST-2.tsv`,
`MNLI-m.tsv`, ...: `index TAB prediction`).
"""

import collections
import os

import numpy as np

from albert_tf.outputs.atomic_files import atomic_open
from albert_tf.tasks import metrics as metric_functions
from albert_tf.errors import ConfigError
from albert_tf.tasks.classification_tasks import Example, encode_examples, read_examples
from albert_tf.tasks.finetuning_task import FinetuningTask
from albert_tf.tasks.task import NO_LEARNING_HINT, one_answer_warnings
from albert_tf.tasks.finetuning_objectives import ClassificationObjective, RegressionObjective


class ClassifierTask(FinetuningTask):
    kind = "classifier"

    def __init__(self, config):
        super().__init__(config.validate())
        self.task = config.classification_task()
        self.name = self.task.name
        self.primary_metric = self.task.primary_metric
        self.objective = RegressionObjective() if self.task.is_regression else ClassificationObjective()
        self.eval_splits = ("dev",) + tuple(s for s in self.task.files if s.startswith("dev_"))
        self.prediction_splits = tuple(s for s in self.task.files if s.startswith("test"))
        self._examples, self._features = {}, {}

    def output_labels(self):
        return None if self.task.is_regression else list(self.task.labels)

    def model_options(self):
        return {"num_classes": 1 if self.task.is_regression else len(self.task.labels),
                "dropout_rate": self.config.dropout_rate}

    def examples(self, split):
        if split not in self._examples:
            self._examples[split] = read_examples(self.task, self.config.data_dir, split)
        return self._examples[split]

    def features(self, split):
        if split not in self._features:
            self._features[split] = encode_examples(self.task, self.examples(split), self.tokenizer,
                                                    self.config.max_seq_length)
        return self._features[split]

    def unlabelled_features(self, path):
        """Features of a file of unlabelled in-domain text (distillation's extra examples, which the teacher
        labels): one example a line, a sentence, or two TAB-separated ones for a pair task."""
        examples = []
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                text_a, _, text_b = line.partition("\t")
                examples.append(Example(f"unlabelled-{number}", text_a, text_b or None, None))
        if not examples:
            raise ConfigError(f"{path}: no text; expected one example a line (text, or text TAB text)")
        return encode_examples(self.task, examples, self.tokenizer, self.config.max_seq_length)

    def predicted(self, predictions):
        logits = predictions["logits"]
        return logits[:, 0] if self.task.is_regression else np.argmax(logits, -1)

    def evaluate(self, split, predictions):
        labels = np.asarray(self.features(split)["label_ids"])
        predicted = self.predicted(predictions)
        return {name: metric_functions.METRICS[name](labels, predicted) for name in self.task.metrics}

    def learning_warnings(self, split, predictions, metrics):
        predicted = self.predicted(predictions)
        if self.task.is_regression:
            if np.std(predicted) < 1e-6 * max(1.0, float(np.abs(predicted).max())):
                return [f"{self.name} {split}: every prediction is {predicted[0]:.4f}; the regressor learned "
                        f"nothing ({NO_LEARNING_HINT})"]
            return []
        labels = np.asarray(self.features(split)["label_ids"])
        majority = max(collections.Counter(labels.tolist()).values()) / len(labels)
        return one_answer_warnings(f"{self.name} {split}", (self.task.labels[i] for i in predicted.tolist()),
                                   "every example was predicted as label", "classifier",
                                   f" (the majority-class rate is {majority:.4f})")

    def write_predictions(self, split, predictions, output_dir):
        names = self.task.submission_names or {}
        path = os.path.join(output_dir, names.get(split, f"{self.task.name}_{split}_predictions.tsv"))
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.write("index\tprediction\n")
            for example, value in zip(self.examples(split), self.predicted(predictions)):
                f.write(f"{example.guid}\t{value:.3f}\n" if self.task.is_regression
                        else f"{example.guid}\t{self.task.labels[value]}\n")
        return [path]
