"""The settings of a checkpoint conversion (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import NAMES

# What an original-layout checkpoint may hold (every model kind); by default read from its variables (a 1-row
# output_weights is a regression classifier unless model_type says "race").
MODEL_TYPES = NAMES


@dataclasses.dataclass
class ConversionConfig:
    """One source, any outputs (field names are the flags of tools/convert_checkpoint.py)."""

    input_checkpoint: Optional[str] = None  # original layout: prefix, .index file or directory
    input_keras_hub_preset: Optional[str] = None  # a keras-hub preset: AlbertBackbone, -TextClassifier, -MaskedLM
    input_hf: Optional[str] = None  # a Hugging Face folder (config.json + model.safetensors ...)
    model_type: Optional[str] = None  # of input_checkpoint; None: from the variables it holds
    albert_config_file: Optional[str] = None  # of input_checkpoint; default: the one beside it
    preset: Optional[str] = None  # an AlbertConfig preset name instead of a config file
    init_from_group0: bool = False
    output_checkpoint: Optional[str] = None  # prefix in the original layout, e.g. out/model.ckpt-best
    output_keras_hub_preset: Optional[str] = None  # the task keras-hub has for the model, else the backbone
    output_keras_model: Optional[str] = None  # a .keras file
    output_hf: Optional[str] = None  # a Hugging Face folder
    spm_model_file: Optional[str] = None  # the tokenizer of output_hf / output_keras_hub_preset (default: the input's)
    overwrite: bool = False  # replace outputs that exist (otherwise: an error naming them)

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
