"""run_pretraining.py end to end: resume after SIGKILL, multi-worker, init checkpoints, NaN, demo."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.pretraining_instances import InstanceOptions
import processes

pytestmark = pytest.mark.integration  # end-to-end runs in subprocesses

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(REPO, "run_pretraining.py")
SEQ, PRED = 64, 10


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from conftest import TEST_DATA as shared
    root = tmp_path_factory.mktemp("pretrain")
    spm = os.path.join(shared, "sentencepiece/albert_de_privately/30k-clean.model")
    files = [str(root / f"train-{i}.tfrecord") for i in range(2)]
    create_pretraining_data([os.path.join(REPO, "albert_tf/demo/corpus.txt")], files, spm_model_file=spm,
                            options=InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED),
                            dupe_factor=1, log=lambda _: None)
    config = root / "albert_config.json"
    config.write_text(json.dumps({
        "vocab_size": 30000, "embedding_size": 8, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": SEQ,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}))
    return {"root": root, "files": ",".join(files), "config": str(config), "spm": spm}


def runner_args(setup, output_dir, *extra):
    return [sys.executable, RUNNER, f"--albert_config_file={setup['config']}", f"--input_file={setup['files']}",
            f"--output_dir={output_dir}", f"--max_seq_length={SEQ}", f"--max_predictions_per_seq={PRED}",
            "--train_batch_size=8", "--num_warmup_steps=2", "--learning_rate=0.01",
            "--shuffle_buffer_size=50", "--log_steps=5", *extra]


def run(args, env=None, timeout=600):
    result = processes.run(args, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    return result


def export_weights(output_dir, step):
    reader = tf.train.load_checkpoint(os.path.join(output_dir, "export", f"model.ckpt-{step}"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "global_step"}


def assert_same_weights(a, b, atol=0.0):
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=atol, err_msg=name)


def test_killed_run_resumes_and_matches_an_uninterrupted_run(setup):
    steps = ["--num_train_steps=60", "--save_checkpoints_steps=10", "--deterministic"]
    straight = setup["root"] / "straight"
    started = time.time()
    result = run(runner_args(setup, straight, *steps))
    straight_seconds = time.time() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert "step 60/60" in result.stderr and "examples/s" in result.stderr and "ETA" in result.stderr

    killed = setup["root"] / "killed"
    # CheckpointManager writes ckpt-N.data/.index first and the `checkpoint` state file last; a
    # checkpoint counts (and is resumed from) only once the state file names it.
    state_file = killed / "checkpoints" / "checkpoint"

    def first_checkpoint_committed():
        return state_file.exists() and "ckpt-" in state_file.read_text()

    with processes.started((runner_args(setup, killed, *steps), {}), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) as (process,):
        deadline = time.time() + 300
        while not first_checkpoint_committed() and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert first_checkpoint_committed() and not (killed / "export").exists()
    # A second kill at a moment drawn with a fixed seed: while starting, training or saving a
    # checkpoint (the state file, interrupted saves and partial files are what resume must survive).
    delay = np.random.default_rng(5).uniform(0.3, 0.7) * straight_seconds  # a fraction of a whole run
    with processes.started((runner_args(setup, killed, *steps), {}), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) as (process,):
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
    resumed = run(runner_args(setup, killed, *steps))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from" in resumed.stderr
    assert_same_weights(export_weights(straight, 60), export_weights(killed, 60))
    assert (straight / "train").exists() and any("tfevents" in f for f in os.listdir(straight / "train"))


def test_init_checkpoint_ours_and_original(setup):
    source = setup["root"] / "source"
    assert run(runner_args(setup, source, "--num_train_steps=3")).returncode == 0
    trained = export_weights(source, 3)
    for name, init in (("from_original", source / "export" / "model.ckpt-3"),
                       ("from_ours", source / "checkpoints")):
        out = setup["root"] / name
        result = run(runner_args(setup, out, "--nodo_train", "--do_eval", "--max_eval_steps=1",
                                 f"--init_checkpoint={init}"))
        assert result.returncode == 0, result.stderr[-3000:]
        assert "initialised from" in result.stderr
        assert_same_weights(trained, export_weights(out, 0))


def test_non_finite_loss_stops_with_the_step(setup):
    out = setup["root"] / "nan"
    result = run(runner_args(setup, out, "--num_train_steps=10", "--save_checkpoints_steps=1",
                             "--learning_rate=nan"))
    assert result.returncode != 0
    assert "Inf/NaN" in result.stderr and "step 1" in result.stderr
    assert not (out / "checkpoints" / "checkpoint").exists()  # nothing corrupt was saved


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_mirrored_workers_end_identical(setup):
    out = setup["root"] / "multi_worker"
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    commands = []
    for index in range(2):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        commands.append((runner_args(setup, out, "--num_train_steps=6", "--save_checkpoints_steps=3",
                                     "--distribution_strategy=multi_worker_mirrored"), {"env": env}))
    # Both workers are killed (process groups) if either hangs: a worker waiting on a collective ignores SIGTERM.
    with processes.started(*commands, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as workers_:
        outputs = [p.communicate(timeout=600) for p in workers_]
        for process, (_, stderr) in zip(workers_, outputs):
            assert process.returncode == 0, stderr[-3000:]
    chief = export_weights(out, 6)
    other = export_weights(out / "worker_1", 6)
    assert_same_weights(chief, other)
    assert "step 6/6" in outputs[0][1]


def test_demo_flags_short_run(tmp_path):
    out = tmp_path / "demo"
    result = run([sys.executable, RUNNER, "--flagfile=" + os.path.join(REPO, "flags/demo.flags"),
                  f"--output_dir={out}", "--num_train_steps=10", "--log_steps=5", "--max_eval_steps=2"])
    assert result.returncode == 0, result.stderr[-3000:]
    for path in ("data/spm.model", "data/train.tfrecord", "data/eval.tfrecord", "checkpoints/checkpoint",
                 "eval_results.txt", "export/model.ckpt-10.index", "export/albert_config.json"):
        assert (out / path).exists(), path
    results = (out / "eval_results.txt").read_text()
    for key in ("masked_lm_accuracy", "masked_lm_loss", "sentence_order_accuracy", "sentence_order_loss"):
        assert key in results
    assert "Outputs in" in result.stdout


def readme_section(title, end):
    """The ```bash and ```python blocks of the README between the heading `title` and the line starting `end`."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index(title):]
    section = section[:section.index(end)]
    blocks = {}
    for language in ("bash", "python"):
        parts = section.split(f"```{language}\n")[1:]
        blocks[language] = [part[:part.index("```")] for part in parts]
    return blocks


@pytest.mark.slow
def test_demo_main_command_learns(tmp_path):
    """The README's main command as shipped, in a fresh folder (about 3-6 minutes on 2 cores), then the
    README's path from the demo to a served model, as written (about 2 minutes)."""
    out = tmp_path / "output" / "demo"
    result = processes.run([sys.executable, RUNNER, "--flagfile=" + os.path.join(REPO, "flags/demo.flags")],
                           timeout=1800, cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    # Only our own lines: nothing from TensorFlow's C++ runtime or deprecation machinery.
    for noise in ("cuInit", "oneDNN", "cpu_feature_guard", "deprecat", "Sharding callback", "absl::InitializeLog"):
        assert noise not in result.stderr, noise
    metrics = dict(line.split(" = ") for line in (out / "eval_results.txt").read_text().splitlines())
    assert float(metrics["masked_lm_accuracy"]) > 0.15

    # The README's worked path, run from the folder holding output/demo as the repository root does.
    blocks = readme_section("### From the demo to a served model", "**Real data")
    (commands, serving, distil), (calls,) = blocks["bash"], blocks["python"]
    os.symlink(os.path.join(REPO, "tests"), tmp_path / "tests")  # the SST-2 sample the README uses
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    shell = processes.run(["bash", "-e", "-c", commands], timeout=1200, cwd=tmp_path, env=env)
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert "max_seq_length=128: the max_position_embeddings of" in shell.stderr  # followed the model
    called = processes.run([sys.executable, "-c", calls], timeout=600, cwd=tmp_path, env=env)
    assert called.returncode == 0, called.stderr[-3000:]
    printed = {}
    for line in called.stdout.replace("\n ", " ").splitlines():  # numpy prints a 2-row array over two lines
        name, _, values = line.partition(" [")
        printed[name.strip()] = np.array([float(v) for v in values.replace("[", " ").replace("]", " ").split()])
    assert set(printed) == {"SavedModel", "ONNX int8", "LiteRT"}, called.stdout
    # Rounded to 3 digits; int8 weights move ONNX's probabilities by about 0.001.
    assert np.abs(printed["LiteRT"] - printed["SavedModel"]).max() <= 0.0011
    assert np.abs(printed["ONNX int8"] - printed["SavedModel"]).max() <= 0.02

    with socket.socket() as probe:  # a free loopback port for the README's 8501
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = processes.run(["bash", "-e", "-c", serving.replace("8501", str(port))], timeout=600, cwd=tmp_path,
                           env=env)
    assert served.returncode == 0, served.stderr[-3000:]  # `wait` gives the server's status: SIGTERM exits 0
    ready, predicted, inferred = served.stdout.replace("}{", "}\n{").splitlines()
    assert json.loads(ready) == {"ready": True}
    assert json.loads(predicted)["predictions"][0]["label"] in ("negative", "positive")
    outputs = {tensor["name"]: tensor for tensor in json.loads(inferred)["outputs"]}
    assert outputs["label"]["data"][0] in ("negative", "positive")

    # Step 5: both stages of distillation, then the student's export.
    distilled = processes.run(["bash", "-e", "-c", distil], timeout=1200, cwd=tmp_path, env=env)
    assert distilled.returncode == 0, distilled.stderr[-3000:]
    student = json.loads((tmp_path / "output" / "sst-2-student" / "export" / "albert_config.json").read_text())
    assert student["num_hidden_layers"] == 2 and student["hidden_size"] == 128  # the demo's width, 2 layers
    assert "initialised from the original checkpoint: loaded 25 variables from output/demo-student" in distilled.stderr
    results = (tmp_path / "output" / "sst-2-student" / "eval_results.txt").read_text().splitlines()
    accuracy = float(dict(line.split(" = ") for line in results)["accuracy"])
    assert accuracy > 0.55, accuracy  # 0.61 measured (its teacher 0.64; one class is 0.51)
    assert (tmp_path / "output" / "exports" / "sst-2-student-onnx-int8" / "model.onnx").exists()


@pytest.mark.integration
def test_demo_flags_with_xla_and_recomputation(tmp_path):
    """--jit_compile and --recompute_blocks through the command line (their numerics: test_pretraining_trainer)."""
    out = tmp_path / "demo"
    result = run([sys.executable, RUNNER, "--flagfile=" + os.path.join(REPO, "flags/demo.flags"),
                  f"--output_dir={out}", "--num_train_steps=4", "--log_steps=2", "--max_eval_steps=2",
                  "--jit_compile", "--recompute_blocks", "--export_saved_model=false"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "masked_lm_accuracy" in (out / "eval_results.txt").read_text()
