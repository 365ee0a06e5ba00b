"""The application layer from Python: checked configs, the one loop without flags, learned-nothing warnings."""

import json
import os
import sys

import numpy as np
import pytest
from absl import flags

import processes
from albert_tf.checkpoints.conversion_config import ConversionConfig
from albert_tf.data.data_creation_config import DataCreationConfig
from albert_tf.errors import ConfigError
from albert_tf.export.export_config import ExportConfig
from albert_tf.tasks.classifier_config import ClassifierConfig
from albert_tf.tasks.pretraining_config import PretrainingConfig
from albert_tf.tasks.race_config import RaceConfig
from albert_tf.tasks.registry import TASKS, create_task
from albert_tf.tasks.squad_config import SquadConfig
from albert_tf.training.training_config import TrainingConfig
from albert_tf.training.training_loop import run_training
from conftest import REPO
from tiny_runs import tiny_classifier_job

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"


def problems_of(config):
    with pytest.raises(ConfigError) as raised:
        config.validate()
    return str(raised.value)


def test_training_config_lists_every_problem_with_its_value():
    message = problems_of(TrainingConfig(train_batch_size=0, optimizer="sgd", num_train_steps=-1,
                                         distribution_strategy="tpu", mixed_precision="fp8"))
    for expected in ("albert_config_file=None", "output_dir=None", "nothing to do", "train_batch_size=0",
                     "optimizer='sgd'", "num_train_steps=-1", "tpu=None", "mixed_precision='fp8'"):
        assert expected in message, expected
    config = TrainingConfig.for_pretraining(albert_config_file="c.json", output_dir="out").validate()
    assert (config.train_batch_size, config.optimizer, config.learning_rate) == (4096, "lamb", 0.00176)
    assert TrainingConfig.for_finetuning(albert_config_file="c", output_dir="o", do_train=True,
                                         num_train_steps=10, num_warmup_steps=10).setup_warnings()
    with pytest.raises(ConfigError, match="num_train_steps=0: expected >= 1 with do_train"):
        TrainingConfig(albert_config_file="c", output_dir="o", do_train=True, num_train_steps=0).validate()
    with pytest.raises(ConfigError, match="train_batch_size=30: expected a multiple of gradient"):
        TrainingConfig(albert_config_file="c", output_dir="o", do_train=True, train_batch_size=30,
                       gradient_accumulation_steps=4).validate()


@pytest.mark.parametrize("config, expected", [
    (ClassifierConfig(task_name="sst-2"), ["spm_model_file/vocab_file", "needs data_dir"]),
    (ClassifierConfig(task_name="sst3", spm_model_file="m"), ["task_name='sst3'"]),
    (ClassifierConfig(task_name="generic", vocab_file="v"), ["needs train_file and/or dev_file"]),
    (SquadConfig(spm_model_file="m", max_seq_length=64, max_query_length=64), ["max_query_length=64"]),
    (RaceConfig(spm_model_file="m", levels=("low",)), ["data_dir is not set", "levels=['low']"]),
    (PretrainingConfig(dynamic_masking=True), ["input_file is not set", "dynamic_masking needs"]),
    (ExportConfig(model_type="tagger"), ["model_type='tagger'", "checkpoint is not set"]),
    (DataCreationConfig(input_file="a.txt", output_file="a,b", num_output_shards=2, spm_model_file="m"),
     ["needs a single output_file prefix"]),
    (ConversionConfig(), ["exactly one of", "nothing to write"]),
])
def test_task_and_job_configs_name_what_is_wrong(config, expected):
    message = problems_of(config)
    for part in expected:
        assert part in message, (part, message)


def test_registry_builds_every_task_from_settings(test_data):
    spm = os.path.join(test_data, GERMAN_SPM)
    assert sorted(TASKS) == ["classifier", "pretraining", "race", "squad", "token_classification"]
    task = create_task("classifier", task_name="sst-2", data_dir="glue", spm_model_file=spm)
    assert task.name == "SST-2" and task.primary_metric == "accuracy" and task.kind == "classifier"
    assert create_task("squad", spm_model_file=spm, version_2_with_negative=True).primary_metric == "f1"
    assert create_task("race", data_dir="RACE", spm_model_file=spm).num_choices == 4
    assert create_task("pretraining", input_file="x.tfrecord").eval_splits == ("eval",)
    tagger = create_task("token_classification", dev_file="dev.conll", test_file="test.conll", spm_model_file=spm)
    assert tagger.primary_metric == "f1" and tagger.eval_splits == ("dev",) and tagger.prediction_splits == ("test",)
    with pytest.raises(ValueError, match="task 'tagger'"):
        create_task("tagger")


def test_classifier_warns_when_every_example_gets_one_label(test_data):
    task = create_task("classifier", task_name="sst-2", data_dir=os.path.join(test_data, "glue", "SST-2"),
                       spm_model_file=os.path.join(test_data, GERMAN_SPM), max_seq_length=64)
    count = len(task.features("dev")["label_ids"])
    constant = {"logits": np.tile([[2.0, -1.0]], (count, 1))}
    (warning,) = task.learning_warnings("dev", constant, {})
    labels = np.asarray(task.features("dev")["label_ids"])
    majority = max(np.mean(labels == 0), np.mean(labels == 1))
    assert "label '0'" in warning and f"{majority:.4f}" in warning
    varied = {"logits": np.stack([labels, 1 - labels], 1).astype(np.float32)}
    assert task.learning_warnings("dev", varied, {}) == []


def test_pretraining_warns_when_sop_is_no_better_than_the_majority_order():
    task = create_task("pretraining", input_file="x.tfrecord")
    # 400 examples, 55% in one order: two standard errors are 2 * sqrt(0.55 * 0.45 / 400) = 0.0497.
    held_out = {"sentence_order_majority_rate": 0.55, "sentence_order_examples": 400.0, "masked_lm_accuracy": 0.3}
    (warning,) = task.learning_warnings("eval", None, {**held_out, "sentence_order_accuracy": 0.549})
    assert "sentence_order_accuracy 0.5490 is no better than always predicting one order (0.5500 of the 400" in warning
    assert "two standard errors 0.0497" in warning and "sentence-order head learned nothing" in warning
    assert task.learning_warnings("eval", None, {**held_out, "sentence_order_accuracy": 0.599}) != []
    assert task.learning_warnings("eval", None, {**held_out, "sentence_order_accuracy": 0.60}) == []
    (both,) = task.learning_warnings("eval", None, {**held_out, "sentence_order_accuracy": 0.5,
                                                     "masked_lm_accuracy": 0.01})
    assert "masked_lm_accuracy 0.0100 is at chance; the model learned nothing yet" in both


def test_the_loop_runs_from_python_without_flags(test_data, tmp_path):
    """A tiny classifier: train, evaluate every checkpoint keeping the best, predict, export; no absl flags."""
    task, config = tiny_classifier_job(test_data, tmp_path, do_eval=True, do_predict=True)
    outputs = run_training(task, config)
    assert not flags.FLAGS.is_parsed()
    out = tmp_path / "run"
    described = dict(outputs)
    assert described["original-layout export (load_checkpoint, TF1 code)"].endswith("model.ckpt-best")
    best = json.loads((out / "best_eval.json").read_text())
    results = dict(line.split(" = ") for line in (out / "eval_results.txt").read_text().splitlines())
    assert best["step"] in (2, 4) and int(results["global_step"]) == best["step"]
    assert float(results["accuracy"]) == pytest.approx(best["metrics"]["accuracy"])  # the same weights scored again
    predictions = (out / "generic_test_predictions.tsv").read_text().splitlines()
    assert len(predictions) == 1 + 64 and (out / "train").is_dir() and (out / "eval").is_dir()


def test_a_bad_setting_is_one_line_without_a_traceback(tmp_path):
    result = processes.run([sys.executable, os.path.join(REPO, "run_classifier.py"), "--task_name=sst-2",
                            "--albert_config_file=missing.json", f"--output_dir={tmp_path}"], timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: invalid classifier settings")
    assert "needs data_dir" in result.stderr and "spm_model_file/vocab_file" in result.stderr
