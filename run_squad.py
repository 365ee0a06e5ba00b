r"""Fine-tune ALBERT on SQuAD v1.1 or v2.0 and write the official prediction files.

    python run_squad.py --flagfile=flags/squad_v2.flags \
        --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/squad2

Paragraphs are tokenized once and their tokens aligned to characters
(`albert_tf.tasks.squad_data`); windows of --max_seq_length tokens,
--doc_stride apart, follow `[CLS] question [SEP] paragraph [SEP]`.
v1.1 uses a dense start/end head; --version_2_with_negative uses ALBERT's v2
head (end conditioned on the start, a --start_n_top x --end_n_top beam, and
an answerability classifier). Evaluation on --predict_file reports EM/F1 as
the official scripts define them; for v2 the no-answer threshold is searched
on that file as the original does (or set with --null_score_diff_threshold),
with the HasAns/NoAns breakdown and best_exact/best_f1. --do_predict writes
predictions.json, nbest_predictions.json and (v2) null_odds.json, which
tools/squad_eval.py scores like the official script.
"""

import json

from absl import app, flags

import albert_tf  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)
from albert_tf.export.serving_module import SquadServing
from albert_tf.models import AlbertQuestionAnswerer
from albert_tf.tasks import squad_evaluation
from albert_tf.tasks.squad_data import convert_examples_to_features, read_squad_examples
from albert_tf.tasks.squad_postprocessing import postprocess_v1, postprocess_v2, write_prediction_files
from albert_tf.training import finetuning_runner
from albert_tf.training.finetuning_objectives import SquadV1Objective, SquadV2Objective

FLAGS = flags.FLAGS

flags.DEFINE_string("train_file", None, "SQuAD JSON for training.")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to evaluate on (--do_eval) and predict (--do_predict).")
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD 2.0: questions may have no answer (the v2 head).")
flags.DEFINE_integer("doc_stride", 128, "Tokens between the starts of a paragraph's windows.")
flags.DEFINE_integer("max_query_length", 64, "Question tokens kept.")
flags.DEFINE_integer("n_best_size", 20, "Candidates per question in nbest_predictions.json.")
flags.DEFINE_integer("max_answer_length", 30, "Longest answer in tokens.")
flags.DEFINE_integer("start_n_top", 5, "v2 beam: starts kept.")
flags.DEFINE_integer("end_n_top", 5, "v2 beam: ends kept per start.")
flags.DEFINE_float("null_score_diff_threshold", None,
                   "v2: answer \"\" when the no-answer score exceeds this; unset: the best threshold "
                   "found on --predict_file during evaluation (as the original), else 0.")


class SquadTask(finetuning_runner.FinetuningTask):
    name = "SQuAD"
    primary_metric = "f1"
    prediction_splits = ("test",)

    def __init__(self):
        self.v2 = FLAGS.version_2_with_negative
        self.objective = SquadV2Objective() if self.v2 else SquadV1Objective()
        self.tokenizer = finetuning_runner.create_tokenizer()
        self.threshold = FLAGS.null_score_diff_threshold
        self._cache = {}

    def build_model(self, config):
        return AlbertQuestionAnswerer(config, self.v2, FLAGS.start_n_top, FLAGS.end_n_top, FLAGS.dropout_rate)

    def prepared(self, split):
        """(examples, features, windows) of the train file or the predict file."""
        is_training = split == "train"
        if is_training not in self._cache:
            path = FLAGS.train_file if is_training else FLAGS.predict_file
            if not path:
                raise ValueError(f"set --{'train_file' if is_training else 'predict_file'}")
            examples = read_squad_examples(path, is_training, self.v2)
            features, windows, stats = convert_examples_to_features(
                examples, self.tokenizer, FLAGS.max_seq_length, FLAGS.doc_stride, FLAGS.max_query_length,
                is_training, FLAGS.do_lower_case)
            print(f"{path}: {stats}")
            self._cache[is_training] = (examples, features, windows)
        return self._cache[is_training]

    def features(self, split):
        return self.prepared(split)[1]

    def answers(self, split, predictions, threshold):
        examples, features, windows = self.prepared(split)
        if self.v2:
            return postprocess_v2(examples, windows, predictions, FLAGS.n_best_size, FLAGS.max_answer_length,
                                  threshold)
        lengths = [len(ids) for ids in features["input_ids"]]
        return postprocess_v1(examples, windows, lengths, predictions, FLAGS.n_best_size, FLAGS.max_answer_length)

    def evaluate(self, split, predictions):
        with open(FLAGS.predict_file, encoding="utf-8") as f:
            dataset = json.load(f)["data"]
        if not self.v2:
            answers, _, _ = self.answers(split, predictions, None)
            return squad_evaluation.evaluate_v1(dataset, answers)
        answers, _, null_odds = self.answers(split, predictions, None)
        searched = squad_evaluation.add_best_thresholds(
            squad_evaluation.evaluate_v2(dataset, answers, null_odds), dataset, answers, null_odds)
        threshold = (FLAGS.null_score_diff_threshold if FLAGS.null_score_diff_threshold is not None
                     else searched["best_f1_thresh"])
        self.threshold = threshold
        answers, _, _ = self.answers(split, predictions, threshold)
        result = squad_evaluation.evaluate_v2(dataset, answers, null_odds)
        result.update({k: searched[k] for k in ("best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh")})
        result["null_score_diff_threshold"] = threshold
        return {k: float(v) for k, v in result.items()}

    def write_predictions(self, split, predictions, output_dir):
        threshold = self.threshold if self.threshold is not None else (0.0 if self.v2 else None)
        answers, nbest, null_odds = self.answers(split, predictions, threshold)
        return write_prediction_files(output_dir, answers, nbest, null_odds)


    def serving_module(self, model, tokenizer_files):
        return SquadServing(model, FLAGS.max_seq_length, FLAGS.max_query_length, **tokenizer_files)


def main(argv):
    del argv
    finetuning_runner.run(SquadTask())


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "output_dir"])
    app.run(main)
