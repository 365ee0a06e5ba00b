"""End-to-end runs of run_classifier.py, run_squad.py and run_race.py with a tiny model (subprocesses)."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer, save_checkpoint
from conftest import REPO
from race_sample import write_race_sample
import processes

pytestmark = pytest.mark.integration  # end-to-end runs in subprocesses

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, request):
    from conftest import TEST_DATA
    root = tmp_path_factory.mktemp("finetune")
    config = AlbertConfig(vocab_size=30000, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    config.to_json_file(str(root / "albert_config.json"))
    pretrainer = AlbertPretrainer(config)  # an "original" checkpoint to start from, heads included
    save_checkpoint(pretrainer, str(root / "pretrained" / "model.ckpt-best"))
    return {"root": root, "data": TEST_DATA, "config": str(root / "albert_config.json"),
            "spm": os.path.join(TEST_DATA, GERMAN_SPM), "init": str(root / "pretrained" / "model.ckpt-best")}


def run(script, setup, output_dir, *args, config=True):
    """The script's log; config=False: no --albert_config_file (a distillation's student from shape flags)."""
    config_flag = [f"--albert_config_file={setup['config']}"] if config else []
    command = [sys.executable, os.path.join(REPO, script), *config_flag, f"--spm_model_file={setup['spm']}",
               f"--output_dir={output_dir}", "--max_seq_length=128", "--learning_rate=1e-3", "--num_warmup_steps=1",
               "--log_steps=2", "--eval_batch_size=64", *args]
    result = processes.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert "{'" not in result.stdout, result.stdout  # no raw Python dicts on stdout
    return result.stderr + result.stdout


def distil(script, kind, setup, teacher, output_dir, *args):
    """A task distillation of the run `teacher` (2 x 32) into a 1 x 16 student for 2 steps with TinyBERT's
    losses; the student is evaluated, exported, and its predictions written; returns the log."""
    log = run(script, setup, output_dir, f"--teacher_checkpoint={teacher / 'export' / 'model.ckpt-best'}",
              "--student_num_hidden_layers=1", "--student_hidden_size=16", "--soft_target_weight=1",
              "--hidden_weight=1", "--embedding_weight=1", "--attention_score_weight=1", "--num_train_steps=2",
              "--save_checkpoints_steps=2", "--do_train", "--do_eval", "--do_predict", "--noexport_saved_model",
              *args, config=False)
    assert f"teacher: {kind} model from" in log
    progress = next(line for line in log.splitlines() if "step 2/2" in line and "distillation_loss" in line)
    for term in ("soft_target", "hidden", "embedding", "attention_score"):
        assert f" {term} " in progress, progress
    student = json.loads((output_dir / "export" / "albert_config.json").read_text())
    assert (student["num_hidden_layers"], student["hidden_size"], student["intermediate_size"]) == (1, 16, 64)
    return log


def read_results(path):
    with open(path) as f:
        return {k.strip(): float(v) for k, v in (line.split("=") for line in f)}


def test_classifier_trains_evaluates_predicts_and_resumes(setup):
    out = setup["root"] / "mrpc"
    data = os.path.join(setup["data"], "glue", "MRPC")
    common = ["--task_name=mrpc", f"--data_dir={data}", "--train_batch_size=16", "--save_checkpoints_steps=3",
              "--do_train", "--do_eval", "--do_predict", f"--init_checkpoint={setup['init']}"]
    log = run("run_classifier.py", setup, out, "--num_train_steps=6", *common)
    assert "initialised from the original checkpoint" in log and "cls/predictions" in log  # heads reported
    assert "step 6/6" in log and "examples/s" in log and "ETA" in log
    results = read_results(out / "eval_results.txt")
    assert set(results) == {"f1", "accuracy", "global_step"} and 0 <= results["accuracy"] <= 1
    best = json.loads((out / "best_eval.json").read_text())
    assert best["step"] in (3, 6) and best["metrics"]["f1"] == results["f1"]
    lines = (out / "MRPC.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction" and len(lines) == 1 + 200  # tests/data: MRPC test.tsv, first 200 rows
    assert {line.split("\t")[1] for line in lines[1:]} <= {"0", "1"}
    assert tf.train.load_checkpoint(str(out / "export" / "model.ckpt-best")).has_tensor("output_weights")
    assert (out / "saved_model" / "saved_model.pb").exists()
    assert sorted(os.listdir(out / "saved_model" / "assets")) == ["30k-clean.model", "albert_config.json"]

    log = run("run_classifier.py", setup, out, "--num_train_steps=9", "--noexport_saved_model", *common)
    assert "resumed from" in log and "ckpt-6" in log and "step 9/9" in log and "step 2/" not in log
    assert json.loads((out / "best_eval.json").read_text())["step"] in (3, 6, 9)


def test_regression_and_generic_tasks(setup, tmp_path):
    sst = os.path.join(setup["data"], "glue", "SST-2", "dev.tsv")
    with open(sst, encoding="utf-8") as f:
        lines = f.read().splitlines()
    (tmp_path / "train.tsv").write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    out = setup["root"] / "generic"
    run("run_classifier.py", setup, out, "--task_name=generic", f"--train_file={tmp_path / 'train.tsv'}",
        f"--dev_file={sst}", "--label_list=0,1", "--text_a_column=0", "--label_column=1",
        "--num_train_steps=4", "--train_batch_size=8", "--save_checkpoints_steps=4", "--do_train", "--do_eval",
        "--noexport_saved_model")
    assert set(read_results(out / "eval_results.txt")) == {"accuracy", "f1", "global_step"}
    out = setup["root"] / "sts-b"
    run("run_classifier.py", setup, out, "--task_name=sts-b",
        f"--data_dir={os.path.join(setup['data'], 'glue', 'STS-B')}",
        "--num_train_steps=2", "--train_batch_size=8", "--save_checkpoints_steps=2", "--do_eval", "--do_predict",
        f"--init_checkpoint={setup['init']}", "--noexport_saved_model")
    assert set(read_results(out / "eval_results.txt")) == {"pearson", "spearman", "global_step"}
    rows = (out / "STS-B.tsv").read_text().splitlines()
    assert len(rows) == 1 + 200 and all(float(r.split("\t")[1]) == float(r.split("\t")[1]) for r in rows[1:])


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_squad_runner(setup, tmp_path, version):
    with open(os.path.join(setup["data"], "squad", "dev-v2.0-first2articles.json"), encoding="utf-8") as f:
        data = json.load(f)
    article = data["data"][0]
    article["paragraphs"] = article["paragraphs"][:6]
    if version == "v1":  # a v1.1 file: answerable questions only
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["answers"]]
    predict = {"version": "v2.0" if version == "v2" else "1.1", "data": [article]}
    (tmp_path / "predict.json").write_text(json.dumps(predict))
    train = json.loads(json.dumps(predict))
    for paragraph in train["data"][0]["paragraphs"]:
        for qa in paragraph["qas"]:
            qa["answers"] = qa["answers"][:1]
    (tmp_path / "train.json").write_text(json.dumps(train))
    out = setup["root"] / f"squad_{version}"
    data = [f"--train_file={tmp_path / 'train.json'}", f"--predict_file={tmp_path / 'predict.json'}",
            "--doc_stride=48", "--max_query_length=24", "--train_batch_size=8"]
    flags = data + ["--num_train_steps=4", "--save_checkpoints_steps=4", "--do_train", "--do_eval", "--do_predict",
                    f"--init_checkpoint={setup['init']}"]
    flags.append("--version_2_with_negative" if version == "v2" else "--noexport_saved_model")
    log = run("run_squad.py", setup, out, *flags)
    # The summary leads with the official scores (v2: then the best-threshold pair), not the breakdowns.
    assert ("  eval (exact=" if version == "v2" else "  eval (exact_match=") in log
    assert (" best_exact=" in log) == (version == "v2") and "eval (HasAns_exact" not in log
    questions = [qa["id"] for p in article["paragraphs"] for qa in p["qas"]]
    predictions = json.loads((out / "predictions.json").read_text())
    nbest = json.loads((out / "nbest_predictions.json").read_text())
    assert list(predictions) == questions and set(nbest) == set(questions)
    entry = nbest[questions[0]][0]
    assert list(entry) == ["text", "probability", "start_log_prob", "end_log_prob"]
    assert all(abs(sum(e["probability"] for e in candidates) - 1) < 1e-6 for candidates in nbest.values())
    results = read_results(out / "eval_results.txt")
    tool = [sys.executable, os.path.join(REPO, "tools", "squad_eval.py"), str(tmp_path / "predict.json"),
            str(out / "predictions.json")]
    if version == "v2":
        odds = json.loads((out / "null_odds.json").read_text())
        assert set(odds) == set(questions)
        assert {"HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh", "null_score_diff_threshold"} <= set(results)
        scored = json.loads(processes.run(tool + ["--na-prob-file", str(out / "null_odds.json")],
                                           capture_output=True, text=True, check=True).stdout)
        # predictions.json applies the threshold found in evaluation, as eval_results.txt reports.
        assert scored["f1"] == pytest.approx(results["f1"], abs=1e-9)
        assert (out / "saved_model" / "saved_model.pb").exists()
    else:
        assert set(results) == {"exact_match", "f1", "global_step"}
        scored = json.loads(processes.run(tool, capture_output=True, text=True, check=True).stdout)
        assert scored["f1"] == pytest.approx(results["f1"], abs=1e-9)
        # v1 has no null answer: the prediction is the best candidate ("" only as the original's
        # placeholder when no span is valid).
        assert all(predictions[q] == nbest[q][0]["text"] for q in questions)
    if version == "v2":  # the run teaches a smaller student: start, end and answerability's soft targets
        student = setup["root"] / "squad_v2_student"
        distil("run_squad.py", "squad", setup, out, student, *data, "--version_2_with_negative")
        assert {"f1", "best_f1", "null_score_diff_threshold"} <= set(read_results(student / "eval_results.txt"))
        assert list(json.loads((student / "predictions.json").read_text())) == questions


def test_race_runner(setup, tmp_path):
    race = write_race_sample(os.path.join(setup["data"], "squad", "dev-v2.0-first2articles.json"),
                             str(tmp_path / "RACE"))
    out = setup["root"] / "race"
    run("run_race.py", setup, out, f"--data_dir={race}", "--train_batch_size=4", "--num_train_steps=4",
        "--save_checkpoints_steps=2", "--do_train", "--do_eval", "--do_predict", f"--init_checkpoint={setup['init']}",
        "--noexport_saved_model")
    results = read_results(out / "eval_results.txt")
    assert set(results) == {"accuracy", "accuracy_middle", "accuracy_high", "global_step"}
    assert results["accuracy"] == pytest.approx((results["accuracy_middle"] + results["accuracy_high"]) / 2)
    rows = (out / "test_predictions.tsv").read_text().splitlines()
    assert len(rows) == 1 + 16 and all(r.split("\t")[1] in "ABCD" for r in rows[1:])
    assert np.isfinite(results["accuracy"])
    student = setup["root"] / "race_student"
    distil("run_race.py", "race", setup, out, student, f"--data_dir={race}", "--train_batch_size=4")
    assert set(read_results(student / "eval_results.txt")) == set(results)
    assert len((student / "test_predictions.tsv").read_text().splitlines()) == 1 + 16


def test_ner_runner(setup, tmp_path):
    from test_token_classification import CONLL
    (tmp_path / "train.txt").write_text(CONLL, encoding="utf-8")
    out = setup["root"] / "ner"
    files = [f"--{split}_file={tmp_path / 'train.txt'}" for split in ("train", "dev", "test")]
    log = run("run_ner.py", setup, out, *files, "--train_batch_size=2",
              "--num_train_steps=2", "--save_checkpoints_steps=2", "--do_train", "--do_eval", "--do_predict",
              f"--init_checkpoint={setup['init']}", "--noexport_saved_model")
    assert "step 2/2" in log
    assert set(read_results(out / "eval_results.txt")) == {"precision", "recall", "f1", "accuracy", "global_step"}
    assert (out / "ner_test_predictions.conll").read_text().count("\n\n") == 3
    student = setup["root"] / "ner_student"
    distil("run_ner.py", "token_classifier", setup, out, student, *files, "--train_batch_size=2")
    assert set(read_results(student / "eval_results.txt")) == {"precision", "recall", "f1", "accuracy", "global_step"}
    assert (student / "ner_test_predictions.conll").read_text().count("\n\n") == 3
    # A tag the training data does not have is refused before any work, naming the file and line.
    (tmp_path / "dev.txt").write_text("Paris B-CITY\n", encoding="utf-8")
    result = processes.run([sys.executable, os.path.join(REPO, "run_ner.py"), f"--albert_config_file={setup['config']}",
                            f"--spm_model_file={setup['spm']}", f"--output_dir={tmp_path / 'bad'}",
                            f"--train_file={tmp_path / 'train.txt'}", f"--dev_file={tmp_path / 'dev.txt'}",
                            "--do_eval", "--max_seq_length=128"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "dev.txt:1: tag 'B-CITY' is not one of the labels" in result.stderr, result.stderr[-2000:]
