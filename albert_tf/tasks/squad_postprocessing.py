"""From model outputs to SQuAD answers, n-best lists and no-answer scores.

v1 (the original ALBERT v1 post-processing): per window, the n_best_size
best starts and ends by log-probability; a span is kept if both ends are in
the window's paragraph, the start has its maximum context in this window,
end >= start and it is at most max_answer_length tokens; spans are ranked by
start + end log-probability over all windows, duplicates of the same text
dropped.

v2 (run_squad_v2): the model's 5 x 5 beam gives the candidates, filtered the
same way; the no-answer score of an example is the lowest answerability
logit over its windows; the answer is "" when that score exceeds the
threshold. `null_odds.json` holds the scores (the official script's
--na-prob-file).
"""

import collections
import json
import math
import os

import numpy as np

from albert_tf.outputs.atomic_files import atomic_open
from albert_tf.tasks.squad_data import window_answer_span


def _softmax(scores):
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    return [e / sum(exps) for e in exps]


def _log_softmax(logits):
    logits = logits - np.max(logits)
    return logits - np.log(np.sum(np.exp(logits)))


def _valid(window, start, end, max_answer_length):
    length = len(window.tok_start_to_orig)
    first, last = start - window.doc_offset, end - window.doc_offset
    return (0 <= first < length and 0 <= last < length and window.token_is_max_context[first]
            and end >= start and end - start + 1 <= max_answer_length)


def _nbest(example, candidates, n_best_size, offsets=False):
    """candidates: (start_lp, end_lp, window, start, end) -> n-best list of dicts (best first); with `offsets`,
    each also has the answer's `start` and `end` character in the paragraph (None for the empty answer)."""
    candidates.sort(key=lambda c: c[0] + c[1], reverse=True)
    seen, nbest = set(), []
    for start_lp, end_lp, window, start, end in candidates:
        if len(nbest) >= n_best_size:
            break
        text, first, end_char = window_answer_span(example, window, start, end)
        if text in seen:
            continue
        seen.add(text)
        nbest.append({"text": text, "start_log_prob": float(start_lp), "end_log_prob": float(end_lp),
                      "start": first, "end": end_char})
    if not nbest:
        nbest.append({"text": "", "start_log_prob": -1e6, "end_log_prob": -1e6, "start": None, "end": None})
    for entry, probability in zip(nbest, _softmax([e["start_log_prob"] + e["end_log_prob"] for e in nbest])):
        entry["probability"] = probability
    keys = ("text", "probability", "start_log_prob", "end_log_prob") + (("start", "end") if offsets else ())
    return [{k: entry[k] for k in keys} for entry in nbest]


def _windows_by_example(windows):
    grouped = collections.defaultdict(list)
    for row, window in enumerate(windows):
        grouped[window.example_index].append(row)
    return grouped


def postprocess_v1(examples, windows, sequence_lengths, outputs, n_best_size=20, max_answer_length=30,
                   offsets=False):
    """(predictions {qid: text}, nbest {qid: [...]}) from `start_logits`/`end_logits` rows; `offsets`: the
    n-best entries also give the answer's characters (`start`, `end`) in the paragraph."""
    predictions, all_nbest = collections.OrderedDict(), collections.OrderedDict()
    grouped = _windows_by_example(windows)
    for example_index, example in enumerate(examples):
        candidates = []
        for row in grouped[example_index]:
            window, length = windows[row], sequence_lengths[row]
            start_lp = _log_softmax(outputs["start_logits"][row, :length])
            end_lp = _log_softmax(outputs["end_logits"][row, :length])
            top_starts = np.argsort(-start_lp, kind="stable")[:n_best_size]
            top_ends = np.argsort(-end_lp, kind="stable")[:n_best_size]
            for start in top_starts:
                for end in top_ends:
                    if _valid(window, int(start), int(end), max_answer_length):
                        candidates.append((start_lp[start], end_lp[end], window, int(start), int(end)))
        nbest = _nbest(example, candidates, n_best_size, offsets)
        predictions[example.qas_id] = nbest[0]["text"]
        all_nbest[example.qas_id] = nbest
    return predictions, all_nbest, None


def postprocess_v2(examples, windows, outputs, n_best_size=20, max_answer_length=30,
                   null_score_threshold=None, offsets=False):
    """(predictions, nbest, null_odds) from the v2 head's beam outputs.

    `null_score_threshold` None: always the best non-null answer (use the
    odds to search a threshold).
    """
    predictions, all_nbest, null_odds = (collections.OrderedDict() for _ in range(3))
    grouped = _windows_by_example(windows)
    start_n_top = outputs["start_top_index"].shape[1]
    end_n_top = outputs["end_top_index"].shape[1] // start_n_top
    for example_index, example in enumerate(examples):
        candidates, null_score = [], None
        for row in grouped[example_index]:
            window = windows[row]
            score = float(outputs["cls_logits"][row])
            null_score = score if null_score is None else min(null_score, score)
            for i in range(start_n_top):
                start = int(outputs["start_top_index"][row, i])
                for j in range(end_n_top):
                    end = int(outputs["end_top_index"][row, i * end_n_top + j])
                    if _valid(window, start, end, max_answer_length):
                        candidates.append((outputs["start_top_log_probs"][row, i],
                                           outputs["end_top_log_probs"][row, i * end_n_top + j],
                                           window, start, end))
        nbest = _nbest(example, candidates, n_best_size, offsets)
        null_odds[example.qas_id] = null_score
        answer = nbest[0]["text"]
        if null_score_threshold is not None and null_score > null_score_threshold:
            answer = ""
        predictions[example.qas_id] = answer
        all_nbest[example.qas_id] = nbest
    return predictions, all_nbest, null_odds


def write_prediction_files(output_dir, predictions, nbest, null_odds=None):
    """predictions.json, nbest_predictions.json and (v2) null_odds.json, as the original."""
    paths = []
    for name, content in (("predictions.json", predictions), ("nbest_predictions.json", nbest),
                          ("null_odds.json", null_odds)):
        if content is None:
            continue
        path = os.path.join(output_dir, name)
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(content, indent=4) + "\n")
        paths.append(path)
    return paths
