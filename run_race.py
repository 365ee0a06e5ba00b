r"""Fine-tune ALBERT on RACE (4-option reading comprehension).

    python run_race.py --flagfile=flags/race.flags --data_dir=RACE \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/race

Each question gives 4 sequences `[CLS] article [SEP] question+option [SEP]`
(`albert_tf.tasks.race_data`); the model scores each from its pooled output
and a softmax over the 4 picks the answer. Dev accuracy is reported for
middle, high and all (the best checkpoint is picked on all); --do_predict
writes `test_predictions.tsv` (id, predicted letter).
"""

import os

from absl import app, flags

import albert_tf  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)
import numpy as np

from albert_tf.export.serving_module import MultipleChoiceServing
from albert_tf.models import AlbertMultipleChoice
from albert_tf.tasks.race_data import LEVELS, NUM_CHOICES, encode_race_examples, read_race_examples
from albert_tf.training import finetuning_runner
from albert_tf.training.finetuning_objectives import ClassificationObjective

FLAGS = flags.FLAGS

flags.DEFINE_integer("max_qa_length", 128, "Question+option tokens kept (the last ones).")
flags.DEFINE_list("levels", list(LEVELS), "RACE levels to read: middle, high or both.")


class RaceTask(finetuning_runner.FinetuningTask):
    name = "RACE"
    objective = ClassificationObjective()
    primary_metric = "accuracy"
    num_choices = NUM_CHOICES

    def __init__(self):
        self.tokenizer = finetuning_runner.create_tokenizer()
        self._examples, self._features = {}, {}

    def build_model(self, config):
        return AlbertMultipleChoice(config, NUM_CHOICES, dropout_rate=FLAGS.dropout_rate)

    def examples(self, split):
        if split not in self._examples:
            self._examples[split] = read_race_examples(FLAGS.data_dir, split, FLAGS.levels)
        return self._examples[split]

    def features(self, split):
        if split not in self._features:
            self._features[split] = encode_race_examples(self.examples(split), self.tokenizer,
                                                         FLAGS.max_seq_length, FLAGS.max_qa_length)
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

    def write_predictions(self, split, predictions, output_dir):
        path = os.path.join(output_dir, f"{split}_predictions.tsv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("id\tprediction\n")
            for example, choice in zip(self.examples(split), np.argmax(predictions["logits"], -1)):
                f.write(f"{example.guid}\t{'ABCD'[choice]}\n")
        return [path]


    def serving_module(self, model, tokenizer_files):
        return MultipleChoiceServing(model, FLAGS.max_seq_length, FLAGS.max_qa_length, **tokenizer_files)


def main(argv):
    del argv
    if not FLAGS.data_dir:
        raise app.UsageError("set --data_dir (the RACE folder with train/dev/test)")
    finetuning_runner.run(RaceTask())


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "output_dir"])
    app.run(main)
