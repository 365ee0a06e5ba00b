"""What every albert-serve model kind shares: reading an instance's fields, and the rows an instance runs as.

An instance (one item of a request's `instances`, or one row of its columns) is read by its model kind's
answers class (`ClassifierAnswers`, `SquadAnswers`, ...) into a `ServedExample`: the token rows the model
runs (one for a sentence, one per window of a long SQuAD paragraph or NER text, one row of choices for
RACE) and what its answer needs. Every problem is an `InputError` naming the field (answered 400).
"""

import dataclasses
from typing import NamedTuple

import numpy as np

class InputError(ValueError):
    """A request's instance cannot be read; the message names the field (answered 400)."""


class Field(NamedTuple):
    """An input field of a model kind: its Open Inference Protocol datatype and its rank in a batch
    (1: one value per instance; 2: a list per instance)."""

    datatype: str
    rank: int = 1
    help: str = ""


@dataclasses.dataclass
class ServedExample:
    """One instance, read.

    rows: what the model runs, each `(input_ids, segment_ids)`; for multiple choice each is a list per choice.
    truncated: the instance was cut to the export's max_seq_length (by the rule the model was trained with).
    context: what the kind's answer needs besides the outputs (the windows of a paragraph, the words of a text).
    """

    rows: list
    truncated: bool = False
    context: dict = dataclasses.field(default_factory=dict)


def read_object(instance, fields, where, text_field=None):
    """`instance` as a dict holding only names of `fields`; a plain string is `{text_field: string}` where the
    kind has such a field."""
    if isinstance(instance, str) and text_field is not None:
        return {text_field: instance}
    if not isinstance(instance, dict):
        expected = " or ".join(["a string"] * (text_field is not None) + [f"an object with {', '.join(fields)}"])
        raise InputError(f"{where}: expected {expected}, got {type(instance).__name__}")
    unknown = sorted(set(instance) - set(fields))
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(fields)}")
    return instance


def text_of(instance, name, where, required=True):
    """The string field `name` (None when absent and not `required`)."""
    if name not in instance:
        if required:
            raise InputError(f"{where}: expected \"{name}\" (a string)")
        return None
    value = instance[name]
    if not isinstance(value, str):
        raise InputError(f"{where}.{name}: expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise InputError(f"{where}.{name}: empty; expected some text")
    return value


def flag_of(instance, name, where):
    value = instance.get(name, False)
    if not isinstance(value, bool):
        raise InputError(f"{where}.{name}: expected true or false, got {value!r}")
    return value


def softmax(logits, axis=-1):
    """Probabilities of logits along `axis`, in float64."""
    logits = np.asarray(logits, np.float64)
    values = np.exp(logits - logits.max(axis, keepdims=True))
    return values / values.sum(axis, keepdims=True)
