"""A/B of our pretraining step from two source trees, in lockstep: is a change faster in the whole step?

Timing a kernel alone often fails to predict the training step (it shares the
cores and the memory bandwidth with everything else there), and this VM's
speed drifts too much between runs to compare two runs. So two worker
processes, one per source tree, build the `pretrain_throughput.py` setup
(albert_base v1 sizes, batch 8, seq 128, LAMB; `Trainer.train_step`) and take
turns, one step each (`LockstepWorkers`); the median step of each and their
ratio come out, with the bf16/fp32 matmul ceiling of each worker after its steps.

    git worktree add /tmp/before HEAD~1
    python benchmarks/step_ab.py --a /tmp/before --b . --precision bf16

The last line reads `step_ab: a X s, b Y s, b/a R (... % of the ceiling)`; run
it twice with the trees swapped: a ratio within about 1% of 1 is noise here.
"""

import argparse
import json
import os
import statistics
import sys

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="source tree A (a checkout with albert_tf/)")
    parser.add_argument("--b", required=True, help="source tree B")
    parser.add_argument("--steps", type=int, default=12, help="timed steps of each tree")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(args):
    tree = os.path.abspath(args.worker)
    if not os.path.isdir(os.path.join(tree, "albert_tf")):
        raise SystemExit(f"--a/--b {tree!r} has no albert_tf/ folder; expected a checkout of this repository")
    sys.path.insert(0, tree)  # this tree's albert_tf, before any installed one
    sys.path.insert(1, BENCHMARKS)
    import resource

    import tensorflow as tf
    from pretrain_throughput import matmul_ceiling, set_policy, synthetic_batch
    from worker_processes import pretraining_trainer, serve_steps

    import albert_tf

    set_policy(args.precision)
    trainer = pretraining_trainer("base_v1")
    iterator = iter(tf.data.Dataset.from_tensors(synthetic_batch()).repeat())
    times = serve_steps(lambda: trainer.train_step(iterator)[0]["mlm_loss_sum"].numpy(), args.warmup)
    print("RESULT " + json.dumps({"step_seconds": times, "ceiling": matmul_ceiling(args.precision),
                                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                  "albert_tf": os.path.dirname(albert_tf.__file__)}), flush=True)


def main():
    args = parse_args()
    if args.worker:
        worker(args)
        return
    sys.path.insert(0, BENCHMARKS)
    from pretrain_throughput import BATCH, train_flops_per_sequence
    from worker_processes import LockstepWorkers

    trees = {"a": args.a, "b": args.b}
    workers = LockstepWorkers({
        name: [sys.executable, os.path.abspath(__file__), f"--worker={tree}", f"--a={args.a}", f"--b={args.b}",
               f"--warmup={args.warmup}", f"--precision={args.precision}"]
        for name, tree in trees.items()})
    workers.take_turns(args.steps)
    results = workers.finish()
    ceiling = statistics.median(r["ceiling"] for r in results.values())
    flops = BATCH * train_flops_per_sequence()
    medians = {}
    for name, result in results.items():
        medians[name] = statistics.median(result["step_seconds"])
        share = flops / medians[name] / 1e9 / ceiling
        print(f"{name}: {result['albert_tf']}: median step {medians[name]:.4f} s, {share:.1%} of the "
              f"{ceiling:.0f} GFLOP/s {args.precision} ceiling, peak {result['peak_mib']:.0f} MiB", flush=True)
    print(f"step_ab: a {medians['a']:.4f} s, b {medians['b']:.4f} s, b/a {medians['b'] / medians['a']:.3f} "
          f"({args.steps} steps each, ceiling {ceiling:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
