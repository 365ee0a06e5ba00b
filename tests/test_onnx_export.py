"""ONNX exports: the graph against the Keras model, ORT's fusions, shared weights stored once, int8.

Tolerance (float32): ONNX Runtime sums the same products in another order (and its fused Attention and
SkipLayerNormalization kernels do their own reductions); a dot product of n <= 256 terms has a relative
rounding error of at most n * 2^-24 = 1.5e-5 of the sum of absolute products, and LayerNorm after every
sublayer keeps that from growing, so outputs agree to 1e-5 of their largest magnitude (measured: 2e-7 to 7e-7).
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from albert_tf import AlbertConfig, save_checkpoint
from albert_tf.export.onnx_export import export_onnx, merge_duplicate_initializers
from albert_tf.export.onnx_graph import model_graph
from albert_tf.models import (AlbertClassifier, AlbertEncoder, AlbertMultipleChoice, AlbertQuestionAnswerer,
                              AlbertTokenClassifier)
from conftest import REPO
from test_keras_hub_interop import scrambled
import processes

GROUPED = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=4, num_hidden_groups=2,
                       inner_group_num=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=40)
SHARED = AlbertConfig(vocab_size=3000, embedding_size=32, hidden_size=128, num_hidden_layers=12,
                      num_attention_heads=4, intermediate_size=512, max_position_embeddings=64)


def inputs(vocab_size, batch=4, length=20, seed=0):
    """Rows of several lengths, padded on the right, two segments."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, (batch, length)).astype(np.int32)
    lengths = rng.integers(3, length + 1, batch)
    lengths[0] = length
    mask = (np.arange(length)[None] < lengths[:, None]).astype(np.int32)
    segments = ((np.arange(length)[None] >= lengths[:, None] // 2) * mask).astype(np.int32)
    return {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments}


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(path, feeds):
    s = session(path)
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds)))


def keras_outputs(model, model_type, feeds):
    return {k: v.numpy() for k, v in model(feeds, training=False).items()
            if model_type != "encoder" or k in ("sequence_output", "pooled_output")}


def assert_close(actual, expected, what):
    scale = float(np.abs(expected).max())
    assert float(np.abs(actual - expected).max()) <= 1e-5 * scale, (what, float(np.abs(actual - expected).max()))


MODELS = {
    "encoder": lambda c: AlbertEncoder(c),
    "classifier": lambda c: AlbertClassifier(c, num_classes=3),
    "squad": lambda c: AlbertQuestionAnswerer(c),
    "race": lambda c: AlbertMultipleChoice(c),
    "token_classifier": lambda c: AlbertTokenClassifier(c, num_classes=5),
}


def compare(model, model_type, path, feeds):
    if model_type == "race":  # [batch, choices, length]: the rows and the rows reversed as two choices
        feeds = {k: np.stack([v, v[::-1]], 1) for k, v in feeds.items()}
    ours, theirs = run(path, feeds), keras_outputs(model, model_type, feeds)
    assert sorted(ours) == sorted(theirs)
    for name, expected in theirs.items():
        actual = ours[name]
        assert actual.shape == expected.shape and actual.dtype == np.float32, name
        if model_type == "squad":  # padding is -1e30 in both (never an answer); compare the real positions
            real = feeds["input_mask"] == 1
            assert (actual[~real] < -1e29).all()
            actual, expected = actual[real], expected[real]
        assert_close(actual, expected, f"{model_type}/{name}")


@pytest.mark.parametrize("model_type", sorted(MODELS))
@pytest.mark.parametrize("layout", ["grouped", "brightmart_post_ln", "brightmart_pre_ln", "gelu_erf"])
def test_graph_equals_the_keras_model_before_and_after_fusion(model_type, layout, tmp_path):
    config = {"grouped": GROUPED,
              "brightmart_post_ln": AlbertConfig.from_dict(dict(GROUPED.to_dict(), ln_type="postln",
                                                                num_hidden_groups=1, inner_group_num=1)),
              "brightmart_pre_ln": AlbertConfig.from_dict(dict(GROUPED.to_dict(), ln_type="preln",
                                                               num_hidden_groups=1, inner_group_num=1)),
              "gelu_erf": AlbertConfig.from_dict(dict(GROUPED.to_dict(), hidden_act="gelu_erf"))}[layout]
    model = scrambled(MODELS[model_type](config))
    onnx.save(model_graph(model, model_type), str(tmp_path / "plain.onnx"))
    compare(model, model_type, tmp_path / "plain.onnx", inputs(config.vocab_size))
    info = export_onnx(model, model_type, str(tmp_path / "export"))
    compare(model, model_type, tmp_path / "export" / "model.onnx", inputs(config.vocab_size, batch=3, length=13))
    if layout == "grouped":  # post-LN blocks: every block's attention fused (4 layers x 2 inner blocks)
        assert info["fused_ops"]["Attention"] == 8 and info["fused_ops"]["FastGelu"] == 8
        assert info["fused_ops"]["SkipLayerNormalization"] >= 16


@pytest.mark.integration  # a 12-layer model through ORT's optimizer (and quantizer)
def test_a_shared_block_is_stored_once_and_fused_in_every_layer(tmp_path):
    model = scrambled(AlbertClassifier(SHARED, num_classes=2))
    info = export_onnx(model, "classifier", str(tmp_path / "export"))
    assert info["fused_ops"] == {"Attention": 12, "SkipLayerNormalization": 25, "FastGelu": 12}
    # The file is the weights, once: ORT's fusion packs Q/K/V per layer (12 equal copies), merged again.
    assert info["file_bytes"] <= 1.05 * info["float32_parameter_bytes"], info
    proto = onnx.load(str(tmp_path / "export" / "model.onnx"))
    assert merge_duplicate_initializers(proto) == 0
    assert json.loads((tmp_path / "export" / "export_info.json").read_text()) == info


@pytest.mark.integration  # a 12-layer model through ORT's optimizer (and quantizer)
def test_int8_quantises_each_shared_weight_once_and_keeps_the_labels(tmp_path):
    model = scrambled(AlbertClassifier(SHARED, num_classes=3))
    fp32 = export_onnx(model, "classifier", str(tmp_path / "fp32"))
    int8 = export_onnx(model, "classifier", str(tmp_path / "int8"), quantize="int8")
    assert int8["file_bytes"] < 0.30 * fp32["file_bytes"], (int8["file_bytes"], fp32["file_bytes"])
    proto = onnx.load(str(tmp_path / "int8" / "model.onnx"))
    weights = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    # One int8 copy per distinct matrix: the block's packed QKV, attention output, two FFN kernels,
    # the embedding projection, the pooler, the classifier (and the word embedding table).
    assert len(weights) <= 8, [t.name for t in weights]
    feeds = inputs(SHARED.vocab_size, batch=64, length=24, seed=3)
    logits = run(tmp_path / "fp32" / "model.onnx", feeds)["logits"]
    quantized = run(tmp_path / "int8" / "model.onnx", feeds)["logits"]
    # int8 rounding moves these logits by a few percent of their range (measured here); labels are compared
    # where the float margin between the two best classes exceeds 20% of the logit range.
    top2 = np.sort(logits, -1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 0.2 * (logits.max() - logits.min())
    assert clear.sum() >= 16
    np.testing.assert_array_equal(quantized[clear].argmax(-1), logits[clear].argmax(-1))


def assert_squad_v2_beam(ours, model, feeds):
    """The v2 head's beam (top-k starts, top-k ends per start) and answerability logit against the Keras model,
    with p_mask from the packing as the SavedModel's signatures compute it."""
    from albert_tf.export.serving_module import squad_p_mask

    p_mask = squad_p_mask(feeds["input_mask"], feeds["segment_ids"])
    theirs = {k: v.numpy() for k, v in model(dict(feeds, p_mask=p_mask), training=False).items()}
    assert sorted(ours) == sorted(theirs)
    for name, expected in theirs.items():
        assert ours[name].shape == expected.shape and ours[name].dtype == expected.dtype, name
        if name.endswith("index"):
            np.testing.assert_array_equal(ours[name], expected, err_msg=name)
        elif name == "cls_logits":  # a bias-free dot product of tanh values (|a| <= 1) that mostly cancels: its
            # rounding is relative to sum |w_i a_i| <= sum |w_i|, not to the small result
            bound = 1e-5 * float(np.abs(model.span_head.answer_dense_1.kernel.numpy()).sum())
            assert float(np.abs(ours[name] - expected).max()) <= bound, name
        else:  # log-probabilities of masked positions are -1e30 in both: compare the rest
            real = expected > -1e29
            assert (ours[name][~real] < -1e29).all()
            assert_close(ours[name][real], expected[real], name)


def test_squad_v2_beam_equals_the_keras_model(tmp_path):
    model = scrambled(AlbertQuestionAnswerer(GROUPED, version_2_with_negative=True))
    info = export_onnx(model, "squad", str(tmp_path / "export"))
    assert info["fused_ops"]["Attention"] == 8
    assert_squad_v2_beam(run(tmp_path / "export" / "model.onnx", inputs(GROUPED.vocab_size)), model,
                         inputs(GROUPED.vocab_size))


@pytest.mark.integration
def test_export_tool_writes_onnx_and_litert_and_refuses_int8_saved_models(test_data, tmp_path):
    spm = os.path.join(test_data, "sentencepiece", "albert_de_privately", "30k-clean.model")
    config = AlbertConfig.from_dict(dict(GROUPED.to_dict(), vocab_size=30000))
    model = scrambled(AlbertClassifier(config, num_classes=2))
    save_checkpoint(model, str(tmp_path / "run" / "model.ckpt-best"))
    common = [sys.executable, os.path.join(REPO, "tools", "export_model.py"), "--model_type=classifier",
              f"--albert_config_file={tmp_path / 'run' / 'albert_config.json'}",
              f"--checkpoint={tmp_path / 'run' / 'model.ckpt-best'}", f"--spm_model_file={spm}",
              "--max_seq_length=40"]
    result = processes.run(common + ["--format=onnx", f"--export_dir={tmp_path / 'onnx'}"], capture_output=True,
                           text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ONNX float32 model.onnx" in result.stdout and "Attention x8" in result.stdout
    assert sorted(os.listdir(tmp_path / "onnx")) == ["30k-clean.model", "albert_config.json", "export_info.json",
                                                     "model.onnx"]
    compare(model, "classifier", tmp_path / "onnx" / "model.onnx", inputs(30000))
    result = processes.run(common + ["--format=litert", "--quantize=int8", f"--export_dir={tmp_path / 'litert'}"],
                           capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LiteRT int8 model.tflite" in result.stdout and "signatures tokens, text, text_pair" in result.stdout
    assert sorted(os.listdir(tmp_path / "litert")) == ["30k-clean.model", "albert_config.json", "export_info.json",
                                                       "model.tflite"]
    result = processes.run(common + ["--format=saved_model", "--quantize=int8", f"--export_dir={tmp_path / 'sm'}"],
                           capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "quantize='int8' is for format=onnx or litert" in result.stderr and not (tmp_path / "sm").exists()
