"""GLUE, CLUE and generic sentence(-pair) classification and regression tasks.

A `ClassificationTask` says where each split's file is, which columns hold
the texts, the label and the example id, the label set (None for
regression) and the metrics. `read_examples` reads a split with a clear
error for a missing file, a short row or an unknown label (file and line);
`encode_examples` turns examples into unpadded `[CLS] A [SEP] (B [SEP])`
features the way the original `run_classifier.py` does (the longer segment
is truncated first).

Column layouts follow the GLUE release files as BERT/ALBERT's processors
read them (tab-separated, no quoting); LCQMC as albert_zh reads it
(`text_a TAB text_b TAB label`); AFQMC as CLUE ships it (JSON lines);
XNLI-zh as BERT's XnliProcessor (the `zh` rows of `xnli.dev.tsv`, MultiNLI
translations for training).
"""

import csv
import dataclasses
import json
import os
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Columns:
    """Where the fields of one row are: column indices (TSV/CSV) or keys (JSON lines)."""

    text_a: object
    text_b: object = None
    label: object = None
    index: object = None
    header: bool = True
    language: Optional[Tuple[object, str]] = None  # (column, value): keep only these rows


@dataclasses.dataclass(frozen=True)
class ClassificationTask:
    """One task. `labels` None means regression (one float output)."""

    name: str
    labels: Optional[Tuple[str, ...]]
    metrics: Tuple[str, ...]
    files: dict  # split -> file name inside --data_dir
    columns: Columns
    test_columns: Optional[Columns] = None
    submission_names: Optional[dict] = None  # split -> GLUE submission file name
    label_aliases: Optional[dict] = None

    @property
    def is_regression(self):
        return self.labels is None

    @property
    def primary_metric(self):
        return self.metrics[0]

    def columns_for(self, split):
        return self.test_columns if split.startswith("test") and self.test_columns else self.columns


@dataclasses.dataclass
class Example:
    guid: str
    text_a: str
    text_b: Optional[str]
    label: object  # label string, float (regression), or None (unlabelled test data)


_NLI = ("contradiction", "entailment", "neutral")
_RTE = ("entailment", "not_entailment")

TASKS = {
    "cola": ClassificationTask(
        "CoLA", ("0", "1"), ("mcc", "accuracy"),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=3, label=1, header=False), Columns(text_a=1, index=0),
        {"test": "CoLA.tsv"}),
    "sst-2": ClassificationTask(
        "SST-2", ("0", "1"), ("accuracy",),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=0, label=1), Columns(text_a=1, index=0), {"test": "SST-2.tsv"}),
    "mrpc": ClassificationTask(
        "MRPC", ("0", "1"), ("f1", "accuracy"),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=3, text_b=4, label=0), Columns(text_a=3, text_b=4, index=0), {"test": "MRPC.tsv"}),
    "sts-b": ClassificationTask(
        "STS-B", None, ("pearson", "spearman"),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=7, text_b=8, label=9), Columns(text_a=7, text_b=8, index=0), {"test": "STS-B.tsv"}),
    "qqp": ClassificationTask(
        "QQP", ("0", "1"), ("f1", "accuracy"),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=3, text_b=4, label=5), Columns(text_a=1, text_b=2, index=0), {"test": "QQP.tsv"}),
    "mnli": ClassificationTask(
        "MNLI", _NLI, ("accuracy",),
        {"train": "train.tsv", "dev": "dev_matched.tsv", "dev_mismatched": "dev_mismatched.tsv",
         "test": "test_matched.tsv", "test_mismatched": "test_mismatched.tsv"},
        Columns(text_a=8, text_b=9, label=-1), Columns(text_a=8, text_b=9, index=0),
        {"test": "MNLI-m.tsv", "test_mismatched": "MNLI-mm.tsv"}),
    "qnli": ClassificationTask(
        "QNLI", _RTE, ("accuracy",),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=1, text_b=2, label=3), Columns(text_a=1, text_b=2, index=0), {"test": "QNLI.tsv"}),
    "rte": ClassificationTask(
        "RTE", _RTE, ("accuracy",),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=1, text_b=2, label=3), Columns(text_a=1, text_b=2, index=0), {"test": "RTE.tsv"}),
    "wnli": ClassificationTask(
        "WNLI", ("0", "1"), ("accuracy",),
        {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
        Columns(text_a=1, text_b=2, label=3), Columns(text_a=1, text_b=2, index=0), {"test": "WNLI.tsv"}),
    "lcqmc": ClassificationTask(
        "LCQMC", ("0", "1"), ("accuracy", "f1"),
        {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"},
        Columns(text_a=0, text_b=1, label=2, header=False)),
    "afqmc": ClassificationTask(
        "AFQMC", ("0", "1"), ("accuracy", "f1"),
        {"train": "train.json", "dev": "dev.json", "test": "test.json"},
        Columns(text_a="sentence1", text_b="sentence2", label="label", header=False),
        Columns(text_a="sentence1", text_b="sentence2", index="id", header=False)),
    "xnli-zh": ClassificationTask(
        "XNLI-zh", _NLI, ("accuracy",),
        {"train": "multinli.train.zh.tsv", "dev": "xnli.dev.tsv", "test": "xnli.test.tsv"},
        Columns(text_a=0, text_b=1, label=2),
        Columns(text_a=6, text_b=7, label=1, language=(0, "zh")),
        label_aliases={"contradictory": "contradiction"}),
}


def generic_task(train_file, dev_file=None, test_file=None, text_a_column="0", text_b_column=None,
                 label_column="1", index_column=None, labels=None, header=True, metrics=None):
    """A task over any TSV/CSV/JSON-lines files: columns are indices or JSON keys.

    `labels` is the comma-separated label set (None: regression). The
    format follows each file's extension (.tsv/.txt, .csv, .json/.jsonl).
    """
    def key(value):
        if value is None or value == "":
            return None
        return int(value) if str(value).lstrip("-").isdigit() else value

    labels = tuple(label.strip() for label in labels.split(",")) if labels else None
    metrics = tuple(metrics) if metrics else (("accuracy", "f1") if labels and len(labels) == 2 else
                                              ("accuracy",) if labels else ("pearson", "spearman"))
    files = {split: path for split, path in (("train", train_file), ("dev", dev_file), ("test", test_file))
             if path}
    return ClassificationTask(
        "generic", labels, metrics, files,
        Columns(text_a=key(text_a_column), text_b=key(text_b_column), label=key(label_column),
                index=key(index_column), header=header),
        Columns(text_a=key(text_a_column), text_b=key(text_b_column), index=key(index_column),
                header=header) if test_file else None)


def _rows(path):
    """(line number, row) of a TSV/CSV/JSON-lines file; rows are lists or dicts."""
    extension = os.path.splitext(path)[1].lower()
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            if extension in (".json", ".jsonl"):
                for number, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            yield number, json.loads(line)
                        except json.JSONDecodeError as error:
                            raise ValueError(f"{path}:{number}: not a JSON object ({error})") from None
                return
            delimiter = "," if extension == ".csv" else "\t"
            quotechar = '"' if extension == ".csv" else None
            reader = csv.reader(f, delimiter=delimiter, quotechar=quotechar, quoting=csv.QUOTE_MINIMAL
                                if quotechar else csv.QUOTE_NONE)
            for number, row in enumerate(reader, 1):
                yield number, row
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error}); convert it with iconv") from None


def _field(row, column, path, number):
    try:
        value = row[column]
    except (IndexError, KeyError):
        found = f"{len(row)} columns" if isinstance(row, list) else f"keys {sorted(row)}"
        raise ValueError(f"{path}:{number}: no column {column!r} ({found})") from None
    return str(value) if value is not None else ""


def split_path(task, data_dir, split):
    if split not in task.files:
        raise ValueError(f"task {task.name} has no {split!r} split (it has {sorted(task.files)})")
    path = os.path.join(data_dir, task.files[split]) if data_dir else task.files[split]
    if not os.path.exists(path):
        raise FileNotFoundError(f"{task.name} {split} data not found: {path}")
    return path


def read_examples(task, data_dir, split):
    """Examples of one split. Test splits may be unlabelled (label None)."""
    path = split_path(task, data_dir, split)
    columns = task.columns_for(split)
    labelled = columns.label is not None
    examples = []
    for number, row in _rows(path):
        if columns.header and number == 1 and isinstance(row, list):
            continue
        if isinstance(row, list) and not any(cell.strip() for cell in row):
            continue
        if columns.language and _field(row, columns.language[0], path, number) != columns.language[1]:
            continue
        guid = (_field(row, columns.index, path, number) if columns.index is not None
                else f"{split}-{len(examples)}")
        text_b = _field(row, columns.text_b, path, number) if columns.text_b is not None else None
        label = None
        if labelled:
            raw = _field(row, columns.label, path, number).strip()
            raw = (task.label_aliases or {}).get(raw, raw)
            if task.is_regression:
                try:
                    label = float(raw)
                except ValueError:
                    raise ValueError(f"{path}:{number}: score {raw!r} is not a number") from None
            elif raw not in task.labels:
                raise ValueError(f"{path}:{number}: unknown label {raw!r}; {task.name} labels are "
                                 f"{list(task.labels)}")
            else:
                label = raw
        examples.append(Example(guid, _field(row, columns.text_a, path, number), text_b, label))
    if not examples:
        raise ValueError(f"{path}: no examples")
    return examples


def truncate_pair(tokens_a, tokens_b, max_length):
    """The original _truncate_seq_pair: pop from the longer list (B on ties) until they fit."""
    while len(tokens_a) + len(tokens_b) > max_length:
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def encode_examples(task, examples, tokenizer, max_seq_length):
    """Unpadded features: input_ids, segment_ids, label_ids (float for regression), example_index."""
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    label_index = {label: i for i, label in enumerate(task.labels or ())}
    features = {"input_ids": [], "segment_ids": [], "label_ids": [], "example_index": []}
    for index, example in enumerate(examples):
        ids_a = tokenizer.encode(example.text_a)
        ids_b = tokenizer.encode(example.text_b) if example.text_b is not None else []
        if example.text_b is not None:
            truncate_pair(ids_a, ids_b, max_seq_length - 3)
        else:
            ids_a = ids_a[:max_seq_length - 2]
        ids = [cls_id] + ids_a + [sep_id]
        segments = [0] * len(ids)
        if example.text_b is not None:
            ids += ids_b + [sep_id]
            segments += [1] * (len(ids_b) + 1)
        if example.label is None:
            label = 0.0 if task.is_regression else 0
        else:
            label = float(example.label) if task.is_regression else label_index[example.label]
        features["input_ids"].append(ids)
        features["segment_ids"].append(segments)
        features["label_ids"].append(label)
        features["example_index"].append(index)
    return features
