"""Fine-tuning data and metrics: GLUE/CLUE readers on the real files, metrics, SQuAD EM/F1 and features."""

import json
import os
import sys

import numpy as np
import pytest

from albert_tf.tasks import metrics, squad_evaluation
from albert_tf.tasks.classification_tasks import TASKS, encode_examples, generic_task, read_examples
from albert_tf.tasks.squad_data import convert_examples_to_features, read_squad_examples, window_answer_text
from albert_tf.tokenization import FullTokenizer
from conftest import REPO
import processes

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"
ZH_VOCAB = "albert_zh_brightmart/albert_config/vocab.txt"
SQUAD_DEV = "squad/dev-v2.0-first2articles.json"


# --- metrics against hand-computed values ---------------------------------------------------------

def test_classification_metrics_hand_checked():
    labels, predicted = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]  # TP 2, FN 1, FP 1, TN 1
    assert metrics.accuracy(labels, predicted) == pytest.approx(0.6)
    assert metrics.f1(labels, predicted) == pytest.approx(2 * 2 / (3 + 3))
    assert metrics.matthews_corrcoef(labels, predicted) == pytest.approx((2 * 1 - 1 * 1) / 6)
    assert metrics.matthews_corrcoef([1, 1, 1], [1, 1, 1]) == 0.0  # an empty marginal, as scikit-learn
    assert metrics.f1([0, 0], [0, 0]) == 0.0


def test_correlations_hand_checked():
    # Ranks with ties: x -> [1, 2.5, 2.5, 4]; y -> [1, 3, 2, 4]; r = 4.5 / sqrt(4.5 * 5).
    assert metrics.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / np.sqrt(22.5), rel=1e-12)
    assert metrics.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert metrics.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    x, y = [0.5, 2.0, 3.5, 1.0], [1.0, 2.5, 2.0, 0.0]
    dx, dy = np.subtract(x, np.mean(x)), np.subtract(y, np.mean(y))
    assert metrics.pearson(x, y) == pytest.approx(np.sum(dx * dy) / np.sqrt(np.sum(dx**2) * np.sum(dy**2)))


# --- GLUE / CLUE readers on the real files ----------------------------------------------------------

# Whole dev files: GLUE's published counts. Trimmed files (their first rows, tests/data/README.md):
# counted with `tail -n +2 FILE | cut -f1 | sort | uniq -c` (MRPC), `awk -F'\t' '{print $NF}'` (SST-2)
# and `grep -o '"label":"[01]"'` (AFQMC).
@pytest.mark.parametrize("task, split, count, label_counts", [
    ("sst-2", "train", 3000, {"1": 1638, "0": 1362}),
    ("sst-2", "dev", 872, {"1": 444, "0": 428}),
    ("cola", "dev", 1043, {"1": 721, "0": 322}),
    ("mrpc", "train", 600, {"1": 410, "0": 190}),
    ("mrpc", "dev", 408, {"1": 279, "0": 129}),
    ("afqmc", "dev", 1000, {"0": 639, "1": 361}),
])
def test_real_classification_files(test_data, task, split, count, label_counts):
    folder = {"afqmc": "clue/afqmc"}.get(task, f"glue/{TASKS[task].name}")
    examples = read_examples(TASKS[task], os.path.join(test_data, folder), split)
    assert len(examples) == count
    assert {label: sum(e.label == label for e in examples) for label in label_counts} == label_counts
    assert all(e.text_a for e in examples)
    assert (TASKS[task].columns.text_b is None) == all(e.text_b is None for e in examples)


def test_sts_b_regression_and_unlabelled_test_splits(test_data):
    dev = read_examples(TASKS["sts-b"], os.path.join(test_data, "glue/STS-B"), "dev")
    assert len(dev) == 400 and all(0.0 <= e.label <= 5.0 for e in dev)
    assert dev[0].text_a == "A man with a hard hat is dancing." and dev[0].label == 5.0
    test = read_examples(TASKS["sst-2"], os.path.join(test_data, "glue/SST-2"), "test")
    assert len(test) == 300 and test[0].guid == "0" and test[0].label is None
    mrpc_test = read_examples(TASKS["mrpc"], os.path.join(test_data, "glue/MRPC"), "test")
    assert len(mrpc_test) == 200 and mrpc_test[0].text_b.startswith("Current Chief Operating Officer")


def test_bad_rows_name_the_file_and_line(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\ngood film\t1\nbad film\tpositive\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train.tsv:3: unknown label 'positive'.*\['0', '1'\]"):
        read_examples(TASKS["sst-2"], str(tmp_path), "train")
    path.write_text("sentence\tlabel\nno label column\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train.tsv:2: no column 1"):
        read_examples(TASKS["sst-2"], str(tmp_path), "train")
    path.write_bytes(b"sentence\tlabel\n\xff\xfe bad\t1\n")
    with pytest.raises(ValueError, match="train.tsv: not UTF-8"):
        read_examples(TASKS["sst-2"], str(tmp_path), "train")
    with pytest.raises(FileNotFoundError, match="SST-2 dev data not found"):
        read_examples(TASKS["sst-2"], str(tmp_path), "dev")


def test_generic_csv_and_jsonl(tmp_path):
    (tmp_path / "train.csv").write_text('text,other,label\n"a, quoted",b,yes\nplain,c,no\n', encoding="utf-8")
    task = generic_task(str(tmp_path / "train.csv"), text_a_column="0", text_b_column="1", label_column="2",
                        labels="no,yes")
    examples = read_examples(task, None, "train")
    assert [(e.text_a, e.text_b, e.label) for e in examples] == [("a, quoted", "b", "yes"), ("plain", "c", "no")]
    (tmp_path / "dev.jsonl").write_text('{"q": "x", "score": 0.5}\n{"q": "y", "score": 2}\n', encoding="utf-8")
    task = generic_task(None, str(tmp_path / "dev.jsonl"), text_a_column="q", label_column="score")
    assert task.is_regression and [e.label for e in read_examples(task, None, "dev")] == [0.5, 2.0]


def test_encode_examples_packs_and_truncates_like_the_original(test_data):
    tokenizer = FullTokenizer(spm_model_file=os.path.join(test_data, GERMAN_SPM))
    examples = read_examples(TASKS["mrpc"], os.path.join(test_data, "glue/MRPC"), "dev")[:50]
    features = encode_examples(TASKS["mrpc"], examples, tokenizer, max_seq_length=32)
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    for example, ids, segments in zip(examples, features["input_ids"], features["segment_ids"]):
        a, b = tokenizer.encode(example.text_a), tokenizer.encode(example.text_b)
        assert ids[0] == cls_id and ids[-1] == sep_id and len(ids) == min(32, len(a) + len(b) + 3)
        first_sep = ids.index(sep_id)
        kept_a, kept_b = first_sep - 1, len(ids) - first_sep - 2
        assert ids[1:first_sep] == a[:kept_a] and ids[first_sep + 1:-1] == b[:kept_b]
        if len(a) + len(b) > 29:  # longest first: the kept lengths differ by at most one
            assert abs(kept_a - kept_b) <= 1 or min(len(a), len(b)) in (kept_a, kept_b)
        assert segments == [0] * (first_sep + 1) + [1] * (kept_b + 1)


# --- SQuAD --------------------------------------------------------------------------------------------

def test_squad_scores_worked_examples():
    assert squad_evaluation.normalize_answer("The  Cat, (sat)!") == "cat sat"
    assert squad_evaluation.exact_score("the cat", "Cat.") == 1
    assert squad_evaluation.f1_score("the big red dog", "red dog barked") == pytest.approx(2 / 3)
    assert squad_evaluation.f1_score("", "") == 1 and squad_evaluation.f1_score("", "a dog") == 0
    dataset = [{"paragraphs": [{"context": "...", "qas": [
        {"id": "q1", "answers": [{"text": "Denver Broncos"}, {"text": "the Broncos"}]},
        {"id": "q2", "answers": [{"text": "1990"}]},
        {"id": "q3", "answers": []},
        {"id": "q4", "answers": []},
    ]}]}]
    predictions = {"q1": "Broncos", "q2": "in 1990", "q3": "", "q4": "Paris"}
    # q1: max over golds: "the Broncos" -> "broncos" exact; q2: F1 2/3; q3 right no-answer; q4 wrong.
    result = squad_evaluation.evaluate_v2(dataset, predictions)
    assert result["exact"] == pytest.approx(50.0) and result["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 4)
    assert (result["HasAns_total"], result["NoAns_total"]) == (2, 2)
    assert result["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2) and result["NoAns_exact"] == 50.0
    na_probs = {"q1": 0.1, "q2": 0.2, "q3": 0.9, "q4": 0.8}
    squad_evaluation.add_best_thresholds(result, dataset, predictions, na_probs)
    # The official sweep over na_probs in increasing order, starting from "abstain on all" (2 right):
    # answer q1 (+1 -> 3, threshold 0.1), q2 (+0, no gain), q4 (-1), q3 (0): best EM 3/4 at 0.1.
    assert result["best_exact"] == pytest.approx(75.0) and result["best_exact_thresh"] == pytest.approx(0.1)
    thresholded = squad_evaluation.evaluate_v2(dataset, predictions, na_probs, na_prob_thresh=0.5)
    assert thresholded["exact"] == pytest.approx(75.0)
    v1 = squad_evaluation.evaluate_v1([{"paragraphs": [{"qas": dataset[0]["paragraphs"][0]["qas"][:2]}]}],
                                      {"q1": "Broncos"})
    assert v1 == {"exact_match": 50.0, "f1": 50.0}  # q2 unanswered scores 0


def test_squad_eval_tool_has_the_official_interface(tmp_path, test_data):
    data_file = os.path.join(test_data, SQUAD_DEV)
    with open(data_file, encoding="utf-8") as f:
        data = json.load(f)
    questions = [qa for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
    predictions = {qa["id"]: (qa["answers"][0]["text"] if qa["answers"] else "") for qa in questions}
    predictions[questions[0]["id"]] = "something else"
    (tmp_path / "pred.json").write_text(json.dumps(predictions))
    (tmp_path / "na.json").write_text(json.dumps({qid: 0.0 for qid in predictions}))
    result = processes.run([sys.executable, os.path.join(REPO, "tools", "squad_eval.py"), data_file,
                             str(tmp_path / "pred.json"), "--na-prob-file", str(tmp_path / "na.json")],
                            capture_output=True, text=True, check=True)
    scores = json.loads(result.stdout)
    # The first two articles of SQuAD v2.0 dev: 626 questions, 293 answerable (tests/data/README.md).
    assert list(scores)[:3] == ["exact", "f1", "total"] and scores["total"] == 626
    assert scores["NoAns_exact"] == 100.0 and scores["HasAns_total"] == 293
    assert scores["exact"] == pytest.approx(100 * 625 / 626) and "best_f1_thresh" in scores


@pytest.mark.parametrize("version", ["1.1", "2.0"])
def test_squad_eval_counts_missing_predictions_as_zero(tmp_path, test_data, version):
    with open(os.path.join(test_data, SQUAD_DEV), encoding="utf-8") as f:
        data = json.load(f)
    if version == "1.1":  # a v1.1 file has answerable questions only
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["answers"]]
    data_file = str(tmp_path / "data.json")
    (tmp_path / "data.json").write_text(json.dumps(data))
    questions = [qa for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
    # Right answers to half of the questions only: 50% (the official v1.1 rule), not 100%.
    predictions = {qa["id"]: (qa["answers"][0]["text"] if qa["answers"] else "") for qa in questions[::2]}
    (tmp_path / "pred.json").write_text(json.dumps(predictions))
    command = [sys.executable, os.path.join(REPO, "tools", "squad_eval.py"), data_file, str(tmp_path / "pred.json"),
               "--version", version]
    result = processes.run(command, timeout=120)
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    expected = 100 * len(predictions) / len(questions)
    assert scores["exact_match" if version == "1.1" else "exact"] == pytest.approx(expected)
    missing = len(questions) - len(predictions)
    assert result.stderr.startswith("warning: ") and f"has no prediction for {missing} question(s)" in result.stderr
    assert "each scores 0" in result.stderr
    strict = processes.run(command + ["--strict"], timeout=120)
    assert strict.returncode == 1 and f"no prediction for {missing} question(s)" in strict.stderr


@pytest.mark.parametrize("vocabulary", ["spm", "wordpiece"])
def test_squad_v2_features_map_back_to_the_gold_text(test_data, vocabulary):
    tokenizer = (FullTokenizer(spm_model_file=os.path.join(test_data, GERMAN_SPM)) if vocabulary == "spm"
                 else FullTokenizer(vocab_file=os.path.join(test_data, ZH_VOCAB)))
    path = os.path.join(test_data, SQUAD_DEV)
    examples = read_squad_examples(path, is_training=False, version_2_with_negative=True)
    assert len(examples) == 626 and sum(e.is_impossible for e in examples) == 333
    with open(path, encoding="utf-8") as f:  # the training view: each question's first gold answer
        data = json.load(f)["data"]
    answers = {qa["id"]: qa["answers"][0] for a in data for p in a["paragraphs"] for qa in p["qas"] if qa["answers"]}
    for example in examples:
        if example.qas_id in answers:
            example.answer_text = answers[example.qas_id]["text"]
            example.start_char = answers[example.qas_id]["answer_start"]
    features, windows, stats = convert_examples_to_features(
        examples, tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64, is_training=True)
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    exact = inside_token = 0
    for row, window in enumerate(windows):
        ids, p_mask = features["input_ids"][row], features["p_mask"][row]
        assert ids[0] == cls_id and ids[window.doc_offset - 1] == sep_id and ids[-1] == sep_id
        assert p_mask[0] == 0 and all(p_mask[1:window.doc_offset]) and p_mask[-1] == 1
        example = examples[window.example_index]
        if features["is_impossible"][row]:
            assert features["start_positions"][row] == features["end_positions"][row] == 0
            continue
        start, end = features["start_positions"][row], features["end_positions"][row]
        assert window.doc_offset <= start <= end < len(ids) - 1
        text = window_answer_text(example, window, start, end)
        if text == example.answer_text.strip():
            exact += 1
            continue
        # Otherwise the gold span starts or ends inside a token: the tokens cover it minimally.
        first, last = example.start_char, example.start_char + len(example.answer_text) - 1
        token_first = window.tok_start_to_orig[start - window.doc_offset]
        token_last = window.tok_end_to_orig[end - window.doc_offset]
        assert example.answer_text.strip() in text and token_first <= first and last <= token_last
        assert token_first < first or last < token_last
        inside_token += 1
    answerable_windows = exact + inside_token
    # Each of the 293 answerable questions has its answer whole in at least one window (windows overlap by more
    # than any answer's length); some answers lie in two.
    assert answerable_windows >= 293 and inside_token <= 0.01 * answerable_windows
    assert stats["features"] == len(features["input_ids"]) > 626


def test_squad_training_errors_name_the_question(tmp_path):
    data = {"data": [{"paragraphs": [{"context": "Denver won in 2016.", "qas": [
        {"id": "q-misaligned", "question": "Who?", "answers": [{"text": "Denver", "answer_start": 3}]}]}]}]}
    (tmp_path / "train.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="q-misaligned: answer 'Denver' is not at character 3"):
        read_squad_examples(str(tmp_path / "train.json"), is_training=True)
