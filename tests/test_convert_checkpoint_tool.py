"""tools/convert_checkpoint.py end to end: original -> keras-hub -> original."""

import os
import sys

import numpy as np
import pytest

from albert_reference import random_weights, read_tf1_checkpoint, write_tf1_checkpoint
from test_original_parity import BASE
import processes

pytestmark = pytest.mark.integration  # end-to-end runs in subprocesses

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = dict(BASE, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=1)


def run_tool(*args, streams=False):
    result = processes.run([sys.executable, os.path.join(REPO, "tools", "convert_checkpoint.py"),
                             *args], capture_output=True, text=True, timeout=300)
    if streams:
        return result.returncode, result.stdout, result.stderr
    return result.returncode, result.stdout + result.stderr


def test_original_to_keras_hub_and_back(tmp_path):
    import json

    weights = random_weights(CFG, heads=False)
    write_tf1_checkpoint(str(tmp_path / "release" / "model.ckpt-best"), weights)
    with open(tmp_path / "release" / "albert_config.json", "w") as f:
        json.dump(CFG, f)
    code, stdout, stderr = run_tool(f"--input_checkpoint={tmp_path}/release",
                                    f"--output_keras_hub_preset={tmp_path}/kh", streams=True)
    assert code == 0, stderr
    # The load report once, on stderr, without empty parts; stdout holds only what was written.
    assert stderr.count("loaded 41 variables") == 1 and "loaded" not in stdout and " ;" not in stderr
    assert stdout.strip().splitlines() == [f"keras-hub preset (AlbertBackbone (no tokenizer: give spm_model_file)): "
                                           f"{tmp_path}/kh"]
    code, output = run_tool(f"--input_keras_hub_preset={tmp_path}/kh",
                            f"--output_checkpoint={tmp_path}/back/model.ckpt-best")
    assert code == 0, output
    # Existing outputs are replaced only with --overwrite.
    code, output = run_tool(f"--input_keras_hub_preset={tmp_path}/kh",
                            f"--output_checkpoint={tmp_path}/back/model.ckpt-best")
    assert code == 1 and "1 output(s) already exist" in output and "Traceback" not in output
    code, output = run_tool(f"--input_keras_hub_preset={tmp_path}/kh", "--overwrite",
                            f"--output_checkpoint={tmp_path}/back/model.ckpt-best")
    assert code == 0, output
    restored = read_tf1_checkpoint(str(tmp_path / "back" / "model.ckpt-best"), list(weights))
    for name, value in weights.items():
        np.testing.assert_allclose(restored[name], value, rtol=0, atol=0, err_msg=name)


def test_missing_config_is_a_usage_error(tmp_path):
    write_tf1_checkpoint(str(tmp_path / "model.ckpt"), random_weights(CFG, heads=False))
    code, output = run_tool(f"--input_checkpoint={tmp_path}/model.ckpt",
                            f"--output_checkpoint={tmp_path}/out/model.ckpt")
    assert code != 0
    assert "albert_config_file or preset" in output and "Traceback" not in output


@pytest.mark.parametrize("folder", ["sequence_classification", "question_answering", "pretraining"])
def test_hugging_face_to_original_and_back_without_config_flags(tmp_path, folder):
    import json

    from safetensors.numpy import load_file

    source = os.path.join(REPO, "tests", "data", "hf", folder)
    code, output = run_tool(f"--input_hf={source}", f"--output_checkpoint={tmp_path}/tf1/model.ckpt-best")
    assert code == 0, output
    assert "original-layout checkpoint" in output
    code, output = run_tool(f"--input_checkpoint={tmp_path}/tf1", f"--output_hf={tmp_path}/hf")
    assert code == 0, output
    architecture = json.loads(open(os.path.join(source, "config.json")).read())["architectures"][0]
    assert f"Hugging Face folder ({architecture})" in output  # the class read back from the variables
    ours, theirs = load_file(f"{tmp_path}/hf/model.safetensors"), load_file(os.path.join(source, "model.safetensors"))
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


def test_hugging_face_classifier_to_keras_hub_task_and_back(tmp_path):
    """HF AlbertForSequenceClassification -> keras-hub AlbertTextClassifier -> HF: every tensor as it was."""
    from safetensors.numpy import load_file

    source = os.path.join(REPO, "tests", "data", "hf", "sequence_classification")
    code, output = run_tool(f"--input_hf={source}", f"--output_keras_hub_preset={tmp_path}/kh")
    assert code == 0, output
    assert "keras-hub preset (AlbertTextClassifier (no tokenizer: give spm_model_file)" in output
    code, output = run_tool(f"--input_keras_hub_preset={tmp_path}/kh", f"--output_hf={tmp_path}/hf")
    assert code == 0, output
    assert "AlbertTextClassifier -> AlbertClassifier" in output
    assert "Hugging Face folder (AlbertForSequenceClassification)" in output
    ours, theirs = load_file(f"{tmp_path}/hf/model.safetensors"), load_file(os.path.join(source, "model.safetensors"))
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
