"""Run as a script: MirroredStrategy on 2 logical CPUs vs one device, same global batch.

It also counts the cross-replica reductions in the traced training step: on
logical CPUs MirroredStrategy all-reduces with CollectiveReduceV2 ops, one op
per replica for each `all_reduce` call (a list of tensors is packed into one).

TensorFlow's logical devices must be configured before anything else runs,
so the test runs this in a fresh process and reads the last line.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from trainer_helpers import (EQUIVALENCE_EPSILON, FLOAT32_UNIT_ROUNDOFF, SEQ, make_trainer,  # noqa: E402
                             max_moment_difference, max_relative_difference, synthetic_batches, train,
                             train_with_bounds)


COLLECTIVE_OPS = ("CollectiveReduce", "CollectiveReduceV2", "CollectiveAllToAllV2", "NcclAllReduce")


def collective_ops(trainer, features, batch_size):
    """Names of the all-reduce ops in the graph of one traced `train_step` (nested functions included)."""
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(batch_size, drop_remainder=True)
    iterator = iter(trainer.strategy.experimental_distribute_dataset(dataset))
    graph_def = trainer.train_step.get_concrete_function(iterator).graph.as_graph_def()
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    return [n.name for n in nodes if n.op in COLLECTIVE_OPS]


def reductions(strategy, features, batch_size, **trainer_args):
    """(all-reduce calls per step, how many of them inside the optimizer's apply) for one Trainer setup."""
    trainer = make_trainer(strategy, **trainer_args)
    names = collective_ops(trainer, features, batch_size)
    replicas = strategy.num_replicas_in_sync
    in_optimizer = [n for n in names if n.startswith(trainer.optimizer.name + "/")]
    return len(names) / replicas, len(in_optimizer) / replicas


def main():
    features = synthetic_batches(64, seed=3)
    steps, batch_size = 4, 16
    one = make_trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), epsilon=EQUIVALENCE_EPSILON)
    initial = one.model.get_weights()
    mirrored = make_trainer(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), weights=initial,
                            epsilon=EQUIVALENCE_EPSILON)
    assert mirrored.strategy.num_replicas_in_sync == 2
    losses_one, weight_bound, scales = train_with_bounds(one, features, batch_size, steps, batch_size * SEQ)
    losses_two = train(mirrored, features, batch_size, steps)
    loss_diff = max(abs(float(a[0]["mlm_loss_sum"]) - float(b[0]["mlm_loss_sum"]))
                    for a, b in zip(losses_one, losses_two))
    loss_bound = max(batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF * abs(float(a[0]["mlm_loss_sum"])) for a in losses_one)
    values = {
        "weights": max_relative_difference(one.model.get_weights(), mirrored.model.get_weights()),
        "weight_bound": weight_bound,
        "moments": max_moment_difference(one, mirrored, scales),
        "moment_bound": steps * batch_size * SEQ * FLOAT32_UNIT_ROUNDOFF,
        "loss": loss_diff,
        "loss_bound": loss_bound,
        "moved": max_relative_difference(initial, one.model.get_weights()),
    }
    # One reduction of the normalizers (example and token counts), one of the gradients: under
    # accumulation too (micro-batch gradients are summed locally first) and under fp16 loss scaling.
    for setup, args in (("plain", {}), ("accumulation", {"accumulation": 2}), ("fp16", {"mixed_precision": "fp16"})):
        if setup == "fp16":
            keras.mixed_precision.set_global_policy("mixed_float16")
        calls, in_optimizer = reductions(mirrored.strategy, features, batch_size, **args)
        keras.mixed_precision.set_global_policy("float32")
        values[f"{setup}_reductions"] = calls
        values[f"{setup}_optimizer_reductions"] = in_optimizer
    print("RESULT " + " ".join(f"{k} {v:.6g}" for k, v in values.items()))


if __name__ == "__main__":
    main()
