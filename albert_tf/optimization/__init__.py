"""Optimizers and schedules of the original ALBERT recipe.

The names below are imported on first use, so that the TensorFlow-free list of optimizer names
(`optimizer_names.OPTIMIZERS`, read by `TrainingConfig` and the flags) stays light.
"""

from albert_tf.lazy_exports import lazy_exports

_EXPORTS = {
    "AlbertLamb": "albert_tf.optimization.albert_lamb",
    "DEFAULT_EXCLUDE": "albert_tf.optimization.albert_lamb",
    "OPTIMIZERS": "albert_tf.optimization.optimizer_names",
    "WarmupPolynomialDecay": "albert_tf.optimization.warmup_polynomial_decay",
    "create_optimizer": "albert_tf.optimization.albert_optimizer",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("albert_tf.optimization", _EXPORTS)
