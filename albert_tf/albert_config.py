"""ALBERT hyper-parameters, read from and written to `albert_config.json`."""

import copy
import dataclasses
import json
import os

from albert_tf.outputs.atomic_files import atomic_open

# Activation names the original `modeling.get_activation` accepts.
ACTIVATIONS = ("gelu", "gelu_erf", "relu", "tanh", "linear")

# The two checkpoint/model layouts this package reproduces:
# - "google": google-research/albert (and Google's own Chinese models).
# - "bright": brightmart/albert_zh's own models (albert_tiny_zh, albert_base_zh,
#   ...), whose embedding projection and MLM output differ (brightmart's modeling.py).
VARIANTS = ("google", "bright")
LN_TYPES = ("postln", "preln")

_REQUIRED_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
)


@dataclasses.dataclass
class AlbertConfig:
    """The hyper-parameters of an ALBERT model.

    The fields are exactly the keys of the released `albert_config.json`.
    Keys the release files carry but the model does not use
    (`net_structure_type`, `gap_size`, `layers_to_keep`, brightmart's
    `pooler_*`, ...) are kept in `extra` so that a config survives a
    read/write round trip unchanged.

    Args:
        vocab_size: number of word pieces (30000 English, 21128 Chinese).
        embedding_size: width E of the factorized word embeddings.
        hidden_size: width H of the transformer.
        num_hidden_layers: number of layers L the shared blocks are applied.
        num_hidden_groups: number of parameter groups G; layer `l` uses group
            `int(l / L * G)`. 1 means all layers share one group.
        inner_group_num: number of blocks K, each with its own weights, run in
            order inside every group.
        num_attention_heads: number of attention heads; divides hidden_size.
        intermediate_size: width of the feed-forward layer.
        hidden_act: "gelu" (tanh approximation), "relu", "tanh" or "linear".
        hidden_dropout_prob: dropout after embeddings and each residual branch.
        attention_probs_dropout_prob: dropout on attention probabilities.
        max_position_embeddings: rows of the position embedding table.
        type_vocab_size: number of segment ids.
        initializer_range: standard deviation of the truncated-normal init.
        variant: "google" or "bright" (brightmart albert_zh layout). Written to
            JSON as brightmart does, through the presence of `ln_type`.
        ln_type: "postln" or "preln"; only brightmart's xxlarge uses "preln".
        extra: release keys the model does not use, kept for round trips.

    Example:
    >>> config = AlbertConfig.from_preset("base_v2")
    >>> config.hidden_size, config.num_hidden_layers
    (768, 12)
    """

    vocab_size: int
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    embedding_size: int = 128
    num_hidden_groups: int = 1
    inner_group_num: int = 1
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    variant: str = "google"
    ln_type: str = "postln"
    extra: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raises ValueError naming every field that is out of range."""
        problems = []
        for name in (
            "vocab_size",
            "embedding_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
            "inner_group_num",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if (
            isinstance(self.hidden_size, int)
            and isinstance(self.num_attention_heads, int)
            and self.num_attention_heads > 0
            and self.hidden_size % self.num_attention_heads
        ):
            problems.append(
                f"hidden_size ({self.hidden_size}) must be divisible by "
                f"num_attention_heads ({self.num_attention_heads})"
            )
        if not isinstance(self.num_hidden_groups, int) or not (
            1 <= self.num_hidden_groups <= max(1, self.num_hidden_layers)
        ):
            problems.append(
                "num_hidden_groups must satisfy 1 <= num_hidden_groups <= "
                f"num_hidden_layers ({self.num_hidden_layers}), got "
                f"{self.num_hidden_groups!r}"
            )
        if self.hidden_act not in ACTIVATIONS:
            problems.append(
                f"hidden_act {self.hidden_act!r} is not one of {ACTIVATIONS}"
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                problems.append(f"{name} must be in [0, 1), got {value!r}")
        if not isinstance(self.initializer_range, (int, float)) or (
            self.initializer_range <= 0
        ):
            problems.append(
                f"initializer_range must be positive, got {self.initializer_range!r}"
            )
        if self.variant not in VARIANTS:
            problems.append(f"variant {self.variant!r} is not one of {VARIANTS}")
        if self.ln_type not in LN_TYPES:
            problems.append(f"ln_type {self.ln_type!r} is not one of {LN_TYPES}")
        if self.variant == "google" and self.ln_type != "postln":
            problems.append("ln_type 'preln' exists only in the 'bright' variant")
        if self.variant == "bright" and (
            self.num_hidden_groups != 1 or self.inner_group_num != 1
        ):
            problems.append(
                "the 'bright' variant shares one layer: num_hidden_groups and "
                "inner_group_num must be 1"
            )
        if problems:
            raise ValueError("Invalid ALBERT config: " + "; ".join(problems))

    # ----------------------------------------------------------------- queries
    # What the variant changes in the network, decided here once: the models read these
    # properties and never the variant string (checkpoint names per variant are checkpoints/').

    @property
    def word_projection_size(self):
        """bright: word embeddings are projected E -> H inside the embedding layer; google: None."""
        return self.hidden_size if self.variant == "bright" else None

    @property
    def has_embedding_projection(self):
        """google: one E -> H dense after the embedding LayerNorm, when E != H."""
        return self.variant == "google" and self.embedding_size != self.hidden_size

    @property
    def mlm_transform_size(self):
        """Width of the MLM head's transform: E (google) or H (bright)."""
        return self.hidden_size if self.variant == "bright" else self.embedding_size

    @property
    def normalize_first(self):
        """Pre-LayerNorm blocks (brightmart's xxlarge) instead of the original post-LN."""
        return self.ln_type == "preln"

    @property
    def attention_head_size(self):
        return self.hidden_size // self.num_attention_heads

    def group_of_layer(self, layer_index):
        """The group a layer uses, as the original: int(l / L * G)."""
        return int(layer_index / self.num_hidden_layers * self.num_hidden_groups)

    # ------------------------------------------------------------- conversion
    @classmethod
    def from_dict(cls, values, source="config"):
        """Builds a config from the key/value pairs of an albert_config.json.

        Args:
            values: the parsed JSON object.
            source: what to call the config in error messages (a file name).
        """
        if not isinstance(values, dict):
            raise ValueError(f"{source}: expected a JSON object, got {type(values).__name__}")
        missing = [key for key in _REQUIRED_KEYS if key not in values]
        if missing:
            raise ValueError(f"{source}: missing required keys {missing}")
        values = copy.deepcopy(values)
        fields = {f.name for f in dataclasses.fields(cls)} - {"extra", "variant"}
        kwargs = {key: values.pop(key) for key in list(values) if key in fields}
        # brightmart's own configs are recognised by their `ln_type` key and
        # carry no group keys; the Google ones never have `ln_type`.
        kwargs["variant"] = "bright" if "ln_type" in kwargs else "google"
        if "embedding_size" not in kwargs:
            # BERT-style configs without factorization: E == H.
            kwargs["embedding_size"] = kwargs["hidden_size"]
        kwargs["extra"] = values
        try:
            return cls(**kwargs)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{source}: {error}") from None

    def to_dict(self):
        """The albert_config.json object: model keys then the kept extras."""
        values = {}
        for field in dataclasses.fields(self):
            if field.name in ("extra", "variant"):
                continue
            if field.name == "ln_type" and self.variant == "google":
                continue
            if field.name in ("num_hidden_groups", "inner_group_num") and (
                self.variant == "bright"
            ):
                continue
            values[field.name] = getattr(self, field.name)
        values.update(copy.deepcopy(self.extra))
        return values

    @classmethod
    def from_json_file(cls, path):
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"ALBERT config file not found: {path}") from None
        try:
            values = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a valid UTF-8 JSON file ({error})") from None
        return cls.from_dict(values, source=path)

    def to_json_string(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path):
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json_string())

    # ---------------------------------------------------------------- presets
    @classmethod
    def from_preset(cls, name, **overrides):
        """A released configuration by name; see `PRESETS` for the names.

        Args:
            name: e.g. "base_v2", "xxlarge_v1", "google_zh_base", "zh_tiny".
            **overrides: fields to change, e.g. `hidden_dropout_prob=0.0`.
        """
        if name not in PRESETS:
            raise ValueError(
                f"Unknown ALBERT preset {name!r}. Known presets: {sorted(PRESETS)}"
            )
        values = copy.deepcopy(PRESETS[name])
        values.update(overrides)
        return cls.from_dict(values, source=f"preset {name!r}")


# Keys Google's English release files carry but the model never reads.
_GOOGLE_UNUSED = {
    "net_structure_type": 0,
    "gap_size": 0,
    "num_memory_blocks": 0,
    "down_scale_factor": 1,
}
# brightmart's own configs copy these from BERT; the model never reads them.
_BRIGHT_UNUSED = {
    "directionality": "bidi",
    "pooler_fc_size": 768,
    "pooler_num_attention_heads": 12,
    "pooler_num_fc_layers": 3,
    "pooler_size_per_head": 128,
    "pooler_type": "first_token_transform",
}


def _google_en(hidden, layers, heads, dropout, v2):
    values = {
        "vocab_size": 30000,
        "embedding_size": 128,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 4 * hidden,
        "num_hidden_groups": 1,
        "inner_group_num": 1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": dropout,
        "attention_probs_dropout_prob": dropout,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        **_GOOGLE_UNUSED,
    }
    if v2:
        values["layers_to_keep"] = []
    return values


def _bright(hidden, layers, heads, ln_type="postln", pooler=(768, 12)):
    return {
        "vocab_size": 21128,
        "embedding_size": 128,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 4 * hidden,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "ln_type": ln_type,
        **_BRIGHT_UNUSED,
        "pooler_fc_size": pooler[0],
        "pooler_num_attention_heads": pooler[1],
    }


def _bright_google_layout(hidden, layers):
    values = _google_en(hidden, layers, 12, 0.0, v2=False)
    values["vocab_size"] = 21128
    return values


# Released configurations. English v1/v2 from google-research/albert (v2 sets
# both dropouts to 0 and adds `layers_to_keep`); the v2 xlarge tarball's
# albert_config.json says 32 heads where the v1 release's config says 16, and the
# released v2 weights are run with the tarball's file, so 32 here.
# Chinese: Google's albert_base_zh (relu), brightmart's own "bright" models and
# brightmart's Google-layout tiny/small models.
PRESETS = {
    "base_v1": _google_en(768, 12, 12, 0.1, v2=False),
    "large_v1": _google_en(1024, 24, 16, 0.1, v2=False),
    "xlarge_v1": _google_en(2048, 24, 16, 0.1, v2=False),
    "xxlarge_v1": _google_en(4096, 12, 64, 0.0, v2=True),
    "base_v2": _google_en(768, 12, 12, 0.0, v2=True),
    "large_v2": _google_en(1024, 24, 16, 0.0, v2=True),
    "xlarge_v2": _google_en(2048, 24, 32, 0.0, v2=True),
    "xxlarge_v2": _google_en(4096, 12, 64, 0.0, v2=True),
    "google_zh_base": {
        **_google_en(768, 12, 12, 0.0, v2=True),
        "vocab_size": 21128,
        "hidden_act": "relu",
    },
    "zh_tiny": _bright(312, 4, 12),
    "zh_base": _bright(768, 12, 12),
    "zh_large": _bright(1024, 24, 16),
    "zh_xlarge": _bright(2048, 24, 32, pooler=(1024, 64)),
    "zh_xxlarge": _bright(4096, 12, 64, ln_type="preln", pooler=(1024, 64)),
    "zh_tiny_google": _bright_google_layout(312, 4),
    "zh_small_google": _bright_google_layout(384, 6),
}
