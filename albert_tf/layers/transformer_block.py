"""One ALBERT transformer block: self-attention and feed-forward, post-LN."""

import math

import keras
import tensorflow as tf

from albert_tf.activations import get_activation
from albert_tf.layers.attention_softmax import attention_softmax, attention_softmax_for_training
from albert_tf.layers.dropout import dropout
from albert_tf.layers.layer_norm import LayerNorm


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
    in inference, GELU). With `training=True`, GELU and LayerNorm run as
    XLA-fused kernels with analytic gradients (see `gelu_for_training` and
    `LayerNorm`). Softmax and LayerNorm run in float32 under mixed precision.

    Activation recomputation: with `recompute = True` (a training option,
    not part of the config; `Trainer(recompute_blocks=True)` sets it), a
    training call keeps only the block's input for the backward pass and
    recomputes the rest there (`keras.remat`, i.e. `tf.recompute_grad`): the
    activation memory of L layers drops from ~L blocks' worth to L inputs
    plus one block, for one more forward pass. The dropout seeds are drawn
    before the block, so the recomputed masks are the ones of the forward
    pass (a seed generator read again inside would draw new masks and give
    wrong gradients).

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

    def build(self, inputs_shape, input_mask_shape=None):
        h, i = self.hidden_size, self.intermediate_size

        def dense(name, fan_in, fan_out):
            kernel = self.add_weight(
                name=f"{name}_kernel",
                shape=(fan_in, fan_out),
                initializer=keras.initializers.TruncatedNormal(
                    stddev=self.initializer_range
                ),
            )
            bias = self.add_weight(name=f"{name}_bias", shape=(fan_out,), initializer="zeros")
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

    def _dropout(self, layer, x, training, seeds):
        # `layer` (a keras.layers.Dropout) holds the rate and the seed generator, whose state
        # checkpoints keep; the mask comes from `dropout` (16 random bits an element). `seeds`:
        # drawn before the block when it is recomputed, so that both passes use the same masks.
        if not training or layer.rate == 0:
            return x
        seed = layer.seed_generator.next() if seeds is None else seeds[layer.name]
        # The int64 generator state folded into an int32 seed, as Keras does
        # (keras/src/backend/tensorflow/random.py).
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        return dropout(x, layer.rate, seed)

    def _weight(self, variable):
        # Recomputation runs outside the layer call, where Keras' autocast of variables is off.
        return tf.cast(variable, self.compute_dtype)

    def _attention(self, x, input_mask, batch, seq, training, seeds=None):
        n, d = self.num_attention_heads, self.head_size

        def heads(kernel, bias):
            # [B*S, H] -> [B, N, S, d]
            y = tf.nn.bias_add(tf.matmul(x, self._weight(kernel)), self._weight(bias))
            return tf.transpose(tf.reshape(y, [batch, seq, n, d]), [0, 2, 1, 3])

        query = heads(self.query_kernel, self.query_bias)
        key = heads(self.key_kernel, self.key_bias)
        value = heads(self.value_kernel, self.value_bias)
        scores = tf.matmul(query, key, transpose_b=True)
        # Softmax in float32; the additive mask as the original (not -inf).
        adder = (1.0 - tf.cast(input_mask, tf.float32)) * -10000.0
        adder = tf.expand_dims(tf.expand_dims(adder, 1), 1)  # [B, 1, 1, S] (LiteRT has no new-axis slicing)
        softmax = attention_softmax_for_training if training else attention_softmax
        probs = softmax(scores, adder, 1.0 / math.sqrt(float(d)))
        probs = self._dropout(self.attention_probs_dropout, probs, training, seeds)
        context = tf.matmul(probs, value)  # [B, N, S, d]
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, n * d])
        output = tf.nn.bias_add(
            tf.matmul(context, self._weight(self.attention_output_kernel)),
            self._weight(self.attention_output_bias),
        )
        return self._dropout(self.attention_output_dropout, output, training, seeds)

    def _feed_forward(self, x, training, seeds=None):
        activation = self.training_activation if training else self.activation
        hidden = activation(
            tf.nn.bias_add(
                tf.matmul(x, self._weight(self.intermediate_kernel)),
                self._weight(self.intermediate_bias),
            )
        )
        output = tf.nn.bias_add(
            tf.matmul(hidden, self._weight(self.output_kernel)), self._weight(self.output_bias)
        )
        return self._dropout(self.output_dropout, output, training, seeds)

    def call(self, inputs, input_mask, training=None):
        if not (training and self.recompute):
            return self._block(inputs, input_mask, training)
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
        block = keras.remat(lambda x, mask: self._block(x, mask, training, seeds))
        return block(inputs, input_mask)

    def _block(self, inputs, input_mask, training, seeds=None):
        shape = tf.shape(inputs)
        batch, seq = shape[0], shape[1]
        x = tf.reshape(inputs, [-1, self.hidden_size])
        if self.normalize_first:
            x = x + self._attention(
                self._norm(self.attention_layer_norm, x, training),
                input_mask, batch, seq, training, seeds,
            )
            x = x + self._feed_forward(
                self._norm(self.output_layer_norm, x, training), training, seeds
            )
        else:
            x = self._norm(
                self.attention_layer_norm,
                x + self._attention(x, input_mask, batch, seq, training, seeds),
                training,
            )
            x = self._norm(
                self.output_layer_norm, x + self._feed_forward(x, training, seeds), training
            )
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
