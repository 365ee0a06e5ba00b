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

from absl import logging

from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.data.pretraining_dataset import (DynamicMasking, check_pretraining_files, damaged_records,
                                                pretraining_dataset)
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.errors import ConfigError
from albert_tf.export.serving_module import SERVING_MODULES
from albert_tf.models import AlbertPretrainer
from albert_tf.tasks.task import Task
from albert_tf.tokenization.full_tokenizer import check_vocabulary
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.sentencepiece_training import train_sentencepiece
from albert_tf.training.pretraining_objective import PretrainingObjective


def prepare_corpus(corpus_file, data_dir, vocab_size, instance_options, eval_documents, dupe_factor, seed,
                   spm_model_file=None, config_name="the model config"):
    """A SentencePiece model and train/eval TFRecords from a text; returns (spm, train, eval) paths.

    Each file is written under a temporary name and renamed when complete,
    so a later run finds either finished files or none.
    """
    os.makedirs(data_dir, exist_ok=True)
    spm = spm_model_file or os.path.join(data_dir, "spm.model")
    if not os.path.exists(spm):
        train_sentencepiece([corpus_file], spm[:-len(".model")], vocab_size=vocab_size, hard_vocab_limit=False,
                            random_seed=seed, log=logging.info)
    pieces = FullTokenizer(spm_model_file=spm).vocab_size
    if pieces != vocab_size:
        raise ConfigError(f"{spm} has {pieces} pieces but {config_name} says vocab_size={vocab_size}: the "
                          f"corpus is too small for that vocabulary; set vocab_size to {pieces} in the config")
    train_file, eval_file = os.path.join(data_dir, "train.tfrecord"), os.path.join(data_dir, "eval.tfrecord")
    if os.path.exists(train_file) and os.path.exists(eval_file):
        return spm, train_file, eval_file
    with open(corpus_file, encoding="utf-8") as f:
        documents = [d for d in f.read().split("\n\n") if d.strip()]
    if len(documents) <= eval_documents + 1:
        raise ConfigError(f"{corpus_file} has {len(documents)} documents: too few to hold out "
                          f"eval_documents={eval_documents}")
    for path, part, dupe in ((train_file, documents[:-eval_documents], dupe_factor),
                             (eval_file, documents[-eval_documents:], 1)):
        text = os.path.join(data_dir, os.path.basename(path) + ".txt")
        with open(text, "w", encoding="utf-8") as f:
            f.write("\n\n".join(part) + "\n")
        # Written atomically: a file under its name is complete, so an interrupted run prepares it again.
        summary = create_pretraining_data([text], [path], spm_model_file=spm, options=instance_options,
                                          dupe_factor=dupe, random_seed=seed, num_workers=os.cpu_count() or 1,
                                          log=logging.info)
        logging.info("%s: %d instances", path, summary.instances.counts["instances"])
    return spm, train_file, eval_file


class PretrainingTask(Task):
    name = "pretraining"
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

    def build_model(self, albert_config):
        return AlbertPretrainer(albert_config)

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

    def serving_module(self, model):
        if not (self.spm_model_file or self.config.vocab_file):
            return None
        return SERVING_MODULES["encoder"](model, self.config.max_seq_length, **self.vocabulary())
