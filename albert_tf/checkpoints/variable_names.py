"""The variable names of the original ALBERT checkpoints (google-research/albert modeling.py).

Each function returns an ordered dict from the original TF1 variable name to
the Keras variable of our model that holds the same tensor, in the same
shape and orientation: both sides store dense kernels as `[in, out]`.
"""

import collections
import re

from albert_tf.models.model_kinds import kind_of

# Variables a training checkpoint holds besides the model: optimizer slots of
# the original Adam/LAMB (`adam_m`/`adam_v`), brightmart's LAMB (`lamb_m`/
# `lamb_v`), tf.compat.v1 Adam, the step and mixed-precision loss scaling.
_NON_MODEL_SUFFIXES = ("/adam_m", "/adam_v", "/lamb_m", "/lamb_v", "/Adam", "/Adam_1",
                       "/Momentum", "/ExponentialMovingAverage")
_NON_MODEL_NAMES = ("global_step", "beta1_power", "beta2_power", "good_steps",
                    "current_loss_scale", "loss_scale")


def is_model_variable(name):
    """False for optimizer slots, the global step and loss-scale state."""
    if name in _NON_MODEL_NAMES or name.split("/")[-1] in _NON_MODEL_NAMES:
        return False
    return not name.endswith(_NON_MODEL_SUFFIXES)


def _block_names_google(prefix, block):
    return [
        (f"{prefix}/attention_1/self/query/kernel", block.query_kernel),
        (f"{prefix}/attention_1/self/query/bias", block.query_bias),
        (f"{prefix}/attention_1/self/key/kernel", block.key_kernel),
        (f"{prefix}/attention_1/self/key/bias", block.key_bias),
        (f"{prefix}/attention_1/self/value/kernel", block.value_kernel),
        (f"{prefix}/attention_1/self/value/bias", block.value_bias),
        (f"{prefix}/attention_1/output/dense/kernel", block.attention_output_kernel),
        (f"{prefix}/attention_1/output/dense/bias", block.attention_output_bias),
        (f"{prefix}/LayerNorm/gamma", block.attention_layer_norm.gamma),
        (f"{prefix}/LayerNorm/beta", block.attention_layer_norm.beta),
        (f"{prefix}/ffn_1/intermediate/dense/kernel", block.intermediate_kernel),
        (f"{prefix}/ffn_1/intermediate/dense/bias", block.intermediate_bias),
        (f"{prefix}/ffn_1/intermediate/output/dense/kernel", block.output_kernel),
        (f"{prefix}/ffn_1/intermediate/output/dense/bias", block.output_bias),
        (f"{prefix}/LayerNorm_1/gamma", block.output_layer_norm.gamma),
        (f"{prefix}/LayerNorm_1/beta", block.output_layer_norm.beta),
    ]


def _block_names_bright(prefix, block):
    # brightmart keeps BERT's names: attention/output/LayerNorm is the norm
    # around attention and output/LayerNorm the one around the FFN, both in
    # the post-LN and the pre-LN model.
    return [
        (f"{prefix}/attention/self/query/kernel", block.query_kernel),
        (f"{prefix}/attention/self/query/bias", block.query_bias),
        (f"{prefix}/attention/self/key/kernel", block.key_kernel),
        (f"{prefix}/attention/self/key/bias", block.key_bias),
        (f"{prefix}/attention/self/value/kernel", block.value_kernel),
        (f"{prefix}/attention/self/value/bias", block.value_bias),
        (f"{prefix}/attention/output/dense/kernel", block.attention_output_kernel),
        (f"{prefix}/attention/output/dense/bias", block.attention_output_bias),
        (f"{prefix}/attention/output/LayerNorm/gamma", block.attention_layer_norm.gamma),
        (f"{prefix}/attention/output/LayerNorm/beta", block.attention_layer_norm.beta),
        (f"{prefix}/intermediate/dense/kernel", block.intermediate_kernel),
        (f"{prefix}/intermediate/dense/bias", block.intermediate_bias),
        (f"{prefix}/output/dense/kernel", block.output_kernel),
        (f"{prefix}/output/dense/bias", block.output_bias),
        (f"{prefix}/output/LayerNorm/gamma", block.output_layer_norm.gamma),
        (f"{prefix}/output/LayerNorm/beta", block.output_layer_norm.beta),
    ]


def encoder_variables(encoder):
    """Original names of an `AlbertEncoder`'s variables, in either layout."""
    embedding = encoder.embedding
    names = [
        ("bert/embeddings/word_embeddings", embedding.word_embeddings),
        ("bert/embeddings/token_type_embeddings", embedding.token_type_embeddings),
        ("bert/embeddings/position_embeddings", embedding.position_embeddings),
        ("bert/embeddings/LayerNorm/gamma", embedding.layer_norm.gamma),
        ("bert/embeddings/LayerNorm/beta", embedding.layer_norm.beta),
    ]
    if encoder.config.variant == "bright":
        names.append(("bert/embeddings/word_embeddings_2", embedding.word_projection))
        names += _block_names_bright("bert/encoder/layer_shared", encoder.groups[0][0])
    else:
        if encoder.embedding_projection is not None:
            names += [
                ("bert/encoder/embedding_hidden_mapping_in/kernel",
                 encoder.embedding_projection.kernel),
                ("bert/encoder/embedding_hidden_mapping_in/bias",
                 encoder.embedding_projection.bias),
            ]
        for g, group in enumerate(encoder.groups):
            for k, block in enumerate(group):
                names += _block_names_google(
                    f"bert/encoder/transformer/group_{g}/inner_group_{k}", block
                )
    names += [
        ("bert/pooler/dense/kernel", encoder.pooler.kernel),
        ("bert/pooler/dense/bias", encoder.pooler.bias),
    ]
    return collections.OrderedDict(names)


def head_variables(model):
    """Original checkpoint names of the head variables of one of this package's models (its kind's row)."""
    return collections.OrderedDict(kind_of(model).head_variables(model))


def model_variables(model):
    """(encoder names, head names) of an `AlbertEncoder` or one of the models with heads."""
    if kind_of(model).name == "encoder":
        return encoder_variables(model), collections.OrderedDict()
    return encoder_variables(model.encoder), head_variables(model)


_GROUP_RE = re.compile(r"/group_\d+/inner_group_(\d+)/")


def group0_source(name, available):
    """The group_0 variable a grouped variable starts from (`init_from_group0`).

    Every group g > 0 reads group_0; every inner block reads the same inner
    block of group_0 when the checkpoint has it, else `inner_group_0` (a
    checkpoint of a fully shared model initialising a deeper grouping).
    """
    match = _GROUP_RE.search(name)
    if not match:
        return name
    same_inner = _GROUP_RE.sub(f"/group_0/inner_group_{match.group(1)}/", name, count=1)
    if same_inner in available:
        return same_inner
    return _GROUP_RE.sub("/group_0/inner_group_0/", name, count=1)
