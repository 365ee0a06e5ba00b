"""Original-layout checkpoints: the path forms users pass, strictness, errors,
init_from_group0, and saving back in the Google/brightmart layout."""

import os
import shutil

import numpy as np
import pytest

from albert_reference import (albert_forward, random_weights, read_tf1_checkpoint,
                              relative_error, write_tf1_checkpoint)
from albert_tf import (AlbertConfig, AlbertEncoder, AlbertPretrainer, CheckpointMismatchError,
                       load_checkpoint, save_checkpoint)
from albert_tf.checkpoints import CheckpointReadError, resolve_checkpoint_path, variable_names
from test_original_parity import BASE, make_inputs

GROUPED = dict(BASE, num_hidden_groups=2, inner_group_num=2)
SHARED = dict(BASE, num_hidden_groups=1, inner_group_num=1)
BRIGHT = dict(BASE, ln_type="postln")


@pytest.fixture
def google_checkpoint(tmp_path):
    weights = random_weights(GROUPED, seed=3)
    prefix = write_tf1_checkpoint(str(tmp_path / "release" / "model.ckpt-best"), weights)
    return prefix, weights


def encoder_output(model, cfg):
    ids, mask, segments, _ = make_inputs(cfg["vocab_size"])
    encoder = getattr(model, "encoder", model)
    return encoder({"input_ids": ids, "input_mask": mask, "segment_ids": segments})[
        "sequence_output"].numpy()


def expected_output(weights, cfg):
    ids, mask, segments, _ = make_inputs(cfg["vocab_size"])
    return albert_forward(weights, cfg, ids, mask, segments)["sequence_output"]


# ---------------------------------------------------------------- path forms
@pytest.mark.parametrize("form", ["prefix", "index", "meta", "data", "directory"])
def test_path_forms_resolve_to_prefix(google_checkpoint, form):
    prefix, _ = google_checkpoint
    path = {
        "prefix": prefix,
        "index": prefix + ".index",
        "meta": prefix + ".meta",
        "data": prefix + ".data-00000-of-00001",
        "directory": os.path.dirname(prefix),  # no `checkpoint` state file
    }[form]
    assert resolve_checkpoint_path(path) == prefix


def test_directory_with_state_file_and_several_checkpoints(tmp_path):
    model = AlbertEncoder(AlbertConfig.from_dict(SHARED))
    save_checkpoint(model, tmp_path / "model.ckpt-100", global_step=100)
    save_checkpoint(model, tmp_path / "model.ckpt-200", global_step=200)
    assert resolve_checkpoint_path(tmp_path).endswith("model.ckpt-200")
    os.remove(tmp_path / "checkpoint")
    with pytest.raises(ValueError, match="holds 2 checkpoints and no `checkpoint` state"):
        resolve_checkpoint_path(tmp_path)


def test_tf_hub_module_directory(google_checkpoint, tmp_path):
    prefix, weights = google_checkpoint
    module = tmp_path / "hub_module"
    os.makedirs(module / "variables")
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(prefix + suffix, module / "variables" / ("variables" + suffix))
    (module / "saved_model.pb").write_bytes(b"")
    model = AlbertPretrainer(AlbertConfig.from_dict(GROUPED))
    report = load_checkpoint(model, module)
    assert report.checkpoint == str(module / "variables" / "variables")
    assert relative_error(encoder_output(model, GROUPED), expected_output(weights, GROUPED)) <= 1e-5


def test_load_from_index_file_matches_reference(google_checkpoint):
    prefix, weights = google_checkpoint
    model = AlbertEncoder(AlbertConfig.from_dict(GROUPED))
    report = load_checkpoint(model, prefix + ".index", strict=False)
    assert relative_error(encoder_output(model, GROUPED), expected_output(weights, GROUPED)) <= 1e-5
    # The checkpoint's heads are reported, not silently dropped.
    assert "cls/predictions/output_bias" in report.unused
    assert "global_step" in report.skipped_non_model
    assert "bert/pooler/dense/kernel/adam_m" in report.skipped_non_model


# -------------------------------------------------------------- bad inputs
def test_missing_path_names_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No checkpoint at .*nowhere/model.ckpt.*\.index"):
        resolve_checkpoint_path(tmp_path / "nowhere" / "model.ckpt")


def test_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint in directory"):
        resolve_checkpoint_path(tmp_path)


def test_keras_weights_file_is_refused(tmp_path):
    path = tmp_path / "model.weights.h5"
    path.write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ValueError, match="Keras weights file.*load_weights"):
        resolve_checkpoint_path(path)


def test_other_file_is_refused(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a TensorFlow checkpoint"):
        resolve_checkpoint_path(path)


def test_corrupt_index_names_the_file(google_checkpoint):
    prefix, _ = google_checkpoint
    with open(prefix + ".index", "wb") as f:
        f.write(b"garbage" * 10)
    with pytest.raises(ValueError, match=f"Cannot read checkpoint {prefix}"):
        load_checkpoint(AlbertEncoder(AlbertConfig.from_dict(GROUPED)), prefix)


def test_mismatch_lists_every_offender_and_assigns_nothing(google_checkpoint):
    prefix, _ = google_checkpoint
    # Wider FFN (mis-shaped), one group (group_1 unexpected) of three inner
    # blocks (inner_group_2 missing).
    cfg = dict(GROUPED, intermediate_size=48, num_hidden_groups=1, inner_group_num=3)
    model = AlbertPretrainer(AlbertConfig.from_dict(cfg))
    before = [v.numpy().copy() for v in model.weights]
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(model, prefix)
    message = str(error.value)
    assert "missing from the checkpoint (16)" in message
    assert "bert/encoder/transformer/group_0/inner_group_2/LayerNorm/gamma [16]" in message
    assert "unexpected in the checkpoint (32)" in message
    assert "bert/encoder/transformer/group_1/inner_group_0/LayerNorm_1/beta [16]" in message
    assert "shape mismatch (6)" in message
    assert ("bert/encoder/transformer/group_0/inner_group_0/ffn_1/intermediate/dense/kernel: "
            "checkpoint [16, 32] vs model [16, 48]") in message
    for old, variable in zip(before, model.weights):
        np.testing.assert_array_equal(old, variable.numpy())


def test_truncated_data_file_assigns_nothing(google_checkpoint, tmp_path):
    prefix, _ = google_checkpoint
    damaged = tmp_path / "damaged"
    shutil.copytree(os.path.dirname(prefix), damaged)
    (data,) = [f for f in os.listdir(damaged) if ".data-" in f]
    size = os.path.getsize(damaged / data)
    with open(damaged / data, "r+b") as f:
        f.truncate(size // 2)  # as a copy cut short by a full disk
    model = AlbertPretrainer(AlbertConfig.from_dict(GROUPED))
    before = [v.numpy().copy() for v in model.weights]
    with pytest.raises(CheckpointReadError, match="truncated or corrupt. No variable was changed"):
        load_checkpoint(model, str(damaged / os.path.basename(prefix)))
    for old, variable in zip(before, model.weights):
        np.testing.assert_array_equal(old, variable.numpy())


def test_encoder_only_checkpoint_into_pretrainer(tmp_path):
    weights = random_weights(SHARED, heads=False)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    model = AlbertPretrainer(AlbertConfig.from_dict(SHARED))
    with pytest.raises(CheckpointMismatchError, match=r"missing from the checkpoint \(7\)"):
        load_checkpoint(model, prefix)
    report = load_checkpoint(model, prefix, strict=False)
    assert report.not_loaded == sorted(variable_names.head_variables(model))
    assert relative_error(encoder_output(model, SHARED), expected_output(weights, SHARED)) <= 1e-5


def test_relaxed_mode_still_requires_the_whole_encoder(tmp_path):
    weights = random_weights(SHARED)
    del weights["bert/pooler/dense/bias"]
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    with pytest.raises(CheckpointMismatchError, match=r"bert/pooler/dense/bias \[16\]"):
        load_checkpoint(AlbertEncoder(AlbertConfig.from_dict(SHARED)), prefix, strict=False)


def test_strict_encoder_rejects_unused_heads_and_suggests_relaxed(google_checkpoint):
    prefix, _ = google_checkpoint
    with pytest.raises(CheckpointMismatchError, match=r"(?s)cls/seq_relationship.*strict=False"):
        load_checkpoint(AlbertEncoder(AlbertConfig.from_dict(GROUPED)), prefix)


def test_bright_checkpoint_in_google_model_gets_a_hint(tmp_path):
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), random_weights(BRIGHT))
    google = dict(BRIGHT)
    del google["ln_type"]
    with pytest.raises(CheckpointMismatchError, match="brightmart's albert_zh layout"):
        load_checkpoint(AlbertPretrainer(AlbertConfig.from_dict(google)), prefix)


def test_google_checkpoint_in_bright_model_gets_a_hint(google_checkpoint):
    prefix, _ = google_checkpoint
    with pytest.raises(CheckpointMismatchError, match="uses the Google layout"):
        load_checkpoint(AlbertPretrainer(AlbertConfig.from_dict(BRIGHT)), prefix)


def test_object_based_checkpoint_is_explained(tmp_path):
    import tensorflow as tf

    model = AlbertEncoder(AlbertConfig.from_dict(SHARED))
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    with pytest.raises(ValueError, match="TF2 object-based checkpoint"):
        load_checkpoint(model, path)


# ---------------------------------------------------------- init_from_group0
def test_init_from_group0_spreads_a_shared_checkpoint(tmp_path):
    weights = random_weights(SHARED, seed=5)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    model = AlbertPretrainer(AlbertConfig.from_dict(GROUPED))
    with pytest.raises(CheckpointMismatchError):
        load_checkpoint(model, prefix)
    report = load_checkpoint(model, prefix, init_from_group0=True)
    source = "bert/encoder/transformer/group_0/inner_group_0/LayerNorm/gamma"
    assert report.loaded["bert/encoder/transformer/group_1/inner_group_1/LayerNorm/gamma"] == source
    # Every block now holds group_0's weights: the grouped model computes what
    # a shared model with K=2 blocks of identical weights computes.
    grouped_weights = dict(weights)
    for name, value in weights.items():
        if "/group_0/inner_group_0/" in name:
            for g in range(2):
                for k in range(2):
                    grouped_weights[name.replace("group_0/inner_group_0",
                                                 f"group_{g}/inner_group_{k}")] = value
    assert relative_error(encoder_output(model, GROUPED),
                          expected_output(grouped_weights, GROUPED)) <= 1e-5


# ------------------------------------------------------------------- saving
@pytest.mark.parametrize("cfg", [GROUPED, BRIGHT], ids=["google", "bright"])
def test_save_then_reload_round_trip(cfg, tmp_path):
    source = tmp_path / "source" / "model.ckpt"
    weights = random_weights(cfg, seed=11)
    write_tf1_checkpoint(str(source), weights)
    model = AlbertPretrainer(AlbertConfig.from_dict(cfg))
    load_checkpoint(model, source)
    saved = save_checkpoint(model, tmp_path / "export" / "model.ckpt-42", global_step=42)

    # The original code's Saver restores every variable bit for bit.
    restored = read_tf1_checkpoint(saved, list(weights))
    for name, value in weights.items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)
    import tensorflow as tf

    assert tf.train.load_checkpoint(saved).get_tensor("global_step") == 42
    config = AlbertConfig.from_json_file(tmp_path / "export" / "albert_config.json")
    assert config == model.config

    reloaded = AlbertPretrainer(config)
    load_checkpoint(reloaded, tmp_path / "export")
    np.testing.assert_array_equal(encoder_output(reloaded, cfg), encoder_output(model, cfg))


def test_index_of_one_save_with_data_of_another_is_refused(tmp_path):
    """A kill between the two renames of a save could pair an old index with new data: detected, nothing assigned."""
    config = AlbertConfig.from_dict(GROUPED)
    for name, seed in (("old", 1), ("new", 2)):
        model = AlbertPretrainer(config)
        model.set_weights([np.random.default_rng(seed).normal(size=w.shape).astype(w.dtype) for w in model.weights])
        save_checkpoint(model, str(tmp_path / name / "model.ckpt-best"))
    torn = tmp_path / "torn"
    torn.mkdir()
    shutil.copy(tmp_path / "old" / "model.ckpt-best.index", torn)
    shutil.copy(tmp_path / "new" / "model.ckpt-best.data-00000-of-00001", torn)
    model = AlbertPretrainer(config)
    before = [v.numpy().copy() for v in model.weights]
    with pytest.raises(CheckpointReadError, match="No variable was changed"):
        load_checkpoint(model, str(torn / "model.ckpt-best"))
    for old, variable in zip(before, model.weights):
        np.testing.assert_array_equal(old, variable.numpy())
