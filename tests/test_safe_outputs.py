"""Nothing lost: one run per folder, resume from the files whatever the state file says, atomic writes."""

import os
import signal
import sys

import numpy as np
import pytest
import tensorflow as tf

import processes
from albert_tf.outputs.atomic_files import atomic_files, atomic_open, atomic_path, remove_leftovers
from albert_tf.errors import OutputFolderBusyError, ResumeError
from albert_tf.outputs.run_lock import RunLock
from albert_tf.training.training_loop import TrainingLoop, run_training
from conftest import REPO
from tiny_runs import tiny_classifier_job


# --- the run lock ------------------------------------------------------------------------------------

def test_second_lock_on_a_folder_fails_naming_the_holder(tmp_path):
    with RunLock(str(tmp_path)):
        with pytest.raises(OutputFolderBusyError, match=f"in use by another run \\(pid {os.getpid()} on"):
            RunLock(str(tmp_path)).acquire()
    with RunLock(str(tmp_path)):  # released: free again
        pass


def test_lock_of_a_killed_run_does_not_block(tmp_path):
    code = (f"import os, sys; sys.path.insert(0, {REPO!r}); from albert_tf.outputs.run_lock import RunLock; "
            f"RunLock({str(tmp_path)!r}).acquire(); os.kill(os.getpid(), {int(signal.SIGKILL)})")
    killed = processes.run([sys.executable, "-c", code], timeout=60)
    assert killed.returncode == -signal.SIGKILL and (tmp_path / ".run.lock").exists()
    with RunLock(str(tmp_path)):
        pass


def test_the_loop_refuses_a_folder_in_use(test_data, tmp_path):
    task, config = tiny_classifier_job(test_data, tmp_path)
    os.makedirs(config.output_dir)
    with RunLock(config.output_dir):
        with pytest.raises(OutputFolderBusyError):
            run_training(task, config)
    assert os.listdir(config.output_dir) == [".run.lock"]  # it stopped before writing anything


# --- resuming from the files -------------------------------------------------------------------------

def checkpoint_files(directory):
    return sorted(name for name in os.listdir(directory) if name != "checkpoint")


def weights_of(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map() if "model/" in name}


@pytest.fixture
def trained(test_data, tmp_path):
    """A finished 4-step run with ckpt-2 and ckpt-4, and its job for reruns."""
    task, config = tiny_classifier_job(test_data, tmp_path)
    run_training(task, config)
    checkpoints = os.path.join(config.output_dir, "checkpoints")
    assert {"ckpt-2.index", "ckpt-4.index"} <= set(os.listdir(checkpoints))
    return test_data, tmp_path, checkpoints


def rerun(trained, **overrides):
    test_data, tmp_path, _ = trained
    task, config = tiny_classifier_job(test_data, tmp_path, **overrides)
    return run_training(task, config)


def test_deleted_state_file_resumes_from_the_newest_checkpoint(trained, caplog):
    caplog.set_level("INFO", logger="absl")  # an earlier test may have raised absl's level
    checkpoints = trained[2]
    saved = weights_of(os.path.join(checkpoints, "ckpt-4"))
    os.remove(os.path.join(checkpoints, "checkpoint"))
    rerun(trained, num_train_steps=6)
    assert "state file is missing" in caplog.text and "resumed from" in caplog.text
    assert "ckpt-4 at step 4" in caplog.text
    # ckpt-4 is the same file (resumed, not retrained and overwritten), and training went on to 6.
    for name, value in weights_of(os.path.join(checkpoints, "ckpt-4")).items():
        np.testing.assert_array_equal(value, saved[name])
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-6")


def test_state_file_naming_a_missing_checkpoint(trained, caplog):
    caplog.set_level("INFO", logger="absl")  # an earlier test may have raised absl's level
    checkpoints = trained[2]
    with open(os.path.join(checkpoints, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "ckpt-9"\nall_model_checkpoint_paths: "ckpt-9"\n')
    rerun(trained, num_train_steps=4)
    assert "names" in caplog.text and "ckpt-4 at step 4" in caplog.text and "already trained 4 steps" in caplog.text


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(trained, caplog):
    caplog.set_level("INFO", logger="absl")  # an earlier test may have raised absl's level
    checkpoints = trained[2]
    (data,) = [f for f in os.listdir(checkpoints) if f.startswith("ckpt-4.data")]
    with open(os.path.join(checkpoints, data), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(checkpoints, data)) // 3)
    os.makedirs(os.path.join(checkpoints, "ckpt-6_temp"))  # an interrupted save's leftover
    rerun(trained, num_train_steps=4)
    assert "ckpt-4 is damaged" in caplog.text and "resumed from" in caplog.text and "ckpt-2" in caplog.text
    names = os.listdir(checkpoints)
    assert "corrupt-ckpt-4.index" in names and "ckpt-6_temp" not in names
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-4")  # retrained from step 2


def test_no_restorable_checkpoint_stops_unless_told_to_start_over(trained):
    checkpoints = trained[2]
    for name in os.listdir(checkpoints):
        if ".data-" in name:
            with open(os.path.join(checkpoints, name), "r+b") as f:
                f.truncate(10)
    before = checkpoint_files(checkpoints)
    with pytest.raises(ResumeError, match="(?s)none restores into this model.*Nothing was overwritten"):
        rerun(trained)
    assert checkpoint_files(checkpoints) == before
    rerun(trained, overwrite_output_dir=True)
    run_dir = os.path.dirname(checkpoints)
    (replaced,) = [n for n in os.listdir(run_dir) if n.startswith("replaced-")]
    assert checkpoint_files(os.path.join(run_dir, replaced, "checkpoints")) == before  # moved, not deleted
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-4")


def test_checkpoint_of_an_earlier_version_without_random_states_resumes(trained, caplog):
    caplog.set_level("INFO", logger="absl")  # an earlier test may have raised absl's level
    test_data, tmp_path, checkpoints = trained
    prefix = os.path.join(checkpoints, "ckpt-4")
    loop = TrainingLoop(*tiny_classifier_job(test_data, tmp_path))
    try:  # rewrite ckpt-4 as versions before random_states wrote it: the same items less the dropout seeds
        assert "random_states" in loop.checkpoint_items  # the classifier's dropout
        loop.checkpoint.restore(prefix).assert_existing_objects_matched()
        legacy = {k: v for k, v in loop.checkpoint_items.items() if k != "random_states"}
        for name in os.listdir(checkpoints):
            if name.startswith("ckpt-4."):
                os.remove(os.path.join(checkpoints, name))
        written = tf.train.Checkpoint(**legacy)
        written.save_counter.assign_add(2)  # as CheckpointManager.save writes it (write alone has no save_counter)
        written.write(prefix)
    finally:
        loop.close()
    assert not any(name.startswith("random_states/") for name, _ in tf.train.list_variables(prefix))
    rerun(trained, num_train_steps=6)
    assert "written by an earlier version, without random_states" in caplog.text and "ckpt-4 at step 4" in caplog.text
    assert not [name for name in os.listdir(checkpoints) if name.startswith("corrupt-")]  # not taken as damaged
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-6")
    assert any(name.startswith("random_states/") for name, _ in tf.train.list_variables(
        os.path.join(checkpoints, "ckpt-6")))


# --- atomic files ------------------------------------------------------------------------------------

def test_atomic_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("old\n")
    with pytest.raises(OSError):
        with atomic_open(target, "w") as f:
            f.write("half")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["results.txt"]
    with atomic_open(target, "w") as f:
        f.write("new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["results.txt"]


def test_atomic_folder_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "old.pb").write_text("old")
    with pytest.raises(OSError):
        with atomic_path(target) as temporary:
            os.makedirs(temporary)
            (tmp_path / os.path.basename(temporary) / "half.pb").write_text("x")
            raise OSError(28, "No space left on device")
    assert os.listdir(target) == ["old.pb"] and sorted(os.listdir(tmp_path)) == ["saved_model"]
    with atomic_path(target) as temporary:
        os.makedirs(temporary)
        (tmp_path / os.path.basename(temporary) / "new.pb").write_text("new")
    assert os.listdir(target) == ["new.pb"] and sorted(os.listdir(tmp_path)) == ["saved_model"]


def test_a_commit_flushes_what_it_wrote_and_the_folder_entry_not_the_neighbours(tmp_path, monkeypatch):
    # A neighbour that vanishes while a file is committed beside it (another writer's temporary file) once
    # failed the commit: the folder was flushed file by file. Only the written file and the folder's entries are.
    (tmp_path / "neighbour").mkdir()
    (tmp_path / "neighbour" / "events.out").write_text("x")
    flushed, real_open = [], os.open
    monkeypatch.setattr(os, "open", lambda path, *args: flushed.append(os.fspath(path)) or real_open(path, *args))
    with atomic_open(tmp_path / "results.txt", "w") as f:
        f.write("new\n")
    checkpoint = str(tmp_path / "model.ckpt-1")
    with atomic_files(checkpoint, marker=".index") as staged:
        for suffix in (".index", ".data-00000-of-00001"):
            with open(staged + suffix, "w") as f:
                f.write("x")
    assert not [path for path in flushed if "neighbour" in path]
    assert str(tmp_path) in flushed and any(path.endswith("results.txt.tmp-" + str(os.getpid())) for path in flushed)


def test_checkpoint_files_move_in_index_last_and_a_failed_write_keeps_the_old_ones(tmp_path, monkeypatch):
    prefix = str(tmp_path / "model.ckpt-best")
    for suffix, text in ((".index", "old index"), (".data-00000-of-00001", "old data")):
        (tmp_path / f"model.ckpt-best{suffix}").write_text(text)
    with pytest.raises(OSError):
        with atomic_files(prefix, marker=".index") as staged:
            (tmp_path / os.path.relpath(staged + ".data-00000-of-00001", tmp_path)).write_text("half")
            raise OSError(28, "No space left on device")
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt-best.data-00000-of-00001", "model.ckpt-best.index"]
    assert (tmp_path / "model.ckpt-best.index").read_text() == "old index"

    seen = []  # at each move into place: is there an index, and whose data is beside it?
    replace = os.replace

    def observed(source, target):
        seen.append((os.path.basename(target), (tmp_path / "model.ckpt-best.index").exists()))
        replace(source, target)
    monkeypatch.setattr(os, "replace", observed)
    with atomic_files(prefix, marker=".index") as staged:
        for suffix in (".index", ".data-00000-of-00001"):
            with open(staged + suffix, "w") as f:
                f.write("new")
    # The old index is gone before the new data moves in (no old index beside new data), the new index last.
    assert seen == [("model.ckpt-best.data-00000-of-00001", False), ("model.ckpt-best.index", False)]
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt-best.data-00000-of-00001", "model.ckpt-best.index"]
    assert {(tmp_path / name).read_text() for name in os.listdir(tmp_path)} == {"new"}


def test_save_checkpoint_and_keras_files_are_staged(tmp_path):
    from albert_tf import AlbertConfig, AlbertEncoder, load_model, save_checkpoint
    encoder = AlbertEncoder(AlbertConfig(vocab_size=50, embedding_size=4, hidden_size=8, num_hidden_layers=1,
                                         num_attention_heads=2, intermediate_size=8, max_position_embeddings=16))
    save_checkpoint(encoder, str(tmp_path / "out" / "model.ckpt-1"))
    assert sorted(os.listdir(tmp_path / "out")) == [
        "albert_config.json", "checkpoint", "model.ckpt-1.data-00000-of-00001", "model.ckpt-1.index"]
    assert tf.train.load_checkpoint(str(tmp_path / "out" / "model.ckpt-1")).has_tensor(
        "bert/embeddings/word_embeddings")
    with atomic_files(tmp_path / "encoder.keras") as staged:
        encoder.save(staged)
    assert sorted(os.listdir(tmp_path)) == ["encoder.keras", "out"]
    assert type(load_model(tmp_path / "encoder.keras")).__name__ == "AlbertEncoder"


def test_load_model_in_a_fresh_process_needs_no_other_import(tmp_path):
    from albert_tf import AlbertConfig, AlbertEncoder
    AlbertEncoder(AlbertConfig(vocab_size=50, embedding_size=4, hidden_size=8, num_hidden_layers=1,
                               num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
                  ).save(str(tmp_path / "encoder.keras"))
    code = f"import albert_tf; print(type(albert_tf.load_model({str(tmp_path / 'encoder.keras')!r})).__name__)"
    loaded = processes.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "AlbertEncoder", loaded.stderr[-2000:]


def test_a_folder_set_aside_by_a_killed_replacement_is_moved_back(tmp_path):
    dead = processes.run([sys.executable, "-c", "import os; print(os.getpid())"], timeout=60)
    pid = int(dead.stdout)
    (tmp_path / f".best.old-{pid}").mkdir()  # killed between moving the old best/ aside and the new one in
    (tmp_path / f".best.old-{pid}" / "model.index").write_text("old")
    (tmp_path / f".best.tmp-{pid}").mkdir()
    (tmp_path / f".saved_model.old-{pid}").mkdir()  # killed after the new one moved in: the old is garbage
    (tmp_path / "saved_model").mkdir()
    cleaned = remove_leftovers(str(tmp_path))
    assert sorted(cleaned) == [f".best.old-{pid} (moved back to best)", f".best.tmp-{pid}", f".saved_model.old-{pid}"]
    assert sorted(os.listdir(tmp_path)) == ["best", "saved_model"]
    assert (tmp_path / "best" / "model.index").read_text() == "old"


def test_leftovers_of_dead_writers_are_removed(tmp_path):
    dead = processes.run([sys.executable, "-c", "import os; print(os.getpid())"], timeout=60)
    pid = int(dead.stdout)
    (tmp_path / f".train.tfrecord.tmp-{pid}").write_text("torn")
    (tmp_path / f".saved_model.tmp-{pid}").mkdir()
    (tmp_path / f".live.tmp-{os.getppid()}").write_text("a live writer's")
    assert sorted(remove_leftovers(str(tmp_path))) == [f".saved_model.tmp-{pid}", f".train.tfrecord.tmp-{pid}"]
    assert os.listdir(tmp_path) == [f".live.tmp-{os.getppid()}"]


# --- inputs checked before work starts ----------------------------------------------------------------

def test_vocabulary_without_special_tokens_or_of_another_size_is_refused(test_data, tmp_path):
    from albert_tf import AlbertConfig
    from albert_tf.errors import ConfigError
    from albert_tf.tasks.registry import create_task

    sst = os.path.join(test_data, "glue", "SST-2")
    no_specials = os.path.join(test_data, "sentencepiece/tensorflow_text_test/test_oss_model.model")
    task = create_task("classifier", task_name="sst-2", data_dir=sst, spm_model_file=no_specials)
    with pytest.raises(ValueError, match=r"test_oss_model.model has no \[CLS\], \[SEP\], \[MASK\]"):
        task.check_inputs(AlbertConfig(vocab_size=1000))
    german = os.path.join(test_data, "sentencepiece/albert_de_privately/30k-clean.model")
    task = create_task("classifier", task_name="sst-2", data_dir=sst, spm_model_file=german)
    with pytest.raises(ConfigError, match="30k-clean.model has 30000 tokens but the model config says vocab_size=4000"):
        task.check_inputs(AlbertConfig(vocab_size=4000))
    task.check_inputs(AlbertConfig(vocab_size=30000))


def test_max_seq_length_beyond_the_positions_is_refused_by_runners_and_export(test_data, tmp_path):
    from albert_tf.errors import ConfigError
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.savedmodel_export import export_checkpoint
    from albert_tf.tasks.registry import create_task

    task, config = tiny_classifier_job(test_data, tmp_path)  # a model of 64 positions
    long_task = create_task("classifier", task_name="generic", train_file=str(tmp_path / "train.tsv"),
                            label_list="0,1", spm_model_file=task.config.spm_model_file, max_seq_length=128)
    with pytest.raises(ConfigError, match="max_seq_length=128: expected at most max_position_embeddings=64 of .*"
                                          "albert_config.json; set max_seq_length to at most 64"):
        run_training(long_task, config)
    assert not os.path.exists(os.path.join(config.output_dir, "checkpoints"))
    with pytest.raises(ConfigError, match="max_seq_length=512: expected at most max_position_embeddings=64 of .*"
                                          "set max_seq_length to at most 64"):
        export_checkpoint(ExportConfig(albert_config_file=config.albert_config_file, checkpoint="unused",
                                       export_dir=str(tmp_path / "export"), spm_model_file=task.config.spm_model_file))
    assert not (tmp_path / "export").exists()
