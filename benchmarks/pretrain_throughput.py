"""Pretraining throughput: ours vs keras-hub's AlbertMaskedLM.fit vs HF transformers (PyTorch).

All three train albert_base (v1 sizes: E 128, H 768, 12 layers, vocab 30000,
dropout 0.1) at batch 8, seq 128 on the CPU, with 20 masked positions per
sequence, from the same kind of synthetic batches, in float32 or (`--precision
bf16`) each library's mixed bfloat16: the Keras `mixed_bfloat16` policy for
ours and keras-hub, `torch.autocast(bfloat16)` for HF:

* ours: `Trainer.train_step` (PretrainingObjective) with `AlbertLamb` (MLM at the masked
  positions + SOP, global-norm clipping), as run_pretraining.py runs it;
* keras-hub: `AlbertMaskedLM.fit` (MLM only: keras-hub has no SOP head), its
  default AdamW;
* HF: `AlbertForPreTraining` (MLM over all positions, as HF computes it, +
  SOP) with `torch.optim.AdamW`, in its own Python environment
  (`--hf_python`, with torch==2.13.0 and transformers).

Each library runs in its own process (so peak memory is per library), and
the processes take turns, one training step each (`LockstepWorkers`): this
VM's speed swings by up to 10x within minutes, and libraries timed one after
another would compare those swings. Each round starts fresh processes, warms
each up alone, then times `--steps` steps of each, interleaved, rotating which
goes first. A library's figure is its median step over all rounds. The
TensorFlow workers also time a dense matmul in the same precision after their
steps: the ceiling at that moment. Achieved GFLOP/s counts 3x the forward FLOPs of the encoder plus
the MLM head at 20 positions (what ours computes), for all three.

    python benchmarks/pretrain_throughput.py --hf_python=/tmp/hfenv/bin/python

The last line reads `train ours X seq/s keras-hub Y seq/s hf Z seq/s`.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

from worker_processes import (LockstepWorkers, await_turn, pretraining_trainer, report_ready, report_time, serve_steps,
                              step_times, synthetic_pretraining_batch)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, SEQ, PRED, VOCAB = 8, 128, 20, 30000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per library per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="bf16: Keras mixed_bfloat16 policy for both TensorFlow libraries, "
                             "torch.autocast(bfloat16) for HF")
    parser.add_argument("--hf_python", default=None, help="python of an environment with torch + transformers")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def synthetic_batch(seed=0):
    return synthetic_pretraining_batch(VOCAB, BATCH, SEQ, PRED, seed)


def worker_ours(args):
    sys.path.insert(0, REPO)
    import tensorflow as tf

    set_policy(args.precision)
    trainer = pretraining_trainer("base_v1")
    iterator = iter(tf.data.Dataset.from_tensors(synthetic_batch()).repeat())
    return serve_steps(lambda: trainer.train_step(iterator)[0]["mlm_loss_sum"].numpy(), args.warmup)


def worker_keras_hub(args):
    sys.path.insert(0, REPO)
    import albert_tf  # noqa: F401  (Keras backend)
    import keras
    import keras_hub
    import tensorflow as tf

    set_policy(args.precision)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=VOCAB, num_layers=12, num_heads=12, num_groups=1, num_inner_repetitions=1,
        embedding_dim=128, hidden_dim=768, intermediate_dim=3072, dropout=0.1, max_sequence_length=512)
    model = keras_hub.models.AlbertMaskedLM(backbone=backbone, preprocessor=None)
    model.compile()  # keras-hub's defaults: AdamW, sparse cross-entropy from logits
    batch = synthetic_batch()
    x = {"token_ids": batch["input_ids"], "segment_ids": batch["segment_ids"],
         "padding_mask": batch["input_mask"].astype(bool), "mask_positions": batch["masked_lm_positions"]}
    data = tf.data.Dataset.from_tensors((x, batch["masked_lm_ids"], batch["masked_lm_weights"])).repeat()

    class Lockstep(keras.callbacks.Callback):
        """`serve_steps` inside `fit`: after the warm-up, each batch waits for a `step` line."""

        def __init__(self):
            super().__init__()
            self.times, self.start = [], None

        def on_train_batch_begin(self, batch, logs=None):
            if batch == args.warmup:
                report_ready()
            if batch >= args.warmup:
                if not await_turn():
                    self.model.stop_training = True  # takes effect after this (untimed) batch
                    return
                self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self.start is not None:
                float(logs["loss"])  # waits for the step
                self.times.append(time.perf_counter() - self.start)
                self.start = None
                report_time(self.times[-1])

    lockstep = Lockstep()
    model.fit(data, epochs=1, steps_per_epoch=10**9, verbose=0, callbacks=[lockstep])
    return lockstep.times


def set_policy(precision):
    import keras

    keras.mixed_precision.set_global_policy("float32" if precision == "fp32" else "mixed_bfloat16")


HF_WORKER = r"""
import json, resource, sys
import numpy as np, torch, transformers
sys.path.insert(0, sys.argv[3])
from worker_processes import serve_steps
torch.set_num_threads(int(sys.argv[2]))
B, S, P, V = 8, 128, 20, 30000
config = transformers.AlbertConfig(vocab_size=V, embedding_size=128, hidden_size=768, num_hidden_layers=12,
    num_attention_heads=12, intermediate_size=3072, hidden_act="gelu_new", hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2)
model = transformers.AlbertForPreTraining(config)
model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
rng = np.random.default_rng(0)
ids = torch.tensor(rng.integers(5, V, (B, S)))
labels = torch.full((B, S), -100)
for row in range(B):
    pos = rng.choice(np.arange(1, S - 1), P, replace=False)
    labels[row, pos] = ids[row, pos]
batch = dict(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=(torch.arange(S) >= S // 2).long()
             .repeat(B, 1), labels=labels, sentence_order_label=torch.tensor(rng.integers(0, 2, B)))
def step():
    optimizer.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=sys.argv[4] == "bf16"):
        loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
times = serve_steps(step, int(sys.argv[1]))
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"step_seconds": times, "peak_mib": peak_mib,
                             "version": f"torch {torch.__version__}, transformers {transformers.__version__}"}))
"""


def worker_command(name, args):
    if name == "hf":
        return [args.hf_python, "-c", HF_WORKER, str(args.warmup), str(os.cpu_count()),
                os.path.dirname(os.path.abspath(__file__)), args.precision]
    return [sys.executable, os.path.abspath(__file__), f"--worker={name}", f"--warmup={args.warmup}",
            f"--precision={args.precision}"]


def matmul_ceiling(precision):
    import tensorflow as tf

    dtype = tf.float32 if precision == "fp32" else tf.bfloat16
    a = tf.cast(tf.random.normal([BATCH * SEQ, 768]), dtype)
    b = tf.cast(tf.random.normal([768, 3072]), dtype)
    matmul = tf.function(lambda: tf.matmul(a, b))
    matmul()
    seconds = min(statistics.median(step_times(lambda: matmul().numpy(), 2, 20)) for _ in range(3))
    return 2 * BATCH * SEQ * 768 * 3072 / seconds / 1e9


def train_flops_per_sequence():
    h, e, layers, inter, v = 768, 128, 12, 3072, VOCAB
    per_layer = 2 * SEQ * (4 * h * h + 2 * h * inter) + 2 * 2 * SEQ * SEQ * h
    forward = 2 * SEQ * e * h + layers * per_layer + 2 * h * h  # projection, layers, pooler
    forward += PRED * 2 * (h * e + e * v)  # MLM head at the masked positions
    return 3 * forward


def main():
    args = parse_args()
    if args.worker:
        times = {"ours": worker_ours, "keras_hub": worker_keras_hub}[args.worker](args)
        import tensorflow as tf

        print("RESULT " + json.dumps({"step_seconds": times, "ceiling": matmul_ceiling(args.precision),
                                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                      "version": f"tensorflow {tf.__version__}"}))
        return
    libraries = ["ours", "keras_hub"] + (["hf"] if args.hf_python else [])
    results = {name: [] for name in libraries}
    for round_index in range(args.rounds):
        workers = LockstepWorkers({name: worker_command(name, args) for name in libraries})
        workers.take_turns(args.steps)
        for name, result in workers.finish().items():
            results[name].append(result)
            steps = " ".join(f"{t:.2f}" for t in result["step_seconds"])
            ceiling = f", matmul ceiling {result['ceiling']:.0f} GFLOP/s" if "ceiling" in result else ""
            print(f"round {round_index + 1} {name}: median step {statistics.median(result['step_seconds']):.2f} s "
                  f"(steps {steps}), peak {result['peak_mib']:.0f} MiB{ceiling}", flush=True)
    ceiling = statistics.median(r["ceiling"] for name in libraries if name != "hf" for r in results[name])
    flops = train_flops_per_sequence()
    print(f"dense matmul ceiling ({BATCH * SEQ}x768 @ 768x3072 {args.precision}, median over the TensorFlow workers): "
          f"{ceiling:.0f} GFLOP/s; training FLOPs counted: {flops / 1e9:.1f} GFLOP per sequence")
    rates = {}
    for name in libraries:
        seconds = statistics.median(t for r in results[name] for t in r["step_seconds"])
        rates[name] = BATCH / seconds
        peak = max(r["peak_mib"] for r in results[name])
        print(f"{name}: {rates[name]:.2f} seq/s = {1 / seconds:.3f} steps/s, "
              f"{rates[name] * flops / 1e9:.0f} GFLOP/s ({rates[name] * flops / 1e9 / ceiling:.0%} of the ceiling), "
              f"peak {peak:.0f} MiB [{results[name][0]['version']}]")
    for name in libraries[1:]:
        print(f"ours / {name}: {rates['ours'] / rates[name]:.2f}x")
    print("train ours {:.2f} seq/s keras-hub {:.2f} seq/s hf {} seq/s".format(
        rates["ours"], rates["keras_hub"], f"{rates['hf']:.2f}" if "hf" in rates else "n/a"))


if __name__ == "__main__":
    main()
