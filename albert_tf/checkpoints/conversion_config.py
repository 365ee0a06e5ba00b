"""The settings of a checkpoint conversion (no TensorFlow: the command line reads it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.errors import ConfigError


@dataclasses.dataclass
class ConversionConfig:
    """One source, any outputs (field names are the flags of tools/convert_checkpoint.py)."""

    input_checkpoint: Optional[str] = None  # original layout: prefix, .index file or directory
    input_keras_hub_preset: Optional[str] = None  # a keras-hub AlbertBackbone preset directory
    albert_config_file: Optional[str] = None  # of input_checkpoint; default: the one beside it
    preset: Optional[str] = None  # an AlbertConfig preset name instead of a config file
    init_from_group0: bool = False
    output_checkpoint: Optional[str] = None  # prefix in the original layout, e.g. out/model.ckpt-best
    output_keras_hub_preset: Optional[str] = None  # encoder only
    output_keras_model: Optional[str] = None  # a .keras file
    overwrite: bool = False  # replace outputs that exist (otherwise: an error naming them)

    def validate(self):
        problems = []
        if bool(self.input_checkpoint) == bool(self.input_keras_hub_preset):
            problems.append("give exactly one of input_checkpoint, input_keras_hub_preset")
        if not (self.output_checkpoint or self.output_keras_hub_preset or self.output_keras_model):
            problems.append("nothing to write: give output_checkpoint, output_keras_hub_preset and/or "
                            "output_keras_model")
        ConfigError.check(problems, "conversion settings")
        return self
