"""One served export: its tokenizer and runtime, and answers in its model kind's terms.

An export folder written by albert-export (or a training run) records in export_info.json what a server needs:
the model kind, the vocabulary file, lower-casing, the packing length and (classifiers) the label names.
Instances are text (`"a sentence"`, or `{"text": ..., "text_pair": ...}`) or token ids (`{"input_ids": [...],
"segment_ids": [...]}`); text is packed as `[CLS] A [SEP] (B [SEP])` with the original truncation rule
(the longer segment loses a token first) to the export's max_seq_length, and a batch is padded to its longest
sequence, not to max_seq_length (the models are padding invariant).
"""

import json
import os

import numpy as np

from albert_tf.errors import ConfigError
from albert_tf.serving.onnx_runner import OnnxRunner
from albert_tf.tasks.classification_tasks import truncate_pair
from albert_tf.tokenization.full_tokenizer import FullTokenizer

TEXT_FIELDS = ("text", "text_pair")
TOKEN_FIELDS = ("input_ids", "input_mask", "segment_ids")


class InputError(ValueError):
    """A request's instance cannot be read; the message names the field (answered 400)."""


class ServedModel:
    """An export folder ready to answer: `example(instance)` reads an instance, `run_batch(examples)` answers.

    Kinds answered: classifier (label names and probabilities; a one-output regressor: its score) and encoder
    (the pooled vector; the token vectors too when an instance asks with `"token_vectors": true`).
    """

    KINDS = ("classifier", "encoder")

    def __init__(self, name, folder, threads=1):
        self.name, self.folder = name, os.fspath(folder)
        self.info = _read_export_info(self.folder)
        serving = self.info.get("serving")
        if not serving:
            raise ConfigError(f"{self.folder}/export_info.json has no \"serving\" block (an export from before "
                              "albert-serve): export it again with albert-export")
        self.kind = serving["kind"]
        if self.kind not in self.KINDS:
            raise ConfigError(f"{self.folder}: a {self.kind} export; albert-serve answers {', '.join(self.KINDS)} "
                              "exports so far")
        if self.info.get("format") != "onnx":
            raise ConfigError(f"{self.folder}: a {self.info.get('format')} export; albert-serve runs ONNX exports "
                              "(albert-export --format=onnx, float32 or --quantize=int8) so far")
        vocabulary = os.path.join(self.folder, serving["vocabulary"])
        key = "spm_model_file" if vocabulary.endswith(".model") else "vocab_file"
        self.tokenizer = FullTokenizer(**{key: vocabulary}, do_lower_case=serving["do_lower_case"])
        self.cls_id, self.sep_id = self.tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
        self.max_seq_length = serving["max_seq_length"]
        self.labels = serving.get("labels")
        self.runner = OnnxRunner(os.path.join(self.folder, self.info.get("file", "model.onnx")), threads)
        self.platform = self.runner.platform
        if self.kind == "classifier":
            self.num_classes = self.runner.output_width("logits")
            if self.labels is not None and len(self.labels) != self.num_classes:
                raise ConfigError(f"{self.folder}: export_info.json names {len(self.labels)} labels for "
                                  f"{self.num_classes} outputs; export again with one --labels name per output")

    def example(self, instance, where="instance"):
        """(input_ids, segment_ids, truncated, wants token vectors) of one instance; `InputError` naming the
        field when it cannot be read."""
        if isinstance(instance, str):
            instance = {"text": instance}
        if not isinstance(instance, dict):
            raise InputError(f"{where}: expected a string or an object with \"text\" (and \"text_pair\") or "
                             f"\"input_ids\", got {type(instance).__name__}")
        unknown = sorted(set(instance) - set(TEXT_FIELDS) - set(TOKEN_FIELDS) - {"token_vectors"})
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(unknown)}; expected text, text_pair, input_ids, "
                             "input_mask, segment_ids, token_vectors")
        wants_tokens = instance.get("token_vectors", False)
        if not isinstance(wants_tokens, bool):
            raise InputError(f"{where}.token_vectors: expected true or false, got {wants_tokens!r}")
        if "input_ids" in instance:
            return self._token_example(instance, where) + (wants_tokens,)
        if "text" not in instance:
            raise InputError(f"{where}: expected \"text\" (or \"input_ids\")")
        for field in TEXT_FIELDS:
            if field in instance and not isinstance(instance[field], str):
                raise InputError(f"{where}.{field}: expected a string, got {type(instance[field]).__name__}")
        ids_a = self.tokenizer.encode(instance["text"])
        ids_b = self.tokenizer.encode(instance["text_pair"]) if "text_pair" in instance else None
        length = len(ids_a) + (len(ids_b) + 1 if ids_b is not None else 0)
        truncated = length > self.max_seq_length - 2
        if ids_b is None:
            ids_a = ids_a[:self.max_seq_length - 2]
        else:
            truncate_pair(ids_a, ids_b, self.max_seq_length - 3)
        input_ids = [self.cls_id] + ids_a + [self.sep_id]
        segment_ids = [0] * len(input_ids)
        if ids_b is not None:
            input_ids += ids_b + [self.sep_id]
            segment_ids += [1] * (len(ids_b) + 1)
        return input_ids, segment_ids, truncated, wants_tokens

    def _token_example(self, instance, where):
        ids = instance["input_ids"]
        if not (isinstance(ids, list) and ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            raise InputError(f"{where}.input_ids: expected a non-empty list of integers")
        limit = self.tokenizer.vocab_size
        if min(ids) < 0 or max(ids) >= limit:
            raise InputError(f"{where}.input_ids: ids must lie in [0, {limit}) (the vocabulary), found "
                             f"{min(ids)}..{max(ids)}")
        segments = instance.get("segment_ids", [0] * len(ids))
        if not (isinstance(segments, list) and len(segments) == len(ids) and all(s in (0, 1) for s in segments)):
            raise InputError(f"{where}.segment_ids: expected {len(ids)} values of 0 or 1, one per input id")
        mask = instance.get("input_mask", [1] * len(ids))
        keep = sum(mask) if isinstance(mask, list) and all(m in (0, 1) for m in mask) else -1
        if keep < 1 or len(mask) != len(ids) or mask != [1] * keep + [0] * (len(ids) - keep):
            raise InputError(f"{where}.input_mask: expected {len(ids)} values, ones then zeros (padding), one per "
                             "input id")
        # padding a client sent is dropped: the batch is padded again to its own longest row
        truncated = keep > self.max_seq_length
        keep = min(keep, self.max_seq_length)
        return list(ids[:keep]), list(segments[:keep]), truncated

    def run_batch(self, examples):
        """One answer (a dict) per example, in order. The examples run sorted by length, in runs padded to their
        own longest sequence (`length_runs`): padding costs as much as real tokens."""
        answers = [None] * len(examples)
        for run in length_runs([len(example[0]) for example in examples]):
            for index, answer in zip(run, self._run([examples[i] for i in run])):
                answers[index] = answer
        return answers

    def _run(self, examples):
        longest = max(len(ids) for ids, _, _, _ in examples)
        batch = {name: np.zeros((len(examples), longest), np.int32) for name in TOKEN_FIELDS}
        for row, (ids, segments, _, _) in enumerate(examples):
            batch["input_ids"][row, :len(ids)] = ids
            batch["input_mask"][row, :len(ids)] = 1
            batch["segment_ids"][row, :len(ids)] = segments
        outputs = self.runner(batch)
        return [self._answer(outputs, row, example) for row, example in enumerate(examples)]

    def _answer(self, outputs, row, example):
        ids, _, truncated, wants_tokens = example
        if self.kind == "encoder":
            answer = {"pooled_output": outputs["pooled_output"][row].tolist()}
            if wants_tokens:
                answer["sequence_output"] = outputs["sequence_output"][row, :len(ids)].tolist()
        else:
            logits = outputs["logits"][row].astype(np.float64)
            if logits.shape[0] == 1:
                answer = {"score": float(logits[0])}
            else:
                probabilities = np.exp(logits - logits.max())
                probabilities /= probabilities.sum()
                names = self.labels or [str(i) for i in range(len(logits))]
                answer = {"label": names[int(np.argmax(logits))],
                          "probabilities": {name: float(p) for name, p in zip(names, probabilities)}}
        answer["truncated"] = truncated
        return answer

    def metadata(self):
        """What the model takes and gives (both protocols' metadata answers)."""
        if self.kind == "encoder":
            outputs = ["pooled_output", "sequence_output"]
        else:
            outputs = ["label", "probabilities"] if self.num_classes > 1 else ["score"]
        return {"name": self.name, "kind": self.kind, "platform": self.platform, "format": self.info.get("format"),
                "quantize": self.info.get("quantize", "none"), "max_seq_length": self.max_seq_length,
                "labels": self.labels, "inputs": list(TEXT_FIELDS) + list(TOKEN_FIELDS),
                "outputs": outputs + ["truncated"]}


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
