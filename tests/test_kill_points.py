"""A run SIGKILLed at each moment of a save resumes to exactly what an uninterrupted run gives.

killed_job.py runs a 12-step regression fine-tuning (an evaluation and a checkpoint every 2 steps; the best
Pearson at steps 2 and 4) and kills itself at a named point of the step-4 saves. Each test checks that the
kill landed in the window it names, resumes in this process and compares every output with the uninterrupted
run: the best record and its copies, the final evaluation, the exported best weights and the last checkpoint,
bit for bit (`deterministic`: same ops, same order, same values).
"""

import json
import os
import signal
import sys

import numpy as np
import pytest
import tensorflow as tf

import killed_job
import processes
from albert_tf.training.training_loop import run_training

pytestmark = pytest.mark.integration  # subprocesses

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "killed_job.py")


def drive(test_data, data_dir, output_dir, point="none", count=0):
    return processes.run([sys.executable, DRIVER, test_data, str(data_dir), str(output_dir), point, str(count)],
                         capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    from conftest import TEST_DATA
    root = tmp_path_factory.mktemp("kill_points")
    (root / "data").mkdir()
    result = drive(TEST_DATA, root / "data", root / "straight")
    assert result.returncode == 0, result.stderr[-3000:]
    return TEST_DATA, root


def read(path):
    with open(path) as f:
        return f.read()


def weights(prefix):
    reader = tf.train.load_checkpoint(str(prefix))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}  # the graph holds Keras' layer names, numbered per process


def step_of(record_file):
    return json.loads(read(record_file))["step"]


# point -> (occurrence of its call, what the folder shows right after the kill)
POINTS = {
    "mid-save": (2, lambda out: (out / "checkpoints" / "ckpt-4_temp").is_dir()
                 and not (out / "checkpoints" / "ckpt-4.index").exists()),
    "state-file": (3, lambda out: (out / "checkpoints" / "ckpt-4.index").exists()
                   and "ckpt-4" not in read(out / "checkpoints" / "checkpoint")),
    "best-swap": (2, lambda out: not (out / "best").exists()
                  and any(name.startswith(".best.old-") for name in os.listdir(out))),
    "export-index": (2, lambda out: not (out / "export" / "model.ckpt-best.index").exists()
                     and (out / "export" / "model.ckpt-best.data-00000-of-00001").exists()),
    "best-copy": (2, lambda out: step_of(out / "best" / "best_eval.json") == 4
                  and step_of(out / "best_eval.json") == 2),
}


@pytest.mark.parametrize("point", sorted(POINTS))
def test_killed_at_a_save_point_resumes_to_the_uninterrupted_results(straight, point):
    test_data, root = straight
    count, landed = POINTS[point]
    out = root / point
    killed = drive(test_data, root / "data", out, point, count)
    assert killed.returncode == -signal.SIGKILL, f"the kill point was not reached:\n{killed.stderr[-3000:]}"
    assert landed(out), f"killed outside the {point} window: {sorted(os.listdir(out))}"

    run_training(*killed_job.job(test_data, root / "data", str(out)))

    expected = root / "straight"
    assert step_of(expected / "best_eval.json") == 4  # the course the kills interrupt: best at 2, then at 4
    for name in ("best_eval.json", "best/best_eval.json", "eval_results.txt"):
        assert read(out / name) == read(expected / name), name
    for prefix in ("export/model.ckpt-best", "checkpoints/ckpt-12"):
        ours, theirs = weights(out / prefix), weights(expected / prefix)
        assert sorted(ours) == sorted(theirs)
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"{prefix}: {name}")
    left = [name for folder in (out, out / "export", out / "checkpoints") for name in os.listdir(folder)
            if ".tmp-" in name or ".old-" in name or name.endswith("_temp")]
    assert not left
