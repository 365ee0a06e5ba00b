"""ALBERT's learning-rate schedule: linear warmup over polynomial decay."""

import keras
from keras import ops


class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The original ALBERT schedule (optimization.py of google-research/albert).

    lr(step) = init_lr · step / warmup_steps                       if step < warmup_steps
             = init_lr · (1 - min(step, total_steps) / total_steps) ^ power   otherwise

    The decay runs over all `total_steps` from step 0 (warmup only overrides
    the first steps), and the first update uses step 0, i.e. a zero rate, as
    in the original.

    Args:
        initial_learning_rate: peak rate (0.00176 in the paper's recipe).
        total_steps: num_train_steps.
        warmup_steps: num_warmup_steps (0: no warmup).
        power: poly_power (1.0: linear decay).
        end_learning_rate: final rate (0 in the original).

    Example:
    >>> schedule = WarmupPolynomialDecay(0.00176, total_steps=125000, warmup_steps=3125)
    """

    def __init__(self, initial_learning_rate, total_steps, warmup_steps=0, power=1.0,
                 end_learning_rate=0.0):
        self.initial_learning_rate = initial_learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.power = power
        self.end_learning_rate = end_learning_rate

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.minimum(step, float(self.total_steps)) / float(max(self.total_steps, 1))
        decayed = (self.initial_learning_rate - self.end_learning_rate) * ops.power(
            1.0 - progress, self.power) + self.end_learning_rate
        if not self.warmup_steps:
            return decayed
        warmup = self.initial_learning_rate * step / float(self.warmup_steps)
        return ops.where(step < float(self.warmup_steps), warmup, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "power": self.power,
            "end_learning_rate": self.end_learning_rate,
        }
