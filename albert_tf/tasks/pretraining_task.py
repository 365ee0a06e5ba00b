"""Pretraining: masked LM + sentence order on TFRecords, optionally prepared from a corpus.

The data are TFRecords of `create_pretraining_data` (`input_file`, and
`eval_file` for evaluation). With `corpus_file` (the demo), a SentencePiece
model (unless `spm_model_file` exists) and train/eval TFRecords are written
once to OUTPUT_DIR/data, holding out the last `eval_documents` documents.
Evaluation gives the original metrics: masked_lm_accuracy, masked_lm_loss,
sentence_order_accuracy, sentence_order_loss. The export is the encoder with
the TF-Hub signatures.
"""

import math
import os


from albert_tf.data.corpus_preparation import prepare_corpus
from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.data.pretraining_dataset import (DynamicMasking, check_pretraining_files, damaged_records,
                                                pretraining_dataset)
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.errors import ConfigError
from albert_tf.tasks.task import Task
from albert_tf.tokenization.full_tokenizer import check_vocabulary
from albert_tf.tokenization import FullTokenizer
from albert_tf.tasks.pretraining_objective import PretrainingObjective


class PretrainingTask(Task):
    name = "pretraining"
    kind = "pretrainer"
    eval_splits = ("eval",)
    prediction_splits = ()

    def __init__(self, config):
        super().__init__(config.validate())
        self.objective = PretrainingObjective()
        self.files = {"train": config.input_file, "eval": config.eval_file or config.input_file}
        self.spm_model_file = config.spm_model_file
        self._masking = None

    def prepare(self, albert_config, work_dir, is_chief, seed):
        if not self.config.corpus_file:
            return []
        if not is_chief:
            raise ConfigError("corpus_file is for single-worker runs; prepare the data first "
                              "(tools/create_pretraining_data.py) and pass input_file")
        options = InstanceOptions(max_seq_length=self.config.max_seq_length,
                                  max_predictions_per_seq=self.config.max_predictions_per_seq)
        spm, train_file, eval_file = prepare_corpus(
            self.config.corpus_file, os.path.join(work_dir, "data"), albert_config.vocab_size, options,
            self.config.eval_documents, self.config.dupe_factor, seed, self.config.spm_model_file)
        self.spm_model_file = spm
        self.files = {"train": self.config.input_file or train_file,
                      "eval": self.config.eval_file or self.config.input_file or eval_file}
        return [("data", f"{os.path.dirname(train_file)} (SentencePiece model {spm})")]

    def check_inputs(self, albert_config):
        """The first record of every file against max_seq_length/max_predictions_per_seq, and the vocabulary size."""
        for split in ("train", "eval"):
            check_pretraining_files(expand_file_patterns(self.files[split], "pretraining TFRecord file"),
                                    self.config.max_seq_length, self.config.max_predictions_per_seq,
                                    albert_config.vocab_size)
        if self.spm_model_file or self.config.vocab_file:
            check_vocabulary(FullTokenizer(**self.vocabulary()), albert_config)

    def vocabulary(self):
        return dict(vocab_file=self.config.vocab_file, spm_model_file=self.spm_model_file)

    def masking(self):
        if self.config.dynamic_masking and self._masking is None:
            self._masking = DynamicMasking.from_tokenizer(
                FullTokenizer(**self.vocabulary()), InstanceOptions(max_seq_length=self.config.max_seq_length))
        return self._masking

    def dataset(self, split, batch_size, is_training, input_context, seed, skip_batches=0):
        return pretraining_dataset(
            self.files[split], batch_size, self.config.max_seq_length, self.config.max_predictions_per_seq,
            is_training=is_training, input_context=input_context,
            shuffle_buffer_size=self.config.shuffle_buffer_size, seed=seed, dynamic_masking=self.masking(),
            check_files=False, skip_batches=skip_batches)  # check_inputs read them before training

    def score(self, split, trainer, dataset, max_steps=None):
        return trainer.evaluate(dataset, max_steps), None

    def learning_warnings(self, split, predictions, metrics):
        """SOP no better than always predicting the held-out labels' commoner order (within two standard
        errors of that rate, a binomial's sqrt(m(1 - m)/n) over n examples), with MLM at chance too or not."""
        sop, majority = metrics.get("sentence_order_accuracy"), metrics.get("sentence_order_majority_rate")
        examples = metrics.get("sentence_order_examples", 0)
        if sop is None or majority is None or not examples:
            return []
        margin = 2 * math.sqrt(majority * (1 - majority) / examples)
        if sop > majority + margin:
            return []
        chance = (f"sentence_order_accuracy {sop:.4f} is no better than always predicting one order "
                  f"({majority:.4f} of the {int(examples)} examples; two standard errors {margin:.4f})")
        if metrics.get("masked_lm_accuracy", 1.0) < 0.05:
            return [f"pretraining {split}: {chance} and masked_lm_accuracy {metrics['masked_lm_accuracy']:.4f} is "
                    "at chance; the model learned nothing yet (more steps, or check the data and the learning rate)"]
        return [f"pretraining {split}: {chance}; the sentence-order head learned nothing yet (SOP needs more steps "
                "than MLM, and documents of several sentences)"]

    def damaged_inputs(self):
        files = sorted({path for split in ("train", "eval")
                        for path in expand_file_patterns(self.files[split], "pretraining TFRecord file")})
        return damaged_records(files)
