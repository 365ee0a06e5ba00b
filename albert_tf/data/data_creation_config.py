"""The settings of one `create_pretraining_data` run (no TensorFlow; field names are the flag names)."""

import dataclasses
import os
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class DataCreationConfig(InstanceOptions):
    """Input text, output TFRecords and tokenizer, plus the `InstanceOptions` it inherits."""

    input_file: Optional[str] = setting(None, "Input text file(s): comma-separated paths or globs.")
    output_file: Optional[str] = setting(
        None, "Output TFRecord file, or comma-separated files (instances go round-robin). With "
        "--num_output_shards > 1, a single path is a prefix: PREFIX-00000-of-00016, ...")
    num_output_shards: int = setting(1, "Number of output files made from a single --output_file.")
    spm_model_file: Optional[str] = setting(None, "SentencePiece model (English ALBERT).")
    vocab_file: Optional[str] = setting(None, "WordPiece vocab.txt (Chinese ALBERT); used without "
                                              "--spm_model_file.")
    do_lower_case: bool = setting(True, "Lower-case the text (as the model will be).")
    dupe_factor: int = setting(40, "Passes over the corpus, each with new chunks and masks.")
    random_seed: int = setting(12345, "Seed of every random draw; same seed, same bytes.")
    num_workers: int = setting(os.cpu_count() or 1, "Worker processes (the output does not depend on it).")
    word_segmenter: Optional[str] = setting(
        None, "Chinese word segmenter for whole-word masking with a WordPiece vocab: 'jieba' or 'module:function' "
        "(a function str -> list of words).")
    overwrite: bool = setting(False, "Replace output files that already exist (without it: an error naming them).")

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
