"""SavedModel export: reload in a fresh TF + tf-text process, tensor and raw-text signatures."""

import json
import os
import sys

import numpy as np
import pytest

from albert_tf import AlbertConfig, save_checkpoint
from albert_tf.export import serving_module
from albert_tf.models import AlbertClassifier, AlbertMultipleChoice, AlbertPretrainer, AlbertQuestionAnswerer
from albert_tf.tasks.classification_tasks import TASKS, encode_examples, read_examples
from albert_tf.tasks.race_data import encode_race_examples, read_race_examples
from albert_tf.tokenization import FullTokenizer
from conftest import REPO
from race_sample import write_race_sample
import processes

pytestmark = pytest.mark.integration  # end-to-end runs in subprocesses

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"
ZH_VOCAB = "albert_zh_brightmart/albert_config/vocab.txt"
SEQ = 64


def tiny_config(vocab_size):
    return AlbertConfig(vocab_size=vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=SEQ)


def reload_and_run(export_dir, requests, tmp_path):
    (tmp_path / "requests.json").write_text(json.dumps(requests), encoding="utf-8")
    result = processes.run([sys.executable, os.path.join(REPO, "tests", "savedmodel_reload.py"), str(export_dir),
                             str(tmp_path / "requests.json"), str(tmp_path / "outputs.npz")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(tmp_path / "outputs.npz"))


def padded(features, names=("input_ids", "segment_ids")):
    """Python-side tensors padded as the raw-text signatures pad: the longest row rounded up to 16, at most SEQ."""
    length = min(-(-max(len(ids) for ids in features["input_ids"]) // 16) * 16, SEQ)
    arrays = {name: np.array([row + [0] * (length - len(row)) for row in features[name]], np.int32) for name in names}
    arrays["input_mask"] = np.array([[1] * len(row) + [0] * (length - len(row)) for row in features["input_ids"]],
                                    np.int32)
    return arrays


def assert_close(actual, expected, name, scale=None):
    """Within 1e-5 of `scale` (default: the largest |expected|): float32 round-off of two graphs of the same math."""
    scale = max(float(np.max(np.abs(expected))), 1e-6) if scale is None else scale
    assert float(np.max(np.abs(actual - expected))) <= 1e-5 * scale, name


@pytest.mark.parametrize("vocabulary, task, folder", [("spm", "sst-2", "glue/SST-2"),
                                                      ("wordpiece", "afqmc", "clue/afqmc")])
def test_classifier_export_tool_tensor_and_text_signatures(test_data, tmp_path, vocabulary, task, folder):
    vocab = {"spm_model_file": os.path.join(test_data, GERMAN_SPM)} if vocabulary == "spm" \
        else {"vocab_file": os.path.join(test_data, ZH_VOCAB)}
    tokenizer = FullTokenizer(**vocab)
    config = tiny_config(tokenizer.vocab_size)
    model = AlbertClassifier(config, num_classes=2)
    save_checkpoint(model, str(tmp_path / "run" / "model.ckpt-best"))
    vocab_flag = "--spm_model_file" if vocabulary == "spm" else "--vocab_file"
    processes.run([sys.executable, os.path.join(REPO, "tools", "export_savedmodel.py"), "--model_type=classifier",
                    f"--albert_config_file={tmp_path / 'run' / 'albert_config.json'}",
                    f"--checkpoint={tmp_path / 'run' / 'model.ckpt-best'}",
                    f"{vocab_flag}={next(iter(vocab.values()))}",
                    f"--export_dir={tmp_path / 'export'}", f"--max_seq_length={SEQ}"],
                   check=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assets = sorted(os.listdir(tmp_path / "export" / "assets"))
    assert "albert_config.json" in assets and len(assets) == 2

    examples = read_examples(TASKS[task], os.path.join(test_data, folder), "dev")[:48]
    features = encode_examples(TASKS[task], examples, tokenizer, SEQ)
    tensors = padded(features)
    pair = TASKS[task].columns.text_b is not None
    requests = {"tokens": {k: v.tolist() for k, v in tensors.items()},
                ("text_pair" if pair else "text"): (
                    {"text_a": [e.text_a for e in examples], "text_b": [e.text_b for e in examples]} if pair
                    else {"text": [e.text_a for e in examples]})}
    outputs = reload_and_run(tmp_path / "export", requests, tmp_path)
    expected = model(tensors)["logits"].numpy()
    assert_close(outputs["tokens/logits"], expected, "tensor signature vs the Keras model")
    text_signature = "text_pair" if pair else "text"
    # Raw text: in-graph tokenization, packing and truncation give the Python tokenizer's inputs.
    assert_close(outputs[f"{text_signature}/logits"], outputs["tokens/logits"], "text vs tensor signature")
    np.testing.assert_allclose(outputs["tokens/probabilities"].sum(-1), 1.0, rtol=1e-6)

    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = processes.run([cli, "show", "--dir", str(tmp_path / "export"), "--all"], capture_output=True,
                           text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert shown.returncode == 0, shown.stderr[-2000:]
    for name in ("serving_default", "tokens", "text", "text_pair", "tokenization_info"):
        assert f"signature_def['{name}']" in shown.stdout


def test_encoder_export_has_the_tf_hub_signatures(test_data, tmp_path):
    spm = os.path.join(test_data, GERMAN_SPM)
    tokenizer = FullTokenizer(spm_model_file=spm)
    model = AlbertPretrainer(tiny_config(tokenizer.vocab_size))
    module = serving_module.EncoderServing(model, SEQ, spm_model_file=spm)
    names = serving_module.export_saved_model(module, str(tmp_path / "export"))
    assert {"tokens", "sop", "mlm", "tokenization_info", "text", "text_pair"} <= set(names)
    examples = read_examples(TASKS["mrpc"], os.path.join(test_data, "glue/MRPC"), "dev")[:16]
    tensors = padded(encode_examples(TASKS["mrpc"], examples, tokenizer, SEQ))
    positions = np.tile(np.array([[1, 2, 3]], np.int32), (16, 1))
    outputs = reload_and_run(tmp_path / "export", {
        "tokens": {k: v.tolist() for k, v in tensors.items()},
        "mlm": {**{k: v.tolist() for k, v in tensors.items()}, "mlm_positions": positions.tolist()},
        "sop": {k: v.tolist() for k, v in tensors.items()},
        "text_pair": {"text_a": [e.text_a for e in examples], "text_b": [e.text_b for e in examples]},
        "tokenization_info": {}}, tmp_path)
    expected = model({**tensors, "masked_lm_positions": positions})
    for signature, name in (("tokens", "sequence_output"), ("tokens", "pooled_output"), ("mlm", "mlm_logits"),
                            ("sop", "sop_logits")):
        assert_close(outputs[f"{signature}/{name}"], expected[name].numpy(), f"{signature}/{name}")
    np.testing.assert_array_equal(outputs["text_pair/input_ids"], tensors["input_ids"])
    np.testing.assert_array_equal(outputs["text_pair/segment_ids"], tensors["segment_ids"])
    assert_close(outputs["text_pair/pooled_output"], expected["pooled_output"].numpy(), "text_pair")
    assert outputs["tokenization_info/vocab_file"].item().endswith(b"assets/30k-clean.model")
    assert bool(outputs["tokenization_info/do_lower_case"])


@pytest.mark.parametrize("version_2", [False, True])
def test_squad_export(test_data, tmp_path, version_2):
    spm = os.path.join(test_data, GERMAN_SPM)
    tokenizer = FullTokenizer(spm_model_file=spm)
    model = AlbertQuestionAnswerer(tiny_config(tokenizer.vocab_size), version_2_with_negative=version_2)
    module = serving_module.SquadServing(model, SEQ, max_query_length=16, spm_model_file=spm)
    serving_module.export_saved_model(module, str(tmp_path / "export"))
    with open(os.path.join(test_data, "squad", "dev-v2.0-first2articles.json"), encoding="utf-8") as f:
        paragraph = json.load(f)["data"][0]["paragraphs"][0]
    questions = [qa["question"] for qa in paragraph["qas"][:6]]
    outputs = reload_and_run(tmp_path / "export", {"text_pair": {"question": questions,
                                                                 "context": [paragraph["context"]] * 6}}, tmp_path)
    ids = outputs["text_pair/input_ids"]
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    context_ids = tokenizer.encode(paragraph["context"])
    for row, question in enumerate(questions):
        question_ids = tokenizer.encode(question)[:16]
        expected = [cls_id] + question_ids + [sep_id] + context_ids[:SEQ - 3 - len(question_ids)] + [sep_id]
        assert ids[row].tolist() == expected + [0] * (ids.shape[1] - len(expected))
    mask = (ids > 0).astype(np.int32)
    segments = np.zeros_like(ids)
    for row, question in enumerate(questions):
        segments[row, len(tokenizer.encode(question)[:16]) + 2:] = 1
    inputs = {"input_ids": ids, "input_mask": mask, "segment_ids": segments}
    if version_2:
        p_mask = 1 - mask
        for row in range(6):
            p_mask[row, 1:segments[row].argmax()] = 1
            p_mask[row, mask[row].sum() - 1] = 1
        inputs["p_mask"] = p_mask
    expected = model(inputs)
    for name in expected:
        assert_close(outputs[f"text_pair/{name}"], expected[name].numpy(), name)


def test_race_export(test_data, tmp_path):
    spm = os.path.join(test_data, GERMAN_SPM)
    tokenizer = FullTokenizer(spm_model_file=spm)
    model = AlbertMultipleChoice(tiny_config(tokenizer.vocab_size))
    module = serving_module.MultipleChoiceServing(model, SEQ, max_qa_length=24, spm_model_file=spm)
    serving_module.export_saved_model(module, str(tmp_path / "export"))
    race = write_race_sample(os.path.join(test_data, "squad", "dev-v2.0-first2articles.json"),
                             str(tmp_path / "RACE"))
    examples = read_race_examples(race, "dev")[:6]
    assert any("_" in e.question for e in examples) and any("_" not in e.question for e in examples)
    features = encode_race_examples(examples, tokenizer, SEQ, max_qa_length=24)
    outputs = reload_and_run(tmp_path / "export", {"text": {
        "article": [e.article for e in examples], "question": [e.question for e in examples],
        "options": [e.options for e in examples]}}, tmp_path)
    for row, flat in enumerate(features["input_ids"]):
        ids = np.asarray(flat).reshape(4, -1)
        inputs = {"input_ids": ids[None], "input_mask": np.asarray(features["input_mask"][row]).reshape(1, 4, -1),
                  "segment_ids": np.asarray(features["segment_ids"][row]).reshape(1, 4, -1)}
        # A choice's logit is w . pooled + b with |pooled| <= 1 (tanh): its round-off is relative to
        # sum |w|, not to the logit, which a freshly initialized scorer makes nearly cancel (~3e-5).
        scale = float(np.sum(np.abs(model.scorer.output_weights.numpy())))
        assert_close(outputs["text/logits"][row], model(inputs)["logits"].numpy()[0], f"race row {row}", scale)
