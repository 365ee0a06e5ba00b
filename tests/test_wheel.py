"""The built wheel: its console scripts run the demo from any folder (package data included)."""

import os
import sys

import pytest

import processes
from conftest import REPO

pytestmark = pytest.mark.integration  # builds a wheel and runs a command in a subprocess

COMMANDS = ("albert-pretrain", "albert-classifier", "albert-squad", "albert-race", "albert-create-pretraining-data",
            "albert-train-sentencepiece", "albert-export", "albert-convert", "albert-squad-eval", "albert-serve",
            "albert-distill")
# Each absl command and one flag that only it defines (its --help must show it, with its help text).
OWN_FLAGS = {"albert-pretrain": "--[no]demo", "albert-classifier": "--task_name", "albert-squad": "--doc_stride",
             "albert-race": "--max_qa_length", "albert-create-pretraining-data": "--dupe_factor",
             "albert-train-sentencepiece": "--vocab_size", "albert-export": "--export_dir",
             "albert-convert": "--input_hf", "albert-serve": "--max_batch_delay_ms"}


def test_wheel_console_scripts_run_the_demo(tmp_path):
    # No build isolation: the wheel is built with this environment's setuptools, offline.
    built = processes.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), REPO], timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = os.listdir(tmp_path / "dist")
    target = tmp_path / "installed"
    installed = processes.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                               str(tmp_path / "dist" / wheel)], timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert all((target / "bin" / name).exists() for name in COMMANDS), sorted(os.listdir(target / "bin"))

    # Outside the repository, with only the installed package on the path.
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = [sys.executable, str(target / "bin" / "albert-pretrain")]
    shown = processes.run(script + ["--helpfull"], timeout=120, cwd=work, env=env)
    assert shown.returncode == 0 and "--[no]demo" in shown.stdout, shown.stderr[-2000:]
    # `--help` of each installed absl command: its docstring and its own flags with their help, not absl's.
    for name, own_flag in OWN_FLAGS.items():
        shown = processes.run([sys.executable, str(target / "bin" / name), "--help"], timeout=120, cwd=work, env=env)
        assert shown.returncode == 0 and own_flag in shown.stdout, (name, shown.stdout[-2000:])
        assert "\n  --flagfile" not in shown.stdout and "\n  --log_dir" not in shown.stdout, name  # absl's: --helpfull
    # albert-distill TASK: the task's flags with the teacher's, and this command's own docstring
    shown = processes.run([sys.executable, str(target / "bin" / "albert-distill"), "classifier", "--help"],
                          timeout=120, cwd=work, env=env)
    assert shown.returncode == 0 and "--teacher_checkpoint" in shown.stdout and "--task_name" in shown.stdout
    assert "albert-distill TASK" in shown.stdout, shown.stdout[-2000:]
    # The console script of the SQuAD scorer exits 0 after printing the scores (it returned them before: exit 1).
    (work / "data.json").write_text('{"data": [{"paragraphs": [{"context": "Denver won.", "qas": [{"id": "q1", '
                                    '"question": "Who?", "answers": [{"text": "Denver", "answer_start": 0}]}]}]}]}')
    (work / "pred.json").write_text('{"q1": "Denver"}')
    scored = processes.run([sys.executable, str(target / "bin" / "albert-squad-eval"), "data.json", "pred.json"],
                           timeout=120, cwd=work, env=env)
    assert scored.returncode == 0 and scored.stderr == "" and '"exact": 100.0' in scored.stdout, scored.stderr
    result = processes.run(script + ["--demo", "--num_train_steps=4", "--log_steps=2", "--max_eval_steps=1",
                                     "--save_checkpoints_steps=4", "--noexport_saved_model"],
                           timeout=600, cwd=work, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    output = work / "output" / "demo"
    assert (output / "eval_results.txt").exists() and (output / "export" / "model.ckpt-4.index").exists()
    assert "step 4/4" in result.stderr and "Outputs in" in result.stdout
    # Only our own lines: nothing from TensorFlow's C++ runtime or deprecation machinery.
    for noise in ("cuInit", "oneDNN", "cpu_feature_guard", "deprecat", "Sharding callback", "absl::InitializeLog"):
        assert noise not in result.stderr, noise
