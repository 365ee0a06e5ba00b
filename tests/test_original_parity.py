"""Numeric parity with the original ALBERT, through original-layout checkpoints.

Each case writes a TF1 checkpoint with the original variable names, random
values and optimizer slots (tests/albert_reference.py), loads it, and
compares every output with the independent float64 NumPy implementation.
Tolerance: max |ours - reference| <= 1e-5 * max |reference| (float32).
"""

import numpy as np
import pytest
import tensorflow as tf

from albert_reference import albert_forward, random_weights, relative_error, write_tf1_checkpoint
from albert_tf import AlbertConfig, AlbertEncoder, AlbertPretrainer, load_checkpoint

TOLERANCE = 1e-5

BASE = dict(vocab_size=61, embedding_size=8, hidden_size=16, num_hidden_layers=3,
            num_attention_heads=4, intermediate_size=32, hidden_act="gelu",
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
            max_position_embeddings=24, type_vocab_size=2, initializer_range=0.02)

GOOGLE_CASES = {
    "shared_gelu": dict(BASE, num_hidden_groups=1, inner_group_num=1),
    # G=2 over L=3 layers: layers 0,1 use group 0 and layer 2 group 1.
    "grouped_G2_K2": dict(BASE, num_hidden_groups=2, inner_group_num=2),
    "unshared_relu": dict(BASE, num_hidden_groups=3, inner_group_num=1, hidden_act="relu"),
    "E_equals_H": dict(BASE, embedding_size=16, num_hidden_groups=1, inner_group_num=1),
    "E_equals_H_grouped_relu": dict(BASE, embedding_size=16, num_hidden_groups=2,
                                    inner_group_num=2, hidden_act="relu"),
}
BRIGHT_CASES = {
    "bright_postln": dict(BASE, ln_type="postln"),
    "bright_preln": dict(BASE, ln_type="preln"),
}


def make_inputs(vocab_size, batch=3, seq=7, seed=1):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, size=(batch, seq)).astype(np.int32)
    lengths = [seq, seq - 2, 3]
    mask = np.array([[1] * n + [0] * (seq - n) for n in lengths], np.int32)
    ids = ids * mask
    segments = np.array([[0] * (n // 2) + [1] * (seq - n // 2) for n in lengths], np.int32)
    segments = segments * mask
    positions = np.array([[1, 2], [0, 3], [2, 1]], np.int32)
    return ids, mask, segments, positions


def run_case(cfg, tmp_path):
    weights = random_weights(cfg, seed=7)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-best"), weights)
    model = AlbertPretrainer(AlbertConfig.from_dict(cfg))
    report = load_checkpoint(model, prefix)
    assert len(report.loaded) == len(weights)
    assert report.not_loaded == [] and report.unused == []
    ids, mask, segments, positions = make_inputs(cfg["vocab_size"])
    outputs = model({"input_ids": ids, "input_mask": mask, "segment_ids": segments,
                     "masked_lm_positions": positions}, training=False)
    expected = albert_forward(weights, cfg, ids, mask, segments, positions)
    return model, outputs, expected, (ids, mask, segments)


@pytest.mark.parametrize("case", sorted(GOOGLE_CASES) + sorted(BRIGHT_CASES))
def test_outputs_match_reference(case, tmp_path):
    cfg = {**GOOGLE_CASES, **BRIGHT_CASES}[case]
    _, outputs, expected, _ = run_case(cfg, tmp_path)
    for key in ("sequence_output", "pooled_output", "mlm_logits", "sop_logits"):
        error = relative_error(outputs[key], expected[key])
        assert error <= TOLERANCE, f"{case} {key}: relative error {error:.2e}"


def test_padding_does_not_change_real_tokens(tmp_path):
    """The -10000 mask: appending padding leaves real positions unchanged."""
    cfg = GOOGLE_CASES["grouped_G2_K2"]
    model, outputs, _, (ids, mask, segments) = run_case(cfg, tmp_path)
    padded = {name: np.pad(value, [(0, 0), (0, 4)]) for name, value in
              (("input_ids", ids), ("input_mask", mask), ("segment_ids", segments))}
    longer = model.encoder(padded, training=False)["sequence_output"].numpy()
    shorter = outputs["sequence_output"].numpy()
    real = mask.astype(bool)
    assert relative_error(longer[:, :7][real], shorter[real]) <= TOLERANCE


def test_all_layer_outputs_match_reference(tmp_path):
    cfg = GOOGLE_CASES["grouped_G2_K2"]
    weights = random_weights(cfg, heads=False)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    encoder = AlbertEncoder(AlbertConfig.from_dict(cfg), output_all_layers=True)
    load_checkpoint(encoder, prefix)
    ids, mask, segments, _ = make_inputs(cfg["vocab_size"])
    outputs = encoder({"input_ids": ids, "input_mask": mask, "segment_ids": segments})
    expected = albert_forward(weights, cfg, ids, mask, segments)
    assert len(outputs["encoder_outputs"]) == cfg["num_hidden_layers"]
    for ours, reference in zip(outputs["encoder_outputs"], expected["encoder_outputs"]):
        assert relative_error(ours, reference) <= TOLERANCE


def test_dropout_active_only_in_training(tmp_path):
    cfg = GOOGLE_CASES["shared_gelu"]
    model, outputs, _, (ids, mask, segments) = run_case(cfg, tmp_path)
    inputs = {"input_ids": ids, "input_mask": mask, "segment_ids": segments}
    eval_again = model.encoder(inputs, training=False)["sequence_output"]
    train = model.encoder(inputs, training=True)["sequence_output"]
    np.testing.assert_array_equal(eval_again, outputs["sequence_output"])
    assert relative_error(train, eval_again) > 1e-3


def test_graph_mode_matches_eager(tmp_path):
    cfg = GOOGLE_CASES["grouped_G2_K2"]
    model, outputs, _, (ids, mask, segments) = run_case(cfg, tmp_path)
    inputs = {"input_ids": tf.constant(ids), "input_mask": tf.constant(mask),
              "segment_ids": tf.constant(segments)}
    graph = tf.function(lambda x: model.encoder(x, training=False))(inputs)
    assert relative_error(graph["sequence_output"], outputs["sequence_output"]) <= 1e-6
