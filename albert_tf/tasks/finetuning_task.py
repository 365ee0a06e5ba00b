"""What the fine-tuning tasks share: vocabulary, in-memory features, prediction-based scoring."""

import time

from absl import logging

from albert_tf.data.finetuning_dataset import finetuning_dataset
from albert_tf.tasks.task import Task
from albert_tf.tokenization.full_tokenizer import check_vocabulary
from albert_tf.tokenization import FullTokenizer


class FinetuningTask(Task):
    """A task whose examples fit in memory and whose metrics come from predictions.

    Subclasses define `features(split)` (unpadded features, see
    `finetuning_dataset`), `evaluate(split, predictions)`, `kind` with
    `model_options()`, and `write_predictions`.
    """

    strict_init = False  # a pretrained checkpoint has other heads (reported) or none
    expects_init_checkpoint = True
    num_choices = None  # K for multiple choice (features hold K sequences each)

    def __init__(self, config):
        super().__init__(config)
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = FullTokenizer(**self.config.vocabulary())
        return self._tokenizer

    def check_inputs(self, albert_config):
        check_vocabulary(self.tokenizer, albert_config)

    def features(self, split):
        raise NotImplementedError

    def read_splits(self, splits):
        for split in dict.fromkeys(splits):
            started = time.perf_counter()
            logging.info("%s %s: reading and tokenizing", self.name, split)
            count = len(self.features(split)["input_ids"])
            logging.info("%s %s: %d input sequences ready (%.1f s)", self.name, split, count,
                         time.perf_counter() - started)

    def evaluate(self, split, predictions):
        """Metrics (a dict of floats) from `Trainer.predict` outputs."""
        raise NotImplementedError

    def dataset(self, split, batch_size, is_training, input_context, seed, skip_batches=0):
        return self.dataset_of(self.features(split), batch_size, is_training, input_context, seed, skip_batches)

    def dataset_of(self, features, batch_size, is_training, input_context, seed, skip_batches=0):
        """The `tf.data.Dataset` of in-memory `features` (a dict of lists), batched as this task's splits."""
        return finetuning_dataset(
            features, input_context.get_per_replica_batch_size(batch_size), is_training,
            self.config.max_seq_length, length_aware=self.config.length_aware_batching,
            num_choices=self.num_choices, seed=seed, input_context=input_context, skip_batches=skip_batches)

    def score(self, split, trainer, dataset, max_steps=None):
        predictions = trainer.predict(dataset)
        return {k: float(v) for k, v in self.evaluate(split, predictions).items()}, predictions

    def vocabulary(self):
        return self.config.vocabulary()
