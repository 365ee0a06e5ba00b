"""Hugging Face tensor names of our models' variables (transformers' modeling_albert, PyTorch layout).

Each original name (`variable_names`) has one HF name. HF stores a dense
kernel as PyTorch's `nn.Linear.weight`, `[out, in]`, where the original and
we store `[in, out]`: those are transposed. The original's `output_weights`
(classifier, SOP, SQuAD, RACE and token heads) are `[classes, H]` already, as HF's.
Embedding tables are `[rows, E]` on both sides.
"""

import collections
import re

from albert_tf.checkpoints import variable_names
from albert_tf.models.model_config import albert_config_of
from albert_tf.models.model_kinds import kind_of

# inside bert/encoder/transformer/group_G/inner_group_K/ -> inside albert_layer_groups.G.albert_layers.K.
_BLOCK = {
    "attention_1/self/query": "attention.query", "attention_1/self/key": "attention.key",
    "attention_1/self/value": "attention.value", "attention_1/output/dense": "attention.dense",
    "LayerNorm": "attention.LayerNorm", "ffn_1/intermediate/dense": "ffn",
    "ffn_1/intermediate/output/dense": "ffn_output", "LayerNorm_1": "full_layer_layer_norm",
}
_FIXED = {
    "bert/embeddings/word_embeddings": "embeddings.word_embeddings.weight",
    "bert/embeddings/token_type_embeddings": "embeddings.token_type_embeddings.weight",
    "bert/embeddings/position_embeddings": "embeddings.position_embeddings.weight",
    "bert/embeddings/LayerNorm": "embeddings.LayerNorm",
    "bert/encoder/embedding_hidden_mapping_in": "encoder.embedding_hidden_mapping_in",
    "bert/pooler/dense": "pooler",
}
_PARAMETER = {"kernel": "weight", "gamma": "weight", "beta": "bias", "bias": "bias"}
_GROUPED = re.compile(r"^bert/encoder/transformer/group_(\d+)/inner_group_(\d+)/(.+)$")

# HF's tied copies, which save_pretrained leaves out: decoder weight = word embeddings, decoder bias = bias.
TIED = {"predictions.decoder.weight": "embeddings.word_embeddings.weight",
        "predictions.decoder.bias": "predictions.bias"}


def _encoder_name(name):
    """(HF name without the `albert.` prefix, transpose) of an encoder variable's original name."""
    grouped = _GROUPED.match(name)
    if grouped:
        group, inner, rest = grouped.groups()
        module, parameter = rest.rsplit("/", 1)
        return (f"encoder.albert_layer_groups.{group}.albert_layers.{inner}.{_BLOCK[module]}."
                f"{_PARAMETER[parameter]}", parameter == "kernel")
    if name in _FIXED:
        return _FIXED[name], False
    module, parameter = name.rsplit("/", 1)
    return f"{_FIXED[module]}.{_PARAMETER[parameter]}", parameter == "kernel"


def _head_name(heads, name):
    if name in heads:
        return heads[name], False
    module, parameter = name.rsplit("/", 1)
    return f"{heads[module]}.{_PARAMETER[parameter]}", parameter == "kernel"


def hf_names(model, prefixed=None):
    """OrderedDict HF name -> (original name, transpose) of every variable of `model`.

    `prefixed`: whether encoder names carry HF's `albert.` prefix (every class
    but the bare `AlbertModel`); by default, when `model` has heads.
    """
    kind = kind_of(model)
    if kind.hf_architecture is None:
        raise TypeError(f"{type(model).__name__} has no Hugging Face counterpart")
    if getattr(model, "version_2_with_negative", False):
        raise ValueError("the SQuAD 2.0 head (start/end/answer-class layers of run_squad_v2) has no Hugging Face "
                         "class; AlbertForQuestionAnswering is the v1 span head")
    encoder_vars, head_vars = variable_names.model_variables(model)
    if encoder_vars and albert_config_of(model).variant != "google":
        raise ValueError("Hugging Face's ALBERT has only the Google layout; this model is brightmart's albert_zh")
    prefix = "albert." if (bool(head_vars) if prefixed is None else prefixed) else ""
    names = collections.OrderedDict()
    for name in encoder_vars:
        hf, transpose = _encoder_name(name)
        names[prefix + hf] = (name, transpose)
    for name in head_vars:
        hf, transpose = _head_name(kind.hf_heads, name)
        names[hf] = (name, transpose)
    return names


