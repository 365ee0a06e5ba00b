"""Hugging Face `config.json` <-> `AlbertConfig` (no TensorFlow, no transformers).

The network fields have the same names on both sides. Activations differ in
spelling: the original ALBERT's GELU is the tanh approximation, which HF calls
`gelu_new` (also `gelu_pytorch_tanh`, `gelu_fast`: the same function), while
HF's `gelu` is the exact erf form, our `gelu_erf`. The rest of an HF config
(architectures, labels, problem type, classifier dropout, token ids) is what
the heads and the tokenizer need; `HfHeadInfo` carries it.
"""

import dataclasses
from typing import Optional

from albert_tf.albert_config import AlbertConfig
from albert_tf.errors import ConfigError

# HF hidden_act -> ours (transformers' activations.py: gelu_new, gelu_pytorch_tanh and gelu_fast are the tanh form)
ACTIVATIONS_FROM_HF = {"gelu_new": "gelu", "gelu_pytorch_tanh": "gelu", "gelu_fast": "gelu", "gelu": "gelu_erf",
                       "relu": "relu", "tanh": "tanh", "linear": "linear"}
ACTIVATIONS_TO_HF = {"gelu": "gelu_new", "gelu_erf": "gelu", "relu": "relu", "tanh": "tanh", "linear": "linear"}
_SHARED_FIELDS = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
                  "inner_group_num", "num_attention_heads", "intermediate_size", "hidden_dropout_prob",
                  "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range")
_LAYER_NORM_EPSILON = 1e-12  # the original's and ours; HF's default


@dataclasses.dataclass
class HfHeadInfo:
    """What an HF config says beyond the network: the class, the labels and the classifier's dropout."""

    architecture: Optional[str] = None  # e.g. "AlbertForSequenceClassification"; None: not recorded
    num_labels: int = 2
    id2label: Optional[dict] = None  # {int: str}
    problem_type: Optional[str] = None  # "regression", "single_label_classification", ...
    classifier_dropout_prob: float = 0.1


def config_from_hf(hf, source="config.json"):
    """(AlbertConfig, HfHeadInfo) of an HF ALBERT config dict; `source` names it in errors."""
    problems = []
    if hf.get("model_type", "albert") != "albert":
        problems.append(f"model_type={hf.get('model_type')!r}: expected 'albert'")
    act = hf.get("hidden_act", "gelu_new")
    if act not in ACTIVATIONS_FROM_HF:
        problems.append(f"hidden_act={act!r}: expected one of {sorted(ACTIVATIONS_FROM_HF)}")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        problems.append(f"position_embedding_type={hf['position_embedding_type']!r}: only 'absolute' is ALBERT's")
    eps = hf.get("layer_norm_eps", _LAYER_NORM_EPSILON)
    if abs(eps - _LAYER_NORM_EPSILON) > 1e-15:
        problems.append(f"layer_norm_eps={eps}: expected {_LAYER_NORM_EPSILON} (the original ALBERT's)")
    missing = [name for name in ("vocab_size",) if name not in hf]
    problems += [f"{name} is missing" for name in missing]
    if problems:
        raise ConfigError(f"{source} is not an ALBERT config this package can build:\n  " + "\n  ".join(problems))
    fields = {name: hf[name] for name in _SHARED_FIELDS if name in hf}
    try:
        config = AlbertConfig(**fields, hidden_act=ACTIVATIONS_FROM_HF[act])
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    architectures = hf.get("architectures") or [None]
    id2label = hf.get("id2label")
    info = HfHeadInfo(
        architecture=architectures[0],
        num_labels=int(hf.get("num_labels", len(id2label) if id2label else 2)),
        id2label={int(k): v for k, v in id2label.items()} if id2label else None,
        problem_type=hf.get("problem_type"),
        classifier_dropout_prob=float(hf.get("classifier_dropout_prob", 0.1)))
    return config, info


def config_to_hf(config, info):
    """The HF config.json dict of `config` (google variant) with the head described by `info`."""
    if config.variant != "google" or config.normalize_first:
        raise ConfigError(f"variant={config.variant!r}, ln_type={config.ln_type!r}: Hugging Face's ALBERT has only "
                          "the Google layout (post-LN, shared groups); brightmart's albert_zh layout cannot be saved "
                          "in that format")
    if config.hidden_act not in ACTIVATIONS_TO_HF:
        raise ConfigError(f"hidden_act={config.hidden_act!r} has no Hugging Face name")
    hf = {"architectures": [info.architecture], "model_type": "albert",
          **{name: getattr(config, name) for name in _SHARED_FIELDS},
          "hidden_act": ACTIVATIONS_TO_HF[config.hidden_act], "layer_norm_eps": _LAYER_NORM_EPSILON,
          "position_embedding_type": "absolute", "classifier_dropout_prob": info.classifier_dropout_prob,
          "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3, "tie_word_embeddings": True,
          "dtype": "float32"}
    if info.id2label is not None or info.num_labels != 2:
        labels = info.id2label or {i: f"LABEL_{i}" for i in range(info.num_labels)}
        hf["id2label"] = {str(i): label for i, label in sorted(labels.items())}
        hf["label2id"] = {label: i for i, label in sorted(labels.items())}
    if info.problem_type:
        hf["problem_type"] = info.problem_type
    return hf
