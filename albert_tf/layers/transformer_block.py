"""One ALBERT transformer block: self-attention and feed-forward, post-LN."""

import math

import keras
import tensorflow as tf

from albert_tf.activations import get_activation
from albert_tf.layers.attention_softmax import attention_softmax, attention_softmax_for_training
from albert_tf.layers.bias_add import bias_add_for_training
from albert_tf.layers.dropout import dropout, dropout_bits, dropout_threshold, keep_scale
from albert_tf.layers.layer_norm import LayerNorm
from albert_tf.layers.shared_weights import CastOncePerPass


@keras.saving.register_keras_serializable(package="albert_tf")
class TransformerBlock(keras.layers.Layer):
    """A transformer block exactly as ALBERT's `attention_ffn_block`.

    Post-LN (the original and every Google release):
        a = LN(x + dropout(attention(x) W_o))
        y = LN(a + dropout(act(a W_1) W_2))
    Pre-LN (brightmart's albert_xxlarge_zh only), with the same two norms:
        a = x + dropout(attention(LN_attention(x)) W_o)
        y = a + dropout(act(LN_output(a) W_1) W_2)

    Attention scores are `q k^T / sqrt(H / N)` plus `(1 - mask) * -10000` on
    padded keys. Kernels are 2-D `[in, out]` matrices as in the checkpoint;
    internally the activations are kept as `[batch * seq, width]` matrices so
    every projection is one plain GEMM that oneDNN fuses with its bias (and,
    in inference, GELU). With `training=True`, GELU, the attention softmax
    with its dropout, and each post-LN residual (dropout, sum and LayerNorm)
    run as XLA-fused kernels with analytic gradients (`gelu_for_training`,
    `attention_softmax_for_training`, `LayerNorm.add_and_normalize_for_training`).
    Softmax and LayerNorm run in float32 under mixed precision.

    Activation recomputation: with `recompute = True` (a training option,
    not part of the config; `Trainer(recompute_blocks=True)` sets it), a
    training call keeps only the block's input for the backward pass and
    recomputes the rest there (`keras.remat`, i.e. `tf.recompute_grad`): the
    activation memory of L layers drops from ~L blocks' worth to L inputs
    plus one block, for one more forward pass. The dropout seeds are drawn
    before the block, so the recomputed masks are the ones of the forward
    pass (a seed generator read again inside would draw new masks and give
    wrong gradients).

    Shared weights under mixed precision: the encoder calls its shared block
    with `use_index` (this call's place among the block's calls in one
    forward pass) and `uses` (their number). In training under a
    mixed-precision policy the block's dense weights are then cast once per
    pass instead of once per call, and their per-call gradients are summed
    into float32 in one fused kernel (`cast_for_uses`). Called without them
    (or in inference, or in float32) each call casts its own.

    Args:
        hidden_size: width H.
        num_attention_heads: number of heads N; divides H.
        intermediate_size: feed-forward width I.
        hidden_act: activation name of `albert_config.json`.
        hidden_dropout_rate: dropout on both residual branches.
        attention_dropout_rate: dropout on the attention probabilities.
        initializer_range: std of the truncated-normal kernel init.
        normalize_first: pre-LN instead of post-LN.

    Example:
    >>> block = TransformerBlock(hidden_size=8, num_attention_heads=2,
    ...                          intermediate_size=16)
    >>> block(tf.zeros([2, 5, 8]), tf.ones([2, 5], tf.int32)).shape
    TensorShape([2, 5, 8])
    """

    def __init__(
        self,
        hidden_size,
        num_attention_heads,
        intermediate_size,
        hidden_act="gelu",
        hidden_dropout_rate=0.0,
        attention_dropout_rate=0.0,
        initializer_range=0.02,
        normalize_first=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size {hidden_size} is not divisible by "
                f"num_attention_heads {num_attention_heads}"
            )
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.initializer_range = initializer_range
        self.normalize_first = normalize_first

        self.activation = get_activation(hidden_act)
        self.training_activation = get_activation(hidden_act, training=True)
        self.head_size = hidden_size // num_attention_heads
        self.attention_layer_norm = LayerNorm(name="attention_layer_norm")
        self.output_layer_norm = LayerNorm(name="output_layer_norm")
        self.attention_probs_dropout = keras.layers.Dropout(
            attention_dropout_rate, name="attention_probs_dropout"
        )
        self.attention_output_dropout = keras.layers.Dropout(
            hidden_dropout_rate, name="attention_output_dropout"
        )
        self.output_dropout = keras.layers.Dropout(
            hidden_dropout_rate, name="output_dropout"
        )
        self.recompute = False
        self.shared_casts = CastOncePerPass()

    def build(self, inputs_shape, input_mask_shape=None):
        h, i = self.hidden_size, self.intermediate_size

        def dense(name, fan_in, fan_out):
            # autocast=False: the block casts its weights itself (`_weights`), once per pass when shared.
            kernel = self.add_weight(
                name=f"{name}_kernel",
                shape=(fan_in, fan_out),
                initializer=keras.initializers.TruncatedNormal(
                    stddev=self.initializer_range
                ),
                autocast=False,
            )
            bias = self.add_weight(
                name=f"{name}_bias", shape=(fan_out,), initializer="zeros", autocast=False
            )
            return kernel, bias

        self.query_kernel, self.query_bias = dense("query", h, h)
        self.key_kernel, self.key_bias = dense("key", h, h)
        self.value_kernel, self.value_bias = dense("value", h, h)
        self.attention_output_kernel, self.attention_output_bias = dense(
            "attention_output", h, h
        )
        self.intermediate_kernel, self.intermediate_bias = dense("intermediate", h, i)
        self.output_kernel, self.output_bias = dense("output", i, h)
        self.attention_layer_norm.build((None, h))
        self.output_layer_norm.build((None, h))

    def _norm(self, layer, x, training):
        return tf.cast(layer(x, training=training), self.compute_dtype)

    def _seed(self, layer, seeds):
        # `layer` (a keras.layers.Dropout) holds the rate and the seed generator, whose state
        # checkpoints keep; the mask comes from `dropout` (16 random bits an element). `seeds`:
        # drawn before the block when it is recomputed, so that both passes use the same masks.
        seed = layer.seed_generator.next() if seeds is None else seeds[layer.name]
        # The int64 generator state folded into an int32 seed, as Keras does
        # (keras/src/backend/tensorflow/random.py).
        return tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)

    def _dropout(self, layer, x, training, seeds):
        if not training or layer.rate == 0:
            return x
        return dropout(x, layer.rate, self._seed(layer, seeds))

    def _keep_bits(self, layer, shape, seeds):
        # The arguments of the fused kernels that apply `layer`'s dropout (the mask `_dropout` would give).
        if layer.rate == 0:
            return {}
        seed = self._seed(layer, seeds)
        threshold = dropout_threshold(layer.rate)
        if threshold == 0:
            return {}
        return {"keep_bits": dropout_bits(shape, seed), "threshold": threshold, "keep_scale": keep_scale(threshold)}

    _DENSE = ("query", "key", "value", "attention_output", "intermediate", "output")

    def _weights(self, training, use_index, uses):
        # {"query_kernel": tensor, ...}: the dense weights in the compute dtype for this call.
        names = [f"{dense}_{part}" for dense in self._DENSE for part in ("kernel", "bias")]
        values = [getattr(self, name) for name in names]
        if training and use_index is not None and uses > 1 and self.compute_dtype != self.variable_dtype:
            values = self.shared_casts.weights(
                [tf.convert_to_tensor(v) for v in values], self.compute_dtype, use_index, uses
            )
        else:
            values = [tf.cast(v, self.compute_dtype) for v in values]
        return dict(zip(names, values))

    def _dense(self, x, weights, name, training):
        # x @ kernel + bias; in training the bias gradient is summed in float32 (`bias_add_for_training`).
        add = bias_add_for_training if training else tf.nn.bias_add
        return add(tf.matmul(x, weights[f"{name}_kernel"]), weights[f"{name}_bias"])

    def _attention(self, x, input_mask, batch, seq, training, weights, seeds=None, internals=None):
        n, d = self.num_attention_heads, self.head_size

        def heads(name):
            # [B*S, H] -> [B, N, S, d]
            y = self._dense(x, weights, name, training)
            return tf.transpose(tf.reshape(y, [batch, seq, n, d]), [0, 2, 1, 3])

        query = heads("query")
        key = heads("key")
        value = heads("value")
        scores = tf.matmul(query, key, transpose_b=True)
        # Softmax in float32; the additive mask as the original (not -inf).
        adder = (1.0 - tf.cast(input_mask, tf.float32)) * -10000.0
        adder = tf.expand_dims(tf.expand_dims(adder, 1), 1)  # [B, 1, 1, S] (LiteRT has no new-axis slicing)
        if training:
            # The attention dropout inside the softmax's fused kernels.
            probs = attention_softmax_for_training(
                scores, adder, 1.0 / math.sqrt(float(d)),
                **self._keep_bits(self.attention_probs_dropout, tf.shape(scores), seeds),
            )
        else:
            probs = attention_softmax(scores, adder, 1.0 / math.sqrt(float(d)))
        if internals is not None:  # what distillation reads (`return_attention`)
            internals.update(queries=query, keys=key, values=value,
                             attention_logits=tf.cast(scores, tf.float32) * (1.0 / math.sqrt(float(d))) + adder)
        context = tf.matmul(probs, value)  # [B, N, S, d]
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, n * d])
        # The output before its dropout (applied by `_residual`).
        return self._dense(context, weights, "attention_output", training)

    def _feed_forward(self, x, training, weights):
        activation = self.training_activation if training else self.activation
        hidden = activation(self._dense(x, weights, "intermediate", training))
        # The output before its dropout (applied by `_residual`).
        return self._dense(hidden, weights, "output", training)

    def _residual(self, x, branch, dropout_layer, norm, training, seeds):
        """x + dropout(branch), then `norm` (post-LN; None: pre-LN, no norm here)."""
        if norm is None:
            return x + self._dropout(dropout_layer, branch, training, seeds)
        if not training:
            return self._norm(norm, x + branch, training)
        # Training: dropout, sum and LayerNorm in one fused kernel each way.
        return norm.add_and_normalize_for_training(x, branch, **self._keep_bits(dropout_layer, tf.shape(branch), seeds))

    def call(self, inputs, input_mask, training=None, use_index=None, uses=1, return_attention=False):
        """The block's output; with `return_attention`, `(output, internals)`: the heads' `queries`, `keys`
        and `values` [batch, heads, seq, head_size] and the `attention_logits` [batch, heads, seq, seq]
        (scaled scores plus the padding mask, float32; their softmax is the attention) that distillation
        matches (TinyBERT, MiniLM)."""
        weights = self._weights(training, use_index, uses)
        if return_attention:
            if training and self.recompute:
                raise ValueError("return_attention with recomputed blocks: the recomputation keeps only the "
                                 "block's input; turn recompute_blocks off to read the attention")
            internals = {}
            return self._block(inputs, input_mask, training, weights, internals=internals), internals
        if not (training and self.recompute):
            return self._block(inputs, input_mask, training, weights)
        # Seeds in the order the dropout layers draw them in a plain call, so both give the same masks.
        seeds = {
            layer.name: layer.seed_generator.next()
            for layer in (
                self.attention_probs_dropout,
                self.attention_output_dropout,
                self.output_dropout,
            )
            if layer.rate > 0
        }
        # The weights enter as arguments, so that the recomputation's gradient reaches them.
        names = list(weights)
        block = keras.remat(
            lambda x, mask, *values: self._block(x, mask, training, dict(zip(names, values)), seeds)
        )
        return block(inputs, input_mask, *weights.values())

    def _block(self, inputs, input_mask, training, weights, seeds=None, internals=None):
        shape = tf.shape(inputs)
        batch, seq = shape[0], shape[1]
        x = tf.reshape(inputs, [-1, self.hidden_size])
        # Pre-LN normalizes each sublayer's input, post-LN each residual sum (`_residual`).
        pre = self.normalize_first
        attention_input = self._norm(self.attention_layer_norm, x, training) if pre else x
        attention = self._attention(attention_input, input_mask, batch, seq, training, weights, seeds, internals)
        x = self._residual(x, attention, self.attention_output_dropout,
                           None if pre else self.attention_layer_norm, training, seeds)
        ffn_input = self._norm(self.output_layer_norm, x, training) if pre else x
        ffn = self._feed_forward(ffn_input, training, weights)
        x = self._residual(x, ffn, self.output_dropout, None if pre else self.output_layer_norm, training, seeds)
        return tf.reshape(x, shape)

    def compute_output_shape(self, inputs_shape, input_mask_shape=None):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_size": self.hidden_size,
                "num_attention_heads": self.num_attention_heads,
                "intermediate_size": self.intermediate_size,
                "hidden_act": self.hidden_act,
                "hidden_dropout_rate": self.hidden_dropout_rate,
                "attention_dropout_rate": self.attention_dropout_rate,
                "initializer_range": self.initializer_range,
                "normalize_first": self.normalize_first,
            }
        )
        return config
