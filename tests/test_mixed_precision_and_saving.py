"""Mixed-precision policies and Keras serialization of the models."""

import keras
import numpy as np
import pytest

from albert_reference import albert_forward, random_weights, relative_error, write_tf1_checkpoint
from albert_tf import AlbertConfig, AlbertEncoder, AlbertPretrainer, load_checkpoint
from albert_tf.layers import LayerNorm
from test_original_parity import BASE, make_inputs

CFG = dict(BASE, num_hidden_groups=2, inner_group_num=2)


def pretrainer_inputs(cfg):
    ids, mask, segments, positions = make_inputs(cfg["vocab_size"])
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments,
            "masked_lm_positions": positions}


@pytest.mark.parametrize("policy, compute, tolerance", [
    ("mixed_float16", "float16", 5e-3),
    ("mixed_bfloat16", "bfloat16", 4e-2),
])
def test_mixed_precision_matches_float64_reference(policy, compute, tolerance, tmp_path):
    weights = random_weights(CFG, seed=2)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    keras.mixed_precision.set_global_policy(policy)
    model = AlbertPretrainer(AlbertConfig.from_dict(CFG))
    load_checkpoint(model, prefix)
    assert all(v.dtype == "float32" for v in model.weights)
    norms = [model.encoder.embedding.layer_norm, model.masked_lm_head.layer_norm] + [
        norm for group in model.encoder.groups for block in group
        for norm in (block.attention_layer_norm, block.output_layer_norm)]
    assert len(norms) == 2 + 2 * 4
    assert all(isinstance(n, LayerNorm) and n.compute_dtype == "float32" for n in norms)
    inputs = pretrainer_inputs(CFG)
    outputs = model(inputs, training=False)
    assert outputs["sequence_output"].dtype == compute
    assert outputs["mlm_logits"].dtype == "float32" and outputs["sop_logits"].dtype == "float32"
    expected = albert_forward(weights, CFG, inputs["input_ids"], inputs["input_mask"],
                              inputs["segment_ids"], inputs["masked_lm_positions"])
    for key in ("sequence_output", "pooled_output", "mlm_logits", "sop_logits"):
        assert np.all(np.isfinite(outputs[key]))
        assert relative_error(outputs[key], expected[key]) <= tolerance, key


def test_get_config_returns_the_constructor_arguments():
    config = AlbertConfig.from_dict(CFG)
    encoder = AlbertEncoder(config, output_all_layers=True, name="enc")
    settings = encoder.get_config()
    assert set(settings) == {"config", "output_all_layers", "dtype", "name"}
    rebuilt = AlbertEncoder.from_config(settings)
    assert rebuilt.config == config and rebuilt.output_all_layers and rebuilt.name == "enc"
    pretrainer = AlbertPretrainer.from_config(AlbertPretrainer(config).get_config())
    assert pretrainer.config == config


def test_keras_file_round_trip(tmp_path):
    model = AlbertPretrainer(AlbertConfig.from_dict(CFG))
    inputs = pretrainer_inputs(CFG)
    before = model(inputs)
    model.save(tmp_path / "pretrainer.keras")
    loaded = keras.models.load_model(tmp_path / "pretrainer.keras")
    after = loaded(inputs)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])
