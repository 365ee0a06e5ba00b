"""When the pretraining step runs a GEMM, and what runs when none does: a TensorFlow profiler timeline.

`step_profile.py` sums the time of each op as if they ran one at a time; in a
real step (TensorFlow's default inter-op threads) ops overlap. This traces one
step of the `pretrain_throughput.py` setup (albert_base v1 sizes, batch 8,
seq 128, LAMB) with `tf.profiler`, reads the trace (`xplane.pb`), merges the
ops' busy intervals over all threads and reports how long one, two or no
GEMMs (MatMul ops: oneDNN) were running, beside or without other ops; then, by
op type, the time of the other ops that overlapped no GEMM (what a faster
element-wise kernel could still win), and the time before the first and after
the last GEMM (the optimizer update).

    python benchmarks/step_timeline.py --precision bf16

The last line reads `timeline <precision>: step X ms, a GEMM running Y ms, no GEMM Z ms (...)`.
"""

import argparse
import collections
import glob
import os
import sys
import tempfile

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCHMARKS)
# Trace events that wrap others (the executor, the function call), not ops.
_CONTAINERS = {"Process", "Run", "Start", "Done", "Execute", "DoCompute"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--top", type=int, default=12, help="op types to list")
    return parser.parse_args()


def traced_events(precision, warmup):
    """(start_ps, end_ps, op type) of every op of one traced training step."""
    sys.path.insert(0, REPO)
    sys.path.insert(0, BENCHMARKS)
    import tensorflow as tf
    from pretrain_throughput import set_policy, synthetic_batch
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    from worker_processes import pretraining_trainer

    set_policy(precision)
    trainer = pretraining_trainer("base_v1")
    iterator = iter(tf.data.Dataset.from_tensors(synthetic_batch()).repeat())
    for _ in range(warmup):
        trainer.train_step(iterator)[0]["mlm_loss_sum"].numpy()
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        trainer.train_step(iterator)[0]["mlm_loss_sum"].numpy()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        with open(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
            space.ParseFromString(f.read())
    events = []
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" not in name or name.startswith("$"):
                    continue
                op_name, op_type = name.rsplit(":", 1)  # TensorFlow ops trace as "name:Type"
                if op_type in _CONTAINERS or "inference" in op_type or "Executor" in op_name \
                        or "KernelAndDevice" in op_name:
                    continue
                start = line.timestamp_ns * 1000 + event.offset_ps
                events.append((start, start + event.duration_ps, op_type))
    return events


def is_gemm(op_type):
    return "MatMul" in op_type


def busy_states(events):
    """Picoseconds spent in each state, e.g. "2 GEMMs", "1 GEMM + other", "other only", "idle"."""
    points = sorted([(start, 1, is_gemm(t)) for start, _, t in events]
                    + [(end, -1, is_gemm(t)) for _, end, t in events])
    running = {True: 0, False: 0}
    states = collections.Counter()
    last = points[0][0]
    for time, delta, gemm in points:
        gemms, others = running[True], running[False]
        state = (f"{min(gemms, 2)} GEMM{'s' if gemms > 1 else ''}" if gemms else "") + \
            (" + other" if gemms and others else "other only" if others else "")
        states[state or "idle"] += time - last
        running[gemm] += delta
        last = time
    return states


def outside_gemms(events):
    """Picoseconds of each non-GEMM op type during which no GEMM ran."""
    gemms = sorted((start, end) for start, end, t in events if is_gemm(t))
    alone = collections.Counter()
    for start, end, op_type in events:
        if is_gemm(op_type):
            continue
        covered = sum(max(0, min(end, g_end) - max(start, g_start)) for g_start, g_end in gemms
                      if g_end > start and g_start < end)
        alone[op_type] += end - start - covered
    return alone, gemms


def main():
    args = parse_args()
    events = traced_events(args.precision, args.warmup)
    ms = 1e-9  # picoseconds to milliseconds
    first, last = min(e[0] for e in events), max(e[1] for e in events)
    states = busy_states(events)
    print(f"traced step {(last - first) * ms:.1f} ms; time by what was running:")
    for state, ps in states.most_common():
        print(f"  {state:18s} {ps * ms:8.1f} ms")
    alone, gemms = outside_gemms(events)
    print("other ops while no GEMM ran, by type:")
    for op_type, ps in alone.most_common(args.top):
        print(f"  {ps * ms:8.1f} ms  {op_type}")
    before, after = (gemms[0][0] - first) * ms, (last - max(end for _, end in gemms)) * ms
    gemm_time = sum(ps for state, ps in states.items() if "GEMM" in state) * ms
    print(f"before the first GEMM {before:.1f} ms, after the last {after:.1f} ms")
    print(f"timeline {args.precision}: step {(last - first) * ms:.0f} ms, a GEMM running {gemm_time:.0f} ms, "
          f"no GEMM {(last - first) * ms - gemm_time:.0f} ms (other ops alone {states['other only'] * ms:.0f}, "
          f"idle {states['idle'] * ms:.0f})")


if __name__ == "__main__":
    main()
