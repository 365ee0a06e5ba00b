"""Encoder throughput: albert_tf vs keras-hub's AlbertBackbone, same run.

Times the encoder forward pass (training=False) and a forward+backward pass
(training=True, gradients of a scalar loss with respect to every trainable
weight) at the same configuration, batch and sequence length, with the same
weights (converted into keras-hub's backbone) and inputs. Each measurement is a round of `--steps`
calls after `--warmup` calls; rounds alternate between the two libraries and
the median round is reported, so a slow patch of the machine hits both.

Both models run inside `tf.function` (graph mode, no XLA), keras-hub's best
path. keras-hub's usual `predict()` is timed too and printed separately.

    python benchmarks/encoder_throughput.py                  # albert_base fp32
    python benchmarks/encoder_throughput.py --policy mixed_bfloat16

The last line reads
`forward ours X seq/s keras-hub Y seq/s | train ours X seq/s keras-hub Y seq/s`.
"""

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from albert_tf import AlbertConfig, AlbertEncoder  # noqa: E402
from albert_tf.checkpoints import encoder_to_keras_hub  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="base_v1", help="AlbertConfig preset name")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=4, help="timed calls per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--policy", default="float32", help="Keras dtype policy")
    parser.add_argument("--skip_train", action="store_true")
    return parser.parse_args()


def make_steps(model, inputs):
    """Graph-mode forward and forward+backward calls of one model."""

    @tf.function
    def forward():
        return model(inputs, training=False)["sequence_output"]

    @tf.function
    def train():
        with tf.GradientTape() as tape:
            outputs = model(inputs, training=True)
            loss = tf.reduce_mean(tf.cast(outputs["sequence_output"], tf.float32) ** 2)
            loss += tf.reduce_mean(tf.cast(outputs["pooled_output"], tf.float32))
        grads = tape.gradient(loss, model.trainable_variables)
        return tf.linalg.global_norm(grads)

    return forward, train


def seconds_per_call(fn, steps):
    start = time.perf_counter()
    for _ in range(steps):
        result = fn()
    np.asarray(result)  # wait for the last call
    return (time.perf_counter() - start) / steps


def encoder_flops(config, batch, seq):
    """Forward FLOPs of the encoder (multiply-add = 2)."""
    h, i, n_layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_layer = 2 * batch * seq * (4 * h * h + 2 * h * i) + 4 * batch * seq * seq * h
    projection = 2 * batch * seq * config.embedding_size * h
    return n_layers * per_layer + projection


def main():
    args = parse_args()
    keras.mixed_precision.set_global_policy(args.policy)
    config = AlbertConfig.from_preset(args.preset)
    batch, seq = args.batch_size, args.seq_length
    rng = np.random.default_rng(0)
    ids = rng.integers(5, config.vocab_size, size=(batch, seq)).astype("int32")
    segments = np.zeros((batch, seq), "int32")
    segments[:, seq // 2 :] = 1
    mask = np.ones((batch, seq), "int32")

    ours = AlbertEncoder(config)
    theirs = encoder_to_keras_hub(ours)  # same weights in keras-hub's AlbertBackbone
    ours_steps = make_steps(
        ours,
        {"input_ids": tf.constant(ids), "input_mask": tf.constant(mask),
         "segment_ids": tf.constant(segments)},
    )
    theirs_inputs = {"token_ids": tf.constant(ids), "padding_mask": tf.constant(mask),
                     "segment_ids": tf.constant(segments)}
    theirs_steps = make_steps(theirs, theirs_inputs)

    # The machine's dense GEMM ceiling at this policy: the encoder's largest
    # matmul shape, [batch*seq, H] x [H, I], timed in the same rounds.
    compute_dtype = keras.mixed_precision.global_policy().compute_dtype
    left = tf.random.normal([batch * seq, config.hidden_size], dtype=compute_dtype)
    right = tf.random.normal([config.hidden_size, config.intermediate_size], dtype=compute_dtype)
    matmul = tf.function(lambda: tf.matmul(left, right))
    matmul_flops = 2 * batch * seq * config.hidden_size * config.intermediate_size
    seconds_per_call(matmul, args.warmup)
    matmul_times = []

    modes = ["forward"] + ([] if args.skip_train else ["train"])
    timings = {(who, mode): [] for who in ("ours", "keras-hub") for mode in modes}
    for who, steps in (("ours", ours_steps), ("keras-hub", theirs_steps)):
        for mode, fn in zip(("forward", "train"), steps):
            if mode in modes:
                seconds_per_call(fn, args.warmup)
    for _ in range(args.rounds):
        matmul_times.append(seconds_per_call(matmul, 10 * args.steps))
        for mode_index, mode in enumerate(modes):
            for who, steps in (("ours", ours_steps), ("keras-hub", theirs_steps)):
                timings[(who, mode)].append(seconds_per_call(steps[mode_index], args.steps))

    theirs.predict(theirs_inputs, batch_size=batch, verbose=0)
    predict_times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        theirs.predict(theirs_inputs, batch_size=batch, verbose=0)
        predict_times.append(time.perf_counter() - start)

    flops = encoder_flops(config, batch, seq)
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, tensorflow {tf.__version__}, keras {keras.__version__}, "
          f"keras-hub {keras_hub.__version__}")
    print(f"config: {args.preset}, batch {batch}, seq {seq}, policy {args.policy}, "
          f"{args.rounds} rounds x {args.steps} steps, median round")
    peak = matmul_flops / statistics.median(matmul_times) / 1e9
    print(f"  dense matmul [{batch * seq}x{config.hidden_size}]x[{config.hidden_size}x"
          f"{config.intermediate_size}] {compute_dtype}: {peak:.1f} GFLOP/s (ceiling)")
    rate = {}
    for (who, mode), values in timings.items():
        seconds = statistics.median(values)
        rate[(who, mode)] = batch / seconds
        step_flops = flops * (3 if mode == "train" else 1)
        print(f"  {mode:8s} {who:10s} {batch / seconds:7.2f} seq/s  "
              f"{seconds * 1000:8.1f} ms/step  {step_flops / seconds / 1e9:6.1f} GFLOP/s "
              f"({100 * step_flops / seconds / 1e9 / peak:.0f}% of matmul)")
    predict_rate = batch / statistics.median(predict_times)
    print(f"  forward  keras-hub predict() {predict_rate:7.2f} seq/s")
    for mode in modes:
        print(f"  {mode} ratio ours/keras-hub: "
              f"{rate[('ours', mode)] / rate[('keras-hub', mode)]:.2f}x")
    line = (f"forward ours {rate[('ours', 'forward')]:.2f} seq/s "
            f"keras-hub {rate[('keras-hub', 'forward')]:.2f} seq/s")
    if "train" in modes:
        line += (f" | train ours {rate[('ours', 'train')]:.2f} seq/s "
                 f"keras-hub {rate[('keras-hub', 'train')]:.2f} seq/s")
    print(line)


if __name__ == "__main__":
    main()
