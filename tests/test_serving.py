"""albert-serve: both protocols answer as the export does, batching joins requests, bad input is one 4xx line.

The app is driven in-process through httpx's ASGI transport (no socket); one test starts the command on
127.0.0.1, disconnects clients mid-request and stops it with SIGTERM under load. The exports are tiny models
(random weights) of every kind albert-serve answers, written by `export_model` to ONNX (and the classifier to a
SavedModel); the reference answers come from onnxruntime on each instance's own token ids, one row at a time.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import onnxruntime
import pytest

from conftest import REPO, TEST_DATA

SENTENCES = ["a gorgeous , witty , seductive movie .", "the story is bland and the acting is worse",
             "ein schöner Film", "it 's a charming and often affecting journey ."]
TOLERANCE = 1e-5  # float32 logits of one sequence alone or padded in a batch: attention masks the padding


NER_LABELS = "O,B-PER,I-PER,B-LOC,I-LOC"
CONTEXT = ("Ada Lovelace wrote the first published algorithm for the Analytical Engine , a mechanical computer "
           "that Charles Babbage designed in London in 1837 ; she also saw that it could compose music .")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """{name: folder} of ONNX exports of tiny models of every served kind, and SavedModels of four."""
    from albert_tf.albert_config import AlbertConfig
    from albert_tf.checkpoints.original_checkpoint import save_checkpoint
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.model_export import export_model
    from albert_tf.models import (AlbertClassifier, AlbertMultipleChoice, AlbertPretrainer, AlbertQuestionAnswerer,
                                  AlbertTokenClassifier)

    root = tmp_path_factory.mktemp("serving")
    spm = os.path.join(TEST_DATA, "sentencepiece", "albert_de_privately", "30k-clean.model")
    config = AlbertConfig(vocab_size=30000, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)
    folders = {}
    for name, kind, model, extra in (
            ("classifier", "classifier", AlbertClassifier(config, 2), {"labels": "negative,positive"}),
            ("encoder", "encoder", AlbertPretrainer(config), {}),
            ("squad", "squad", AlbertQuestionAnswerer(config), {"max_query_length": 8}),
            ("squad2", "squad", AlbertQuestionAnswerer(config, version_2_with_negative=True),
             {"max_query_length": 8}),
            ("race", "race", AlbertMultipleChoice(config), {"max_qa_length": 8}),
            ("ner", "token_classifier", AlbertTokenClassifier(config, 5), {"labels": NER_LABELS})):
        for variable in model.weights:  # a random classifier's logits nearly cancel: make the head matter
            variable.assign(np.random.default_rng(len(variable.path)).normal(0, 0.2, variable.shape))
        checkpoint = str(root / name / "model.ckpt-best")
        save_checkpoint(model, checkpoint)
        folders[name] = str(root / f"{name}-onnx")
        settings = dict(model_type=kind, albert_config_file=str(root / name / "albert_config.json"),
                        checkpoint=checkpoint, spm_model_file=spm, max_seq_length=24, **extra)
        export_model(ExportConfig(export_dir=folders[name], format="onnx", **settings))
        if name in ("classifier", "squad2", "race", "ner"):
            folders[f"{name}-savedmodel"] = str(root / f"{name}-savedmodel")
            export_model(ExportConfig(export_dir=folders[f"{name}-savedmodel"], **settings))
    return folders


def run_onnx(folder, rows):
    """onnxruntime on each row alone ([1, length], or [1, choices, length] for a row of choices)."""
    session = onnxruntime.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
    results = []
    for ids, segments in rows:
        ids, segments = np.array([ids], np.int32), np.array([segments], np.int32)
        feeds = {"input_ids": ids, "input_mask": np.ones_like(ids), "segment_ids": segments}
        results.append(dict(zip([o.name for o in session.get_outputs()], (v[0] for v in session.run(None, feeds)))))
    return results


def reference(folder, texts):
    """onnxruntime on each text alone, packed as the original: [CLS] text [SEP], cut to max_seq_length."""
    tokenizer, info = tokenizer_of(folder)
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    rows = [[cls_id] + tokenizer.encode(text)[:info["max_seq_length"] - 2] + [sep_id] for text in texts]
    return [{name: value[None] for name, value in outputs.items()}
            for outputs in run_onnx(folder, [(ids, [0] * len(ids)) for ids in rows])]


def serve(models, **settings):
    """An in-process client of the app serving `models` ({name: folder}), models loaded and warmed up."""
    from albert_tf.serving.server_app import create_app
    from albert_tf.serving.server_config import ServerConfig

    config = ServerConfig(model=tuple(f"{n}={f}" for n, f in models.items()), threads=1, **settings).validate()
    return create_app(config)


async def started(app):
    """Runs the app's lifespan startup and waits for its models (the test's own event loop)."""
    context = app.router.lifespan_context(app)
    await context.__aenter__()
    await app.state.loading
    return context


def call(app, requests, then=()):
    """[(status, json, headers)] of `requests` ([(method, path, body)]) sent concurrently, then of `then`."""
    async def go():
        context = await started(app)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
                async def one(method, path, body):
                    content = body if isinstance(body, (bytes, type(None))) else json.dumps(body)
                    reply = await client.request(method, path, content=content)
                    try:
                        payload = reply.json()
                    except ValueError:
                        payload = reply.text
                    return reply.status_code, payload, reply.headers
                first = await asyncio.gather(*(one(*r) for r in requests))
                return first + [await one(*r) for r in then]
        finally:
            await context.__aexit__(None, None, None)
    return asyncio.run(go())


def test_both_protocols_answer_as_the_export(exports):
    app = serve({"sst2": exports["classifier"], "embed": exports["encoder"]})
    expected = reference(exports["classifier"], SENTENCES)
    replies = call(app, [
        ("POST", "/v1/models/sst2:predict", {"instances": SENTENCES}),
        ("POST", "/v1/models/sst2:predict", {"inputs": {"text": SENTENCES}}),
        ("POST", "/v2/models/sst2/infer", {"id": "7", "inputs": [
            {"name": "text", "shape": [len(SENTENCES)], "datatype": "BYTES", "data": SENTENCES}]}),
        ("POST", "/v1/models/embed:predict", {"instances": [{"text": SENTENCES[0], "token_vectors": True}]}),
    ])
    assert [status for status, _, _ in replies] == [200] * 4, replies
    rows, columns, v2, embedded = (payload for _, payload, _ in replies)
    for answer, ours in zip(rows["predictions"], expected):
        logits = ours["logits"][0].astype(np.float64)
        probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        assert answer["label"] == ["negative", "positive"][int(np.argmax(logits))]
        assert np.allclose([answer["probabilities"]["negative"], answer["probabilities"]["positive"]],
                           probabilities, atol=TOLERANCE)
        assert answer["truncated"] is False
    assert columns["outputs"]["label"] == [a["label"] for a in rows["predictions"]]
    outputs = {tensor["name"]: tensor for tensor in v2["outputs"]}
    assert v2["model_name"] == "sst2" and v2["id"] == "7" and outputs["label"]["data"] == columns["outputs"]["label"]
    assert outputs["probabilities"]["shape"] == [len(SENTENCES), 2]
    assert outputs["probabilities"]["parameters"]["labels"] == ["negative", "positive"]
    encoder = reference(exports["encoder"], SENTENCES[:1])[0]
    answer = embedded["predictions"][0]
    assert np.allclose(answer["pooled_output"], encoder["pooled_output"][0], atol=TOLERANCE)
    assert np.allclose(answer["sequence_output"], encoder["sequence_output"][0], atol=TOLERANCE)


def tokenizer_of(folder):
    from albert_tf.tokenization.full_tokenizer import FullTokenizer

    info = json.load(open(os.path.join(folder, "export_info.json")))["serving"]
    return FullTokenizer(spm_model_file=os.path.join(folder, info["vocabulary"])), info


def squad_reference(folder, question, context):
    """run_squad's answer from onnxruntime on each window alone: (predictions, nbest, null odds) of "q"."""
    from albert_tf.tasks.squad_data import SquadExample, convert_examples_to_features
    from albert_tf.tasks.squad_postprocessing import postprocess_v1, postprocess_v2

    tokenizer, info = tokenizer_of(folder)
    example = SquadExample("q", question, context)
    features, windows, _ = convert_examples_to_features([example], tokenizer, 24, 128, info["max_query_length"],
                                                        False)
    rows = run_onnx(folder, list(zip(features["input_ids"], features["segment_ids"])))
    if "cls_logits" in rows[0]:
        stacked = {name: np.stack([row[name] for row in rows]) for name in rows[0]}
        return postprocess_v2([example], windows, stacked, null_score_threshold=0.0, offsets=True), len(rows)
    lengths = [len(ids) for ids in features["input_ids"]]
    stacked = {name: np.stack([np.pad(row[name], (0, 24 - len(row[name])), constant_values=-1e30) for row in rows])
               for name in ("start_logits", "end_logits")}
    return postprocess_v1([example], windows, lengths, stacked, offsets=True), len(rows)


QUESTIONS = ["who designed the engine ?", "where was the mechanical computer designed and in which year ?"]
RACE = [{"article": CONTEXT, "question": "Ada Lovelace wrote _ .", "options": ["music", "an algorithm", "a poem",
                                                                              "nothing"]},
        {"article": "Short article .", "question": "Which is long ?", "options": ["a", "a very long option indeed"]}]
NER_TEXTS = ["Ada Lovelace met Charles Babbage in London .", CONTEXT + " " + CONTEXT]


def test_every_kind_answers_as_its_export_row_by_row(exports):
    """SQuAD v1/v2 (long contexts in several windows), RACE (4 and 2 options) and NER (a text over
    max_seq_length in two windows) requests at once, batched together, each answered as its rows run alone."""
    from seqeval.metrics.sequence_labeling import get_entities

    from albert_tf.tasks.conll_data import TaggedSentence, encode_sentences, word_predictions
    from albert_tf.tasks.race_data import RaceExample, encode_choices

    app = serve({name: exports[name] for name in ("squad", "squad2", "race", "ner")}, max_batch_size=8,
                max_batch_delay_ms=20)
    requests = [("POST", "/v1/models/squad:predict", {"instances": [{"question": q, "context": CONTEXT}]})
                for q in QUESTIONS]
    requests += [("POST", "/v1/models/squad2:predict", {"instances": [{"question": q, "context": CONTEXT}
                                                                      for q in QUESTIONS]}),
                 ("POST", "/v1/models/race:predict", {"instances": RACE}),
                 ("POST", "/v2/models/ner/infer", {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                                                               "data": NER_TEXTS}]})]
    bad = [("POST", "/v1/models/squad:predict", {"instances": [{"question": "who ?"}]}),
           ("POST", "/v1/models/race:predict", {"instances": [dict(RACE[0], options="a")]}),
           ("POST", "/v1/models/ner:predict", {"instances": ["   "]})]
    replies = call(app, requests, then=bad)
    assert [status for status, _, _ in replies[:len(requests)]] == [200] * len(requests), replies
    squad_answers = [replies[0][1]["predictions"][0], replies[1][1]["predictions"][0]]
    squad2_answers = replies[2][1]["predictions"]
    for name, answers in (("squad", squad_answers), ("squad2", squad2_answers)):
        for question, answer in zip(QUESTIONS, answers):
            ((predictions, nbest, null_odds), windows) = squad_reference(exports[name], question, CONTEXT)
            assert windows >= 3  # the context runs as several windows
            best = nbest["q"][0]
            assert answer["answer"] == predictions["q"] and abs(answer["score"] - best["probability"]) < 1e-4
            if answer["answer"]:
                assert CONTEXT[answer["start"]:answer["end"]] == answer["answer"]
            if name == "squad2":
                assert answer["has_answer"] == (null_odds["q"] <= 0.0)
                assert abs(answer["no_answer_score"] - null_odds["q"]) < 1e-4
    tokenizer, _ = tokenizer_of(exports["race"])
    for instance, answer in zip(RACE, replies[3][1]["predictions"]):
        rows, cut = encode_choices(RaceExample("0", "middle", instance["article"], instance["question"],
                                               instance["options"], 0), tokenizer, 24, 8)
        longest = max(len(ids) for ids, _ in rows)
        feeds = {"input_ids": np.array([[ids + [0] * (longest - len(ids)) for ids, _ in rows]], np.int32),
                 "segment_ids": np.array([[s + [0] * (longest - len(s)) for _, s in rows]], np.int32),
                 "input_mask": np.array([[[1] * len(ids) + [0] * (longest - len(ids)) for ids, _ in rows]], np.int32)}
        session = onnxruntime.InferenceSession(os.path.join(exports["race"], "model.onnx"))
        logits = session.run(["logits"], feeds)[0][0].astype(np.float64)
        probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        assert np.allclose(answer["probabilities"], probabilities, atol=TOLERANCE)
        assert answer["option"] == instance["options"][int(probabilities.argmax())]
        assert answer["truncated"] == cut and (cut or instance is not RACE[0])  # the long article is cut
    outputs = {tensor["name"]: tensor for tensor in replies[4][1]["outputs"]}
    tokenizer, _ = tokenizer_of(exports["ner"])
    labels = NER_LABELS.split(",")
    for text, words, entities in zip(NER_TEXTS, outputs["words"]["data"], outputs["entities"]["data"]):
        words, entities = json.loads(words), json.loads(entities)
        sentence = TaggedSentence(text.split(), None, 1)
        features, windows = encode_sentences([sentence], tokenizer, labels, 24)
        rows = run_onnx(exports["ner"], list(zip(features["input_ids"], features["segment_ids"])))
        logits = np.stack([np.pad(row["logits"], ((0, 24 - len(row["logits"])), (0, 0))) for row in rows])
        tags = [labels[i] for i in word_predictions([sentence], windows, logits)[0]]
        assert [w["label"] for w in words] == tags and [text[w["start"]:w["end"]] for w in words] == text.split()
        assert [(e["entity"], e["text"]) for e in entities] == [
            (kind, " ".join(text.split()[first:last + 1])) for kind, first, last in get_entities(tags)]
        assert all(text[e["start"]:e["end"]] == e["text"] for e in entities)
    assert len(windows) > 1 and outputs["truncated"]["data"] == [False, False]  # a long text: more windows, no cut
    statuses = [(status, payload["error"]) for status, payload, _ in replies[len(requests):]]
    assert statuses == [(400, "instances[0]: expected \"context\" (a string)"),
                        (400, "instances[0].options: expected a list of 2 to 26 strings, got 'a'"),
                        (400, "instances[0].text: empty; expected some text")], statuses


def assert_same_answers(a, b, where=""):
    """Equal answers but for float rounding: the same float32 weights in two runtimes that sum in other orders
    agree to 1e-5 in probabilities and scores (measured: about 1e-7)."""
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for key in a:
            assert_same_answers(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_answers(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert abs(a - b) < 1e-5, (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_saved_models_are_served_like_their_onnx_twins(exports):
    kinds = {"classifier": SENTENCES, "squad2": [{"question": q, "context": CONTEXT} for q in QUESTIONS],
             "race": RACE, "ner": NER_TEXTS}
    app = serve({**{name: exports[name] for name in kinds}, **{f"{name}-tf": exports[f"{name}-savedmodel"]
                                                               for name in kinds}})
    requests = [("POST", f"/v1/models/{name}{twin}:predict", {"instances": instances})
                for name, instances in kinds.items() for twin in ("", "-tf")]
    replies = call(app, requests, then=[("GET", "/v2/models/classifier-tf", None)])
    assert [status for status, _, _ in replies] == [200] * (len(requests) + 1), replies
    for index, name in enumerate(kinds):
        onnx_answers, tf_answers = replies[2 * index][1], replies[2 * index + 1][1]
        assert_same_answers(onnx_answers, tf_answers, name)
    assert replies[-1][1]["platform"] == "tensorflow_savedmodel"


def test_long_text_is_cut_by_the_export_rule_and_says_so(exports):
    long_text = " ".join(SENTENCES * 6)
    app = serve({"sst2": exports["classifier"]})
    (status, payload, _), = call(app, [("POST", "/v1/models/sst2:predict", {"instances": [long_text]})])
    assert status == 200 and payload["predictions"][0]["truncated"] is True
    logits = reference(exports["classifier"], [long_text])[0]["logits"][0].astype(np.float64)
    positive = np.exp(logits[1]) / np.exp(logits).sum()
    assert abs(payload["predictions"][0]["probabilities"]["positive"] - positive) < TOLERANCE


def test_concurrent_requests_run_in_shared_batches(exports):
    app = serve({"sst2": exports["classifier"]}, max_batch_size=8, max_batch_delay_ms=50)
    replies = call(app, [("POST", "/v1/models/sst2:predict", {"instances": [s]}) for s in SENTENCES * 4],
                   then=[("GET", "/metrics", None)])
    assert all(status == 200 for status, _, _ in replies[:-1])
    metrics = replies[-1][1]
    # 16 one-instance requests at once with a 50 ms window: batches of up to 8, so at most 4 batches
    # (plus the warm-up batch of 1); without batching there would be 17.
    batches = float(re.search(r'albert_serve_batch_size_count\{model="sst2"\} (\S+)', metrics).group(1))
    assert batches <= 5, metrics
    assert re.search(r'albert_serve_requests_total\{code="200",model="sst2",protocol="tf_serving"\} 16.0', metrics)


BAD_REQUESTS = [
    ("POST", "/v1/models/nope:predict", {"instances": ["x"]}, 404, "Servable not found for request: model 'nope'"),
    ("POST", "/v1/models/sst2:predict", b"{not json", 400, "the body is not JSON"),
    ("POST", "/v1/models/sst2:predict", b'{"instances": ["\xff"]}', 400, "the body is not UTF-8"),
    ("POST", "/v1/models/sst2:predict", {"instances": []}, 400, "no instances"),
    ("POST", "/v1/models/sst2:predict", {"instances": ["x"] * 9}, 400, "9 instances in one request: at most 8"),
    ("POST", "/v1/models/sst2:predict", {"rows": ["x"]}, 400, "give exactly one of \"instances\""),
    ("POST", "/v1/models/sst2:predict", {"instances": [{"txt": "x"}]}, 400, "instances[0]: unknown field(s) txt"),
    ("POST", "/v1/models/sst2:predict", {"instances": [{"text": 3}]}, 400, "instances[0].text: expected a string"),
    ("POST", "/v1/models/sst2:predict", {"instances": [{"input_ids": [2, 99999]}]}, 400,
     "instances[0].input_ids: ids must lie in [0, 30000)"),
    ("POST", "/v1/models/sst2:predict", {"instances": [{"input_ids": [2, 5], "input_mask": 1}]}, 400,
     "instances[0].input_mask: expected 2 values, ones then zeros"),
    ("POST", "/v1/models/sst2:predict", {"inputs": {"text": ["a"], "text_pair": ["b", "c"]}}, 400,
     "inputs: every column must be a list, all of one length"),
    ("POST", "/v1/models/sst2:predict", b'{"instances": ["' + b"x" * 5000 + b'"]}', 413, "at most 4096"),
    ("POST", "/v2/models/sst2/infer", {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                                                   "data": ["a"]}]}, 400, "inputs[0].data: expected 2 values"),
    ("POST", "/v2/models/sst2/infer", {"inputs": [{"name": "txt", "shape": [1], "datatype": "BYTES",
                                                   "data": ["a"]}]}, 400, "inputs[0].name='txt': expected one of"),
]


def test_bad_input_is_one_4xx_line_naming_the_field_and_the_server_goes_on(exports):
    app = serve({"sst2": exports["classifier"]}, max_instances=8, max_body_bytes=4096)
    replies = call(app, [(m, p, b) for m, p, b, _, _ in BAD_REQUESTS] +
                   [("POST", "/v1/models/sst2:predict", {"instances": ["still here"]})])
    for (status, payload, _), (_, path, _, expected_status, message) in zip(replies, BAD_REQUESTS):
        assert status == expected_status and message in payload["error"], (path, status, payload)
        assert "Traceback" not in payload["error"] and "\n" not in payload["error"]
    assert replies[-1][0] == 200


def test_a_full_queue_answers_429_with_retry_after(exports):
    app = serve({"sst2": exports["classifier"]}, max_batch_size=1, max_queue=2, max_batch_delay_ms=0)
    replies = call(app, [("POST", "/v1/models/sst2:predict", {"instances": [s] * 2}) for s in SENTENCES])
    statuses = sorted(status for status, _, _ in replies)
    assert 200 in statuses and 429 in statuses, statuses
    refused = next((payload, headers) for status, payload, headers in replies if status == 429)
    assert "the queue holds" in refused[0]["error"] and int(refused[1]["retry-after"]) >= 1


def test_health_metadata_and_openapi(exports):
    app = serve({"sst2": exports["classifier"]})
    replies = call(app, [("GET", "/v2/health/live", None), ("GET", "/v2/health/ready", None),
                         ("GET", "/v2/models/sst2", None), ("GET", "/v2/models/sst2/ready", None),
                         ("GET", "/v1/models/sst2", None), ("GET", "/v1/models/sst2/metadata", None),
                         ("GET", "/openapi.json", None)])
    assert [status for status, _, _ in replies] == [200] * 7
    live, ready, v2_model, _, v1_status, v1_metadata, openapi = (payload for _, payload, _ in replies)
    assert live == {"live": True} and ready == {"ready": True}
    assert v2_model["platform"] == "onnxruntime_onnx" and v2_model["parameters"]["labels"] == ["negative", "positive"]
    assert v1_status["model_version_status"][0]["state"] == "AVAILABLE"
    assert v1_metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]["kind"] == "classifier"
    assert "/v1/models/{name}:predict" in openapi["paths"] and "/v2/models/{name}/infer" in openapi["paths"]


def test_exports_it_cannot_serve_are_refused_at_start_naming_the_folder(exports, tmp_path):
    from albert_tf.errors import ConfigError
    from albert_tf.serving.served_model import ServedModel
    from albert_tf.serving.server_config import ServerConfig

    with pytest.raises(ConfigError, match="no export_info.json: not an albert-export folder"):
        ServedModel("x", str(tmp_path))
    with pytest.raises(ConfigError, match="expected NAME=EXPORT_FOLDER"):
        ServerConfig(model=("just-a-folder",)).validate()
    with pytest.raises(ConfigError, match="the name\\(s\\) a are given more than once"):
        ServerConfig(model=("a=x", "a=y")).validate()


@pytest.mark.integration
def test_the_command_survives_disconnects_and_answers_the_requests_in_flight_on_sigterm(exports):
    process = subprocess.Popen([sys.executable, "-m", "albert_tf.cli.serve", f"--model=sst2={exports['classifier']}",
                                "--port=0", "--threads=1", "--max_batch_size=1", "--max_batch_delay_ms=0"],
                               cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        port, deadline = None, time.monotonic() + 120
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else None
            assert line or process.poll() is None, "the server exited before listening"
        assert port, "no 'listening on' line"
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(600):  # up to a minute for the model to load and warm up
                if client.get("/v2/health/ready").status_code == 200:
                    break
                time.sleep(0.1)
            # one client leaves halfway through its body, another right after sending a whole request
            head = "POST /v1/models/sst2:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.sendall(f"{head}Content-Length: 1000\r\n\r\n{{\"instances\": [".encode())
            body = json.dumps({"instances": SENTENCES * 8}).encode()
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            reply = client.post("/v1/models/sst2:predict", json={"instances": SENTENCES[:2]})
            assert reply.status_code == 200 and len(reply.json()["predictions"]) == 2
            assert client.get("/v2/health/live").status_code == 200

            # SIGTERM while requests of 128 instances each (run one instance at a time) are queued
            answered = []

            def one():
                try:
                    with httpx.Client(base_url=url, timeout=120) as own:
                        status = own.post("/v1/models/sst2:predict", json={"instances": SENTENCES * 32}).status_code
                except httpx.HTTPError as error:  # not yet connected when the server stopped accepting
                    status = type(error).__name__
                answered.append((status, time.monotonic()))

            threads = [threading.Thread(target=one) for _ in range(6)]
            for thread in threads:
                thread.start()
            queued = 0
            for _ in range(1000):  # until at least three requests' instances are waiting
                metrics = client.get("/metrics").text
                queued = float(re.search(r'albert_serve_queue_depth\{model="sst2"\} (\S+)', metrics).group(1))
                if queued > 2 * 128:
                    break
                time.sleep(0.01)
            assert queued > 2 * 128, metrics
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=120)
        assert process.wait(timeout=120) == 0
        statuses = [status for status, _ in answered]
        assert statuses.count(200) >= 3 and set(statuses) <= {200, "ConnectError"}, statuses
        assert any(when > stopped for status, when in answered if status == 200)  # in flight at SIGTERM, answered
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_exports_record_what_a_server_needs_and_refuse_wrong_labels(exports, tmp_path):
    from albert_tf.errors import ConfigError
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.model_export import export_model

    info = json.load(open(os.path.join(exports["classifier"], "export_info.json")))
    assert info["serving"] == {"kind": "classifier", "vocabulary": "30k-clean.model", "do_lower_case": True,
                               "max_seq_length": 24, "labels": ["negative", "positive"]}
    run = os.path.join(os.path.dirname(exports["classifier"]), "classifier")
    with pytest.raises(ConfigError, match="labels='a,b,c': 3 names for a model of 2 outputs"):
        export_model(ExportConfig(model_type="classifier", albert_config_file=os.path.join(run, "albert_config.json"),
                                  checkpoint=os.path.join(run, "model.ckpt-best"), export_dir=str(tmp_path / "x"),
                                  spm_model_file=os.path.join(exports["classifier"], "30k-clean.model"),
                                  format="onnx", max_seq_length=24, labels="a,b,c"))
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("lengths,runs", [
    ([10], [[0]]),
    ([10, 10, 10], [[0, 1, 2]]),
    ([30, 5, 6, 31], [[1, 2], [0, 3]]),  # 5 and 6 together (6*2 <= 1.25*11), 30 and 31 together
    ([5, 40], [[0], [1]]),  # 40*2 = 80 > 1.25*45: one each
    ([8, 9, 10, 11, 12], [[0, 1, 2, 3, 4]]),  # 12*5 = 60 <= 1.25*50: close lengths stay one run
    ([12, 8, 30, 9, 29], [[1, 3, 0], [4, 2]]),  # sorted 8, 9, 12 | 29, 30; the order of the answers is restored
])
def test_length_runs_bound_the_padding(lengths, runs):
    from albert_tf.serving.served_model import length_runs

    found = length_runs(lengths)
    assert sorted(i for run in found for i in run) == list(range(len(lengths)))
    for run in found:  # the bound the runs keep: padded tokens <= 1.25 x real tokens
        assert len(run) == 1 or max(lengths[i] for i in run) * len(run) <= 1.25 * sum(lengths[i] for i in run)
    assert found == runs


def test_the_batcher_keeps_order_across_batches_and_drops_late_requests():
    from albert_tf.serving.dynamic_batcher import DeadlineExceeded, DynamicBatcher

    sizes = []

    def run_batch(items):  # the answer of x is 10 x; a batch takes 50 ms
        time.sleep(0.05)
        sizes.append(len(items))
        return [10 * x for x in items]

    async def go():
        batcher = DynamicBatcher(run_batch, max_batch_size=3, max_delay=0.01, max_queue=100)
        batcher.start()
        try:
            answers = await asyncio.gather(batcher.submit([1, 2, 3, 4, 5], 5), batcher.submit([6, 7], 5))
            with pytest.raises(DeadlineExceeded):  # queued behind a 50 ms batch with 20 ms to live
                await asyncio.gather(batcher.submit([8, 9, 10], 5), batcher.submit([11], 0.02))
            return answers
        finally:
            await batcher.stop()

    assert asyncio.run(go()) == [[10, 20, 30, 40, 50], [60, 70]]
    assert sizes[:3] == [3, 3, 1] and max(sizes) <= 3 and 1 not in sizes[3:]  # the late request never ran


def test_a_tensor_only_saved_model_loads_where_tensorflow_text_is_not(exports, tmp_path):
    """Stock TensorFlow Serving has no tensorflow-text ops: --text_signatures=false must not need them."""
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.model_export import export_model

    run = os.path.join(os.path.dirname(exports["classifier"]), "classifier")
    folder = str(tmp_path / "tensors")
    export_model(ExportConfig(model_type="classifier", albert_config_file=os.path.join(run, "albert_config.json"),
                              checkpoint=os.path.join(run, "model.ckpt-best"), export_dir=folder,
                              spm_model_file=os.path.join(exports["classifier"], "30k-clean.model"),
                              format="saved_model", max_seq_length=24, text_signatures=False))
    ids = [[2, 480, 9, 1500, 3]]
    code = f"""
import json, sys
import tensorflow as tf
loaded = tf.saved_model.load({folder!r})
out = loaded.signatures["serving_default"](input_ids=tf.constant({ids}), input_mask=tf.ones([1, 5], tf.int32),
                                           segment_ids=tf.zeros([1, 5], tf.int32))
print(json.dumps({{"signatures": sorted(loaded.signatures), "logits": out["logits"].numpy().tolist(),
                  "tf_text": "tensorflow_text" in sys.modules}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["signatures"] == ["serving_default", "tokens"] and loaded["tf_text"] is False
    session = onnxruntime.InferenceSession(os.path.join(exports["classifier"], "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.array(ids, np.int32), "input_mask": np.ones((1, 5), np.int32),
             "segment_ids": np.zeros((1, 5), np.int32)}
    # The same float32 weights in two runtimes whose fused kernels sum in other orders (about 1e-6 relative
    # per op, logits of a few units): 1e-4 apart at most.
    assert np.allclose(loaded["logits"], session.run(["logits"], feeds)[0], atol=1e-4)
