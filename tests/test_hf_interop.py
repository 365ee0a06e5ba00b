"""Hugging Face folders in and out, against the committed tiny folders of tests/data/hf (no torch needed).

tests/data/hf/regenerate.py wrote each folder with transformers (`save_pretrained`) and its outputs on two
rows (the second padded) into reference_outputs.npz. The config is grouped: 4 layers in 2 groups of 2 inner
blocks. Tolerance: both sides compute in float32 with other summation orders. A dot product of n <= 32 terms
has a relative rounding error of at most n * 2^-24 = 1.9e-6 (Higham's gamma_n); 8 blocks re-normalised by
LayerNorm keep it of that order, so outputs must agree to 2e-5 of their largest magnitude (measured: 1.5e-6).
"""

import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from albert_tf.checkpoints.hf_checkpoint import load_hf, load_hf_model, read_hf_model, save_hf_model
from albert_tf.checkpoints.hf_config import config_from_hf
from albert_tf.checkpoints.original_checkpoint import CheckpointMismatchError
from albert_tf.errors import ConfigError
from albert_tf.models import AlbertClassifier, AlbertEncoder, AlbertPretrainer
from conftest import REPO

DATA = os.path.join(REPO, "tests", "data", "hf")
REFERENCE = np.load(os.path.join(DATA, "reference_outputs.npz"))
INPUTS = {"input_ids": REFERENCE["input_ids"].astype(np.int32), "input_mask": REFERENCE["attention_mask"].astype(
    np.int32), "segment_ids": REFERENCE["token_type_ids"].astype(np.int32)}
ALL_POSITIONS = np.tile(np.arange(INPUTS["input_ids"].shape[1], dtype=np.int32), (2, 1))


def assert_close(ours, theirs, what):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5 * max(1.0, np.abs(theirs).max()), err_msg=what)


def outputs(model, folder):
    """Our outputs under the names transformers gives them in reference_outputs.npz."""
    if isinstance(model, AlbertPretrainer):
        out = model({**INPUTS, "masked_lm_positions": ALL_POSITIONS})
        names = {"sequence_output": out["sequence_output"], "sop_logits": out["sop_logits"],
                 "prediction_logits": out["mlm_logits"], "logits": out["mlm_logits"]}
    elif isinstance(model, AlbertEncoder):
        out = model(INPUTS)
        names = {"last_hidden_state": out["sequence_output"], "pooler_output": out["pooled_output"]}
    elif folder == "multiple_choice":  # the two rows as the two choices of one question
        names = {"logits": model({k: v[None] for k, v in INPUTS.items()})["logits"]}
    else:
        names = dict(model(INPUTS))
    if "start_logits" in names:  # ours are -1e30 on padding (never an answer); HF's are left as computed there
        real = INPUTS["input_mask"] == 1
        assert (np.asarray(names["start_logits"])[~real] < -1e29).all()
        names = {k: np.where(real, names[k], REFERENCE[f"{folder}/{k}"]) for k in ("start_logits", "end_logits")}
    return {k: v for k, v in names.items() if f"{folder}/{k}" in REFERENCE.files}


COMPARED = {  # per folder: the outputs of transformers' class that ours are compared with
    "pretraining": {"sequence_output", "prediction_logits", "sop_logits"},
    "pretraining_sharded": {"sequence_output", "prediction_logits", "sop_logits"},
    "masked_lm_erf_gelu": {"sequence_output", "logits"},
    "model": {"last_hidden_state", "pooler_output"},
    "sequence_classification": {"logits"}, "regression": {"logits"}, "multiple_choice": {"logits"},
    "question_answering": {"start_logits", "end_logits"}, "token_classification": {"logits"},
}


@pytest.mark.parametrize("folder, model_class, architecture", [
    ("pretraining", "AlbertPretrainer", "AlbertForPreTraining"),
    ("pretraining_sharded", "AlbertPretrainer", "AlbertForPreTraining"),
    ("masked_lm_erf_gelu", "AlbertPretrainer", "AlbertForMaskedLM"),
    ("model", "AlbertEncoder", "AlbertModel"),
    ("sequence_classification", "AlbertClassifier", "AlbertForSequenceClassification"),
    ("regression", "AlbertClassifier", "AlbertForSequenceClassification"),
    ("question_answering", "AlbertQuestionAnswerer", "AlbertForQuestionAnswering"),
    ("multiple_choice", "AlbertMultipleChoice", "AlbertForMultipleChoice"),
    ("token_classification", "AlbertTokenClassifier", "AlbertForTokenClassification"),
])
def test_hf_folder_loads_and_matches_transformers(folder, model_class, architecture):
    model, report, info = read_hf_model(os.path.join(DATA, folder))
    assert type(model).__name__ == model_class and info.architecture == architecture
    compared = outputs(model, folder)
    assert set(compared) == COMPARED[folder]
    for name, value in compared.items():
        assert_close(value, REFERENCE[f"{folder}/{name}"], f"{folder}/{name}")
    # What transformers' class is built without stays at its initial values, reported.
    pooler = ["bert/pooler/dense/bias", "bert/pooler/dense/kernel"]
    assert report.not_loaded == {"masked_lm_erf_gelu": pooler + ["cls/seq_relationship/output_bias",
                                                                "cls/seq_relationship/output_weights"],
                                 "question_answering": pooler, "token_classification": pooler}.get(folder, [])
    assert report.unused == []
    if folder == "masked_lm_erf_gelu":  # HF's `gelu` is the exact form
        assert model.config.hidden_act == "gelu_erf"


def test_labels_and_problem_type_come_from_the_config():
    model, _, info = read_hf_model(os.path.join(DATA, "sequence_classification"))
    assert model.num_classes == 3 and info.id2label == {0: "contradiction", 1: "entailment", 2: "neutral"}
    model, _, info = read_hf_model(os.path.join(DATA, "regression"))
    assert model.num_classes == 1 and info.problem_type == "regression"


def write_folder(tmp_path, source, change):
    """A copy of the HF folder `source` whose tensors `change(dict)` edits."""
    tensors = load_file(os.path.join(DATA, source, "model.safetensors"))
    change(tensors)
    folder = tmp_path / source
    folder.mkdir()
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text((open(os.path.join(DATA, source, "config.json")).read()))
    return folder


def refused_and_unchanged(reference, damaged, error, match):
    """Loads the HF folder `damaged` into the model of the folder `reference`: `error` is raised and no
    variable changes (loads are all or nothing). Returns the error's message."""
    model = load_hf_model(os.path.join(DATA, reference))  # the README's call: the model alone
    before = [v.numpy().copy() for v in model.weights]
    with pytest.raises(error, match=match) as raised:
        load_hf(model, damaged)
    for variable, value in zip(model.weights, before):
        np.testing.assert_array_equal(variable.numpy(), value)
    return str(raised.value)


def test_missing_unexpected_and_misshaped_tensors_are_listed_and_nothing_is_assigned(tmp_path):
    def damage(tensors):
        del tensors["albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.bias"]
        tensors["classifier.weight"] = np.zeros((3, 16), np.float32)
        tensors["albert.pooler.bias"] = np.zeros((17,), np.float32)
    folder = write_folder(tmp_path, "pretraining", damage)
    message = refused_and_unchanged("pretraining", folder, CheckpointMismatchError, "missing")
    assert "missing from the checkpoint (1):\n    albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.bias" \
        in message
    assert "unexpected in the checkpoint (1):\n    classifier.weight [3, 16]" in message
    assert "albert.pooler.bias: checkpoint [17] vs model [16]" in message


def test_a_truncated_safetensors_file_is_refused_before_any_assignment(tmp_path):
    folder = write_folder(tmp_path, "model", lambda tensors: None)
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused_and_unchanged("model", folder, Exception, "model.safetensors")


def test_a_pytorch_pickle_without_torch_says_how_to_convert(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x02}q\x00.")
    (tmp_path / "config.json").write_text(open(os.path.join(DATA, "model", "config.json")).read())
    with pytest.raises(ConfigError, match="needs torch to read .*save_pretrained.*model.safetensors"):
        load_hf_model(tmp_path)


# --- tf_model.h5: HF's TensorFlow uploads (written by transformers 4.57's TF classes, regenerate_tf.py) ---------

REFERENCE_TF = np.load(os.path.join(DATA, "reference_outputs_tf.npz"))


@pytest.mark.parametrize("folder, model_class", [("tf_h5_pretraining", "AlbertPretrainer"),
                                                 ("tf_h5_sequence_classification", "AlbertClassifier")])
def test_tf_model_h5_loads_and_matches_transformers_tf_and_pytorch(folder, model_class):
    """The h5 holds the same weights as the PyTorch folder it was made from: our outputs agree with both
    transformers' TF class (reference_outputs_tf.npz) and its PyTorch class, to the float32 tolerance above."""
    model, report, _ = read_hf_model(os.path.join(DATA, folder))
    assert type(model).__name__ == model_class and report.unused == [] and report.not_loaded == []
    compared = outputs(model, folder[len("tf_h5_"):])
    for name in {"sequence_output", "prediction_logits", "sop_logits", "logits"} & set(compared):
        if f"{folder}/{name}" in REFERENCE_TF.files:
            assert_close(compared[name], REFERENCE_TF[f"{folder}/{name}"], f"{folder}/{name} (TF)")
        assert_close(compared[name], REFERENCE[f"{folder[len('tf_h5_'):]}/{name}"], f"{folder}/{name} (PyTorch)")
    same, _, _ = read_hf_model(os.path.join(DATA, folder[len("tf_h5_"):]))
    for ours, theirs in zip(model.weights, same.weights):  # every tensor renamed, transposed and placed exactly
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)


def test_tf_model_h5_names_follow_hf_rule():
    from albert_tf.checkpoints.hf_checkpoint import HfWeights

    weights = HfWeights(os.path.join(DATA, "tf_h5_pretraining"))
    torch_layout = load_file(os.path.join(DATA, "pretraining", "model.safetensors"))
    # The h5 also stores the tied decoder bias that safetensors leaves out (equal to predictions.bias).
    assert set(weights.shapes) == set(torch_layout) | {"predictions.decoder.bias"}
    for name, value in torch_layout.items():
        np.testing.assert_array_equal(weights.read(name), value, err_msg=name)


def test_a_torn_tf_model_h5_is_refused_naming_the_file(tmp_path):
    data = open(os.path.join(DATA, "tf_h5_pretraining", "tf_model.h5"), "rb").read()
    (tmp_path / "tf_model.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "config.json").write_text(open(os.path.join(DATA, "tf_h5_pretraining", "config.json")).read())
    refused_and_unchanged("pretraining", tmp_path, ValueError, "Cannot read .*tf_model.h5")


@pytest.mark.parametrize("hf_act, ours", [("gelu_new", "gelu"), ("gelu_pytorch_tanh", "gelu"), ("gelu", "gelu_erf"),
                                          ("relu", "relu")])
def test_activation_names(hf_act, ours):
    config, _ = config_from_hf({"vocab_size": 10, "hidden_size": 8, "num_attention_heads": 2, "hidden_act": hf_act})
    assert config.hidden_act == ours


def test_an_unsupported_config_names_every_problem():
    with pytest.raises(ConfigError, match="(?s)hidden_act='swish'.*layer_norm_eps=1e-05"):
        config_from_hf({"vocab_size": 10, "hidden_act": "swish", "layer_norm_eps": 1e-5}, "x/config.json")


@pytest.mark.parametrize("folder", ["pretraining", "sequence_classification", "regression", "question_answering",
                                    "multiple_choice", "model", "token_classification"])
def test_saved_folder_has_transformers_names_shapes_and_config_and_reloads(folder, tmp_path):
    model, _, info = read_hf_model(os.path.join(DATA, folder))
    out = tmp_path / folder
    save_hf_model(model, out, id2label=info.id2label)
    ours, theirs = load_file(str(out / "model.safetensors")), load_file(os.path.join(DATA, folder, "model.safetensors"))
    assert {k: (v.shape, v.dtype) for k, v in ours.items()} == {k: (v.shape, v.dtype) for k, v in theirs.items()}
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    written = json.loads((out / "config.json").read_text())
    committed = json.loads(open(os.path.join(DATA, folder, "config.json")).read())
    for key in ("architectures", "model_type", "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
                "num_hidden_groups", "inner_group_num", "num_attention_heads", "intermediate_size", "hidden_act",
                "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "id2label", "label2id",
                "problem_type"):
        assert written.get(key) == committed.get(key), key
    again, _, _ = read_hf_model(out)
    for name, value in outputs(again, folder).items():
        assert_close(value, REFERENCE[f"{folder}/{name}"], f"{folder}/{name} after saving")


def test_saving_writes_the_tokenizer_and_refuses_what_hf_cannot_hold(test_data, tmp_path):
    from albert_tf import AlbertConfig
    from albert_tf.models import AlbertQuestionAnswerer
    spm = os.path.join(test_data, "sentencepiece", "albert_de_privately", "30k-clean.model")
    model = load_hf_model(os.path.join(DATA, "sequence_classification"))
    save_hf_model(model, tmp_path / "cls", spm_model_file=spm)
    assert sorted(os.listdir(tmp_path / "cls")) == ["config.json", "model.safetensors", "special_tokens_map.json",
                                                    "spiece.model", "tokenizer_config.json"]
    tokenizer_config = json.loads((tmp_path / "cls" / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "AlbertTokenizer"
    # HF's tokenizer truncates to the model's positions, not to a fixed 512.
    assert tokenizer_config["model_max_length"] == model.encoder.config.max_position_embeddings
    with pytest.raises(ConfigError, match="already exists"):
        save_hf_model(model, tmp_path / "cls")
    config = AlbertConfig(vocab_size=20, embedding_size=4, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=8, max_position_embeddings=16)
    with pytest.raises(ValueError, match="SQuAD 2.0 head"):
        save_hf_model(AlbertQuestionAnswerer(config, version_2_with_negative=True), tmp_path / "v2")
    bright = AlbertConfig(vocab_size=20, embedding_size=4, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=8, max_position_embeddings=16, variant="bright")
    with pytest.raises(ValueError, match="only the Google layout"):
        save_hf_model(AlbertClassifier(bright, 2), tmp_path / "bright")
    assert not (tmp_path / "v2").exists() and not (tmp_path / "bright").exists()


@pytest.mark.transformers
def test_round_trip_through_the_live_transformers_library(test_data, tmp_path):
    """Where transformers and torch are installed (never in CI: PyPI's torch is a multi-GB build): our models,
    saved as HF folders, load in transformers with no missing, unexpected or re-initialised weights, its
    AlbertTokenizer gives our ids, and its outputs match ours (the float32 tolerance of the module docstring)."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from albert_tf import AlbertConfig
    from albert_tf.tokenization import FullTokenizer

    spm = os.path.join(test_data, "sentencepiece", "albert_de_privately", "30k-clean.model")
    config = AlbertConfig(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=4,
                          num_hidden_groups=2, inner_group_num=2, num_attention_heads=2, intermediate_size=32,
                          max_position_embeddings=32, initializer_range=0.2)
    ours = {"AutoModelForPreTraining": AlbertPretrainer(config), "AutoModelForSequenceClassification":
            AlbertClassifier(config, 3)}
    tokenizer = FullTokenizer(spm_model_file=spm)
    texts = ["Hello World, this is a test.", "Zwei Männer spielen Fußball im Park."]
    for auto_class, model in ours.items():
        folder = tmp_path / auto_class
        save_hf_model(model, folder, spm_model_file=spm)
        theirs, loading = getattr(transformers, auto_class).from_pretrained(folder, output_loading_info=True)
        assert {k: list(v) for k, v in loading.items() if v} == {}, loading  # missing, unexpected, mismatched
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        encoded = hf_tokenizer(texts, padding=True, return_tensors="np", return_token_type_ids=True)
        cls, sep = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
        for row, text in zip(encoded["input_ids"], texts):
            expected = [cls] + tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text)) + [sep]
            assert list(row[:len(expected)]) == expected
        inputs = {"input_ids": encoded["input_ids"].astype(np.int32),
                  "input_mask": encoded["attention_mask"].astype(np.int32),
                  "segment_ids": encoded["token_type_ids"].astype(np.int32)}
        with torch.no_grad():
            out = theirs.eval()(**{k: torch.tensor(v) for k, v in encoded.items()})
        if isinstance(model, AlbertPretrainer):
            positions = np.tile(np.arange(inputs["input_ids"].shape[1], dtype=np.int32), (2, 1))
            mine = model({**inputs, "masked_lm_positions": positions})
            assert_close(mine["mlm_logits"], out.prediction_logits.numpy(), "prediction_logits")
            assert_close(mine["sop_logits"], out.sop_logits.numpy(), "sop_logits")
        else:
            assert_close(model(inputs)["logits"], out.logits.numpy(), "logits")
