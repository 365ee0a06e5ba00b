"""SQuAD EM/F1 exactly as the official v1.1 and v2.0 evaluation scripts define them.

v1.1: answers are normalised (lower case, punctuation and the articles
a/an/the removed, whitespace collapsed); EM and token F1 take the maximum
over the gold answers; a missing prediction scores 0 and the totals are over
every question of the data file.

v2.0: gold answers that normalise to "" are dropped and a question without
gold answers has the single gold answer ""; F1 is 1 when both sides are
empty and 0 when only one is; only predicted questions count in the totals;
a no-answer probability above `na_prob_thresh` turns a prediction into "";
the output adds HasAns_/NoAns_ breakdowns and, with no-answer
probabilities, the best threshold search (`best_exact`, `best_f1` and their
thresholds).
"""

import collections
import math
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """Lower case, remove punctuation, articles and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text):
    return normalize_answer(text).split() if text else []


def exact_score(gold, prediction):
    return int(normalize_answer(gold) == normalize_answer(prediction))


def f1_score(gold, prediction):
    """Token-overlap F1 of v2.0 (v1.1 differs only for empty answers, which it never sees)."""
    gold_tokens, predicted_tokens = answer_tokens(gold), answer_tokens(prediction)
    if not gold_tokens or not predicted_tokens:
        return int(gold_tokens == predicted_tokens)
    common = collections.Counter(gold_tokens) & collections.Counter(predicted_tokens)
    same = sum(common.values())
    if same == 0:
        return 0
    precision, recall = same / len(predicted_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _questions(dataset):
    for article in dataset:
        for paragraph in article["paragraphs"]:
            yield from paragraph["qas"]


def check_dataset(data, source):
    """The `data` list of a SQuAD JSON file, checked for what scoring reads.

    Raises:
        ValueError: naming `source`, the article/paragraph/question and what is missing.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{source}: not a SQuAD file: expected a JSON object with a \"data\" list of articles "
                         f"(the official train/dev file), found {type(data).__name__}"
                         + (f" with keys {sorted(data)[:5]}" if isinstance(data, dict) else ""))
    for a, article in enumerate(data["data"]):
        where = f"{source}: article {a}"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise ValueError(f"{where} has no \"paragraphs\" list")
        for p, paragraph in enumerate(article["paragraphs"]):
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("qas"), list):
                raise ValueError(f"{where}, paragraph {p} has no \"qas\" list of questions")
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, dict) or not isinstance(qa.get("id"), str):
                    raise ValueError(f"{where}, paragraph {p}, question {q} has no string \"id\"")
                if not isinstance(qa.get("answers"), list) or not all(
                        isinstance(answer, dict) and isinstance(answer.get("text"), str) for answer in qa["answers"]):
                    raise ValueError(f"{where}, paragraph {p}, question {qa['id']}: \"answers\" must be a list of "
                                     "{\"text\": ...} objects")
    if not any(True for _ in _questions(data["data"])):
        raise ValueError(f"{source}: the SQuAD data has no questions")
    return data["data"]


def question_ids(dataset):
    return [qa["id"] for qa in _questions(dataset)]


def shown_ids(ids, most=5):
    """The first question ids of a list, for a message."""
    return ", ".join(ids[:most]) + (", ..." if len(ids) > most else "")


def unanswerable_questions(dataset):
    """Ids of the questions without gold answers (SQuAD v2.0's unanswerable ones)."""
    return [qa["id"] for qa in _questions(dataset) if not qa["answers"]]


def check_id_map(values, source, what, expected_type):
    """A JSON object mapping question ids to `expected_type` (str answers, float probabilities).

    Raises:
        ValueError: naming `source`, the first bad entry and what was expected.
    """
    if not isinstance(values, dict):
        raise ValueError(f"{source}: expected a JSON object {{question id: {what}}}, found a "
                         f"{type(values).__name__}")
    names = {str: "a string", float: "a number"}
    for qid, value in values.items():
        ok = isinstance(value, str) if expected_type is str else (
            isinstance(value, (int, float)) and not isinstance(value, bool))
        if not ok:
            raise ValueError(f"{source}: the {what} for {qid!r} is {json_type(value)} {value!r:.40}; expected "
                             f"{names[expected_type]}")
    return values


def json_type(value):
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def missing_predictions(dataset, predictions):
    """Ids of the data file's questions that have no prediction (they score 0)."""
    return [qa["id"] for qa in _questions(dataset) if qa["id"] not in predictions]


def evaluate_v1(dataset, predictions):
    """{"exact_match", "f1"} in percent, as evaluate-v1.1.py (a missing prediction scores 0)."""
    unanswerable = unanswerable_questions(dataset)
    if unanswerable:
        raise ValueError(f"{len(unanswerable)} question(s) have no gold answer ({shown_ids(unanswerable)}): a SQuAD "
                         "v2.0 file; v1.1 scoring takes answerable questions only")
    exact = f1 = total = 0
    for qa in _questions(dataset):
        total += 1
        if qa["id"] not in predictions:
            continue
        golds = [answer["text"] for answer in qa["answers"]]
        prediction = predictions[qa["id"]]
        exact += max(exact_score(gold, prediction) for gold in golds)
        f1 += max(f1_score(gold, prediction) for gold in golds)
    if total == 0:
        raise ValueError("the SQuAD data has no questions")
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


def raw_scores(dataset, predictions):
    """Per-question EM and F1 of v2.0; a question without a prediction scores 0, as in v1.1.

    (The official v2.0 script stops at a missing id; counting it as 0 scores the same predictions
    the same way and keeps partial prediction files comparable with v1.1.)
    """
    exact, f1 = {}, {}
    for qa in _questions(dataset):
        qid = qa["id"]
        golds = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])] or [""]
        if qid not in predictions:
            exact[qid] = f1[qid] = 0.0
            continue
        exact[qid] = max(exact_score(gold, predictions[qid]) for gold in golds)
        f1[qid] = max(f1_score(gold, predictions[qid]) for gold in golds)
    return exact, f1


def apply_no_answer_threshold(scores, na_probs, has_answer, threshold):
    # A question without a prediction has no no-answer probability either: it keeps its 0.
    return {qid: float(not has_answer[qid]) if na_probs.get(qid, -math.inf) > threshold else score
            for qid, score in scores.items()}


def _eval_dict(exact, f1, qids=None):
    qids = list(exact) if qids is None else qids
    total = len(qids)
    return collections.OrderedDict([
        ("exact", 100.0 * sum(exact[q] for q in qids) / total),
        ("f1", 100.0 * sum(f1[q] for q in qids) / total),
        ("total", total),
    ])


def best_threshold(predictions, scores, na_probs, has_answer):
    """(best score in percent, threshold) sweeping the no-answer threshold, as the official script."""
    score = best = sum(1 for qid in has_answer if not has_answer[qid])
    threshold = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores or qid not in predictions:
            continue
        if has_answer[qid]:
            diff = scores[qid]
        else:
            diff = -1 if predictions[qid] else 0
        score += diff
        if score > best:
            best, threshold = score, na_probs[qid]
    return 100.0 * best / len(scores), threshold


def evaluate_v2(dataset, predictions, na_probs=None, na_prob_thresh=1.0):
    """The official v2.0 script's output dict (same keys, same order)."""
    has_answer = {qa["id"]: bool(qa["answers"]) for qa in _questions(dataset)}
    if na_probs is None:
        na_probs = {qid: 0.0 for qid in predictions}
    if not any(qid in predictions for qid in has_answer):
        raise ValueError("none of the predictions is for a question of the data file")
    exact_raw, f1_raw = raw_scores(dataset, predictions)
    exact = apply_no_answer_threshold(exact_raw, na_probs, has_answer, na_prob_thresh)
    f1 = apply_no_answer_threshold(f1_raw, na_probs, has_answer, na_prob_thresh)
    result = _eval_dict(exact, f1)
    for prefix, wanted in (("HasAns", True), ("NoAns", False)):
        qids = [qid for qid, has in has_answer.items() if has == wanted and qid in exact]
        if qids:
            for key, value in _eval_dict(exact, f1, qids).items():
                result[f"{prefix}_{key}"] = value
    return result


def add_best_thresholds(result, dataset, predictions, na_probs):
    """Adds best_exact, best_exact_thresh, best_f1, best_f1_thresh (the script's --na-prob-file path)."""
    has_answer = {qa["id"]: bool(qa["answers"]) for qa in _questions(dataset)}
    exact_raw, f1_raw = raw_scores(dataset, predictions)
    result["best_exact"], result["best_exact_thresh"] = best_threshold(predictions, exact_raw, na_probs, has_answer)
    result["best_f1"], result["best_f1_thresh"] = best_threshold(predictions, f1_raw, na_probs, has_answer)
    return result
