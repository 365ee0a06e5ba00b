"""SQuAD v1.1 and v2.0: windows over aligned paragraphs, the span heads, the official scores.

Paragraphs are tokenized once and their tokens aligned to characters
(`squad_data`); windows of `max_seq_length` tokens, `doc_stride` apart,
follow `[CLS] question [SEP] paragraph [SEP]`. v1.1 uses a dense start/end
head; `version_2_with_negative` uses ALBERT's v2 head (end conditioned on
the start, a `start_n_top` x `end_n_top` beam, and an answerability
classifier). Evaluation on `predict_file` gives EM/F1 as the official
scripts define them; for v2 the no-answer threshold is searched on that file
as the original does (or set with `null_score_diff_threshold`), with the
HasAns/NoAns breakdown. Predictions: predictions.json,
nbest_predictions.json and (v2) null_odds.json.
"""

import json

from absl import logging

from albert_tf.errors import ConfigError
from albert_tf.tasks import squad_evaluation
from albert_tf.tasks.finetuning_task import FinetuningTask
from albert_tf.tasks.task import NO_LEARNING_HINT
from albert_tf.tasks.squad_data import convert_examples_to_features, read_squad_examples
from albert_tf.tasks.squad_postprocessing import postprocess_v1, postprocess_v2, write_prediction_files
from albert_tf.tasks.finetuning_objectives import SquadV1Objective, SquadV2Objective


class SquadTask(FinetuningTask):
    name = "SQuAD"
    primary_metric = "f1"
    eval_splits = ("dev",)
    prediction_splits = ("test",)
    kind = "squad"

    def __init__(self, config):
        super().__init__(config.validate())
        self.v2 = config.version_2_with_negative
        self.objective = SquadV2Objective() if self.v2 else SquadV1Objective()
        self.threshold = config.null_score_diff_threshold
        self._cache = {}

    def model_options(self):
        return {"version_2_with_negative": self.v2, "start_n_top": self.config.start_n_top,
                "end_n_top": self.config.end_n_top, "dropout_rate": self.config.dropout_rate}

    def serving_settings(self):
        """albert-serve answers as the run predicts: its windows, answer length, n-best size and (v2) the
        no-answer threshold of these weights (searched on the predict file, or set)."""
        settings = {**super().serving_settings(), "doc_stride": self.config.doc_stride,
                    "max_answer_length": self.config.max_answer_length, "n_best_size": self.config.n_best_size}
        if self.v2:
            settings["null_score_diff_threshold"] = self.threshold if self.threshold is not None else 0.0
        return settings

    def prepared(self, split):
        """(examples, features, windows) of the train file or the predict file."""
        is_training = split == "train"
        if is_training not in self._cache:
            path = self.config.train_file if is_training else self.config.predict_file
            if not path:
                raise ConfigError(f"{'train_file' if is_training else 'predict_file'} is not set: "
                                  f"the SQuAD JSON to {'train on' if is_training else 'evaluate and predict'}")
            examples = read_squad_examples(path, is_training, self.v2)
            features, windows, stats = convert_examples_to_features(
                examples, self.tokenizer, self.config.max_seq_length, self.config.doc_stride,
                self.config.max_query_length, is_training, self.config.do_lower_case)
            logging.info("%s: %d questions in %d windows%s", path, stats["examples"], stats["features"],
                         f" ({stats['answer_outside_window']} training windows hold no whole answer)"
                         if is_training else "")
            self._cache[is_training] = (examples, features, windows)
        return self._cache[is_training]

    def features(self, split):
        return self.prepared(split)[1]

    def answers(self, split, predictions, threshold):
        examples, features, windows = self.prepared(split)
        if self.v2:
            return postprocess_v2(examples, windows, predictions, self.config.n_best_size,
                                  self.config.max_answer_length, threshold)
        lengths = [len(ids) for ids in features["input_ids"]]
        return postprocess_v1(examples, windows, lengths, predictions, self.config.n_best_size,
                              self.config.max_answer_length)

    def evaluate(self, split, predictions):
        with open(self.config.predict_file, encoding="utf-8") as f:
            dataset = json.load(f)["data"]
        answers, _, null_odds = self.answers(split, predictions, None)
        if not self.v2:
            return squad_evaluation.evaluate_v1(dataset, answers)
        searched = squad_evaluation.add_best_thresholds(
            squad_evaluation.evaluate_v2(dataset, answers, null_odds), dataset, answers, null_odds)
        threshold = (self.config.null_score_diff_threshold if self.config.null_score_diff_threshold is not None
                     else searched["best_f1_thresh"])
        self.threshold = threshold  # the predictions of these weights use it
        answers, _, _ = self.answers(split, predictions, threshold)
        result = squad_evaluation.evaluate_v2(dataset, answers, null_odds)
        result.update({k: searched[k] for k in ("best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh")})
        result["null_score_diff_threshold"] = threshold
        return {k: float(v) for k, v in result.items()}

    def learning_warnings(self, split, predictions, metrics):
        answers, _, _ = self.answers(split, predictions, self.threshold if self.v2 else None)
        if answers and not any(answers.values()):
            return [f"SQuAD {split}: every question was answered with no answer (\"\"); the model learned "
                    f"nothing yet ({NO_LEARNING_HINT})"]
        return []

    def write_predictions(self, split, predictions, output_dir):
        threshold = self.threshold if self.threshold is not None else (0.0 if self.v2 else None)
        answers, nbest, null_odds = self.answers(split, predictions, threshold)
        return write_prediction_files(output_dir, answers, nbest, null_odds)

    @property
    def summary_metrics(self):
        return ("exact", "f1", "best_exact", "best_f1") if self.v2 else ("exact_match", "f1")
