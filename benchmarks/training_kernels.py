"""The element-wise pieces of a training step, fused vs plain, at albert_base sizes.

Times forward + gradient, in one process, alternating the two ways call by call
(median of `--calls`):

* GELU over the feed-forward activations [batch*seq, 3072]: `gelu` through
  TensorFlow's autodiff vs `gelu_for_training` (XLA-fused forward and gradient);
* LayerNorm over [batch*seq, 768]: `LayerNorm(training=False)` under a tape
  (plain ops, autodiff) vs `training=True` (fused);
* the tied masked-LM output layer, [batch*20, 128] rows against the
  [30000, 128] word table: rows as one GEMM (what MaskedLMHead does) vs a
  [batch, 20, 128] broadcast matmul, whose table gradient is [batch, V, E]
  summed over the batch.

    python benchmarks/training_kernels.py

The last line reads `kernels gelu P -> F ms layer_norm P -> F ms mlm_output P -> F ms`.
"""

import argparse
import os
import statistics
import sys

import tensorflow as tf

from worker_processes import timed

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from albert_tf.activations import gelu, gelu_for_training  # noqa: E402
from albert_tf.layers.layer_norm import LayerNorm  # noqa: E402

BATCH, SEQ, PRED, HIDDEN, INTERMEDIATE, EMBEDDING, VOCAB = 8, 128, 20, 768, 3072, 128, 30000


def forward_and_gradient(function, inputs, weights):
    """A tf.function: forward, a weighted-sum loss, gradients for inputs and weights."""
    upstream = None

    @tf.function
    def step():
        nonlocal upstream
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            value = function(*inputs)
            if upstream is None:
                upstream = tf.random.stateless_normal(value.shape, seed=[0, 1])
            loss = tf.reduce_sum(value * upstream)
        return tape.gradient(loss, list(inputs) + list(weights))

    return step


def cases():
    rows = tf.random.stateless_normal([BATCH * SEQ, INTERMEDIATE], seed=[1, 1])
    norm = LayerNorm()
    hidden = tf.random.stateless_normal([BATCH * SEQ, HIDDEN], seed=[2, 2]) * 3.0 + 1.0
    norm.build(hidden.shape)
    table = tf.Variable(tf.random.stateless_normal([VOCAB, EMBEDDING], seed=[3, 3]) * 0.02)
    masked = tf.random.stateless_normal([BATCH, PRED, EMBEDDING], seed=[4, 4])
    return {
        "gelu": (forward_and_gradient(gelu, [rows], []),
                 forward_and_gradient(gelu_for_training, [rows], [])),
        "layer_norm": (forward_and_gradient(lambda x: norm(x, training=False), [hidden], norm.weights),
                       forward_and_gradient(lambda x: norm(x, training=True), [hidden], norm.weights)),
        "mlm_output": (
            forward_and_gradient(lambda x: tf.matmul(x, table, transpose_b=True), [masked], [table]),
            forward_and_gradient(lambda x: tf.matmul(tf.reshape(x, [-1, EMBEDDING]), table, transpose_b=True),
                                 [masked], [table])),
    }


def fetched(step):
    """`step`, waiting for its gradients (copied to NumPy) so that the timing covers the work."""
    return lambda: [tf.convert_to_tensor(g).numpy() for g in step()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for name, (plain, fused) in cases().items():
        run = {"plain": fetched(plain), "fused": fetched(fused)}
        for call in run.values():
            call()  # trace and compile
        times = {way: [] for way in run}
        for index in range(args.calls):
            for way in (("plain", "fused") if index % 2 == 0 else ("fused", "plain")):
                times[way].append(timed(run[way]))
        results[name] = {way: statistics.median(t) * 1000 for way, t in times.items()}
        print(f"{name}: plain {results[name]['plain']:.1f} ms, fused {results[name]['fused']:.1f} ms "
              f"({results[name]['plain'] / results[name]['fused']:.2f}x)", flush=True)
    print("kernels " + " ".join(f"{name} {r['plain']:.1f} -> {r['fused']:.1f} ms" for name, r in results.items()))


if __name__ == "__main__":
    main()
