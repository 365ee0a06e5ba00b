"""albert-serve: our exports behind TensorFlow Serving's REST API and the Open Inference Protocol.

- `server_config.ServerConfig`: the settings (no TensorFlow; the flags of `albert-serve`).
- `served_model.ServedModel`: one export folder: its tokenizer, its runtime, answers in its kind's terms.
- `dynamic_batcher.DynamicBatcher`: requests queue per model and run together, bounded, with deadlines.
- `server_app.create_app`: the ASGI application (Starlette): the routes, metrics and lifecycle.

Import the modules directly; this package imports nothing itself.
"""
