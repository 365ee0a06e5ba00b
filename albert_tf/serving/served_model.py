"""One served export: its tokenizer, its runtime, and the answers class of its model kind.

An export folder written by albert-export (or a training run's SavedModel) records in export_info.json what a
server needs: the model kind, the vocabulary file, lower-casing, the packing length, label names and the
kind's settings. The kind's row (`models.model_kinds`) names the class that reads its instances and words its
answers (`ClassifierAnswers`, `EncoderAnswers`, `SquadAnswers`, `ChoiceAnswers`, `EntityAnswers`). An
instance runs as one row or several (a long paragraph's windows), and a batch of rows is padded to its
longest row, not to max_seq_length (the models are padding invariant).
"""

import json
import os

import numpy as np

from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import KINDS, kind_named
from albert_tf.serving.choice_answers import ChoiceAnswers
from albert_tf.serving.classifier_answers import ClassifierAnswers
from albert_tf.serving.encoder_answers import EncoderAnswers
from albert_tf.serving.entity_answers import EntityAnswers
from albert_tf.serving.onnx_runner import OnnxRunner
from albert_tf.serving.saved_model_runner import SavedModelRunner
from albert_tf.serving.squad_answers import SquadAnswers
from albert_tf.tokenization.full_tokenizer import FullTokenizer

ANSWERS = {cls.__name__: cls for cls in (ClassifierAnswers, EncoderAnswers, SquadAnswers, ChoiceAnswers,
                                         EntityAnswers)}
SERVED_KINDS = tuple(kind.name for kind in KINDS if kind.answers)
TOKEN_INPUTS = ("input_ids", "input_mask", "segment_ids")  # models.albert_encoder's, without TensorFlow


class ServedModel:
    """An export folder ready to answer: `example(instance)` reads an instance (`InputError` naming the field),
    `run_batch(examples)` answers a list of them, one dict each."""

    def __init__(self, name, folder, threads=1):
        self.name, self.folder = name, os.fspath(folder)
        self.info = _read_export_info(self.folder)
        serving = self.info.get("serving")
        if not serving:
            raise ConfigError(f"{self.folder}/export_info.json has no \"serving\" block (an export from before "
                              "albert-serve): export it again with albert-export")
        self.kind = serving["kind"]
        if self.kind not in SERVED_KINDS:
            raise ConfigError(f"{self.folder}: a {self.kind} export; albert-serve answers {', '.join(SERVED_KINDS)} "
                              "exports")
        self.format = self.info.get("format")
        if self.format == "onnx":
            vocabulary = os.path.join(self.folder, serving["vocabulary"])
            self.runner = OnnxRunner(os.path.join(self.folder, self.info.get("file", "model.onnx")), threads)
        elif self.format == "saved_model":
            vocabulary = os.path.join(self.folder, "assets", serving["vocabulary"])
            self.runner = SavedModelRunner(self.folder, threads)
        else:
            raise ConfigError(f"{self.folder}: a {self.format} export; albert-serve runs ONNX exports (albert-export "
                              "--format=onnx, float32 or --quantize=int8) and SavedModels (--format=saved_model)")
        key = "spm_model_file" if vocabulary.endswith(".model") else "vocab_file"
        self.tokenizer = FullTokenizer(**{key: vocabulary}, do_lower_case=serving["do_lower_case"])
        self.max_seq_length = serving["max_seq_length"]
        self.labels = serving.get("labels")
        self.platform = self.runner.platform
        try:
            self.answers = ANSWERS[kind_named(self.kind).answers](self.tokenizer, serving, self.runner)
        except ConfigError as error:
            raise ConfigError(f"{self.folder}: {error}") from None
        self.fields = self.answers.FIELDS
        self.choices = kind_named(self.kind).choices_axis

    def example(self, instance, where="instance"):
        """The `ServedExample` of one instance; `InputError` naming the field when it cannot be read."""
        return self.answers.example(instance, where)

    def warm_up_instance(self):
        """An instance every model of the kind answers (the server's readiness check)."""
        return _WARM_UP[self.kind]

    def run_batch(self, examples):
        """One answer (a dict, with "truncated") per example, in order. Their rows run sorted by length, in runs
        padded to their own longest row (`length_runs`): padding costs as much as real tokens."""
        rows = [row for example in examples for row in example.rows]
        outputs = [None] * len(rows)
        lengths = [_row_length(row) for row in rows]
        groups = {}
        for index, row in enumerate(rows):  # multiple choice: rows of one number of choices run together
            groups.setdefault(len(row[0]) if self.choices else 0, []).append(index)
        for members in groups.values():
            for run in length_runs([lengths[i] for i in members]):
                indices = [members[i] for i in run]
                batch = self.runner(_padded([rows[i] for i in indices], self.choices))
                for position, index in enumerate(indices):
                    outputs[index] = {name: value[position] for name, value in batch.items()}
        answers, first = [], 0
        for example in examples:
            answer = self.answers.answer(example, outputs[first:first + len(example.rows)])
            answer["truncated"] = example.truncated
            answers.append(answer)
            first += len(example.rows)
        return answers

    def metadata(self):
        """What the model takes and gives (both protocols' metadata answers)."""
        return {"name": self.name, "kind": self.kind, "platform": self.platform, "format": self.format,
                "quantize": self.info.get("quantize", "none"), "max_seq_length": self.max_seq_length,
                "labels": self.labels, "inputs": list(self.fields),
                "outputs": list(self.answers.outputs) + ["truncated"]}


_WARM_UP = {"classifier": "warm-up", "encoder": "warm-up", "token_classifier": "warm-up",
            "squad": {"question": "warm-up?", "context": "warm-up"},
            "race": {"article": "warm-up", "question": "warm-up?", "options": ["a", "b", "c", "d"]}}


def _row_length(row):
    ids = row[0]
    return max(len(choice) for choice in ids) if ids and isinstance(ids[0], list) else len(ids)


def _padded(rows, choices):
    """int32 input_ids / input_mask / segment_ids of `rows`, zero-padded to the longest: [n, length], or
    [n, choices, length] for multiple choice."""
    longest = max(_row_length(row) for row in rows)
    shape = (len(rows), len(rows[0][0]), longest) if choices else (len(rows), longest)
    batch = {name: np.zeros(shape, np.int32) for name in TOKEN_INPUTS}
    sequences = []  # (index into the batch, ids, segment ids) of every sequence
    for r, (ids, segments) in enumerate(rows):
        if choices:
            sequences += [((r, c), *choice) for c, choice in enumerate(zip(ids, segments))]
        else:
            sequences.append(((r,), ids, segments))
    for where, ids, segments in sequences:
        batch["input_ids"][where][:len(ids)] = ids
        batch["input_mask"][where][:len(ids)] = 1
        batch["segment_ids"][where][:len(ids)] = segments
    return batch


def length_runs(lengths, waste=0.25):
    """Indices of `lengths` sorted by length and cut into runs whose padding to the run's longest adds at most
    `waste` of the run's real tokens (a run of one is never cut). Sentences of very different lengths padded
    to one length cost up to twice their tokens (measured: benchmarks/RESULTS.md, "albert-serve under load")."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    runs, run, real = [], [], 0
    for index in order:
        length = lengths[index]
        if run and length * (len(run) + 1) > (1 + waste) * (real + length):
            runs.append(run)
            run, real = [], 0
        run.append(index)
        real += length
    if run:
        runs.append(run)
    return runs


def _read_export_info(folder):
    path = os.path.join(folder, "export_info.json")
    if not os.path.isdir(folder):
        raise ConfigError(f"{folder}: no such export folder; expected a folder written by albert-export")
    if not os.path.exists(path):
        raise ConfigError(f"{folder} has no export_info.json: not an albert-export folder (export the model with "
                          "albert-export --format=onnx)")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not readable JSON ({error}); export the model again") from None
