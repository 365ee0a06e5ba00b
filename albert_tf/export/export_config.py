"""The settings of an export (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
import json
import os
from typing import Optional

from albert_tf.config_fields import MAX_SEQ_LENGTH, SequenceSettings, setting
from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import EXPORTABLE, kind_named
from albert_tf.tokenization.vocabulary_config import VocabularyConfig

MODEL_TYPES = EXPORTABLE  # the model kinds albert-export writes (albert_tf.models.model_kinds)
FORMATS = ("saved_model", "onnx", "litert")
QUANTIZATIONS = ("none", "int8")


@dataclasses.dataclass
class ExportConfig(VocabularyConfig, SequenceSettings):
    """What to export and how (field names are the flag names of tools/export_model.py)."""

    model_type: str = setting("encoder", "What to export (a model kind).", choices=EXPORTABLE)
    albert_config_file: Optional[str] = setting(None, "albert_config.json of the model.")
    checkpoint: Optional[str] = setting(None, "Weights: an original-layout checkpoint (Google, albert_zh, our "
                                              "export/) or one of ours.")
    export_dir: Optional[str] = setting(None, "Where to write the export (a folder).")
    max_seq_length: int = setting(MAX_SEQ_LENGTH, "Longest packed sequence of the raw-text signatures.")
    num_classes: Optional[int] = setting(None, "classifier, token_classifier: outputs (1 = regression); default: "
                                               "from the checkpoint.")
    version_2_with_negative: Optional[bool] = setting(None, "squad: the v2 head; default: from the checkpoint.")
    max_query_length: int = setting(64, "squad: question tokens kept by the text signature.")
    max_qa_length: int = setting(128, "race: question+option tokens kept by the text signature.")
    format: str = setting("saved_model", "What to write: a SavedModel (TF Serving), model.onnx (ONNX Runtime) or "
                                         "model.tflite (LiteRT).", choices=FORMATS)
    quantize: str = setting("none", "int8: dynamic int8 weights (onnx) or dynamic-range int8 (litert).",
                            choices=QUANTIZATIONS)
    text_signatures: bool = setting(True, "saved_model: also the raw-text signatures (tokenization in the graph, "
                                          "needs tensorflow-text to load); off: the tensor signatures alone, for "
                                          "stock TensorFlow Serving.")
    labels: Optional[str] = setting(None, "classifier, token_classifier: comma-separated label names in output "
                                          "order (default: the output indices); recorded for albert-serve.")
    overwrite: bool = setting(False, "Replace --export_dir if it exists (without it: an error).")

    def validate(self):
        problems = self.vocabulary_problems()
        if self.model_type not in MODEL_TYPES:
            problems.append(f"model_type={self.model_type!r}: expected one of {MODEL_TYPES}")
        for name in ("albert_config_file", "checkpoint", "export_dir"):
            if not getattr(self, name):
                problems.append(f"{name} is not set")
        if self.format not in FORMATS:
            problems.append(f"format={self.format!r}: expected one of {FORMATS}")
        if self.quantize not in QUANTIZATIONS:
            problems.append(f"quantize={self.quantize!r}: expected one of {QUANTIZATIONS}")
        elif self.quantize != "none" and self.format == "saved_model":
            problems.append(f"quantize={self.quantize!r} is for format=onnx or litert; a SavedModel is float")
        if not self.text_signatures and self.format != "saved_model":
            problems.append(f"text_signatures=False is for format=saved_model; format={self.format!r} has its own "
                            "signatures")
        if self.max_seq_length < 3:
            problems.append(f"max_seq_length={self.max_seq_length}: expected >= 3")
        ConfigError.check(problems, "export settings")
        return self

    def serving_info(self):
        """What a server needs to feed and read the export (`export_info.json`'s "serving")."""
        labels = [label.strip() for label in self.labels.split(",")] if self.labels else None
        return serving_info(self.model_type, self.spm_model_file or self.vocab_file, self.do_lower_case,
                            self.max_seq_length, labels, self.module_options())

    def module_options(self):
        """The model type's own arguments of its serving module (its row's `export_options`)."""
        return {name: getattr(self, name) for name in kind_named(self.model_type).export_options}


def serving_info(kind, vocabulary_file, do_lower_case, max_seq_length, labels=None, settings=None):
    """The "serving" block of export_info.json: the model kind, the vocabulary file's name (beside the model,
    or in a SavedModel's assets/), lower-casing, the packing length, label names and the kind's settings."""
    return {"kind": kind, "vocabulary": os.path.basename(vocabulary_file), "do_lower_case": bool(do_lower_case),
            "max_seq_length": max_seq_length, "labels": list(labels) if labels else None, **(settings or {})}


def write_export_info(folder, info):
    """`export_info.json` of an ONNX or LiteRT export folder: the description `export_onnx` / `export_litert`
    return (inputs or signatures, outputs, file and parameter bytes)."""
    with open(os.path.join(folder, "export_info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
