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

from trainer_helpers import make_trainer, max_relative_difference, synthetic_batches, train  # noqa: E402


def main():
    features = synthetic_batches(64, seed=3)
    one = make_trainer(tf.distribute.OneDeviceStrategy("/cpu:0"))
    initial = one.model.get_weights()
    mirrored = make_trainer(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), weights=initial)
    assert mirrored.strategy.num_replicas_in_sync == 2
    losses_one = train(one, features, 16, 4)
    losses_two = train(mirrored, features, 16, 4)
    loss_diff = max(abs(float(a[0]["mlm_loss_sum"]) - float(b[0]["mlm_loss_sum"]))
                    for a, b in zip(losses_one, losses_two))
    print(f"RESULT weights {max_relative_difference(one.model.get_weights(), mirrored.model.get_weights()):.3g} "
          f"loss {loss_diff:.3g} moved {max_relative_difference(initial, one.model.get_weights()):.3g}")


if __name__ == "__main__":
    main()
