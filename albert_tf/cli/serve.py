r"""Serve albert-tf exports over HTTP: TensorFlow Serving's REST API and the Open Inference Protocol.

    albert-serve --model=sst2=exports/sst2-onnx-int8 --model=squad=exports/squad-savedmodel
    curl -s localhost:8501/v1/models/sst2:predict -d '{"instances": ["a gorgeous, witty movie"]}'

Each --model is NAME=FOLDER, a folder written by albert-export: ONNX (float32 or int8) or a SavedModel, of
any kind (classifier, encoder, squad, race, token_classifier); each answers in its kind's terms. Requests are
batched per model (--max_batch_size, --max_batch_delay_ms), padded to the longest sequence of the batch. The
server listens at once (GET /v2/health/live) and is ready (GET /v2/health/ready) when every model has loaded
and answered a warm-up request; SIGTERM stops accepting, answers the requests in flight and exits 0.
Routes: /v1/models/NAME[:predict|/metadata], /v2/models/NAME[/ready|/infer], /metrics, /openapi.json.
"""

import asyncio
import json
import os
import signal

from absl import flags, logging

from albert_tf.cli import console, flag_groups
from albert_tf.serving.server_config import ServerConfig

FLAGS = flags.FLAGS
flag_groups.define_flags(ServerConfig())


async def serve(config):
    """Runs the server until SIGTERM/SIGINT; returns the exit status (1 when a model fails to load)."""
    import uvicorn

    from albert_tf.serving.server_app import create_app

    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                                           timeout_graceful_shutdown=config.graceful_shutdown_s,
                                           lifespan="on"))
    status = {"code": 0}

    async def announce():
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        logging.info("listening on http://%s:%d (loading %s)", config.host, port,
                     ", ".join(name for name, _ in config.models()))
        try:
            await app.state.loading
        except Exception as error:
            logging.error("%s: %s; stopping", type(error).__name__, error)
            status["code"] = 1
            server.should_exit = True
            return
        logging.info("ready: %s", ", ".join(f"{name} ({model.kind}, {model.info.get('quantize', 'none')})"
                                            for name, model in app.state.server.models.items()))

    watcher = asyncio.get_running_loop().create_task(announce())
    # uvicorn stops gracefully on SIGTERM, then raises the signal again for the handler it found: a SIGTERM
    # that was answered so is a clean exit (0), as a container's stop expects.
    previous = signal.signal(signal.SIGTERM, lambda number, frame: logging.info("stopped (SIGTERM)"))
    try:
        await server.serve()
    finally:
        signal.signal(signal.SIGTERM, previous)
    watcher.cancel()
    return status["code"]


def serves_saved_models(config):
    """Whether a --model folder is a SavedModel (TensorFlow then starts before the server, quietly)."""
    for _, folder in config.models():
        try:
            with open(os.path.join(folder, "export_info.json"), encoding="utf-8") as f:
                if json.load(f).get("format") == "saved_model":
                    return True
        except (OSError, ValueError):  # reported by name when the model loads
            continue
    return False


def main(argv):
    del argv
    config = flag_groups.config_from_flags(ServerConfig()).validate()
    if serves_saved_models(config):
        console.start_tensorflow()
    return asyncio.run(serve(config))


def run():
    """The `albert-serve` command."""
    console.run(main)


if __name__ == "__main__":
    run()
