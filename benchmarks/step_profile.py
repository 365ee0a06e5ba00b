"""Where the pretraining step's time goes: oneDNN primitives (GEMMs and the rest) against the whole step.

Runs our albert_base pretraining step (the `pretrain_throughput.py` setup:
batch 8, seq 128, 20 masked positions, LAMB) in two fresh processes, in
float32 or mixed bfloat16:

1. plain: the median of `--steps` timed steps after `--warmup` untimed ones;
2. traced: the same steps with `ONEDNN_VERBOSE=1`, whose log gives every
   oneDNN primitive the step executes, with its implementation and time.

It prints the step's oneDNN time by primitive kind and implementation (a GEMM
falling back to a slow kernel shows here), the heaviest shapes, and the rest
of the step (TensorFlow's own kernels: XLA-fused GELU/LayerNorm, softmax,
gathers, casts, the optimizer), as a share of the plain step. The traced step
is slower than the plain one (logging), so the shares are approximate; the
split between GEMMs and the rest is what the numbers are for.

    python benchmarks/step_profile.py --precision bf16

The last line reads `profile <precision>: step X s, oneDNN matmul Y s (Z%), other oneDNN ..., rest ...`.
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "STEP_PROFILE_MARK"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=12, help="heaviest primitive shapes to list")
    parser.add_argument("--inter_op_threads", type=int, default=1,
                        help="TensorFlow's inter-op threads (1: one op at a time, so that the primitive times add "
                             "up; 0: TensorFlow's default, where concurrent ops share the cores and overlap)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(args):
    sys.path.insert(0, REPO)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    from pretrain_throughput import set_policy, synthetic_batch
    from worker_processes import pretraining_trainer

    set_policy(args.precision)
    trainer = pretraining_trainer("base_v1")
    iterator = iter(tf.data.Dataset.from_tensors(synthetic_batch()).repeat())
    for _ in range(args.warmup):
        float(trainer.train_step(iterator)[0]["mlm_loss_sum"])
    times = []
    print(MARK, flush=True)
    for _ in range(args.steps):
        start = time.perf_counter()
        float(trainer.train_step(iterator)[0]["mlm_loss_sum"])
        times.append(time.perf_counter() - start)
    print(MARK, flush=True)
    print("RESULT " + json.dumps({"step_s": statistics.median(times), "steps": args.steps}), flush=True)


def run(args, verbose):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if verbose:
        env["ONEDNN_VERBOSE"] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", f"--precision={args.precision}",
               f"--warmup={args.warmup}", f"--steps={args.steps}", f"--inter_op_threads={args.inter_op_threads}"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = done.stdout.splitlines()
    results = [x for x in lines if x.startswith("RESULT ")]
    if done.returncode or not results:
        sys.exit(f"step_profile worker failed:\n{done.stderr[-3000:]}")
    marks = [i for i, x in enumerate(lines) if x.strip() == MARK]
    return json.loads(results[-1][len("RESULT "):]), lines[marks[0] + 1:marks[1]]


def primitive_times(lines):
    """(kind, implementation, shapes, milliseconds) of each executed oneDNN primitive in a verbose log."""
    for line in lines:
        fields = line.split(",")
        if not fields[0].startswith("onednn_verbose") or "exec" not in fields[:4]:
            continue
        at = fields.index("exec")
        if fields[at + 1] != "cpu":
            continue
        try:
            milliseconds = float(fields[-1])
        except ValueError:
            continue
        yield fields[at + 2], fields[at + 3], fields[-2], milliseconds


def main():
    args = parse_args()
    if args.worker:
        worker(args)
        return
    plain, _ = run(args, verbose=False)
    traced, lines = run(args, verbose=True)
    by_kind, by_shape = collections.Counter(), collections.Counter()
    for kind, implementation, shapes, milliseconds in primitive_times(lines):
        by_kind[(kind, implementation)] += milliseconds / 1e3 / args.steps
        by_shape[(kind, implementation, shapes)] += milliseconds / 1e3 / args.steps
    step = plain["step_s"]
    print(f"step {step:.3f} s plain, {traced['step_s']:.3f} s with ONEDNN_VERBOSE ({args.precision})")
    print("oneDNN time per step by primitive and implementation:")
    for (kind, implementation), seconds in by_kind.most_common():
        print(f"  {kind:14s} {implementation:40s} {seconds * 1e3:8.1f} ms ({seconds / step:.0%} of the step)")
    print(f"heaviest {args.top} shapes:")
    for (kind, implementation, shapes), seconds in by_shape.most_common(args.top):
        print(f"  {kind:14s} {implementation:32s} {shapes:40s} {seconds * 1e3:8.1f} ms")
    gemm = sum(s for (kind, _), s in by_kind.items() if kind in ("matmul", "inner_product"))
    other = sum(by_kind.values()) - gemm
    rest = step - gemm - other
    print(f"profile {args.precision}: step {step:.3f} s, oneDNN matmul {gemm:.3f} s ({gemm / step:.0%}), "
          f"other oneDNN {other:.3f} s ({other / step:.0%}), rest {rest:.3f} s ({rest / step:.0%})")


if __name__ == "__main__":
    main()
