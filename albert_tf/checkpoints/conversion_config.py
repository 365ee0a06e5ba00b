"""The settings of a checkpoint conversion (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import NAMES

# What an original-layout checkpoint may hold (every model kind); by default read from its variables (a 1-row
# output_weights is a regression classifier unless model_type says "race").
MODEL_TYPES = NAMES


@dataclasses.dataclass
class ConversionConfig:
    """One source, any outputs (field names are the flags of tools/convert_checkpoint.py)."""

    input_checkpoint: Optional[str] = setting(None, "Original-layout checkpoint: prefix, .index file or directory.")
    input_keras_hub_preset: Optional[str] = setting(
        None, "Directory of a keras-hub preset (AlbertBackbone, AlbertTextClassifier or AlbertMaskedLM; read "
        "offline).")
    input_hf: Optional[str] = setting(None, "Hugging Face folder: config.json + model.safetensors (or sharded), "
                                            "tf_model.h5 or pytorch_model.bin (with torch installed).")
    model_type: Optional[str] = setting(None, "What --input_checkpoint holds (default: read from its variables).",
                                        choices=NAMES)
    albert_config_file: Optional[str] = setting(None, "albert_config.json of --input_checkpoint (default: the one "
                                                      "beside it).")
    preset: Optional[str] = setting(None, "AlbertConfig preset name instead of a config file.")
    init_from_group0: bool = setting(False, "Initialise every group from group_0 of --input_checkpoint.")
    output_checkpoint: Optional[str] = setting(None, "Prefix to write in the original layout, e.g. "
                                                     "out/model.ckpt-best.")
    output_keras_hub_preset: Optional[str] = setting(
        None, "Directory to write a keras-hub preset to: AlbertTextClassifier for a classifier, AlbertMaskedLM for "
        "a pretrainer, else AlbertBackbone; with the tokenizer of --spm_model_file.")
    output_keras_model: Optional[str] = setting(None, "Path of a .keras file to save the model to.")
    output_hf: Optional[str] = setting(None, "Folder to write a Hugging Face model to (transformers' "
                                             "from_pretrained).")
    spm_model_file: Optional[str] = setting(None, "SentencePiece model to put in --output_hf and "
                                                  "--output_keras_hub_preset (default: the input's).")
    overwrite: bool = setting(False, "Replace outputs that already exist (without it: an error naming them).")

    def validate(self):
        problems = []
        if sum(map(bool, (self.input_checkpoint, self.input_keras_hub_preset, self.input_hf))) != 1:
            problems.append("give exactly one of input_checkpoint, input_keras_hub_preset, input_hf")
        if not (self.output_checkpoint or self.output_keras_hub_preset or self.output_keras_model or self.output_hf):
            problems.append("nothing to write: give output_checkpoint, output_keras_hub_preset, output_keras_model "
                            "and/or output_hf")
        if self.model_type is not None and self.model_type not in MODEL_TYPES:
            problems.append(f"model_type={self.model_type!r}: expected one of {MODEL_TYPES}")
        if self.model_type and not self.input_checkpoint:
            problems.append("model_type is for input_checkpoint; the other inputs say what they hold")
        ConfigError.check(problems, "conversion settings")
        return self
