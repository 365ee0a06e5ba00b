"""Config fields that carry their help: each setting's default and description are written once, here.

    @dataclasses.dataclass
    class SquadConfig(FinetuningTaskConfig):
        doc_stride: int = setting(128, "Tokens between the starts of a paragraph's windows.")

The commands generate their flags from these fields (`albert_tf.cli.flag_groups.define_flags`: the flag
of a field has its name, type, default, help and choices); library users get the same defaults, and
`dataclasses.fields(Config)[i].metadata["help"]` says what each is. No TensorFlow here.
"""

import dataclasses

from albert_tf.errors import ConfigError

# The sequence length of the original ALBERT recipes: max_position_embeddings of every released config.
MAX_SEQ_LENGTH = 512


def setting(default, help, choices=None, multi=False):
    """A dataclass field with `default`, its `help` text and, for a choice, its `choices`; `multi`: a tuple
    given as a repeated flag (--model=a --model=b) rather than a comma-separated list."""
    metadata = {"help": help}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if multi:
        metadata["multi"] = True
    return dataclasses.field(default=default, metadata=metadata)


class SequenceSettings:
    """What a config with a `max_seq_length` checks against the model it runs (a mixin of the dataclasses)."""

    def check_against(self, albert_config, source="the model's albert_config.json"):
        """Raises `ConfigError` when a setting exceeds what the model takes; returns self."""
        problems = []
        if self.max_seq_length > albert_config.max_position_embeddings:
            problems.append(f"max_seq_length={self.max_seq_length}: expected at most max_position_embeddings="
                            f"{albert_config.max_position_embeddings} of {source}; set max_seq_length to at most "
                            f"{albert_config.max_position_embeddings}")
        if problems:
            raise ConfigError("; ".join(problems))
        return self
