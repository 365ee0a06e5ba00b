"""The faults a new user meets (issue: a newcomer's first day): each is one clear error, or fixed.

In-process where the library decides; the command-line ones (one `error:` line, exit status, no
traceback) are in test_command_faults.py.
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig
from albert_tf.checkpoints import save_checkpoint
from albert_tf.checkpoints.checkpoint_state import checkpoint_names, write_checkpoint_state
from albert_tf.checkpoints.hf_checkpoint import read_hf_config
from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.pretraining_dataset import check_pretraining_files, damaged_records
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.errors import ConfigError
from albert_tf.export.export_config import ExportConfig
from albert_tf.export.model_export import export_model
from albert_tf.models import AlbertClassifier, AlbertEncoder
from albert_tf.tokenization import FullTokenizer
from albert_tf.training.checkpoint_recovery import set_run_state_aside
from albert_tf.training.runner_utils import check_tf_config
from albert_tf.training.training_loop import run_training
from tiny_runs import GERMAN_SPM, tiny_classifier_job

ZH_VOCAB = "albert_zh_brightmart/albert_config/vocab.txt"
SEQ, PRED = 32, 5


def tiny_config(**overrides):
    return AlbertConfig(**{**dict(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=32, max_position_embeddings=64),
                           **overrides})


# --- data loss ---------------------------------------------------------------------------------------

def test_save_checkpoint_refuses_to_replace_the_config_of_another_model(tmp_path):
    save_checkpoint(AlbertEncoder(tiny_config()), tmp_path / "model.ckpt-1")
    before = (tmp_path / "albert_config.json").read_text()
    other = AlbertEncoder(tiny_config(hidden_size=32, intermediate_size=64))
    with pytest.raises(ConfigError, match=r"albert_config.json describes another model \(.*hidden_size 16 there, "
                                          r"32 here.*Nothing was written"):
        save_checkpoint(other, tmp_path / "model.ckpt-2")
    assert (tmp_path / "albert_config.json").read_text() == before
    assert not (tmp_path / "model.ckpt-2.index").exists()
    save_checkpoint(AlbertEncoder(tiny_config()), tmp_path / "model.ckpt-3")  # the same model: fine
    assert (tmp_path / "albert_config.json").read_text() == before


def test_the_state_file_names_each_checkpoint_once_relative_to_its_folder(tmp_path):
    model = AlbertEncoder(tiny_config())
    for name in ("model.ckpt-1", "model.ckpt-best", "model.ckpt-1"):
        save_checkpoint(model, tmp_path / name)
    assert checkpoint_names(tmp_path) == ["model.ckpt-best", "model.ckpt-1"]
    text = (tmp_path / "checkpoint").read_text()
    assert text.count('"model.ckpt-1"') == 2 and str(tmp_path) not in text  # latest + the list; relative
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-1")


def test_a_manager_resumed_from_a_rewritten_state_file_still_keeps_max_to_keep(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    for step in range(1, 8):  # a run that kept 7 (say, keep_checkpoint_max was higher), listed by recovery
        checkpoint.write(str(tmp_path / f"ckpt-{step}"))
    write_checkpoint_state(tmp_path, tmp_path / "ckpt-7", [tmp_path / f"ckpt-{step}" for step in range(1, 7)])
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=3, checkpoint_name="ckpt")
    manager.save(checkpoint_number=8)
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".index")) == [
        "ckpt-6.index", "ckpt-7.index", "ckpt-8.index"]


def test_overwrite_output_dir_moves_everything_the_earlier_run_wrote(test_data, tmp_path):
    task, config = tiny_classifier_job(test_data, tmp_path, do_eval=True, export_saved_model=False)
    run_training(task, config)
    run_dir = tmp_path / "run"
    first = sorted(os.listdir(run_dir))
    assert {"checkpoints", "export", "eval_results.txt", "best_eval.json", "train"} <= set(first)
    task, config = tiny_classifier_job(test_data, tmp_path, do_eval=True, export_saved_model=False,
                                       overwrite_output_dir=True, num_train_steps=2)
    run_training(task, config)
    (replaced,) = [name for name in os.listdir(run_dir) if name.startswith("replaced-")]
    assert sorted(os.listdir(run_dir / replaced)) == [name for name in first if name != ".run.lock"]
    results = dict(line.split(" = ") for line in (run_dir / "eval_results.txt").read_text().splitlines())
    assert results["global_step"] == "2"  # the new run's, not the old run's left beside it
    best = json.loads((run_dir / "best_eval.json").read_text())["step"]
    assert best <= 2 and checkpoint_names(run_dir / "export") == ["model.ckpt-best"]  # a new export folder
    assert tf.train.load_checkpoint(str(run_dir / "export" / "model.ckpt-best")).get_tensor("global_step") == best


def test_keep_checkpoint_max_holds_across_resumes(test_data, tmp_path):
    for steps in (4, 8):  # the second run resumes from ckpt-4, rewriting the state file as every resume does
        run_training(*tiny_classifier_job(test_data, tmp_path, num_train_steps=steps, save_checkpoints_steps=1,
                                          keep_checkpoint_max=3))
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(f for f in os.listdir(checkpoints) if f.endswith(".index")) == [
        "ckpt-6.index", "ckpt-7.index", "ckpt-8.index"]


def test_resuming_with_another_batch_size_or_seed_warns(test_data, tmp_path, caplog):
    caplog.set_level("INFO", logger="absl")
    run_training(*tiny_classifier_job(test_data, tmp_path, num_train_steps=2))
    run_training(*tiny_classifier_job(test_data, tmp_path, num_train_steps=4, train_batch_size=16, seed=7))
    assert "train_batch_size=16 differs from train_batch_size=8 of the run being resumed" in caplog.text
    assert "seed=7 differs from seed=" in caplog.text and "the data position is derived from the step" in caplog.text


def test_overwrite_keeps_inputs_that_lie_inside_the_output_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.tsv").write_text("x\t1\n")
    (tmp_path / "eval_results.txt").write_text("accuracy = 1\n")
    target = set_run_state_aside(str(tmp_path), keep=[str(tmp_path / "data" / "train.tsv")])
    assert sorted(os.listdir(tmp_path)) == ["data", os.path.basename(target)]
    assert os.listdir(target) == ["eval_results.txt"]


# --- silently wrong ----------------------------------------------------------------------------------

def test_an_evaluation_without_weights_is_refused(test_data, tmp_path):
    task, config = tiny_classifier_job(test_data, tmp_path, do_train=False, do_eval=True, num_train_steps=0)
    with pytest.raises(ConfigError, match="do_train is off, and there are no weights to evaluate: .*holds no "
                                          "checkpoint and init_checkpoint is not set"):
        run_training(task, config)
    assert not os.path.exists(os.path.join(config.output_dir, "export"))


def test_a_vocab_with_a_repeated_token_is_refused_naming_the_lines(test_data, tmp_path):
    with open(os.path.join(test_data, ZH_VOCAB), encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")  # not splitlines(): the vocab holds U+2028 as a token
    lines.insert(700, lines[120])  # 21,129 lines, 21,128 distinct tokens
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = rf"vocab.txt: 1 repeated token\(s\) \(line 701 '{lines[120]}' repeats line 121\)"
    with pytest.raises(ValueError, match=expected):
        FullTokenizer(vocab_file=str(vocab))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("你好世界。\n今天天气很好。\n\n第二篇文章。\n很短。\n", encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        create_pretraining_data([str(corpus)], [str(tmp_path / "out.tfrecord")], vocab_file=str(vocab),
                                options=InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED),
                                log=lambda _: None)
    assert not (tmp_path / "out.tfrecord").exists()


def test_export_refuses_a_vocabulary_of_another_size(test_data, tmp_path):
    config = tiny_config(vocab_size=21128)  # the Chinese vocab's size; the SentencePiece model has 30,000
    model = AlbertClassifier(config, 2)
    save_checkpoint(model, tmp_path / "ckpt" / "model.ckpt-1")
    export = ExportConfig(model_type="classifier", albert_config_file=str(tmp_path / "ckpt" / "albert_config.json"),
                          checkpoint=str(tmp_path / "ckpt" / "model.ckpt-1"), export_dir=str(tmp_path / "export"),
                          spm_model_file=os.path.join(test_data, GERMAN_SPM), max_seq_length=64)
    with pytest.raises(ConfigError, match="30k-clean.model has 30000 tokens but the model config says "
                                          "vocab_size=21128"):
        export_model(export)
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]  # no export folder, no claim or temporary left


# --- unclear today: one early, clear message ---------------------------------------------------------

@pytest.fixture(scope="module")
def records(tmp_path_factory, test_data=os.path.join(os.path.dirname(__file__), "data")):
    root = tmp_path_factory.mktemp("records")
    corpus = root / "corpus.txt"
    with open(os.path.join(test_data, "corpus_en/bert_sample_text/sample_text.txt"), encoding="utf-8") as f:
        corpus.write_text(f.read(), encoding="utf-8")
    path = str(root / "train.tfrecord")
    create_pretraining_data([str(corpus)], [path], spm_model_file=os.path.join(test_data, GERMAN_SPM),
                            options=InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED),
                            dupe_factor=2, log=lambda _: None)
    return path


def test_a_corrupt_record_is_found_naming_the_file_and_the_offset(records, tmp_path):
    damaged = tmp_path / "damaged.tfrecord"
    data = bytearray(open(records, "rb").read())
    data[len(data) // 2] ^= 0xFF  # one byte inside a record: the framing is intact, the checksum is not
    damaged.write_bytes(bytes(data))
    check_pretraining_files([str(damaged)], SEQ, PRED)  # the start-up check reads the framing only
    (found,) = damaged_records([records, str(damaged)])
    assert found.startswith(f"{damaged}: corrupted record at ")


def test_a_run_that_meets_a_corrupt_record_names_the_file_and_keeps_its_checkpoint(records, tmp_path):
    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig

    damaged = tmp_path / "damaged.tfrecord"
    data = bytearray(open(records, "rb").read())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    tiny_config(max_position_embeddings=SEQ).to_json_file(str(tmp_path / "albert_config.json"))
    task = create_task("pretraining", input_file=str(damaged), max_seq_length=SEQ, max_predictions_per_seq=PRED,
                       shuffle_buffer_size=1)
    config = TrainingConfig.for_pretraining(albert_config_file=str(tmp_path / "albert_config.json"),
                                            output_dir=str(tmp_path / "run"), train_batch_size=4, num_train_steps=400,
                                            num_warmup_steps=1, save_checkpoints_steps=1, log_steps=1000,
                                            export_saved_model=False, do_eval=False)
    with pytest.raises(ValueError, match=rf"(?s)input data is damaged.*\n  {damaged}: corrupted record at \d+ "
                                         r"\(byte offset\)\nCreate or copy the file\(s\) again; rerunning resumes "
                                         r"from the last checkpoint, .*ckpt-\d+"):
        run_training(task, config)


def test_token_ids_beyond_the_vocabulary_are_refused_naming_the_file_and_the_id(records):
    check_pretraining_files([records], SEQ, PRED, vocab_size=30000)
    with pytest.raises(ValueError, match=rf"vocab_size=1000:\n  {records}: input_ids of the first record holds "
                                         r"token id \d+, expected ids below the model's vocab_size=1000"):
        check_pretraining_files([records], SEQ, PRED, vocab_size=1000)


def test_an_empty_corpus_file_is_named(tmp_path, test_data):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match=f"the corpus is empty: no input file has any tokenizable text: "
                                         f"{tmp_path / 'empty.txt'}"):
        create_pretraining_data([str(tmp_path / "empty.txt")], [str(tmp_path / "out.tfrecord")],
                                spm_model_file=os.path.join(test_data, GERMAN_SPM), log=lambda _: None)


def test_a_missing_hugging_face_folder_is_named_itself(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no Hugging Face folder at {tmp_path / 'nope' / 'hf'}: expected"):
        read_hf_config(str(tmp_path / "nope" / "hf"))


@pytest.mark.parametrize("value, expected", [
    (None, "the TF_CONFIG environment variable is not set"),
    ("{bad", r"TF_CONFIG \(environment variable\) is not valid JSON"),
    ('{"cluster": {}}', 'no "cluster" of job names.*no "task" with a "type"'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "task worker 1 is not in the "
                                                                                 r"cluster \(1 worker address"),
])
def test_a_malformed_tf_config_is_named(value, expected):
    with pytest.raises(ConfigError, match=expected):
        check_tf_config(value)
    check_tf_config('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}')


def test_missing_dev_files_stop_the_run_before_step_1(test_data, tmp_path):
    task, config = tiny_classifier_job(test_data, tmp_path, do_eval=True)
    os.remove(tmp_path / "dev.tsv")
    with pytest.raises(FileNotFoundError, match="dev.tsv"):
        run_training(task, config)
    assert not os.path.exists(os.path.join(config.output_dir, "checkpoints"))  # no step was taken


def test_safetensors_get_the_same_permissions_as_the_other_files(tmp_path):
    from albert_tf.checkpoints.hf_checkpoint import save_hf_model

    save_hf_model(AlbertEncoder(tiny_config()), str(tmp_path / "hf"))
    modes = {name: os.stat(tmp_path / "hf" / name).st_mode & 0o777 for name in os.listdir(tmp_path / "hf")}
    assert len(set(modes.values())) == 1 and modes["model.safetensors"] & 0o044 == 0o044, modes


def test_sop_majority_rate_is_the_held_out_labels(tmp_path):
    from albert_tf.tasks.pretraining_objective import PretrainingObjective

    labels = np.array([1, 0, 0, 0, 1, 0, 0, 0], np.int32)  # 6 of 8 in the original order
    sums = PretrainingObjective().sums(
        {"mlm_logits": tf.zeros([8, 2, 5]), "sop_logits": tf.tile([[1.0, 0.0]], [8, 1])},
        {"masked_lm_ids": tf.zeros([8, 2], tf.int32), "masked_lm_weights": tf.ones([8, 2]),
         "next_sentence_labels": labels})
    metrics = {k: float(v) for k, v in PretrainingObjective().metrics(sums).items()}
    assert metrics["sentence_order_majority_rate"] == 0.75 and metrics["sentence_order_examples"] == 8
    assert metrics["sentence_order_accuracy"] == 0.75  # always "original order": exactly the majority rate
