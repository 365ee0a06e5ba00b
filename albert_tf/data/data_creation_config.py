"""The settings of one `create_pretraining_data` run (no TensorFlow; field names are the flag names)."""

import dataclasses
import os
from typing import Optional

from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class DataCreationConfig(InstanceOptions):
    """Input text, output TFRecords and tokenizer, plus the `InstanceOptions` it inherits."""

    input_file: str = ""  # text file(s): comma-separated paths or globs
    output_file: str = ""  # a TFRecord path, comma-separated paths, or a prefix with num_output_shards
    num_output_shards: int = 1
    spm_model_file: Optional[str] = None
    vocab_file: Optional[str] = None
    do_lower_case: bool = True
    dupe_factor: int = 40
    random_seed: int = 12345
    num_workers: int = os.cpu_count() or 1
    word_segmenter: Optional[str] = None  # Chinese whole-word masking: "jieba" or "module:function"
    overwrite: bool = False  # replace output files that exist (otherwise: an error naming them)

    def validate(self):
        problems = []
        if not self.input_file:
            problems.append("input_file is not set: the text to make instances from")
        if not self.output_file:
            problems.append("output_file is not set: the TFRecord file(s) to write")
        if not (self.spm_model_file or self.vocab_file):
            problems.append("spm_model_file/vocab_file: neither is set; set spm_model_file (SentencePiece) or "
                            "vocab_file (WordPiece)")
        if self.num_output_shards < 1:
            problems.append(f"num_output_shards={self.num_output_shards}: expected >= 1")
        elif self.num_output_shards > 1 and len([p for p in self.output_file.split(",") if p]) != 1:
            problems.append(f"num_output_shards={self.num_output_shards} needs a single output_file prefix, "
                            f"got {self.output_file!r}")
        if self.dupe_factor < 1:
            problems.append(f"dupe_factor={self.dupe_factor}: expected >= 1")
        try:
            self.instance_options().validate()
        except ValueError as error:
            problems.append(str(error))
        ConfigError.check(problems, "data creation settings")
        return self

    def instance_options(self):
        return InstanceOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(InstanceOptions)})

    def output_paths(self):
        paths = [p for p in self.output_file.split(",") if p]
        if self.num_output_shards > 1:
            paths = [f"{paths[0]}-{i:05d}-of-{self.num_output_shards:05d}" for i in range(self.num_output_shards)]
        return paths
