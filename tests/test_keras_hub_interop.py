"""Weights to and from keras-hub's AlbertBackbone give the same outputs."""

import keras
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


# --- complete presets: task + tokenizer, used by keras-hub on raw strings --------------------------------------

PRESET_CFG = dict(BASE, vocab_size=30000, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2,
                  max_position_embeddings=32)
SENTENCES = ["das ist ein kleiner test.", "wir gehen heute nach hause", "ja"]
SECOND = ["und morgen auch", "das wetter ist gut", "nein, danke"]


def scrambled(model, seed=3):
    """Every weight random at a scale where each path matters (kernels ~ 1/sqrt(fan_in), LayerNorm gamma ~ 1)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "gamma" in variable.path:
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif len(shape) == 2:
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        else:
            value = 0.1 * rng.standard_normal(shape)
        variable.assign(value.astype(np.float32))
    return model


def our_ids(spm, first, second=None, length=32):
    """What our FullTokenizer and packing give: [CLS] a [SEP] (b [SEP]), zero-padded to `length`."""
    from albert_tf.tokenization import FullTokenizer

    tokenizer = FullTokenizer(spm_model_file=spm)
    rows = []
    for i, a in enumerate(first):
        ids = [2] + tokenizer.encode(a) + [3]
        segments = [0] * len(ids)
        if second:
            b = tokenizer.encode(second[i]) + [3]
            ids, segments = ids + b, segments + [1] * len(b)
        rows.append((ids, segments))
    pad = lambda row: np.array([r + [0] * (length - len(r)) for r in row], np.int32)  # noqa: E731
    ids, segments = pad([r[0] for r in rows]), pad([r[1] for r in rows])
    return {"input_ids": ids, "input_mask": (ids != 0).astype(np.int32), "segment_ids": segments}


@pytest.fixture
def german_spm(test_data):
    import os

    return os.path.join(test_data, "sentencepiece", "albert_de_privately", "30k-clean.model")


def test_classifier_preset_predicts_raw_strings_in_keras_hub(german_spm, tmp_path):
    import keras_hub

    from albert_tf.models import AlbertClassifier
    from albert_tf.checkpoints import model_from_keras_hub_preset, save_keras_hub_preset

    model = scrambled(AlbertClassifier(AlbertConfig.from_dict(PRESET_CFG), num_classes=3))
    inputs = our_ids(german_spm, SENTENCES, SECOND)
    ours = model(inputs)["logits"].numpy()
    assert save_keras_hub_preset(model, str(tmp_path / "preset"), spm_model_file=german_spm) == "AlbertTextClassifier"

    theirs = keras_hub.models.AlbertClassifier.from_preset(str(tmp_path / "preset"))
    packed, _, _ = keras.utils.unpack_x_y_sample_weight(theirs.preprocessor(x=(SENTENCES, SECOND)))
    np.testing.assert_array_equal(packed["token_ids"], inputs["input_ids"])
    np.testing.assert_array_equal(packed["segment_ids"], inputs["segment_ids"])
    # The same float32 network in another graph: differences are rounding, a few ulps of the largest logit.
    logits = theirs.predict(x=(SENTENCES, SECOND), verbose=0)  # raw string pairs
    assert relative_error(logits, ours) <= 1e-5

    back, task_class = model_from_keras_hub_preset(tmp_path / "preset")
    assert task_class == "AlbertTextClassifier" and isinstance(back, AlbertClassifier) and back.num_classes == 3
    np.testing.assert_array_equal(back(inputs)["logits"].numpy(), ours)  # the same weights, the same graph


def test_masked_lm_preset_round_trip(german_spm, tmp_path):
    import keras_hub

    from albert_tf import AlbertPretrainer
    from albert_tf.checkpoints import model_from_keras_hub_preset, save_keras_hub_preset

    model = scrambled(AlbertPretrainer(AlbertConfig.from_dict(PRESET_CFG)))
    inputs = our_ids(german_spm, SENTENCES)
    positions = np.array([[1, 2], [0, 3], [2, 1]], np.int32)
    ours = model(dict(inputs, masked_lm_positions=positions))
    assert save_keras_hub_preset(model, str(tmp_path / "preset"), spm_model_file=german_spm) == "AlbertMaskedLM"

    theirs = keras_hub.models.AlbertMaskedLM.from_preset(str(tmp_path / "preset"))
    from albert_tf.tokenization import FullTokenizer

    words = FullTokenizer(spm_model_file=german_spm).encode(SENTENCES[0])
    np.testing.assert_array_equal(theirs.preprocessor.tokenizer(SENTENCES[0]), words)  # its masking is random
    logits = theirs({"token_ids": inputs["input_ids"], "padding_mask": inputs["input_mask"],
                     "segment_ids": inputs["segment_ids"], "mask_positions": positions}).numpy()
    # keras-hub's masked-LM LayerNorm adds eps 1e-5 to the variance where the original adds 1e-12: each
    # normalised value shrinks by 1 - 1/sqrt(1 + 1e-5/var), at most 1e-5/(2 var). Bound it with the smallest
    # variance of the head's pre-LayerNorm activations, through the tied output (|logit - bias| <= max).
    head = model.masked_lm_head
    sequence = np.take_along_axis(ours["sequence_output"].numpy(), positions[..., None], axis=1)
    hidden = head.activation(sequence @ head.transform_kernel.numpy() + head.transform_bias.numpy()).numpy()
    shrink = 1e-5 / (2 * hidden.var(-1).min())
    scale = np.abs(ours["mlm_logits"].numpy() - head.output_bias.numpy()).max()
    assert np.abs(logits - ours["mlm_logits"].numpy()).max() <= shrink * scale + 1e-5 * np.abs(logits).max()

    back, task_class = model_from_keras_hub_preset(tmp_path / "preset")
    assert task_class == "AlbertMaskedLM" and isinstance(back, AlbertPretrainer)
    again = back(dict(inputs, masked_lm_positions=positions))
    np.testing.assert_array_equal(again["mlm_logits"].numpy(), ours["mlm_logits"].numpy())


def test_encoder_preset_carries_the_tokenizer(german_spm, tmp_path):
    import keras_hub

    from albert_tf.checkpoints import model_from_keras_hub_preset, save_keras_hub_preset

    encoder = scrambled(AlbertEncoder(AlbertConfig.from_dict(PRESET_CFG)))
    assert save_keras_hub_preset(encoder, str(tmp_path / "preset"), spm_model_file=german_spm) == "AlbertBackbone"
    tokenizer = keras_hub.models.AlbertTokenizer.from_preset(str(tmp_path / "preset"))
    from albert_tf.tokenization import FullTokenizer

    words = FullTokenizer(spm_model_file=german_spm).encode(SENTENCES[0])
    np.testing.assert_array_equal(tokenizer(SENTENCES[0]), words)
    back, task_class = model_from_keras_hub_preset(tmp_path / "preset")
    assert task_class is None
    inputs = our_ids(german_spm, SENTENCES)
    np.testing.assert_array_equal(back(inputs)["sequence_output"].numpy(), encoder(inputs)["sequence_output"].numpy())
