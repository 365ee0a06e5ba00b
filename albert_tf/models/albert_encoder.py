"""The ALBERT encoder: factorized embedding, shared transformer, pooler."""

import collections

import keras

from albert_tf.albert_config import AlbertConfig
from albert_tf.layers.albert_embedding import AlbertEmbedding
from albert_tf.layers.training_dense import TrainingDense
from albert_tf.layers.transformer_block import TransformerBlock
from albert_tf.models.model_config import ConfigRoundTrip

# The encoder's inputs, int32 [batch, length]; every model, objective and export names them so.
ENCODER_INPUTS = ("input_ids", "input_mask", "segment_ids")


def _kernel_init(config):
    return keras.initializers.TruncatedNormal(stddev=config.initializer_range)


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertEncoder(ConfigRoundTrip, keras.Model):
    """ALBERT's encoder with the original's parameter sharing.

    The transformer has `num_hidden_groups` (G) groups of `inner_group_num`
    (K) blocks, each block with its own weights. Layer `l` of
    `num_hidden_layers` (L) runs the K blocks of group `int(l / L * G)` in
    order. G = K = 1 shares one block across all layers, as every release.
    The Google layout maps the E-wide embeddings to H with a dense layer
    (absent when E == H); the brightmart layout projects inside the
    embedding. The pooler is `tanh(dense(sequence_output[:, 0]))`.

    Inputs: a dict of int32 `[batch, seq]` tensors `input_ids`, `input_mask`
    (1 for real tokens) and `segment_ids`.
    Outputs: a dict with `sequence_output` [batch, seq, H] and
    `pooled_output` [batch, H]; with `output_all_layers=True` also
    `encoder_outputs`, the list of all L layer outputs.

    Args:
        config: an `AlbertConfig`.
        output_all_layers: also return every layer's output.
        dtype: a dtype policy name such as "mixed_bfloat16"; defaults to the
            global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> encoder = AlbertEncoder(config)
    >>> ids = tf.constant([[2, 10, 11, 3, 0]])
    >>> outputs = encoder({"input_ids": ids,
    ...                    "input_mask": tf.cast(ids > 0, tf.int32),
    ...                    "segment_ids": tf.zeros_like(ids)})
    >>> outputs["sequence_output"].shape, outputs["pooled_output"].shape
    (TensorShape([1, 5, 32]), TensorShape([1, 32]))
    """

    def __init__(self, config, output_all_layers=False, dtype=None, **kwargs):
        if isinstance(config, dict):
            config = AlbertConfig.from_dict(config)
        # === Layers ===
        embedding = AlbertEmbedding(
            vocab_size=config.vocab_size,
            embedding_size=config.embedding_size,
            type_vocab_size=config.type_vocab_size,
            max_position_embeddings=config.max_position_embeddings,
            dropout_rate=config.hidden_dropout_prob,
            initializer_range=config.initializer_range,
            word_projection_size=config.word_projection_size,
            dtype=dtype,
            name="embeddings",
        )
        embedding_projection = None
        if config.has_embedding_projection:
            embedding_projection = TrainingDense(
                config.hidden_size,
                kernel_initializer=_kernel_init(config),
                dtype=dtype,
                name="embedding_projection",
            )
        groups = [
            [
                TransformerBlock(
                    hidden_size=config.hidden_size,
                    num_attention_heads=config.num_attention_heads,
                    intermediate_size=config.intermediate_size,
                    hidden_act=config.hidden_act,
                    hidden_dropout_rate=config.hidden_dropout_prob,
                    attention_dropout_rate=config.attention_probs_dropout_prob,
                    initializer_range=config.initializer_range,
                    normalize_first=config.normalize_first,
                    dtype=dtype,
                    name=f"group_{g}_inner_{k}",
                )
                for k in range(config.inner_group_num)
            ]
            for g in range(config.num_hidden_groups)
        ]
        pooler = TrainingDense(
            config.hidden_size,
            activation="tanh",
            kernel_initializer=_kernel_init(config),
            dtype=dtype,
            name="pooler",
        )

        # === Functional model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ENCODER_INPUTS
        }
        x = embedding(inputs["input_ids"], inputs["segment_ids"])
        if embedding_projection is not None:
            x = embedding_projection(x)
        # Each block learns its place among its calls, so that a shared block casts its weights once
        # per forward pass under mixed precision (TransformerBlock).
        uses = collections.Counter(
            id(block)
            for layer_index in range(config.num_hidden_layers)
            for block in groups[config.group_of_layer(layer_index)]
        )
        seen = collections.Counter()
        layer_outputs = []
        for layer_index in range(config.num_hidden_layers):
            for block in groups[config.group_of_layer(layer_index)]:
                x = block(x, inputs["input_mask"], use_index=seen[id(block)], uses=uses[id(block)])
                seen[id(block)] += 1
            layer_outputs.append(x)
        pooled = pooler(x[:, 0, :])
        outputs = {"sequence_output": x, "pooled_output": pooled}
        if output_all_layers:
            outputs["encoder_outputs"] = layer_outputs
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        self.output_all_layers = output_all_layers
        self.embedding = embedding
        self.embedding_projection = embedding_projection
        self.groups = groups
        self.pooler = pooler

    def get_config(self):
        return {**self._base_config(), "output_all_layers": self.output_all_layers}
