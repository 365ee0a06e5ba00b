"""Helpers of the side-by-side benchmarks: timing loops, one fresh process per measurement, our training step."""

import json
import os
import subprocess
import sys
import tempfile
import time


def synthetic_pretraining_batch(vocab_size, batch, seq, predictions=20, seed=0):
    """A pretraining batch of random tokens: `predictions` masked positions a row, two segments, SOP labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, (batch, seq)).astype(np.int32)
    positions = np.sort(np.stack([rng.choice(np.arange(1, seq - 1), predictions, replace=False)
                                  for _ in range(batch)]), 1)
    return {"input_ids": ids, "input_mask": np.ones_like(ids),
            "segment_ids": (np.arange(seq) >= seq // 2).astype(np.int32)[None].repeat(batch, 0),
            "masked_lm_positions": positions.astype(np.int32),
            "masked_lm_ids": np.take_along_axis(ids, positions, 1).astype(np.int32),
            "masked_lm_weights": np.ones((batch, predictions), np.float32),
            "next_sentence_labels": rng.integers(0, 2, batch).astype(np.int32)}


def pretraining_trainer(preset, strategy=None, recompute_blocks=False):
    """Our `Trainer` on a fresh `AlbertPretrainer(preset)` with LAMB, set up as run_pretraining sets it up.

    The caller puts the repository on `sys.path` and sets the Keras precision policy first.
    """
    import tensorflow as tf

    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.optimization import create_optimizer
    from albert_tf.tasks.pretraining_objective import PretrainingObjective
    from albert_tf.training.trainer import Trainer

    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = AlbertPretrainer(AlbertConfig.from_preset(preset))
        optimizer = create_optimizer("lamb", learning_rate=1e-4, num_train_steps=1000, num_warmup_steps=0,
                                     gate_updates=True, aggregate_gradients=False)
    return Trainer(model, PretrainingObjective(), optimizer, strategy, recompute_blocks=recompute_blocks)


def timed(call, *args):
    """Seconds that `call(*args)` takes."""
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def step_times(step, warmup, steps):
    """Seconds of each of `steps` calls of `step` after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    return [timed(step) for _ in range(steps)]


def run_worker(name, command):
    """Runs a worker process and returns the JSON of its last `RESULT {...}` stdout line."""
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode or not lines:
        raise RuntimeError(f"{name} worker failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def serve_steps(step, warmup):
    """Worker side of lockstep timing: `warmup` untimed calls, then one timed call per `step` line on stdin.

    Prints `READY` after the warm-up and `TIME <seconds>` after each timed
    call; any other line (`done`) ends it. Returns the list of seconds.
    """
    for _ in range(warmup):
        step()
    report_ready()
    times = []
    while await_turn():
        times.append(timed(step))
        report_time(times[-1])
    return times


def report_ready():
    """Worker side: tells `LockstepWorkers` that the warm-up is over."""
    print("READY", flush=True)


def await_turn():
    """Worker side: blocks until the next request; True for a timed step, False when done."""
    return sys.stdin.readline().strip() == "step"


def report_time(seconds):
    """Worker side: answers a `step` request with the step's seconds."""
    print(f"TIME {seconds}", flush=True)


class LockstepWorkers:
    """Processes that take turns, one step each, so that they all see the same host.

    This VM's speed swings by up to 10x within minutes; timing libraries one
    after another compares those swings, not the libraries. Each worker
    (`serve_steps` on its side) is started and warmed up alone; then `step`
    asks one worker for one timed step while the others wait on their stdin.
    """

    def __init__(self, commands):
        self.processes = {}
        for name, command in commands.items():
            stderr = tempfile.TemporaryFile(mode="w+")
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                       text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            self.processes[name] = (process, stderr)
            self._read_until(name, "READY")

    def _read_until(self, name, prefix):
        process, stderr = self.processes[name]
        for line in process.stdout:
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        process.wait()
        stderr.seek(0)
        raise RuntimeError(f"{name} worker failed (exit {process.returncode}):\n{stderr.read()[-3000:]}")

    def step(self, name):
        """Seconds of one timed step of worker `name`."""
        process, _ = self.processes[name]
        process.stdin.write("step\n")
        process.stdin.flush()
        return float(self._read_until(name, "TIME "))

    def take_turns(self, steps):
        """`steps` timed steps of every worker, one at a time, rotating which goes first.

        Each worker keeps its own step times; `finish` returns them.
        """
        names = list(self.processes)
        for step in range(steps):
            first = step % len(names)
            for name in names[first:] + names[:first]:
                self.step(name)

    def finish(self):
        """Ends every worker; returns the JSON of each one's `RESULT {...}` line."""
        results = {}
        for name, (process, stderr) in self.processes.items():
            process.stdin.write("done\n")
            process.stdin.flush()
            results[name] = json.loads(self._read_until(name, "RESULT "))
            process.wait()
            stderr.close()
        return results
