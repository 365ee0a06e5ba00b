"""Helpers of the side-by-side benchmarks: timing loops and one fresh process per measurement."""

import json
import os
import subprocess
import time


def time_steps(step, warmup, steps):
    """Seconds per call of `step` after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def run_worker(name, command):
    """Runs a worker process and returns the JSON of its last `RESULT {...}` stdout line."""
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode or not lines:
        raise RuntimeError(f"{name} worker failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])
