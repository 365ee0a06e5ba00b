"""Weights to and from keras-hub's AlbertBackbone give the same outputs."""

import numpy as np
import pytest

from albert_reference import random_weights, relative_error, write_tf1_checkpoint
from albert_tf import AlbertConfig, AlbertEncoder, load_checkpoint
from albert_tf.checkpoints import encoder_from_keras_hub, encoder_to_keras_hub
from test_original_parity import BASE, make_inputs

GROUPED = dict(BASE, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2)


def outputs(model, cfg, keras_hub_names=False):
    ids, mask, segments, _ = make_inputs(cfg["vocab_size"])
    if keras_hub_names:
        inputs = {"token_ids": ids, "padding_mask": mask, "segment_ids": segments}
    else:
        inputs = {"input_ids": ids, "input_mask": mask, "segment_ids": segments}
    result = model(inputs, training=False)
    return result["sequence_output"].numpy(), result["pooled_output"].numpy()


@pytest.mark.parametrize("cfg", [GROUPED, dict(GROUPED, embedding_size=16)],
                         ids=["E_ne_H", "E_eq_H"])
def test_to_keras_hub_and_back(cfg, tmp_path):
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), random_weights(cfg, heads=False))
    encoder = AlbertEncoder(AlbertConfig.from_dict(cfg))
    load_checkpoint(encoder, prefix)
    backbone = encoder_to_keras_hub(encoder)
    for ours, theirs in zip(outputs(encoder, cfg), outputs(backbone, cfg, keras_hub_names=True)):
        assert relative_error(theirs, ours) <= 1e-5
    back = encoder_from_keras_hub(backbone)
    for ours, again in zip(outputs(encoder, cfg), outputs(back, cfg)):
        np.testing.assert_array_equal(again, ours)


def test_from_keras_hub_preset_directory(tmp_path):
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=61, num_layers=4, num_heads=4, embedding_dim=8, hidden_dim=16,
        intermediate_dim=32, num_groups=2, num_inner_repetitions=2, max_sequence_length=24)
    backbone.save_to_preset(str(tmp_path / "preset"))
    encoder = encoder_from_keras_hub(tmp_path / "preset")
    assert encoder.config.num_hidden_groups == 2 and encoder.config.inner_group_num == 2
    cfg = dict(GROUPED)
    for theirs, ours in zip(outputs(backbone, cfg, keras_hub_names=True), outputs(encoder, cfg)):
        assert relative_error(ours, theirs) <= 1e-5


def test_to_keras_hub_preset_directory_round_trip(tmp_path):
    encoder = AlbertEncoder(AlbertConfig.from_dict(GROUPED))
    encoder_to_keras_hub(encoder, preset_dir=str(tmp_path / "preset"))
    again = encoder_from_keras_hub(tmp_path / "preset")
    for ours, back in zip(outputs(encoder, GROUPED), outputs(again, GROUPED)):
        np.testing.assert_array_equal(back, ours)


@pytest.mark.parametrize("change, message", [
    (dict(hidden_act="relu"), "only uses GELU"),
    (dict(num_hidden_layers=3), r"num_hidden_layers \(3\) to be a multiple"),
    (dict(ln_type="postln", num_hidden_groups=1, inner_group_num=1), "no brightmart"),
])
def test_unconvertible_configs_are_refused(change, message):
    encoder = AlbertEncoder(AlbertConfig.from_dict(dict(GROUPED, **change)))
    with pytest.raises(ValueError, match=message):
        encoder_to_keras_hub(encoder)


def test_non_identity_projection_with_e_equal_h_is_refused():
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=61, num_layers=2, num_heads=4, embedding_dim=16, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24)
    with pytest.raises(ValueError, match="non-identity embedding_projection/kernel"):
        encoder_from_keras_hub(backbone)
