"""Weight conversion between `AlbertEncoder` and keras-hub's `AlbertBackbone`.

keras-hub's backbone computes the same function as the Google layout when its
activation is GELU (tanh) and L is a multiple of G: it stores the attention
kernels per head (`[H, N, d]`, `[N, d, H]`) and always has an embedding
projection. Variables are matched by their public Keras paths
(`variable.path`).
"""

import json
import os

import numpy as np
from absl import logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.variable_names import encoder_variables, head_variables
from albert_tf.models import AlbertEncoder
from albert_tf.models.model_kinds import kind_of, kind_of_keras_hub_task

_BLOCK_PATHS = {
    "attention_1/self/query/kernel": "self_attention_layer/query/kernel",
    "attention_1/self/query/bias": "self_attention_layer/query/bias",
    "attention_1/self/key/kernel": "self_attention_layer/key/kernel",
    "attention_1/self/key/bias": "self_attention_layer/key/bias",
    "attention_1/self/value/kernel": "self_attention_layer/value/kernel",
    "attention_1/self/value/bias": "self_attention_layer/value/bias",
    "attention_1/output/dense/kernel": "self_attention_layer/attention_output/kernel",
    "attention_1/output/dense/bias": "self_attention_layer/attention_output/bias",
    "LayerNorm/gamma": "self_attention_layer_norm/gamma",
    "LayerNorm/beta": "self_attention_layer_norm/beta",
    "ffn_1/intermediate/dense/kernel": "feedforward_intermediate_dense/kernel",
    "ffn_1/intermediate/dense/bias": "feedforward_intermediate_dense/bias",
    "ffn_1/intermediate/output/dense/kernel": "feedforward_output_dense/kernel",
    "ffn_1/intermediate/output/dense/bias": "feedforward_output_dense/bias",
    "LayerNorm_1/gamma": "feedforward_layer_norm/gamma",
    "LayerNorm_1/beta": "feedforward_layer_norm/beta",
}


def _keras_hub_paths(config):
    """Original variable name -> keras-hub AlbertBackbone variable path."""
    paths = {
        "bert/embeddings/word_embeddings": "token_embedding/embeddings",
        "bert/embeddings/token_type_embeddings": "segment_embedding/embeddings",
        "bert/embeddings/position_embeddings": "position_embedding/embeddings",
        "bert/embeddings/LayerNorm/gamma": "embeddings_layer_norm/gamma",
        "bert/embeddings/LayerNorm/beta": "embeddings_layer_norm/beta",
        "bert/encoder/embedding_hidden_mapping_in/kernel": "embedding_projection/kernel",
        "bert/encoder/embedding_hidden_mapping_in/bias": "embedding_projection/bias",
        "bert/pooler/dense/kernel": "pooled_dense/kernel",
        "bert/pooler/dense/bias": "pooled_dense/bias",
    }
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            for ours, theirs in _BLOCK_PATHS.items():
                paths[f"bert/encoder/transformer/group_{g}/inner_group_{k}/{ours}"] = (
                    f"group_{g}_inner_layer_{k}/{theirs}"
                )
    return paths


def _check_convertible(config):
    problems = []
    if config.variant != "google":
        problems.append("keras-hub has no brightmart ('bright') layout")
    if config.hidden_act != "gelu":
        problems.append(f"keras-hub's AlbertBackbone only uses GELU, not {config.hidden_act!r}")
    if config.num_hidden_layers % config.num_hidden_groups:
        problems.append(
            f"keras-hub needs num_hidden_layers ({config.num_hidden_layers}) to be a "
            f"multiple of num_hidden_groups ({config.num_hidden_groups})"
        )
    if problems:
        raise ValueError("Cannot convert to keras-hub: " + "; ".join(problems))


def encoder_to_keras_hub(encoder, preset_dir=None):
    """A keras-hub `AlbertBackbone` holding the weights of `encoder`.

    Args:
        encoder: an `AlbertEncoder` (Google layout, GELU, L a multiple of G).
        preset_dir: if given, also save the backbone there as a keras-hub
            preset (`AlbertBackbone.from_preset(preset_dir)` reloads it).

    Returns:
        The `keras_hub.models.AlbertBackbone`.
    """
    import keras_hub

    config = encoder.config
    _check_convertible(config)
    if config.attention_probs_dropout_prob != config.hidden_dropout_prob:
        logging.warning(
            "keras-hub has one dropout rate; using hidden_dropout_prob %s (attention "
            "dropout was %s)", config.hidden_dropout_prob, config.attention_probs_dropout_prob)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        embedding_dim=config.embedding_size,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        num_groups=config.num_hidden_groups,
        num_inner_repetitions=config.inner_group_num,
        dropout=config.hidden_dropout_prob,
        max_sequence_length=config.max_position_embeddings,
        num_segments=config.type_vocab_size,
    )
    theirs = {variable.path: variable for variable in backbone.weights}
    ours = encoder_variables(encoder)
    for name, path in _keras_hub_paths(config).items():
        target = theirs[path]
        if name in ours:
            target.assign(np.reshape(ours[name].numpy(), target.shape))
        elif path == "embedding_projection/kernel":  # E == H: no projection in ALBERT
            target.assign(np.eye(config.hidden_size, dtype=target.dtype))
        else:
            target.assign(np.zeros(target.shape, target.dtype))
    if preset_dir is not None:
        backbone.save_to_preset(preset_dir)
    return backbone


def encoder_from_keras_hub(backbone, dtype=None):
    """An `AlbertEncoder` holding the weights of a keras-hub ALBERT backbone.

    Args:
        backbone: a `keras_hub.models.AlbertBackbone`, or the path of a
            keras-hub preset directory holding one (read offline).
        dtype: dtype policy of the new encoder.

    Returns:
        The `AlbertEncoder`; its config uses GELU and keras-hub's single
        dropout rate for both dropouts.
    """
    import keras_hub

    if not isinstance(backbone, keras_hub.models.AlbertBackbone):
        backbone = keras_hub.models.AlbertBackbone.from_preset(str(backbone))
    settings = backbone.get_config()
    config = AlbertConfig(
        vocab_size=settings["vocabulary_size"],
        embedding_size=settings["embedding_dim"],
        hidden_size=settings["hidden_dim"],
        num_hidden_layers=settings["num_layers"],
        num_hidden_groups=settings["num_groups"],
        inner_group_num=settings["num_inner_repetitions"],
        num_attention_heads=settings["num_heads"],
        intermediate_size=settings["intermediate_dim"],
        hidden_act="gelu",
        hidden_dropout_prob=settings["dropout"],
        attention_probs_dropout_prob=settings["dropout"],
        max_position_embeddings=settings["max_sequence_length"],
        type_vocab_size=settings["num_segments"],
    )
    encoder = AlbertEncoder(config, dtype=dtype)
    theirs = {variable.path: variable for variable in backbone.weights}
    ours = encoder_variables(encoder)
    for name, path in _keras_hub_paths(config).items():
        value = theirs[path].numpy()
        if name in ours:
            ours[name].assign(np.reshape(value, ours[name].shape))
            continue
        # E == H: ALBERT has no projection, so keras-hub's must be the identity.
        expected = (np.eye(config.hidden_size) if path.endswith("kernel")
                    else np.zeros(config.hidden_size))
        if not np.allclose(value, expected):
            raise ValueError(
                f"keras-hub backbone has embedding_dim == hidden_dim == {config.hidden_size} "
                f"and a non-identity {path}; ALBERT has no embedding projection when "
                "E == H, so these weights cannot be represented"
            )
    return encoder


def _copy_head(names, model, task, to_keras_hub):
    """Copies the head variables `names` between our `model` and a keras-hub `task` (matched by variable path)."""
    theirs = {variable.path: variable for variable in task.weights}
    ours = head_variables(model)
    for name, (path, transpose) in names.items():
        source, target = (ours[name], theirs[path]) if to_keras_hub else (theirs[path], ours[name])
        value = source.numpy()
        target.assign(value.T if transpose else value)


def save_keras_hub_preset(model, preset_dir, spm_model_file=None, sequence_length=None):
    """Writes `model` as a complete keras-hub preset: backbone, tokenizer and the task where keras-hub has one.

    The model kind's row names the keras-hub task: an `AlbertClassifier` becomes
    `keras_hub.models.AlbertTextClassifier` (its dense head), an `AlbertPretrainer`
    `AlbertMaskedLM` (keras-hub has no sentence-order head: that head is left
    out, with a warning), anything else the backbone. With `spm_model_file` the preset also holds the
    `AlbertTokenizer` (and the task's preprocessor, padding to
    `sequence_length`, default max_position_embeddings), so that
    `keras_hub.models.AlbertClassifier.from_preset(preset_dir)` predicts on
    raw strings. keras-hub's tokenizer applies the SentencePiece model alone:
    ALBERT's own lower-casing and accent stripping (`FullTokenizer`) are not
    part of it, so cased text is tokenized differently than here.

    Returns:
        What was written: "AlbertTextClassifier", "AlbertMaskedLM" or "AlbertBackbone".
    """
    import keras_hub

    encoder = getattr(model, "encoder", model)
    backbone = encoder_to_keras_hub(encoder)
    length = sequence_length or encoder.config.max_position_embeddings
    tokenizer = keras_hub.models.AlbertTokenizer(proto=spm_model_file) if spm_model_file else None
    kind, task = kind_of(model), None
    if kind.keras_hub_task:
        preprocessor_class = getattr(keras_hub.models, kind.keras_hub_task + "Preprocessor")
        preprocessor = preprocessor_class(tokenizer, sequence_length=length) if tokenizer else None
        task = getattr(keras_hub.models, kind.keras_hub_task)(backbone, preprocessor=preprocessor,
                                                             **kind.to_keras_hub(model))
        _copy_head(kind.keras_hub_heads, model, task, to_keras_hub=True)
        if kind.keras_hub_left_out:
            logging.warning("keras-hub's %s has no variables for %s: the preset leaves them out", kind.keras_hub_task,
                            ", ".join(kind.keras_hub_left_out))
    elif kind.name != "encoder":
        logging.warning("keras-hub has no ALBERT task for %s: the preset holds the backbone (and tokenizer) "
                        "without its head", type(model).__name__)
    if task is not None:
        task.save_to_preset(preset_dir)
        return type(task).__name__
    backbone.save_to_preset(preset_dir)
    if tokenizer is not None:
        tokenizer.save_to_preset(preset_dir)
    return "AlbertBackbone"


def preset_spm_model_file(preset_dir):
    """The SentencePiece model a keras-hub preset's AlbertTokenizer holds, or None."""
    path = os.path.join(os.fspath(preset_dir), "assets", "tokenizer", "vocabulary.spm")
    return path if os.path.exists(path) else None


def model_from_keras_hub_preset(preset_dir):
    """Our model of a keras-hub ALBERT preset: the classifier or masked LM task it holds, else the encoder.

    A masked LM preset becomes an `AlbertPretrainer` whose sentence-order head
    keeps its initial values (keras-hub has none). Returns (model, task class name or None).
    """
    import keras_hub

    task_file = os.path.join(os.fspath(preset_dir), "task.json")
    task_class = None
    if os.path.exists(task_file):
        with open(task_file, encoding="utf-8") as f:
            task_class = json.load(f).get("class_name")
    kind = kind_of_keras_hub_task(task_class)
    if kind is None:
        return encoder_from_keras_hub(str(preset_dir)), task_class
    task = getattr(keras_hub.models, task_class).from_preset(str(preset_dir), load_weights=True)
    encoder = encoder_from_keras_hub(task.backbone)
    model = kind.build(encoder.config, **kind.from_keras_hub(task))
    _copy_head(kind.keras_hub_heads, model, task, to_keras_hub=False)
    if kind.keras_hub_left_out:
        logging.warning("%s holds keras-hub's %s, which has no variables for %s: those of the %s keep their "
                        "initial values", preset_dir, task_class, ", ".join(kind.keras_hub_left_out), kind.name)
    target = encoder_variables(getattr(model, "encoder", model))
    for name, variable in encoder_variables(encoder).items():
        target[name].assign(variable.numpy())
    return model, task_class
