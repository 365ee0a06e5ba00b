"""The original recipe's optimizer: warmup + polynomial decay with LAMB or AdamW."""

from albert_tf.optimization.albert_lamb import AlbertLamb
from albert_tf.optimization.optimizer_names import OPTIMIZERS
from albert_tf.optimization.warmup_polynomial_decay import WarmupPolynomialDecay


def create_optimizer(optimizer, learning_rate, num_train_steps, num_warmup_steps, poly_power=1.0,
                     weight_decay_rate=0.01, epsilon=1e-6, bias_correction=False, variable_names=None,
                     gate_updates=False, aggregate_gradients=True):
    """The original create_optimizer: warmup + polynomial decay with LAMB or AdamW.

    The recipe (which optimizer, rate and schedule) is the caller's: `TrainingConfig.for_pretraining` holds
    the paper's, `TrainingConfig.for_finetuning` the original fine-tuning defaults. `poly_power`,
    `weight_decay_rate` and `epsilon` default to the original optimization.py's constants.

    The returned optimizer's `learning_rate_schedule` attribute is the
    schedule. Global-norm gradient clipping (1.0 in the original) is done by the
    training step, after gradients are summed over replicas; `Trainer` needs
    `gate_updates=True, aggregate_gradients=False` (see `AlbertLamb`).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}: expected one of {OPTIMIZERS}")
    schedule = WarmupPolynomialDecay(learning_rate, num_train_steps, num_warmup_steps, poly_power)
    optimizer = AlbertLamb(
        learning_rate=schedule, weight_decay_rate=weight_decay_rate, epsilon=epsilon,
        layer_adaptation=optimizer == "lamb", bias_correction=bias_correction,
        variable_names=variable_names, gate_updates=gate_updates,
        aggregate_gradients=aggregate_gradients, name=f"albert_{optimizer}")
    optimizer.learning_rate_schedule = schedule  # for logging the rate of a given step
    return optimizer
