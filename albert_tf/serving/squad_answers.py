"""A SQuAD model's answers: the answer text with its character offsets in the context and its score.

An instance is `{"question": ..., "context": ...}`. It is read and answered as run_squad predicts
(`squad_data`, `squad_postprocessing`): the question cut to max_query_length tokens, the context in
windows `doc_stride` tokens apart (a long context is never cut, it takes more rows), the best span over
all windows among the n-best of starts and ends. SQuAD 2.0 models also answer the no-answer score (the
lowest answerability logit over the windows) and give "" when it exceeds the export's threshold.
"""

import numpy as np

from albert_tf.serving.served_example import Field, ServedExample, read_object, text_of
from albert_tf.tasks.squad_config import SquadConfig
from albert_tf.tasks.squad_data import SquadExample, convert_examples_to_features
from albert_tf.tasks.squad_postprocessing import postprocess_v1, postprocess_v2

_DEFAULTS = SquadConfig()  # an export from albert-export records only max_query_length: run_squad's defaults


class SquadAnswers:
    """`{"answer": "Denver Broncos", "start": 177, "end": 191, "score": 0.93}` (`start`/`end`: characters of
    the context, end exclusive; score: the answer's probability among the n-best spans); SQuAD 2.0 adds
    `"has_answer"` and `"no_answer_score"` and answers `""` (start and end null) when there is none."""

    FIELDS = {"question": Field("BYTES", 1, "the question"),
              "context": Field("BYTES", 1, "the paragraph that holds the answer")}

    def __init__(self, tokenizer, serving, runner):
        self.tokenizer = tokenizer
        self.do_lower_case = serving["do_lower_case"]
        self.max_seq_length = serving["max_seq_length"]
        self.max_query_length = serving.get("max_query_length", _DEFAULTS.max_query_length)
        self.doc_stride = serving.get("doc_stride", _DEFAULTS.doc_stride)
        self.max_answer_length = serving.get("max_answer_length", _DEFAULTS.max_answer_length)
        self.n_best_size = serving.get("n_best_size", _DEFAULTS.n_best_size)
        self.v2 = "cls_logits" in runner.outputs
        self.threshold = serving.get("null_score_diff_threshold", 0.0)
        self.outputs = ("answer", "start", "end", "score") + (("has_answer", "no_answer_score") if self.v2 else ())

    def example(self, instance, where="instance"):
        instance = read_object(instance, self.FIELDS, where)
        question, context = text_of(instance, "question", where), text_of(instance, "context", where)
        example = SquadExample("0", question, context)
        features, windows, _ = convert_examples_to_features(
            [example], self.tokenizer, self.max_seq_length, self.doc_stride, self.max_query_length, False,
            self.do_lower_case)
        truncated = len(self.tokenizer.encode(question)) > self.max_query_length
        return ServedExample(list(zip(features["input_ids"], features["segment_ids"])), truncated,
                             {"example": example, "windows": windows})

    def answer(self, example, outputs):
        squad, windows = example.context["example"], example.context["windows"]
        if self.v2:
            stacked = {name: np.stack([row[name] for row in outputs]) for name in
                       ("start_top_log_probs", "start_top_index", "end_top_log_probs", "end_top_index", "cls_logits")}
            predictions, nbest, null_odds = postprocess_v2(
                [squad], windows, stacked, self.n_best_size, self.max_answer_length, self.threshold, offsets=True)
        else:
            lengths = [len(ids) for ids, _ in example.rows]
            stacked = {name: _padded([row[name][:length] for row, length in zip(outputs, lengths)])
                       for name in ("start_logits", "end_logits")}
            predictions, nbest, null_odds = postprocess_v1(
                [squad], windows, lengths, stacked, self.n_best_size, self.max_answer_length, offsets=True)
        best = nbest[squad.qas_id][0]
        answered = predictions[squad.qas_id] != ""
        answer = {"answer": predictions[squad.qas_id], "start": best["start"] if answered else None,
                  "end": best["end"] if answered else None, "score": float(best["probability"])}
        if self.v2:
            answer.update(has_answer=answered, no_answer_score=float(null_odds[squad.qas_id]))
        return answer


def _padded(rows):
    """Rows of logits of different lengths as one array, padded with -1e30 (never chosen)."""
    longest = max(len(row) for row in rows)
    return np.stack([np.pad(row, (0, longest - len(row)), constant_values=-1e30) for row in rows])
