"""The commands on bad input and faults: one `error:` line naming the file or flag, no traceback, nothing lost.

Faults are injected as a user meets them: a second writer of the same output, a file size limit
(`ulimit -f`, what a full disk does to a write: the write fails part way), an output path that is a
file or a folder that cannot be written, SIGINT/SIGTERM in the middle of training.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

import processes
from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.outputs.atomic_files import prepare_outputs
from conftest import REPO, TEST_DATA

pytestmark = pytest.mark.integration  # the commands, in subprocesses

SPM = os.path.join(TEST_DATA, "sentencepiece/albert_de_privately/30k-clean.model")
CORPUS = os.path.join(TEST_DATA, "corpus_en/wikitext-2/test.txt")
SEQ, PRED = 64, 5


def command(module, *args):
    return [sys.executable, "-m", f"albert_tf.cli.{module}", *args]


def run(args, file_size_limit=None, **kwargs):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return processes.run(args, timeout=300, preexec_fn=limit if file_size_limit else None,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **kwargs.pop("env", {})}, **kwargs)


def one_error_line(result, *expected):
    """Exit status 1, the last line `error: ...` holding each of `expected`, and no traceback."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr[-2000:]
    for part in expected:
        assert part in last, (part, last)
    return last


def create_data(output, *extra, **kwargs):
    return run(command("create_pretraining_data", f"--input_file={CORPUS}", f"--output_file={output}",
                       f"--spm_model_file={SPM}", f"--max_seq_length={SEQ}", f"--max_predictions_per_seq={PRED}",
                       "--dupe_factor=1", *extra), **kwargs)


# --- a second writer of the same output --------------------------------------------------------------

def test_a_second_writer_of_the_same_outputs_is_refused_at_once(tmp_path):
    output = str(tmp_path / "data" / "train.tfrecord")
    with prepare_outputs([output], overwrite=False):  # another run holds the output while it writes
        refused = create_data(output)
        one_error_line(refused, f"{output} is being written by another run (pid {os.getpid()}")
    assert not os.path.exists(output)
    assert create_data(output).returncode == 0
    first = open(output, "rb").read()
    one_error_line(create_data(output), "already exist", "overwrite")
    with prepare_outputs([output], overwrite=True):
        one_error_line(create_data(output, "--overwrite", "--random_seed=3"), "being written by another run")
    assert open(output, "rb").read() == first and sorted(os.listdir(tmp_path / "data")) == ["train.tfrecord"]


def test_two_exports_to_one_folder_the_second_is_refused(tmp_path):
    from albert_tf import AlbertConfig
    from albert_tf.checkpoints import save_checkpoint
    from albert_tf.models import AlbertPretrainer

    AlbertConfig(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=64).to_json_file(str(tmp_path / "albert_config.json"))
    save_checkpoint(AlbertPretrainer(AlbertConfig.from_json_file(str(tmp_path / "albert_config.json"))),
                    str(tmp_path / "model.ckpt-1"))
    export = [f"--albert_config_file={tmp_path / 'albert_config.json'}", f"--checkpoint={tmp_path / 'model.ckpt-1'}",
              f"--spm_model_file={SPM}", f"--export_dir={tmp_path / 'exported'}"]
    with prepare_outputs([str(tmp_path / "exported")], overwrite=False):
        one_error_line(run(command("export_model", *export)), "exported is being written by another run")
    # A full disk while the SavedModel is written: one line, no export folder, no temporary.
    one_error_line(run(command("export_model", *export), file_size_limit=200_000), "File too large")
    assert not (tmp_path / "exported").exists() and not [n for n in os.listdir(tmp_path) if n.startswith(".")]
    result = run(command("export_model", *export))  # max_seq_length follows the model's 64 positions
    assert result.returncode == 0, result.stderr[-3000:]
    assert "max_seq_length=64: the max_position_embeddings of" in result.stderr


# --- the machine: a full disk, a path that cannot be written ---------------------------------------

def test_a_full_disk_during_create_pretraining_data_is_one_line_and_leaves_nothing(tmp_path):
    output = tmp_path / "data" / "train.tfrecord"
    one_error_line(create_data(str(output), file_size_limit=20_000), f"{output}: File too large")
    assert os.listdir(tmp_path / "data") == []  # no torn file, no temporary, no claim


@pytest.fixture(scope="module")
def pretraining(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    create_pretraining_data([CORPUS], [str(root / "train.tfrecord")], spm_model_file=SPM,
                            options=InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED),
                            dupe_factor=1, log=lambda _: None)
    (root / "albert_config.json").write_text(json.dumps({
        "vocab_size": 30000, "embedding_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": SEQ}))
    return root


def pretrain(setup, output_dir, *extra, **kwargs):
    return run(command("pretrain", f"--albert_config_file={setup / 'albert_config.json'}",
                       f"--input_file={setup / 'train.tfrecord'}", f"--output_dir={output_dir}",
                       f"--max_seq_length={SEQ}", f"--max_predictions_per_seq={PRED}", "--train_batch_size=8",
                       "--learning_rate=0.01", "--num_warmup_steps=1", *extra), **kwargs)


def test_a_full_disk_during_a_checkpoint_save_is_one_line_and_the_run_resumes(pretraining, tmp_path):
    out = tmp_path / "run"
    failed = pretrain(pretraining, out, "--num_train_steps=4", "--save_checkpoints_steps=2",
                      file_size_limit=1_000_000)  # the optimizer's slots make a checkpoint of ~3 MB
    one_error_line(failed, "ckpt-2", "File too large")
    result = pretrain(pretraining, out, "--num_train_steps=4", "--save_checkpoints_steps=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "step 4/4" in result.stderr and (out / "export" / "model.ckpt-4.index").exists()


@pytest.mark.parametrize("where, expected", [
    ("file", "File exists (a file stands where a folder is expected"),
    ("below_a_file", "Not a directory (a file stands where a folder is expected"),
])
def test_an_output_folder_that_is_a_file_is_one_line(pretraining, tmp_path, where, expected):
    (tmp_path / "file").write_text("not a folder")
    output = tmp_path / "file" if where == "file" else tmp_path / "file" / "run"
    one_error_line(pretrain(pretraining, output, "--num_train_steps=2"), str(output), expected)


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    # sysfs takes no new files, even from root (CI runs as root: a chmod'ed folder would not stop it).
    one_error_line(create_data("/sys/kernel/train.tfrecord"), "/sys/kernel: ")


# --- signals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stop, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_at_a_step_boundary_with_a_checkpoint_and_the_run_resumes(pretraining, tmp_path, stop, status):
    out = tmp_path / "run"
    args = ["--num_train_steps=100000", "--save_checkpoints_steps=100000", "--log_steps=100000"]
    process = subprocess.Popen(
        command("pretrain", f"--albert_config_file={pretraining / 'albert_config.json'}",
                f"--input_file={pretraining / 'train.tfrecord'}", f"--output_dir={out}", f"--max_seq_length={SEQ}",
                f"--max_predictions_per_seq={PRED}", "--train_batch_size=8", "--learning_rate=0.01", *args),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        lines = []
        deadline = time.time() + 240
        while time.time() < deadline:  # until the first step has run (the handlers are in place by then)
            line = process.stderr.readline()
            lines.append(line)
            if "done in" in line or not line:
                break
        assert any("step 1/100000 done in" in line for line in lines), "".join(lines)
        time.sleep(1.0)
        process.send_signal(stop)
        _, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == status, rest[-3000:]
    assert "Traceback" not in rest
    last = rest.strip().splitlines()[-1]
    name = signal.Signals(stop).name
    assert last.startswith(f"interrupted by {name} at step ") and "rerun the same command to resume" in last, last
    step = int(last.split(" at step ")[1].split(":")[0])
    assert (out / "checkpoints" / f"ckpt-{step}.index").exists()
    if stop == signal.SIGINT:  # the same path for both signals from here
        resumed = pretrain(pretraining, out, f"--num_train_steps={step + 2}", "--log_steps=1")
        assert resumed.returncode == 0 and f"resumed from {out / 'checkpoints' / f'ckpt-{step}'}" in resumed.stderr
        assert f"step {step + 2}/{step + 2}" in resumed.stderr


# --- settings that contradict each other, or the data ---------------------------------------------

def test_a_learning_rate_of_zero_warns(pretraining, tmp_path):
    result = pretrain(pretraining, tmp_path / "run", "--num_train_steps=2", "--learning_rate=0")
    assert result.returncode == 0 and "warning: learning_rate=0: the weights will not change" in result.stderr


def test_a_malformed_tf_config_is_named(pretraining, tmp_path):
    result = pretrain(pretraining, tmp_path / "run", "--num_train_steps=2",
                      "--distribution_strategy=multi_worker_mirrored", env={"TF_CONFIG": "{bad"})
    one_error_line(result, "TF_CONFIG (environment variable) is not valid JSON")


def test_an_evaluation_only_run_without_weights_is_refused(pretraining, tmp_path):
    result = pretrain(pretraining, tmp_path / "run", "--nodo_train", "--do_eval", "--max_eval_steps=1")
    one_error_line(result, "do_train is off, and there are no weights to evaluate")
    assert not (tmp_path / "run" / "export").exists()


def test_squad_file_without_questions_and_sentencepiece_sizes_are_one_line(tmp_path):
    squad = tmp_path / "train.json"
    squad.write_text(json.dumps({"data": [{"paragraphs": [{"context": "Denver won."}]}]}))
    (tmp_path / "albert_config.json").write_text(json.dumps({
        "vocab_size": 30000, "embedding_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64}))
    result = run(command("squad", f"--albert_config_file={tmp_path / 'albert_config.json'}", f"--spm_model_file={SPM}",
                         f"--train_file={squad}", f"--output_dir={tmp_path / 'run'}", "--do_train",
                         "--num_train_steps=2"))
    one_error_line(result, f"{squad}: article 0, paragraph 0 has no 'qas'")
    # Defaults that would contradict the 64-position model followed it, each said once.
    assert "max_seq_length=64: the max_position_embeddings of" in result.stderr
    assert "max_query_length=32: half of max_seq_length=64 (--max_query_length not given" in result.stderr
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("hello world\nthis is a tiny corpus\n")
    for size, expected in (("5000", "lower vocab_size to at most"), ("6", "raise vocab_size to at least")):
        result = run(command("train_sentencepiece", f"--input={corpus}", f"--model_prefix={tmp_path / 'sp' / 'm'}",
                             f"--vocab_size={size}"))
        one_error_line(result, f"vocab_size={size}: ", expected)
    assert os.listdir(tmp_path / "sp") == []


def test_squad_eval_console_module_exits_0_and_names_a_missing_file(tmp_path):
    data = {"data": [{"paragraphs": [{"context": "Denver won.", "qas": [
        {"id": "q1", "question": "Who?", "answers": [{"text": "Denver", "answer_start": 0}]}]}]}]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "pred.json").write_text('{"q1": "Denver"}')
    tool = [sys.executable, os.path.join(REPO, "tools", "squad_eval.py"), str(tmp_path / "data.json")]
    scored = run(tool + [str(tmp_path / "pred.json")])
    assert scored.returncode == 0 and json.loads(scored.stdout)["exact"] == 100.0 and scored.stderr == ""
    one_error_line(run(tool + [str(tmp_path / "none.json")]), "none.json: no such predictions file")
