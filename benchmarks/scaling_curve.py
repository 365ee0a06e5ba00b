"""Scaling curve: the pretraining step under MultiWorkerMirroredStrategy with 1, 2 and 4 worker processes.

All workers run on this host and talk over loopback (gRPC, the RING
collective implementation, the one CPUs have). Each worker trains
`AlbertPretrainer` with LAMB through `Trainer` on a fixed per-worker batch
(weak scaling: the global batch grows with the workers) and reports:

- step time: median of `--steps` timed steps after `--warmup` untimed ones;
- all-reduce time: the same gradient tensors all-reduced alone by the same
  strategy (one packed `all_reduce` call, as `Trainer` makes), median of
  `--steps` calls;
- bytes reduced per step: the gradient payload (every trainable variable's
  float32 gradient; `Trainer` reduces them in one call, plus a few scalars),
  and the bytes each worker actually sent over loopback per step, read from
  `/proc/net/dev` around the timed steps (ring all-reduce sends
  2 (N-1)/N of the payload per worker, plus gRPC framing).

The workers share this host's cores: with N workers each gets cores/N
threads, so the ideal curve on a fixed host is a flat aggregate throughput
(examples/s); what falls below flat is the price of synchronizing and
reducing. RESULTS.md turns the measured payload into estimates for 8 GPUs and
a TPU v3-32 slice.

    python benchmarks/scaling_curve.py                          # base_v2, seq 128, batch 4 per worker
    python benchmarks/scaling_curve.py --workers 1 2 --preset large_v2

The last line reads `scaling <preset>: workers 1 2 4 -> examples/s ... (efficiency ...)`.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRED = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--preset", default="base_v2")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4, help="examples per worker and step")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--timeout_s", type=int, default=1800, help="per worker count; hung workers are killed")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def loopback_bytes():
    """(received, sent) bytes of the loopback interface since boot."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, counters = line.partition(":")
            if name.strip() == "lo":
                fields = counters.split()
                return int(fields[0]), int(fields[8])
    raise RuntimeError("no loopback interface in /proc/net/dev")


def worker(spec):
    sys.path.insert(0, REPO)
    import numpy as np
    import tensorflow as tf

    threads = max(1, spec["cores"] // len(spec["cluster"]))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)

    from albert_tf import AlbertConfig
    from worker_processes import pretraining_trainer, synthetic_pretraining_batch

    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    trainer = pretraining_trainer(spec["preset"], strategy)
    model = trainer.model
    features = synthetic_pretraining_batch(AlbertConfig.from_preset(spec["preset"]).vocab_size, spec["batch"],
                                           spec["seq"], PRED, seed=spec["index"])
    dataset = strategy.distribute_datasets_from_function(
        lambda context: tf.data.Dataset.from_tensors(features).repeat())
    iterator = iter(dataset)

    def step():
        float(trainer.train_step(iterator)[0]["mlm_loss_sum"])

    for _ in range(spec["warmup"]):
        step()
    sent_before = loopback_bytes()[1]
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    sent = (loopback_bytes()[1] - sent_before) / spec["steps"]

    # The step's gradient reduction alone: every trainable variable's gradient in one all_reduce call.
    @tf.function
    def reduce_gradients():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            return context.all_reduce(tf.distribute.ReduceOp.SUM,
                                      [tf.identity(v) for v in model.trainable_variables])
        return strategy.run(replica_fn)

    for _ in range(2):
        reduce_gradients()
    reduce_times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        float(strategy.experimental_local_results(reduce_gradients())[0][0][0, 0])
        reduce_times.append(time.perf_counter() - start)
    payload = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.trainable_variables)
    return {"step_s": float(np.median(times)), "all_reduce_s": float(np.median(reduce_times)),
            "payload_bytes": payload, "loopback_bytes_all_workers": sent, "threads": threads}


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_cluster(args, count):
    """Starts `count` workers on loopback, waits for them, returns worker 0's result."""
    cluster = [f"127.0.0.1:{port}" for port in free_ports(count)]
    processes = []
    for index in range(count):
        spec = dict(preset=args.preset, seq=args.seq, batch=args.batch, warmup=args.warmup, steps=args.steps,
                    cores=os.cpu_count(), cluster=cluster, index=index)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_CONFIG": json.dumps(
            {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})}
        stderr = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                                   start_new_session=True)
        processes.append((process, stderr))
    results = []
    try:
        for process, stderr in processes:
            stdout, _ = process.communicate(timeout=args.timeout_s)
            lines = [x for x in stdout.splitlines() if x.startswith("RESULT ")]
            if process.returncode or not lines:
                stderr.seek(0)
                raise RuntimeError(f"worker failed (exit {process.returncode}):\n{stderr.read()[-3000:]}")
            results.append(json.loads(lines[-1][len("RESULT "):]))
    finally:
        for process, stderr in processes:
            if process.poll() is None:  # a worker waiting on a collective of a dead peer never returns
                os.killpg(process.pid, 9)
                process.wait()
            stderr.close()
    first = results[0]
    first["step_s_slowest_worker"] = max(r["step_s"] for r in results)
    return first


def main():
    args = parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    rows = {}
    for count in args.workers:
        result = run_cluster(args, count)
        rate = count * args.batch / result["step_s"]
        per_worker_sent = result["loopback_bytes_all_workers"] / count
        ring = 2 * (count - 1) / count * result["payload_bytes"]
        rows[count] = dict(result, examples_per_s=rate, sent_per_worker_bytes=per_worker_sent,
                           ring_bytes_per_worker=ring)
        print(json.dumps({"workers": count, **rows[count]}), flush=True)
        print(f"{count} workers ({result['threads']} threads each): step {result['step_s']:.2f} s, "
              f"{rate:.2f} examples/s, all-reduce alone {result['all_reduce_s'] * 1e3:.1f} ms, payload "
              f"{result['payload_bytes'] / 2**20:.1f} MiB, sent per worker per step "
              f"{per_worker_sent / 2**20:.1f} MiB (ring 2(N-1)/N: {ring / 2**20:.1f} MiB)", flush=True)
    base = rows[args.workers[0]]["examples_per_s"]
    counts = " ".join(str(count) for count in rows)
    rates = " ".join(f"{row['examples_per_s']:.2f}" for row in rows.values())
    efficiency = " ".join(f"{row['examples_per_s'] / base:.2f}" for row in rows.values())
    reduce_ms = " ".join(f"{row['all_reduce_s'] * 1e3:.0f}" for row in rows.values())
    print(f"scaling {args.preset}: workers {counts} -> examples/s {rates} (efficiency {efficiency}); "
          f"all-reduce ms {reduce_ms}")

if __name__ == "__main__":
    main()
