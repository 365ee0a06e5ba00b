"""A shared block's weights cast to the compute dtype once per forward pass, not once per layer."""

import tensorflow as tf


@tf.function(jit_compile=True)
def _sum_in_float32(gradients):
    # One fused pass: reads each half-precision gradient once, writes one float32 sum.
    return tf.add_n([tf.cast(g, tf.float32) for g in gradients])


def cast_for_uses(values, dtype, uses):
    """`uses` lists of the float32 `values` cast to `dtype`, each value cast once.

    ALBERT runs one block in all L layers. Under mixed precision, reading its
    float32 weights in each layer casts them L times, and their gradient is L
    half-precision gradients each cast back to float32 and then summed (a
    measurable share of a bfloat16 step: benchmarks/RESULTS.md, "Pretraining
    throughput"). Here the forward casts each weight once and hands
    out `uses` aliases of the cast, and the gradient sums the `uses` gradients
    into float32 in one XLA-fused pass. The result is the same float32 sum of
    the same half-precision gradients; only the order of the additions may
    differ (with two uses it cannot: a + b is one rounding either way).

    Args:
        values: float32 tensors (read variables).
        dtype: the compute dtype, e.g. tf.bfloat16.
        uses: how many calls take the weights in one forward pass.

    Returns:
        A list of `uses` lists, each with one tensor per value.
    """
    count = len(values)

    @tf.custom_gradient
    def fan_out(*values):
        casts = [tf.cast(value, dtype) for value in values]
        outputs = [tf.identity(cast) for _ in range(uses) for cast in casts]

        def gradient(*upstream):
            sums = []
            for j, value in enumerate(values):
                per_use = [upstream[i * count + j] for i in range(uses)]
                per_use = [g for g in per_use if g is not None]
                sums.append(_sum_in_float32(per_use) if per_use else tf.zeros_like(value))
            return sums

        return outputs, gradient

    flat = fan_out(*values)
    return [list(flat[i * count:(i + 1) * count]) for i in range(uses)]


class CastOncePerPass:
    """Gives each of a layer's `uses` calls in one forward pass its alias of a single cast.

    The call with `use_index` 0 casts (`cast_for_uses`) and keeps the other
    aliases for the later calls of the same pass, keyed by the graph being
    built and the replica, so that concurrent traces and the replicas of a
    distribution strategy each have their own casts. Holds no variables and
    nothing a checkpoint sees.
    """

    def __init__(self):
        self._pending = {}

    def weights(self, values, dtype, use_index, uses):
        key = (id(tf.compat.v1.get_default_graph()), id(tf.distribute.get_replica_context()))
        if use_index == 0:
            self._pending[key] = cast_for_uses(values, dtype, uses)
        elif key not in self._pending:
            raise RuntimeError(
                f"call {use_index} of {uses} of a shared layer came before call 0 in this forward pass; "
                "the calls of one pass must run in order"
            )
        aliases = self._pending[key][use_index]
        if use_index == uses - 1:
            del self._pending[key]
        return aliases
