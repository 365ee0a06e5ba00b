"""albert-squad-eval: exit status, and one `error:` line (no traceback) for each bad input."""

import json

import pytest

from albert_tf.cli.squad_eval import main

DATA = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "Denver won. Paris is far.", "qas": [
    {"id": "q1", "question": "Who won?", "answers": [{"text": "Denver", "answer_start": 0}], "is_impossible": False},
    {"id": "q2", "question": "Where?", "answers": [{"text": "Paris", "answer_start": 12}], "is_impossible": False},
    {"id": "q3", "question": "When?", "answers": [], "is_impossible": True}]}]}]}
RIGHT = {"q1": "Denver", "q2": "Paris", "q3": ""}


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def score(tmp_path, capsys, data=DATA, predictions=RIGHT, *extra):
    """(exit status, stdout, stderr) of the command on files holding `data` and `predictions`."""
    code = main([write(tmp_path, "data.json", data), write(tmp_path, "pred.json", predictions), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_correct_run_exits_0_and_prints_the_scores_as_json(tmp_path, capsys):
    code, out, err = score(tmp_path, capsys)
    assert code == 0 and err == ""
    scores = json.loads(out)
    assert list(scores)[:3] == ["exact", "f1", "total"] and scores["exact"] == 100.0 and scores["total"] == 3


@pytest.mark.parametrize("predictions, expected", [
    ("", "pred.json: the predictions file is empty"),
    ("not json", "pred.json: the predictions file is not valid JSON (Expecting value at line 1, column 1)"),
    ('{"q1": "Denver", "q2"', "pred.json: the predictions file is not valid JSON"),
    (["Denver"], "pred.json: expected a JSON object {question id: answer text}, found a list"),
    ({"q1": 3, "q2": "Paris"}, "pred.json: the answer text for 'q1' is a number 3; expected a string"),
    ({"x1": "Denver", "x2": "Paris"}, "pred.json: none of its 2 prediction(s) is for a question of"),
])
def test_bad_prediction_files_are_one_error_line(tmp_path, capsys, predictions, expected):
    code, out, err = score(tmp_path, capsys, DATA, predictions)
    assert code == 1 and out == "" and err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_a_missing_file_is_named(tmp_path, capsys):
    code = main([write(tmp_path, "data.json", DATA), str(tmp_path / "nowhere.json")])
    assert code == 1 and f"error: {tmp_path / 'nowhere.json'}: no such predictions file" in capsys.readouterr().err


@pytest.mark.parametrize("data, expected", [
    (json.dumps(DATA)[:60], "data.json: the SQuAD data file is not valid JSON"),
    ({"version": "v2.0"}, 'data.json: not a SQuAD file: expected a JSON object with a "data" list'),
    ({"data": [{"paragraphs": [{"context": "x"}]}]}, 'data.json: article 0, paragraph 0 has no "qas" list'),
    ({"data": [{"paragraphs": [{"qas": [{"question": "?", "answers": []}]}]}]}, 'question 0 has no string "id"'),
])
def test_bad_data_files_are_one_error_line(tmp_path, capsys, data, expected):
    code, out, err = score(tmp_path, capsys, data)
    assert code == 1 and out == "" and err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_v1_rules_on_v2_data_are_refused(tmp_path, capsys):
    code, _, err = score(tmp_path, capsys, DATA, RIGHT, "--version", "1.1")
    assert code == 1 and "1 question(s) have no gold answer (q3): a SQuAD v2.0 file" in err


def test_predictions_for_unknown_ids_are_counted_and_ignored(tmp_path, capsys):
    code, out, err = score(tmp_path, capsys, DATA, {**RIGHT, "zz": "Denver"})
    assert code == 0 and json.loads(out)["exact"] == 100.0
    assert "warning: 1 prediction(s) in" in err and "(zz); they are ignored" in err


def test_a_partial_no_answer_file_is_counted_or_refused_under_strict(tmp_path, capsys):
    na = write(tmp_path, "na.json", {"q1": 0.1, "q3": 0.9})  # q2 has none
    code, out, err = score(tmp_path, capsys, DATA, RIGHT, "--na-prob-file", na)
    assert code == 0 and json.loads(out)["exact"] == 100.0
    # The search counts q2 as answered "" at every threshold: 2 of 3 at best, and the warning says why.
    assert json.loads(out)["best_exact"] == pytest.approx(200 / 3)
    assert "warning: " in err and "no probability for 1 predicted question(s) (q2)" in err
    code, out, err = score(tmp_path, capsys, DATA, RIGHT, "--na-prob-file", na, "--strict")
    assert code == 1 and out == "" and err.startswith("error: ") and "drop --strict" in err
    bad = write(tmp_path, "na.json", {"q1": "high"})
    code, _, err = score(tmp_path, capsys, DATA, RIGHT, "--na-prob-file", bad)
    assert code == 1 and "the no-answer probability for 'q1' is a string 'high'; expected a number" in err


def test_out_file_gets_the_scores_and_stdout_stays_empty(tmp_path, capsys):
    code, out, _ = score(tmp_path, capsys, DATA, RIGHT, "--out-file", str(tmp_path / "eval.json"))
    assert code == 0 and out == "" and json.loads((tmp_path / "eval.json").read_text())["f1"] == 100.0
