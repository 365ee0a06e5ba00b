"""A watch on the training loss that names the step where it starts to diverge.

Inf/NaN already stops a run (training_loop); a loss that jumps far above
its recent level while staying finite is the usual first sign of a learning
rate too high for the batch size or of too short a warmup (LAMB at large
batch, fp16), and by the time it is NaN the checkpoints after the jump are
wasted. `DivergenceWatch` compares every step's loss with an exponential
running mean of the steps before it and reports a spike once per episode.
"""

import math


class DivergenceWatch:
    """Reports steps whose loss rises above `factor` x its running mean (and by at least `margin` nats).

    Args:
        factor: a loss above factor x the running mean is a spike; 0 turns the watch off.
        margin: ... and it must exceed the mean by this much (nats), so that a
            fine-tuning loss near zero (0.02 -> 0.05) is not called a spike.
        decay: of the exponential running mean (0.99: about the last 100 steps).
        min_steps: steps folded into the mean before the first check (the loss
            falls fastest at the start).

    The running mean leaves spikes out, so it stays at the level before the
    jump; a spike ends when the loss is back under the threshold, and the next
    one is reported again.

    Example:
    >>> watch = DivergenceWatch(factor=2.0, margin=1.0, min_steps=3)
    >>> [watch.update(step, loss) is None for step, loss in enumerate([4.0, 4.0, 4.0, 4.1, 9.5, 9.9, 4.0], 1)]
    [True, True, True, True, False, True, True]
    """

    def __init__(self, factor=2.0, margin=1.0, decay=0.99, min_steps=50):
        self.factor, self.margin, self.decay, self.min_steps = factor, margin, decay, min_steps
        self.mean, self.steps, self.in_spike = None, 0, False

    def update(self, step, loss):
        """Folds in one step's loss; returns a warning message at the first step of a spike, else None."""
        if not self.factor or not math.isfinite(loss):
            return None
        if (self.mean is not None and self.steps >= self.min_steps
                and loss > max(self.factor * self.mean, self.mean + self.margin)):
            first = not self.in_spike
            self.in_spike = True
            if first:
                return (f"step {step}: the training loss {loss:.4g} is {loss / self.mean:.1f}x its running mean "
                        f"{self.mean:.4g}: the run may be diverging")
            return None
        self.in_spike = False
        self.mean = loss if self.mean is None else self.decay * self.mean + (1 - self.decay) * loss
        self.steps += 1
        return None
