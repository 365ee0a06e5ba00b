"""ALBERT's LAMB (and AdamW) update rule on top of `keras.optimizers.Lamb`."""

import re

import keras
import tensorflow as tf
from keras import ops

# Variables the original excludes from weight decay and from LAMB's layer
# adaptation (google-research/albert lamb_optimizer.py / optimization.py).
DEFAULT_EXCLUDE = ("LayerNorm", "layer_norm", "bias")
# The method of Keras' TensorFlow optimizer that sums gradients over replicas in `apply`.
_KERAS_REDUCTION = "_all_reduce_sum_gradients"


class AlbertLamb(keras.optimizers.Lamb):
    """The original ALBERT LAMB / AdamW update.

    For each variable θ with gradient g:

        m = β1·m + (1-β1)·g
        v = β2·v + (1-β2)·g²
        u = m / (sqrt(v) + ε)            (no bias correction unless asked)
        u = u + wd·θ                     (unless θ's name matches exclude_from_weight_decay)
        r = ‖θ‖ / ‖u‖                    (1 if either norm is 0, or for names matching
                                          exclude_from_layer_adaptation, or without
                                          layer_adaptation, which gives AdamW)
        θ = θ - r·lr·u

    `keras.optimizers.Lamb` differs from this (it bias-corrects, applies weight
    decay outside the trust ratio, uses ε=1e-7 and adapts every layer); this
    class keeps its slot variables ("momentum", "velocity") and replaces the
    update. Weight decay is therefore not passed to the Keras base class.

    Names are matched with `re.search` against `variable.path` (ours, e.g.
    "group_0_inner_0/query_bias", "embeddings/layer_norm/gamma"), or against
    the names given in `variable_names` (for instance the original checkpoint
    names).

    Fp16 loss scaling: when `gate_updates` is set, an update is applied only
    while the scalar variable `apply_gate` is 1; the training step writes 0 to
    it after a step with non-finite gradients, so the step is skipped without
    a conditional around `apply` (which tf.distribute does not allow in a
    replica context). The gate enters the update as scalar factors (moment
    decay 1, gradient weight 0 taken with `multiply_no_nan`, step size 0), so
    a skipped step's gradient may be inf or NaN and the gate costs no pass
    over the variables.

    One gradient reduction: under a tf.distribute strategy, Keras sums the
    gradients over replicas inside `apply`. `Trainer` sums them itself, before
    it checks and clips them, and creates this optimizer with
    `aggregate_gradients=False`, so that `apply` takes them as they are and
    each step reduces its gradients once (Keras 2 had this as `apply_gradients(...,
    experimental_aggregate_gradients=False)`; Keras 3 has no public switch).

    Args:
        learning_rate: float or `LearningRateSchedule`.
        weight_decay_rate: the original's weight_decay_rate (0.01 for pretraining).
        beta_1, beta_2, epsilon: moment decay rates and ε (original: 0.9, 0.999, 1e-6).
        exclude_from_weight_decay: regexes of names without weight decay.
        exclude_from_layer_adaptation: regexes of names without the trust
            ratio; None means the same as exclude_from_weight_decay.
        layer_adaptation: False gives the original AdamWeightDecayOptimizer.
        bias_correction: divide m and v by (1-β^t) (off in the original).
        variable_names: optional {variable.path: name used for matching}.
        gate_updates: create `apply_gate` (see above).
        aggregate_gradients: False when the gradients given to `apply` are
            already summed over replicas (see above).

    Example:
    >>> optimizer = AlbertLamb(learning_rate=0.00176, weight_decay_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, weight_decay_rate=0.0, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-6, exclude_from_weight_decay=DEFAULT_EXCLUDE,
                 exclude_from_layer_adaptation=None, layer_adaptation=True, bias_correction=False,
                 variable_names=None, gate_updates=False, aggregate_gradients=True, name="albert_lamb",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         name=name, **kwargs)
        self.weight_decay_rate = weight_decay_rate
        self.exclude_from_weight_decay_patterns = tuple(exclude_from_weight_decay or ())
        self.exclude_from_layer_adaptation_patterns = tuple(
            self.exclude_from_weight_decay_patterns if exclude_from_layer_adaptation is None
            else exclude_from_layer_adaptation)
        self.layer_adaptation = layer_adaptation
        self.bias_correction = bias_correction
        self.variable_names = dict(variable_names or {})
        self.gate_updates = gate_updates
        self.aggregate_gradients = aggregate_gradients
        self.apply_gate = None
        if not aggregate_gradients and not hasattr(keras.optimizers.Optimizer, _KERAS_REDUCTION):
            raise RuntimeError(
                f"aggregate_gradients=False needs keras.optimizers.Optimizer.{_KERAS_REDUCTION} (Keras 3 on "
                f"TensorFlow), which keras {keras.__version__} with backend {keras.backend.backend()!r} lacks: "
                "without it the gradients would be summed over replicas twice; install keras 3.15 with "
                "KERAS_BACKEND=tensorflow")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # update_step may receive the backend variable, which has no path:
        # decide the exclusions once here, by variable index.
        self._weight_decay_flags = [self._uses_weight_decay(v) for v in var_list]
        self._layer_adaptation_flags = [self._uses_layer_adaptation(v) for v in var_list]
        if self.gate_updates:
            self.apply_gate = self.add_variable(
                shape=(), initializer="ones", dtype="float32", name="apply_gate",
                aggregation="only_first_replica")

    def _matches(self, variable, patterns):
        name = self.variable_names.get(variable.path, variable.path)
        return any(re.search(p, name) for p in patterns)

    def _uses_weight_decay(self, variable):
        return bool(self.weight_decay_rate) and not self._matches(
            variable, self.exclude_from_weight_decay_patterns)

    def _uses_layer_adaptation(self, variable):
        return self.layer_adaptation and not self._matches(
            variable, self.exclude_from_layer_adaptation_patterns)

    def excluded_variables(self):
        """(paths without weight decay, paths without layer adaptation), after `build`."""
        paths = [v.path for v in self._trainable_variables]
        return ([p for p, f in zip(paths, self._weight_decay_flags) if not f],
                [p for p, f in zip(paths, self._layer_adaptation_flags) if not f])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        # 1 - beta in Python (double), rounded once, as the plain expression `gradient * (1.0 - beta_1)`.
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        one_minus_beta_1, one_minus_beta_2 = ops.cast(1.0 - self.beta_1, dtype), ops.cast(1.0 - self.beta_2, dtype)
        if self.apply_gate is not None:
            # The gate folded into the scalars, without a pass over m, v or the variable: with the
            # gate at 0, m and v keep their values (factors 1 and 0, the zero product taken even of a
            # non-finite gradient), and the step size is 0.
            keep = ops.cast(self.apply_gate, "bool")
            beta_1, beta_2 = ops.where(keep, beta_1, 1.0), ops.where(keep, beta_2, 1.0)
            one_minus_beta_1 = ops.where(keep, one_minus_beta_1, 0.0)
            one_minus_beta_2 = ops.where(keep, one_minus_beta_2, 0.0)
            lr = ops.where(keep, lr, 0.0)
        m_divisor = v_divisor = ops.cast(1.0, dtype)
        if self.bias_correction:
            step = ops.cast(self.iterations + 1, dtype)
            m_divisor = 1.0 - ops.power(ops.cast(self.beta_1, dtype), step)
            v_divisor = 1.0 - ops.power(ops.cast(self.beta_2, dtype), step)
        weight_decay_rate = self.weight_decay_rate if self._weight_decay_flags[index] else 0.0
        new_m, new_v, update = _moments_and_update(
            gradient, tf.convert_to_tensor(m), tf.convert_to_tensor(v), tf.convert_to_tensor(variable),
            beta_1, beta_2, one_minus_beta_1, one_minus_beta_2, m_divisor, v_divisor, self.epsilon,
            weight_decay_rate)
        step_size = lr
        if self._layer_adaptation_flags[index]:
            # The norms with TensorFlow's reductions, which use every core (XLA's run on one).
            w_norm = tf.sqrt(2.0 * tf.nn.l2_loss(variable))
            u_norm = tf.sqrt(2.0 * tf.nn.l2_loss(update))
            step_size = lr * ops.where(w_norm > 0, ops.where(u_norm > 0, w_norm / u_norm, 1.0), 1.0)
        self.assign(m, new_m)
        self.assign(v, new_v)
        self.assign(variable, _step(tf.convert_to_tensor(variable), update, step_size))

    def _all_reduce_sum_gradients(self, grads_and_vars):
        # The cross-replica sum in Keras' TensorFlow optimizer (keras/src/backend/tensorflow/optimizer.py,
        # _backend_update_step): skipped when the caller has summed already.
        if self.aggregate_gradients:
            return super()._all_reduce_sum_gradients(grads_and_vars)
        return list(grads_and_vars)

    def get_config(self):
        config = super().get_config()
        config.update(
            weight_decay_rate=self.weight_decay_rate,
            exclude_from_weight_decay=list(self.exclude_from_weight_decay_patterns),
            exclude_from_layer_adaptation=list(self.exclude_from_layer_adaptation_patterns),
            layer_adaptation=self.layer_adaptation,
            bias_correction=self.bias_correction,
            variable_names=self.variable_names,
            gate_updates=self.gate_updates,
            aggregate_gradients=self.aggregate_gradients,
        )
        return config


@tf.function(jit_compile=True)
def _moments_and_update(gradient, m, v, variable, beta_1, beta_2, one_minus_beta_1, one_minus_beta_2,
                        m_divisor, v_divisor, epsilon, weight_decay_rate):
    """(new m, new v, update before the trust ratio) of `AlbertLamb`, in one element-wise XLA kernel.

    Op by op these are about a dozen passes over each variable's size (most of
    the step's tail after the last matmul on a CPU, benchmarks/RESULTS.md);
    fused, one pass reads g, m, v and the variable and writes three tensors.
    The trust ratio's norms stay outside: XLA runs reductions on one thread.
    """
    new_m = m * beta_1 + tf.math.multiply_no_nan(gradient, one_minus_beta_1)
    new_v = v * beta_2 + tf.math.multiply_no_nan(tf.square(gradient), one_minus_beta_2)
    update = (new_m / m_divisor) / (tf.sqrt(new_v / v_divisor) + epsilon)
    if weight_decay_rate:
        update = update + weight_decay_rate * variable
    return new_m, new_v, update


@tf.function(jit_compile=True)
def _step(variable, update, step_size):
    return variable - step_size * update
