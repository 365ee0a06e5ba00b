"""The settings of albert-serve (no TensorFlow; field names are the flag names)."""

import dataclasses
import os
from typing import Tuple

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError


@dataclasses.dataclass
class ServerConfig:
    """Which exports to serve under which names, where to listen, and how requests are batched and bounded."""

    model: Tuple[str, ...] = setting((), "NAME=EXPORT_FOLDER, once per model (an albert-export folder: ONNX "
                                         "float32 or int8, or a SavedModel).", multi=True)
    host: str = setting("127.0.0.1", "Address to listen on (0.0.0.0: every interface, as in a container).")
    port: int = setting(8501, "TCP port (8501: TensorFlow Serving's REST port; 0: any free port).")
    max_batch_size: int = setting(32, "Most instances run together in one batch (1: no batching).")
    max_batch_delay_ms: float = setting(5.0, "Longest a queued instance waits for others to join its batch.")
    max_queue: int = setting(1024, "Most instances waiting per model; more are refused with 429 and Retry-After.")
    max_instances: int = setting(256, "Most instances in one request.")
    max_body_bytes: int = setting(8 * 2**20, "Largest request body in bytes (413 above it).")
    request_timeout_ms: float = setting(30000.0, "A request not answered by then gets 504.")
    threads: int = setting(os.cpu_count() or 1, "Threads each model's runtime computes with.")
    graceful_shutdown_s: float = setting(30.0, "On SIGTERM: stop accepting, then wait this long for the "
                                               "requests in flight.")

    def models(self):
        """[(name, folder)] of `model`."""
        pairs = []
        for entry in self.model:
            name, _, folder = entry.partition("=")
            pairs.append((name.strip(), folder.strip()))
        return pairs

    def validate(self):
        problems = []
        if not self.model:
            problems.append("model is not set: give --model=NAME=EXPORT_FOLDER (once per model)")
        names = []
        for entry, (name, folder) in zip(self.model, self.models()):
            if not name or not folder:
                problems.append(f"model={entry!r}: expected NAME=EXPORT_FOLDER, e.g. sst2=exports/sst2-onnx-int8")
            elif not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                problems.append(f"model={entry!r}: the name may hold letters, digits, '-', '_' and '.' only")
            names.append(name)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(f"model: the name(s) {', '.join(repeated)} are given more than once")
        for name in ("max_batch_size", "max_queue", "max_instances", "max_body_bytes", "threads"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: expected >= 1")
        if self.max_batch_delay_ms < 0 or self.request_timeout_ms <= 0 or self.graceful_shutdown_s < 0:
            problems.append("max_batch_delay_ms and graceful_shutdown_s must be >= 0, request_timeout_ms > 0")
        if not 0 <= self.port <= 65535:
            problems.append(f"port={self.port}: expected 0 to 65535")
        ConfigError.check(problems, "server settings")
        return self
