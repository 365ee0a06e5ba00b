"""RACE: 4-option reading comprehension.

Each question gives 4 sequences `[CLS] article [SEP] question+option [SEP]`
(`race_data`); the model scores each from its pooled output and a softmax
over the 4 picks the answer. Accuracy for middle, high and all (the best
checkpoint is picked on all); predictions: `test_predictions.tsv` (id,
predicted letter).
"""

import os

import numpy as np

from albert_tf.outputs.atomic_files import atomic_open
from albert_tf.tasks.finetuning_task import FinetuningTask
from albert_tf.tasks.task import one_answer_warnings
from albert_tf.tasks.race_data import LEVELS, NUM_CHOICES, encode_race_examples, read_race_examples
from albert_tf.tasks.finetuning_objectives import ClassificationObjective


class RaceTask(FinetuningTask):
    name = "RACE"
    primary_metric = "accuracy"
    num_choices = NUM_CHOICES
    kind = "race"

    def __init__(self, config):
        super().__init__(config.validate())
        self.objective = ClassificationObjective()
        self._examples, self._features = {}, {}

    def model_options(self):
        return {"num_choices": NUM_CHOICES, "dropout_rate": self.config.dropout_rate}

    def examples(self, split):
        if split not in self._examples:
            self._examples[split] = read_race_examples(self.config.data_dir, split, self.config.levels)
        return self._examples[split]

    def features(self, split):
        if split not in self._features:
            self._features[split] = encode_race_examples(self.examples(split), self.tokenizer,
                                                         self.config.max_seq_length, self.config.max_qa_length)
        return self._features[split]

    def evaluate(self, split, predictions):
        features = self.features(split)
        correct = np.argmax(predictions["logits"], -1) == np.asarray(features["label_ids"])
        level = np.asarray(features["level"])
        metrics = {"accuracy": float(np.mean(correct))}
        for index, name in enumerate(LEVELS):
            if np.any(level == index):
                metrics[f"accuracy_{name}"] = float(np.mean(correct[level == index]))
        return metrics

    def learning_warnings(self, split, predictions, metrics):
        return one_answer_warnings(f"RACE {split}", ("ABCD"[i] for i in np.argmax(predictions["logits"], -1)),
                                   "every question was answered with option", "model")

    def write_predictions(self, split, predictions, output_dir):
        path = os.path.join(output_dir, f"{split}_predictions.tsv")
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.write("id\tprediction\n")
            for example, choice in zip(self.examples(split), np.argmax(predictions["logits"], -1)):
                f.write(f"{example.guid}\t{'ABCD'[choice]}\n")
        return [path]
