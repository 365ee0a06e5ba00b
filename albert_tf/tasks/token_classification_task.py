"""Token classification (named entities, chunks, part-of-speech tags) on CoNLL-format files.

Each sentence becomes `[CLS] pieces of every word [SEP]`; the tag of a word
is predicted at its first piece (`conll_data`). Metrics are seqeval's, the
CoNLL-2000 `conlleval` definitions: an entity counts when its type and both
ends are right (precision, recall, F1 over entities; F1 picks the best
checkpoint), plus the accuracy over words. Predictions are a CoNLL file of
`token TAB predicted tag` lines, a blank line after each sentence.
"""

import os

from seqeval.metrics import f1_score, precision_score, recall_score

from albert_tf.errors import ConfigError
from albert_tf.outputs.atomic_files import atomic_open
from albert_tf.tasks import conll_data
from albert_tf.tasks.finetuning_task import FinetuningTask
from albert_tf.tasks.task import one_answer_warnings
from albert_tf.tasks.finetuning_objectives import TokenClassificationObjective


class TokenClassificationTask(FinetuningTask):
    kind = "token_classifier"
    primary_metric = "f1"
    objective = TokenClassificationObjective()

    def __init__(self, config):
        super().__init__(config.validate())
        self.name = config.task_name
        self.files = {split: path for split, path in (("train", config.train_file), ("dev", config.dev_file),
                                                      ("test", config.test_file)) if path}
        self.eval_splits = ("dev",) if "dev" in self.files else ()
        self.prediction_splits = ("test",) if "test" in self.files else ()
        self._sentences, self._encoded, self._labels = {}, {}, None

    @property
    def labels(self):
        if self._labels is None:
            labels = self.config.labels()
            if labels is None:
                source = next((s for s in ("train", "dev") if s in self.files), None)
                labels = conll_data.label_set(self.sentences(source)) if source else []
                if not labels:
                    raise ConfigError(f"no tags in {self.files.get(source, 'the data')}: give label_list")
            self._labels = labels
        return self._labels

    def sentences(self, split):
        if split not in self._sentences:
            if split not in self.files:
                raise ConfigError(f"no {split}_file given for {self.name}")
            self._sentences[split] = conll_data.read_conll(self.files[split], self.config.token_column,
                                                           self.config.label_column)
        return self._sentences[split]

    def check_inputs(self, albert_config):
        super().check_inputs(albert_config)
        for split in ("train", "dev"):  # every tag of the labelled files is a known label, before any work
            if split in self.files:
                conll_data.check_labels(self.sentences(split), self.labels, self.files[split])

    def output_labels(self):
        return list(self.labels)

    def model_options(self):
        return {"num_classes": len(self.labels), "dropout_rate": self.config.dropout_rate}

    def encoded(self, split):
        if split not in self._encoded:
            self._encoded[split] = conll_data.encode_sentences(self.sentences(split), self.tokenizer, self.labels,
                                                               self.config.max_seq_length)
        return self._encoded[split]

    def features(self, split):
        return self.encoded(split)[0]

    def predicted_tags(self, split, predictions):
        indices = conll_data.word_predictions(self.sentences(split), self.encoded(split)[1], predictions["logits"])
        return [[self.labels[i] for i in sentence] for sentence in indices]

    def evaluate(self, split, predictions):
        gold = [sentence.labels for sentence in self.sentences(split)]
        predicted = self.predicted_tags(split, predictions)
        words = sum(len(s) for s in gold)
        accuracy = sum(g == p for gs, ps in zip(gold, predicted) for g, p in zip(gs, ps)) / max(words, 1)
        return {"precision": precision_score(gold, predicted, zero_division=0),
                "recall": recall_score(gold, predicted, zero_division=0),
                "f1": f1_score(gold, predicted, zero_division=0), "accuracy": accuracy}

    def learning_warnings(self, split, predictions, metrics):
        return one_answer_warnings(f"{self.name} {split}", (tag for sentence in self.predicted_tags(split, predictions)
                                                            for tag in sentence), "every word was tagged", "tagger")

    def write_predictions(self, split, predictions, output_dir):
        path = os.path.join(output_dir, f"{self.name}_{split}_predictions.conll")
        with atomic_open(path, "w", encoding="utf-8") as f:
            for sentence, tags in zip(self.sentences(split), self.predicted_tags(split, predictions)):
                for token, tag in zip(sentence.tokens, tags):
                    f.write(f"{token}\t{tag}\n")
                f.write("\n")
        return [path]
