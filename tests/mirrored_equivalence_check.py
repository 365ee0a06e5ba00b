"""Run as a script: MirroredStrategy on 2 logical CPUs vs one device, same global batch.

TensorFlow's logical devices must be configured before anything else runs,
so the test runs this in a fresh process and reads the last line.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from trainer_helpers import (EQUIVALENCE_EPSILON, FLOAT32_UNIT_ROUNDOFF, SEQ, make_trainer,  # noqa: E402
                             max_moment_difference, max_relative_difference, synthetic_batches, train,
                             train_with_bounds)


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
    print("RESULT " + " ".join(f"{k} {v:.6g}" for k, v in values.items()))


if __name__ == "__main__":
    main()
