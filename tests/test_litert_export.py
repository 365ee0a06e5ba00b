"""LiteRT exports: every signature against the Keras model, in ai_edge_litert with tensorflow-text's kernels.

Tolerance (float32): as for ONNX (tests/test_onnx_export.py), other summation orders in XNNPACK's kernels;
outputs agree to 1e-5 of their largest magnitude (measured: below 1e-6). The first tests would also catch
the converter's weightless file (Keras variables read by a gather left without values: NaN outputs).
"""

import os

import numpy as np
import pytest
from ai_edge_litert.interpreter import InterpreterWithCustomOps
from tensorflow_text import tflite_registrar

from albert_tf import AlbertConfig
from albert_tf.export.litert_export import export_litert
from albert_tf.export.text_packing import pack_inputs
from albert_tf.models import AlbertClassifier
from albert_tf.tasks.classification_tasks import TASKS, read_examples
from albert_tf.tokenization import FullTokenizer
from test_keras_hub_interop import scrambled
from test_onnx_export import GROUPED, MODELS, SHARED, assert_squad_v2_beam, inputs, keras_outputs

# Each conversion takes seconds (TensorFlow's converter): in the full suite, not the fast tier.
pytestmark = pytest.mark.integration
GERMAN_SPM = os.path.join("sentencepiece", "albert_de_privately", "30k-clean.model")


def interpreter(folder):
    return InterpreterWithCustomOps(model_path=os.path.join(folder, "model.tflite"),
                                    custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS)


def assert_close(actual, expected, what):
    assert np.isfinite(actual).all(), what
    scale = float(np.abs(expected).max())
    assert float(np.abs(actual - expected).max()) <= 1e-5 * scale, (what, float(np.abs(actual - expected).max()))


@pytest.mark.parametrize("model_type", sorted(MODELS))
def test_tokens_signature_equals_the_keras_model(model_type, tmp_path):
    model = scrambled(MODELS[model_type](GROUPED))
    info = export_litert(model, model_type, str(tmp_path / "litert"))
    assert info["signatures"] == ["tokens"]
    assert info["file_bytes"] >= info["float32_parameter_bytes"]  # the weights are in the file
    feeds = inputs(GROUPED.vocab_size)
    if model_type == "race":
        feeds = {k: np.stack([v, v[::-1]], 1) for k, v in feeds.items()}
    ours = interpreter(str(tmp_path / "litert")).get_signature_runner("tokens")(**feeds)
    theirs = keras_outputs(model, model_type, feeds)
    assert sorted(ours) == sorted(theirs)
    for name, expected in theirs.items():
        actual = ours[name]
        if model_type == "squad":  # padding is -1e30 in both; compare the real positions
            real = feeds["input_mask"] == 1
            assert (actual[~real] < -1e29).all()
            actual, expected = actual[real], expected[real]
        assert_close(actual, expected, f"{model_type}/{name}")


def test_text_signatures_tokenize_and_pack_as_the_python_tokenizer(test_data, tmp_path):
    spm = os.path.join(test_data, GERMAN_SPM)
    config = AlbertConfig.from_dict(dict(GROUPED.to_dict(), vocab_size=30000, max_position_embeddings=64))
    model = scrambled(AlbertClassifier(config, num_classes=2))
    info = export_litert(model, "classifier", str(tmp_path / "litert"), spm_model_file=spm, max_seq_length=48)
    assert info["signatures"] == ["tokens", "text", "text_pair"]
    runner = interpreter(str(tmp_path / "litert"))
    tokenizer = FullTokenizer(spm_model_file=spm)

    def ragged(texts):
        import tensorflow as tf

        return tf.ragged.constant([tokenizer.encode(t) for t in texts], dtype=tf.int32, ragged_rank=1)

    # Real English text, long sentences truncated (48 positions) by the original rule on both paths.
    single = [e.text_a for e in read_examples(TASKS["sst-2"], os.path.join(test_data, "glue", "SST-2"), "dev")[:40]]
    pairs = read_examples(TASKS["mrpc"], os.path.join(test_data, "glue", "MRPC"), "dev")[:24]
    for name, texts, kwargs in [
            ("text", (single, None), {"text": np.array(single)}),
            ("text_pair", ([p.text_a for p in pairs], [p.text_b for p in pairs]),
             {"text_a": np.array([p.text_a for p in pairs]), "text_b": np.array([p.text_b for p in pairs])})]:
        packed = pack_inputs(ragged(texts[0]), ragged(texts[1]) if texts[1] else None, 48, 2, 3, length_multiple=1)
        expected = model({k: v.numpy() for k, v in packed.items()})["logits"].numpy()
        assert_close(runner.get_signature_runner(name)(**kwargs)["logits"], expected, name)


def test_int8_is_dynamic_range_and_keeps_the_labels(tmp_path):
    model = scrambled(AlbertClassifier(SHARED, num_classes=3))
    fp32 = export_litert(model, "classifier", str(tmp_path / "fp32"))
    int8 = export_litert(model, "classifier", str(tmp_path / "int8"), quantize="int8")
    # Dynamic range quantises the weight matrices to int8 (a quarter); biases, LayerNorm parameters and
    # tensors under 1,024 elements stay float32, a larger share of this small model than of albert_base
    # (there: 12.1 of 46.8 MB, 25.9%).
    assert int8["file_bytes"] < 0.40 * fp32["file_bytes"], (int8["file_bytes"], fp32["file_bytes"])
    feeds = inputs(SHARED.vocab_size, batch=64, length=24, seed=3)
    logits = interpreter(str(tmp_path / "fp32")).get_signature_runner("tokens")(**feeds)["logits"]
    quantized = interpreter(str(tmp_path / "int8")).get_signature_runner("tokens")(**feeds)["logits"]
    assert np.isfinite(quantized).all()
    # As for ONNX int8: labels compared where the float margin exceeds 20% of the logit range.
    top2 = np.sort(logits, -1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 0.2 * (logits.max() - logits.min())
    assert clear.sum() >= 16
    np.testing.assert_array_equal(quantized[clear].argmax(-1), logits[clear].argmax(-1))


def test_squad_v2_beam_equals_the_keras_model(tmp_path):
    from albert_tf.models import AlbertQuestionAnswerer

    model = scrambled(AlbertQuestionAnswerer(GROUPED, version_2_with_negative=True))
    export_litert(model, "squad", str(tmp_path / "litert"))
    feeds = inputs(GROUPED.vocab_size, length=20)
    assert_squad_v2_beam(interpreter(str(tmp_path / "litert")).get_signature_runner("tokens")(**feeds), model, feeds)
