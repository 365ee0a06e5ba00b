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
        layers = _EncoderLayers(embedding, embedding_projection, groups, pooler)
        outputs = run_encoder(layers, config, inputs)
        outputs = {"sequence_output": outputs["sequence_output"], "pooled_output": outputs["pooled_output"],
                   **({"encoder_outputs": outputs["hidden_states"]} if output_all_layers else {})}
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        self.output_all_layers = output_all_layers
        self.embedding = embedding
        self.embedding_projection = embedding_projection
        self.groups = groups
        self.pooler = pooler

    def internals(self, inputs, training=False):
        """The forward pass with what distillation matches (TinyBERT, MiniLM), by the same wiring as the
        model (`run_encoder`): `embedding_output` (the transformer's input, [batch, seq, H]), `hidden_states`
        (each layer's output), `attention` (each layer's last block: `queries`, `keys`, `values`,
        `attention_logits`; see `TransformerBlock.call`), `sequence_output` and `pooled_output`."""
        layers = _EncoderLayers(self.embedding, self.embedding_projection, self.groups, self.pooler)
        return run_encoder(layers, self.config, inputs, training=training, attention=True)

    def get_config(self):
        return {**self._base_config(), "output_all_layers": self.output_all_layers}


_EncoderLayers = collections.namedtuple("_EncoderLayers", "embedding embedding_projection groups pooler")


def run_encoder(layers, config, inputs, training=None, attention=False):
    """The encoder's wiring, once: embeddings, their projection, the L layers (layer l runs the blocks of group
    `config.group_of_layer(l)`), the pooler. Builds the functional model (symbolic inputs) and runs
    `AlbertEncoder.internals` (with `attention`: each layer's last block also returns its attention internals).
    """
    mode = {} if training is None else {"training": training}  # the functional model takes it when called
    x = layers.embedding(inputs["input_ids"], inputs["segment_ids"], **mode)
    if layers.embedding_projection is not None:
        x = layers.embedding_projection(x, **mode)
    outputs = {"embedding_output": x, "hidden_states": [], "attention": []}
    # Each block learns its place among its calls, so that a shared block casts its weights once
    # per forward pass under mixed precision (TransformerBlock).
    uses = collections.Counter(
        id(block)
        for layer_index in range(config.num_hidden_layers)
        for block in layers.groups[config.group_of_layer(layer_index)]
    )
    seen = collections.Counter()
    for layer_index in range(config.num_hidden_layers):
        blocks = layers.groups[config.group_of_layer(layer_index)]
        for position, block in enumerate(blocks):
            options = {"use_index": seen[id(block)], "uses": uses[id(block)]}
            if attention and position == len(blocks) - 1:
                x, internals = block(x, inputs["input_mask"], return_attention=True, **mode, **options)
                outputs["attention"].append(internals)
            else:
                x = block(x, inputs["input_mask"], **mode, **options)
            seen[id(block)] += 1
        outputs["hidden_states"].append(x)
    outputs["sequence_output"] = x
    outputs["pooled_output"] = layers.pooler(x[:, 0, :], **mode)
    return outputs
