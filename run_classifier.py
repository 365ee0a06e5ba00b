r"""Fine-tune ALBERT for classification or regression: GLUE, CLUE and your own files.

    python run_classifier.py --flagfile=flags/glue/sst-2.flags \
        --data_dir=glue/SST-2 --init_checkpoint=albert_base/model.ckpt-best \
        --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/sst-2

Tasks (--task_name): cola, sst-2, mrpc, sts-b (regression), qqp, mnli (dev_matched,
also scored on dev_mismatched), qnli, rte, wnli, lcqmc, afqmc, xnli-zh, and
`generic`: any TSV/CSV/JSON-lines files given by --train_file/--dev_file/--test_file
with --text_a_column, --text_b_column, --label_column and --label_list.

Each example becomes `[CLS] A [SEP] (B [SEP])`; the head is dropout + dense on
the pooled output (softmax cross-entropy, or squared error for regression).
The loop (training with dev evaluation every --save_checkpoints_steps keeping
the best checkpoint, resuming, prediction) is `albert_tf.training.finetuning_runner`.
Metrics: accuracy, F1, Matthews correlation, Pearson and Spearman, per task as
GLUE reports them; the first listed picks the best checkpoint. --do_predict
writes the GLUE submission files (`SST-2.tsv`, `MNLI-m.tsv`, ...: `index TAB
prediction`).
"""

import os

from absl import app, flags

import albert_tf  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)
import numpy as np

from albert_tf.export.serving_module import ClassifierServing
from albert_tf.models import AlbertClassifier
from albert_tf.tasks import metrics as metric_functions
from albert_tf.tasks.classification_tasks import TASKS, encode_examples, generic_task, read_examples
from albert_tf.training import finetuning_runner
from albert_tf.training.finetuning_objectives import ClassificationObjective, RegressionObjective

FLAGS = flags.FLAGS

flags.DEFINE_enum("task_name", None, sorted(TASKS) + ["generic"], "The task.")
flags.DEFINE_string("train_file", None, "generic: training file (.tsv/.txt, .csv or .json/.jsonl).")
flags.DEFINE_string("dev_file", None, "generic: dev file.")
flags.DEFINE_string("test_file", None, "generic: test file (labels not needed).")
flags.DEFINE_string("text_a_column", "0", "generic: column index or JSON key of the first text.")
flags.DEFINE_string("text_b_column", None, "generic: column of the second text (pairs).")
flags.DEFINE_string("label_column", "1", "generic: column of the label.")
flags.DEFINE_string("index_column", None, "generic: column of the example id (predictions).")
flags.DEFINE_string("label_list", None, "generic: comma-separated labels; unset means regression.")
flags.DEFINE_bool("has_header", True, "generic: TSV/CSV files start with a header row.")


class ClassifierTask(finetuning_runner.FinetuningTask):
    def __init__(self, task):
        self.task = task
        self.name = task.name
        self.primary_metric = task.primary_metric
        self.objective = RegressionObjective() if task.is_regression else ClassificationObjective()
        self.extra_eval_splits = tuple(s for s in task.files if s.startswith("dev_"))
        self.prediction_splits = tuple(s for s in task.files if s.startswith("test"))
        self.tokenizer = finetuning_runner.create_tokenizer()
        self._examples, self._features = {}, {}

    def build_model(self, config):
        num_classes = 1 if self.task.is_regression else len(self.task.labels)
        return AlbertClassifier(config, num_classes, dropout_rate=FLAGS.dropout_rate)

    def examples(self, split):
        if split not in self._examples:
            self._examples[split] = read_examples(self.task, FLAGS.data_dir, split)
        return self._examples[split]

    def features(self, split):
        if split not in self._features:
            self._features[split] = encode_examples(self.task, self.examples(split), self.tokenizer,
                                                    FLAGS.max_seq_length)
        return self._features[split]

    def predicted(self, predictions):
        logits = predictions["logits"]
        return logits[:, 0] if self.task.is_regression else np.argmax(logits, -1)

    def evaluate(self, split, predictions):
        labels = np.asarray(self.features(split)["label_ids"])
        predicted = self.predicted(predictions)
        return {name: metric_functions.METRICS[name](labels, predicted) for name in self.task.metrics}

    def write_predictions(self, split, predictions, output_dir):
        names = self.task.submission_names or {}
        path = os.path.join(output_dir, names.get(split, f"{self.task.name}_{split}_predictions.tsv"))
        with open(path, "w", encoding="utf-8") as f:
            f.write("index\tprediction\n")
            for example, value in zip(self.examples(split), self.predicted(predictions)):
                f.write(f"{example.guid}\t{value:.3f}\n" if self.task.is_regression
                        else f"{example.guid}\t{self.task.labels[value]}\n")
        return [path]


    def serving_module(self, model, tokenizer_files):
        return ClassifierServing(model, FLAGS.max_seq_length, **tokenizer_files)


def main(argv):
    del argv
    if FLAGS.task_name == "generic":
        if not FLAGS.train_file and not FLAGS.dev_file:
            raise app.UsageError("--task_name=generic needs --train_file and/or --dev_file")
        task = generic_task(FLAGS.train_file, FLAGS.dev_file, FLAGS.test_file, FLAGS.text_a_column,
                            FLAGS.text_b_column, FLAGS.label_column, FLAGS.index_column, FLAGS.label_list,
                            FLAGS.has_header)
    else:
        if not FLAGS.data_dir:
            raise app.UsageError(f"--task_name={FLAGS.task_name} needs --data_dir")
        task = TASKS[FLAGS.task_name]
    finetuning_runner.run(ClassifierTask(task))


if __name__ == "__main__":
    flags.mark_flags_as_required(["task_name", "albert_config_file", "output_dir"])
    app.run(main)
