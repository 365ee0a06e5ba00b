"""The albert-serve ASGI application (Starlette): two protocols, health, metrics, OpenAPI, lifecycle.

    app = create_app(ServerConfig(model=("sst2=exports/sst2-onnx-int8",)))   # run with uvicorn

Routes:
- TensorFlow Serving's REST API: `GET /v1/models/NAME`, `GET /v1/models/NAME/metadata`,
  `POST /v1/models/NAME:predict` with `{"instances": [...]}` (rows; answers in `predictions`) or
  `{"inputs": ...}` (columns; answers in `outputs`); errors are `{"error": "..."}`.
- The Open Inference Protocol (KServe v2): `GET /v2`, `/v2/health/live`, `/v2/health/ready`,
  `/v2/models/NAME`, `/v2/models/NAME/ready`, `POST /v2/models/NAME/infer` (one tensor per input field of
  the model's kind: BYTES `text`, `text_pair` / `question`, `context` / `article`, `question`, `options`,
  or INT32 `input_ids`, `input_mask`, `segment_ids`; the metadata lists them).
- `GET /metrics` (Prometheus text format) and `GET /openapi.json`.

Models load after the server starts listening (liveness answers at once); readiness waits until every
model has loaded and answered a warm-up request. Every bad request gets a 4xx with one message naming the
field; a full queue 429 with Retry-After; a request past its deadline 504.
"""

import asyncio
import contextlib
import importlib.metadata
import json
import time

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from albert_tf.serving.dynamic_batcher import DeadlineExceeded, DynamicBatcher, QueueFull
from albert_tf.serving.served_example import InputError
from albert_tf.serving.served_model import ServedModel


__version__ = importlib.metadata.version("albert-tf")  # the installed package's (setup.cfg reads albert_tf's)


class RequestError(Exception):
    """An answer other than 200: its status, its one-line message and extra headers."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class _Metrics:
    """The server's Prometheus metrics, in a registry of their own (one per app)."""

    def __init__(self, models):
        self.registry = CollectorRegistry()
        self.requests = Counter("albert_serve_requests", "Requests answered, by model, protocol and status code.",
                                ["model", "protocol", "code"], registry=self.registry)
        self.latency = Histogram("albert_serve_request_seconds", "Time from a request's arrival to its answer.",
                                 ["model", "protocol"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.batch_size = Histogram("albert_serve_batch_size", "Instances per batch run.", ["model"],
                                    registry=self.registry, buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.instances = Counter("albert_serve_instances", "Instances answered.", ["model"], registry=self.registry)
        self.queue = Gauge("albert_serve_queue_depth", "Instances waiting to run.", ["model"], registry=self.registry)
        self.ready = Gauge("albert_serve_ready", "1 when every model has loaded and warmed up.",
                           registry=self.registry)
        for name in models:
            self.queue.labels(name).set(0)


class _Server:
    """The application's state: settings, models, batchers, metrics."""

    def __init__(self, config):
        self.config = config
        self.folders = dict(config.models())
        self.models, self.batchers = {}, {}
        self.ready = False
        self.load_error = None
        self.metrics = _Metrics(self.folders)

    async def load(self):
        """Loads every model (in a thread: loading is slow), starts its batcher and warms it up."""
        try:
            for name, folder in self.folders.items():
                model = await asyncio.to_thread(ServedModel, name, folder, self.config.threads)
                batcher = DynamicBatcher(model.run_batch, self.config.max_batch_size,
                                         self.config.max_batch_delay_ms / 1000, self.config.max_queue,
                                         on_batch=self.metrics.batch_size.labels(name).observe)
                batcher.start()
                self.batchers[name] = batcher  # stopped at shutdown even if its warm-up fails
                self.metrics.queue.labels(name).set_function(lambda b=batcher: b.queued)
                await batcher.submit([model.example(model.warm_up_instance())], self.config.request_timeout_ms / 1000)
                self.models[name] = model
            self.ready = True
            self.metrics.ready.set(1)
        except Exception as error:  # reported by the readiness answers and by the command
            self.load_error = f"{type(error).__name__}: {error}"
            raise

    async def stop(self):
        for batcher in self.batchers.values():
            await batcher.stop()

    def model(self, name):
        if name not in self.folders:
            raise RequestError(404, f"Servable not found for request: model {name!r} (served: "
                                    f"{', '.join(sorted(self.folders))})")
        if name not in self.models:
            raise RequestError(503, f"model {name!r} is loading" if self.load_error is None
                               else f"model {name!r} failed to load: {self.load_error}")
        return self.models[name]

    async def answer(self, name, instances):
        """The answers to `instances` (protocol-free: strings or objects) from model `name`."""
        model = self.model(name)
        if not instances:
            raise RequestError(400, "no instances: send at least one")
        if len(instances) > self.config.max_instances:
            raise RequestError(400, f"{len(instances)} instances in one request: at most {self.config.max_instances}")
        examples = [model.example(instance, f"instances[{i}]") for i, instance in enumerate(instances)]
        try:
            answers = await self.batchers[name].submit(examples, self.config.request_timeout_ms / 1000)
        except QueueFull as full:
            raise RequestError(429, str(full), {"Retry-After": str(full.retry_after)}) from None
        except DeadlineExceeded as late:
            raise RequestError(504, f"model {name!r}: {late}") from None
        self.metrics.instances.labels(name).inc(len(answers))
        return answers


async def _read_json(request, limit):
    """The request's JSON body; `RequestError` for a body too large, not UTF-8 or not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body has {declared} bytes: at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RequestError(413, f"the body has more than {limit} bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(400, f"the body is not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise RequestError(400, f"the body is not JSON: {error}") from None


def _tf_serving_instances(body, fields):
    """(instances, columnar) of a TF Serving predict body to a model whose instances have `fields`."""
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object with \"instances\" or \"inputs\"")
    signature = body.get("signature_name", "serving_default")
    if signature != "serving_default":
        raise RequestError(400, f"signature_name={signature!r}: albert-serve has one signature, serving_default")
    if ("instances" in body) == ("inputs" in body):
        raise RequestError(400, "give exactly one of \"instances\" (rows) and \"inputs\" (columns)")
    if "instances" in body:
        if not isinstance(body["instances"], list):
            raise RequestError(400, f"instances: expected a list, got {type(body['instances']).__name__}")
        return body["instances"], False
    inputs = body["inputs"]
    if isinstance(inputs, list):
        return inputs, True
    if not isinstance(inputs, dict) or not inputs:
        raise RequestError(400, "inputs: expected a list of instances or an object of named columns")
    unknown = sorted(set(inputs) - set(fields))
    if unknown:
        raise RequestError(400, f"inputs: unknown column(s) {', '.join(unknown)}; expected {', '.join(fields)}")
    return _rows(inputs, "inputs"), True


def _rows(columns, where):
    """Instances from named columns of equal length."""
    lengths = {name: len(value) if isinstance(value, list) else None for name, value in columns.items()}
    if None in lengths.values() or len(set(lengths.values())) != 1:
        raise RequestError(400, f"{where}: every column must be a list, all of one length; got "
                                + ", ".join(f"{n}: {'not a list' if k is None else k}" for n, k in lengths.items()))
    count = next(iter(lengths.values()))
    return [{name: columns[name][i] for name in columns} for i in range(count)]


def _columns(answers):
    """Answers (dicts) as named columns."""
    return {key: [answer.get(key) for answer in answers] for key in answers[0]}


def _kserve_instances(body, fields):
    """Instances from the tensors of an Open Inference Protocol request to a model whose instances have `fields`
    (a field of rank 1 is a [batch] tensor, of rank 2 a [batch, n] tensor; data flat or nested, row-major)."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise RequestError(400, "the body must be a JSON object with a non-empty \"inputs\" list of tensors")
    columns = {}
    for index, tensor in enumerate(body["inputs"]):
        where = f"inputs[{index}]"
        if not isinstance(tensor, dict):
            raise RequestError(400, f"{where}: expected a tensor object (name, shape, datatype, data)")
        name, shape, datatype, data = (tensor.get(k) for k in ("name", "shape", "datatype", "data"))
        if name not in fields:
            raise RequestError(400, f"{where}.name={name!r}: expected one of {', '.join(fields)}")
        field = fields[name]
        accepted = ("INT32", "INT64") if field.datatype == "INT32" else (field.datatype,)
        if datatype not in accepted:
            raise RequestError(400, f"{where}.datatype={datatype!r}: {name} is {field.datatype}")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)
                and len(shape) == field.rank):
            raise RequestError(400, f"{where}.shape={shape!r}: {name} is " +
                                    ("[batch]" if field.rank == 1 else "[batch, length] (padded with input_mask 0)"
                                     if field.datatype == "INT32" else "[batch, count]"))
        flat = _flattened(data) if isinstance(data, list) else None
        if flat is None or len(flat) != int(np.prod(shape)):
            raise RequestError(400, f"{where}.data: expected {int(np.prod(shape))} values for shape {shape}")
        columns[name] = flat if field.rank == 1 else [flat[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
    return _rows(columns, "inputs")


def _flattened(data):
    flat = []
    for value in data:
        flat.extend(_flattened(value) if isinstance(value, list) else [value])
    return flat


def _kserve_outputs(answers):
    """Answers as Open Inference Protocol tensors: numbers FP32 (integers INT64), strings BYTES, flags BOOL,
    equal-length number lists [batch, n] FP32, label -> probability maps [batch, labels] FP32 with the labels
    in `parameters`; anything else (entities, ragged token vectors, null) one JSON string per instance."""
    outputs = []
    for name, values in _columns(answers).items():
        tensor = _tensor(values)
        if tensor is None:
            tensor = {"shape": [len(values)], "datatype": "BYTES", "data": [json.dumps(value) for value in values],
                      "parameters": {"content_type": "json"}}
        outputs.append({"name": name, **tensor})
    return outputs


def _tensor(values):
    def kinds(check):
        return all(check(value) for value in values)

    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if kinds(lambda v: isinstance(v, bool)):
        return {"shape": [len(values)], "datatype": "BOOL", "data": values}
    if kinds(lambda v: isinstance(v, str)):
        return {"shape": [len(values)], "datatype": "BYTES", "data": values}
    if kinds(lambda v: isinstance(v, int) and not isinstance(v, bool)):
        return {"shape": [len(values)], "datatype": "INT64", "data": values}
    if kinds(number):
        return {"shape": [len(values)], "datatype": "FP32", "data": values}
    if kinds(lambda v: isinstance(v, list) and v and all(number(x) for x in v) and len(v) == len(values[0])):
        return {"shape": [len(values), len(values[0])], "datatype": "FP32", "data": [x for v in values for x in v]}
    if kinds(lambda v: isinstance(v, dict) and v and list(v) == list(values[0]) and all(map(number, v.values()))):
        labels = list(values[0])
        return {"shape": [len(values), len(labels)], "datatype": "FP32",
                "data": [v[label] for v in values for label in labels], "parameters": {"labels": labels}}
    return None


def create_app(config):
    """The Starlette application serving the models of `config` (a validated `ServerConfig`)."""
    server = _Server(config)

    def endpoint(protocol, handler):
        async def respond(request):
            name = request.path_params.get("name", "")
            started = time.perf_counter()
            try:
                status, payload, headers = 200, await handler(request, name), {}
            except RequestError as error:
                status, payload, headers = error.status, {"error": error.message}, error.headers
            except InputError as error:
                status, payload, headers = 400, {"error": str(error)}, {}
            except ClientDisconnect:  # the caller left before its body arrived: nobody to answer (nginx's 499)
                status, payload, headers = 499, {"error": "the client closed the connection"}, {}
            except Exception as error:  # the model failed: one line, no traceback
                status, payload, headers = 500, {"error": f"{type(error).__name__}: {error}"}, {}
            if name:
                model = name if name in server.folders else "(unknown)"
                server.metrics.requests.labels(model, protocol, str(status)).inc()
                server.metrics.latency.labels(model, protocol).observe(time.perf_counter() - started)
            return JSONResponse(payload, status_code=status, headers=headers)
        return respond

    async def tf_status(request, name):
        server.model(name)
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}

    async def tf_metadata(request, name):
        model = server.model(name)
        return {"model_spec": {"name": name, "signature_name": "", "version": "1"},
                "metadata": {"signature_def": {"signature_def": {"serving_default": model.metadata()}}}}

    async def tf_predict(request, name):
        model = server.model(name)
        instances, columnar = _tf_serving_instances(await _read_json(request, config.max_body_bytes), model.fields)
        answers = await server.answer(name, instances)
        return {"outputs": _columns(answers)} if columnar else {"predictions": answers}

    async def v2_server(request, name):
        return {"name": "albert-serve", "version": __version__, "extensions": []}

    async def v2_live(request, name):
        return {"live": True}

    async def v2_ready(request, name):
        if not server.ready:
            raise RequestError(503, server.load_error or "loading models")
        return {"ready": True}

    async def v2_model(request, name):
        model = server.model(name)
        metadata = model.metadata()
        return {"name": name, "versions": ["1"], "platform": metadata["platform"],
                "inputs": [{"name": n, "datatype": field.datatype, "shape": [-1] * field.rank,
                            "parameters": {"description": field.help}} for n, field in model.fields.items()],
                "outputs": [{"name": n} for n in metadata["outputs"]], "parameters": metadata}

    async def v2_model_ready(request, name):
        server.model(name)
        return {"name": name, "ready": True}

    async def v2_infer(request, name):
        model = server.model(name)
        body = await _read_json(request, config.max_body_bytes)
        answers = await server.answer(name, _kserve_instances(body, model.fields))
        reply = {"model_name": name, "model_version": "1", "outputs": _kserve_outputs(answers)}
        if isinstance(body.get("id"), str):
            reply["id"] = body["id"]
        return reply

    async def metrics(request):
        return Response(generate_latest(server.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(request):
        return JSONResponse(OPENAPI)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        loading = asyncio.get_running_loop().create_task(server.load())
        app.state.loading = loading
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
            await server.stop()

    routes = [
        Route("/v1/models/{name}", endpoint("tf_serving", tf_status)),
        Route("/v1/models/{name}/metadata", endpoint("tf_serving", tf_metadata)),
        Route("/v1/models/{name}:predict", endpoint("tf_serving", tf_predict), methods=["POST"]),
        Route("/v2", endpoint("v2", v2_server)),
        Route("/v2/health/live", endpoint("v2", v2_live)),
        Route("/v2/health/ready", endpoint("v2", v2_ready)),
        Route("/v2/models/{name}", endpoint("v2", v2_model)),
        Route("/v2/models/{name}/ready", endpoint("v2", v2_model_ready)),
        Route("/v2/models/{name}/infer", endpoint("v2", v2_infer), methods=["POST"]),
        Route("/metrics", metrics),
        Route("/openapi.json", openapi),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = server
    return app


def _operation(summary, body=None):
    errors = {"description": "{\"error\": \"one line naming the field\"}"}
    operation = {"summary": summary, "responses": {"200": {"description": "OK"}, "4XX": errors}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"example": body}}}
    return operation


_NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "albert-serve", "version": __version__,
             "description": "ALBERT exports behind TensorFlow Serving's REST API and the Open Inference Protocol."},
    "paths": {
        "/v1/models/{name}": {"get": {**_operation("TF Serving: model status"), "parameters": _NAME}},
        "/v1/models/{name}/metadata": {"get": {**_operation("TF Serving: model metadata"), "parameters": _NAME}},
        "/v1/models/{name}:predict": {"post": {**_operation(
            "TF Serving: predict (rows in instances, or columns in inputs)",
            {"instances": ["a gorgeous, witty movie", {"text": "a premise", "text_pair": "a hypothesis"}]}),
            "parameters": _NAME}},
        "/v2": {"get": _operation("Open Inference Protocol: server metadata")},
        "/v2/health/live": {"get": _operation("liveness")},
        "/v2/health/ready": {"get": _operation("readiness: every model loaded and warmed up (503 until then)")},
        "/v2/models/{name}": {"get": {**_operation("model metadata"), "parameters": _NAME}},
        "/v2/models/{name}/ready": {"get": {**_operation("model readiness"), "parameters": _NAME}},
        "/v2/models/{name}/infer": {"post": {**_operation(
            "Open Inference Protocol: infer",
            {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a gorgeous, witty movie"]}]}),
            "parameters": _NAME}},
        "/metrics": {"get": _operation("Prometheus metrics: requests, errors, latency, batch sizes, queue depth")},
        "/openapi.json": {"get": _operation("this document")},
    },
}
