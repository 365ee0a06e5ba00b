"""Training memory: peak memory of the pretraining step, with and without `--recompute_blocks`.

For each preset, sequence length and recomputation setting, fresh worker
processes (one per batch size) build `AlbertPretrainer` with the LAMB
optimizer, run `--steps` training steps of `Trainer` on synthetic batches
(20 masked positions per sequence, as the paper's recipes at seq 512 use 20
of 76) and report peak memory: TensorFlow's allocator peak on the device
(`tf.config.experimental.get_memory_info`, the GPU's or the CPU's: the
tensors alive at once) and, on the CPU, the process's peak resident set
(`ru_maxrss`, which adds TensorFlow's runtime, oneDNN's scratch space and
malloc's slack).

Peak tensor memory grows linearly with the batch: the per-example slope is
the activation memory each example keeps for the backward pass (what
recomputation reduces), the intercept is weights, gradients and optimizer
slots. From the two the script gives the largest batch that fits
in `--budget_gib` (on the CPU: the resident set at the larger batch plus the
tensor slope per further example), and the step time of each setting (the price of
recomputing: one more forward pass of the blocks).

    python benchmarks/training_memory.py                    # base, seq 128 and 512
    python benchmarks/training_memory.py --presets base_v2 large_v2 --budget_gib 80

The last line reads `memory <preset> seq <S>: per example X MiB -> Y MiB recomputed ...`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRED = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=["base_v2"])
    parser.add_argument("--seqs", nargs="+", type=int, default=[128, 512])
    parser.add_argument("--batches", nargs=2, type=int, default=None,
                        help="two batch sizes per setting: the slope between them is the memory per example "
                             "(default: 1024 and 2048 tokens' worth, at least 2 and 4)")
    parser.add_argument("--steps", type=int, default=4,
                        help="training steps per worker; the first two (tracing, first oneDNN calls) are not timed")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--budget_gib", type=float, default=24.0, help="memory budget for the largest batch")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(spec):
    sys.path.insert(0, REPO)
    import keras
    import numpy as np
    import tensorflow as tf

    from albert_tf import AlbertConfig
    from worker_processes import pretraining_trainer, synthetic_pretraining_batch

    keras.mixed_precision.set_global_policy("float32" if spec["precision"] == "fp32" else "mixed_bfloat16")
    trainer = pretraining_trainer(spec["preset"], recompute_blocks=spec["recompute"])
    features = synthetic_pretraining_batch(AlbertConfig.from_preset(spec["preset"]).vocab_size, spec["batch"],
                                           spec["seq"], PRED)
    iterator = iter(tf.data.Dataset.from_tensors(features).repeat())
    gpu = bool(tf.config.list_physical_devices("GPU"))
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        float(trainer.train_step(iterator)[0]["mlm_loss_sum"])
        times.append(time.perf_counter() - start)
    peak = tf.config.experimental.get_memory_info("GPU:0" if gpu else "CPU:0")["peak"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    timed = times[2:] or times[-1:]
    return {"peak_bytes": peak, "peak_rss_bytes": rss, "device": "GPU" if gpu else "CPU",
            "step_s": float(np.median(timed))}


def main():
    args = parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    mib = 2.0 ** 20
    summary = []
    for preset in args.presets:
        for seq in args.seqs:
            fits = {}
            for recompute in (False, True):
                peaks, step_s, device = [], None, None
                batches = args.batches or [max(2, 1024 // seq), max(4, 2048 // seq)]
                for batch in batches:
                    spec = dict(preset=preset, seq=seq, batch=batch, recompute=recompute, steps=args.steps,
                                precision=args.precision)
                    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                                          capture_output=True, text=True)
                    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
                    if done.returncode or not lines:
                        sys.exit(f"worker {spec} failed:\n{done.stderr[-3000:]}")
                    result = json.loads(lines[-1][len("RESULT "):])
                    peaks.append(result["peak_bytes"])
                    step_s, device, rss = result["step_s"], result["device"], result["peak_rss_bytes"]
                    print(f"{preset} seq {seq} batch {batch} recompute {recompute}: peak tensors "
                          f"{result['peak_bytes'] / mib:.0f} MiB ({device}), peak RSS {rss / mib:.0f} MiB, "
                          f"step {result['step_s']:.2f} s", flush=True)
                (b0, b1), (p0, p1) = batches, peaks
                slope = (p1 - p0) / (b1 - b0)
                intercept = p0 - slope * b0
                at_b1 = rss if device == "CPU" else p1  # what the budget limits: the process on a CPU
                largest = b1 + int((args.budget_gib * 2 ** 30 - at_b1) // slope) if slope > 0 else None
                fits[recompute] = dict(per_example_mib=slope / mib, fixed_mib=intercept / mib, largest_batch=largest,
                                       step_s_at_batch=step_s, batch=b1, device=device, peak_rss_mib=rss / mib,
                                       peak_tensor_mib=p1 / mib)
            plain, recomputed = fits[False], fits[True]
            line = (f"memory {preset} seq {seq}: per example {plain['per_example_mib']:.0f} MiB -> "
                    f"{recomputed['per_example_mib']:.0f} MiB recomputed; fixed {plain['fixed_mib']:.0f} / "
                    f"{recomputed['fixed_mib']:.0f} MiB; largest batch in {args.budget_gib:g} GiB "
                    f"{plain['largest_batch']} -> {recomputed['largest_batch']}; step at batch {plain['batch']} "
                    f"{plain['step_s_at_batch']:.2f} s -> {recomputed['step_s_at_batch']:.2f} s")
            summary.append(line)
            print(json.dumps({"preset": preset, "seq": seq, "plain": plain, "recomputed": recomputed}), flush=True)
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
