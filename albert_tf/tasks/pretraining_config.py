"""The settings of the pretraining task (no TensorFlow: the command lines read it before it starts)."""

import dataclasses
from typing import Optional

from albert_tf.config_fields import MAX_SEQ_LENGTH, SequenceSettings, setting
from albert_tf.errors import ConfigError


@dataclasses.dataclass
class PretrainingConfig(SequenceSettings):
    """The pretraining data (field names are the flag names)."""

    input_file: Optional[str] = setting(None, "Training TFRecords: comma-separated paths or globs.")
    eval_file: Optional[str] = setting(None, "Evaluation TFRecords (default: --input_file).")
    max_seq_length: int = setting(MAX_SEQ_LENGTH, "Sequence length the TFRecords were written with.")
    max_predictions_per_seq: int = setting(20, "Masked positions per sequence in the TFRecords.")
    dynamic_masking: bool = setting(False, "Mask each example anew every epoch in the input pipeline (needs "
                                           "--spm_model_file or --vocab_file for the special ids).")
    spm_model_file: Optional[str] = setting(None, "SentencePiece model (dynamic masking, --corpus_file, the "
                                                  "SavedModel's text signatures).")
    vocab_file: Optional[str] = setting(None, "WordPiece vocab.txt (Chinese ALBERT); used without "
                                              "--spm_model_file.")
    shuffle_buffer_size: int = setting(10000, "Records in the shuffle buffer.")
    corpus_file: Optional[str] = setting(
        None, "Text (one sentence per line, blank line between documents) to prepare data from: a SentencePiece "
        "model (unless --spm_model_file exists) and TFRecords are written to OUTPUT_DIR/data once, and "
        "--input_file/--eval_file default to them.")
    eval_documents: int = setting(3, "With --corpus_file: last documents held out for evaluation.")
    dupe_factor: int = setting(5, "With --corpus_file: create_pretraining_data's dupe_factor.")

    def validate(self):
        problems = []
        if not (self.input_file or self.corpus_file):
            problems.append("input_file is not set: the pretraining TFRecords (or corpus_file, a text to "
                            "prepare them from)")
        if self.dynamic_masking and not (self.spm_model_file or self.vocab_file or self.corpus_file):
            problems.append("dynamic_masking needs spm_model_file or vocab_file (the special token ids)")
        for name in ("max_seq_length", "max_predictions_per_seq", "shuffle_buffer_size", "eval_documents",
                     "dupe_factor"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: expected >= 1")
        ConfigError.check(problems, "pretraining data settings")
        return self
