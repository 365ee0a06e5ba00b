"""A token classifier's answers: the entities of a text with their labels and character offsets.

An instance is a text (`"Ada Lovelace met Babbage in London"` or `{"text": ...}`). It is read as run_ner
reads a sentence (`conll_data.encode_sentences`): split into words at whitespace, each word tokenized on its
own, the label of a word predicted at its first piece; a text longer than max_seq_length takes more
windows (never cut). Entities are the conlleval chunks of the word labels (seqeval's `get_entities`: B-/I-/
E-/S- prefixes, an I- after O starts one), each with the mean probability of its words' labels.
"""

import re

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from albert_tf.errors import ConfigError
from albert_tf.serving.served_example import Field, InputError, ServedExample, read_object, softmax, text_of
from albert_tf.tasks.conll_data import TaggedSentence, encode_sentences, word_predictions

_CHUNK_TAG = re.compile(r"^(O|[BIESLU]-.+)$")


class EntityAnswers:
    """`{"entities": [{"entity": "PER", "text": "Ada Lovelace", "start": 0, "end": 12, "score": 0.98}, ...],
    "words": [{"text": "Ada", "start": 0, "end": 3, "label": "B-PER", "score": 0.99}, ...]}` (characters of
    the text, end exclusive). Labels that are not chunk tags (POS tags) give `"entities": null`."""

    FIELDS = {"text": Field("BYTES", 1, "the text; words are split at whitespace")}
    outputs = ("entities", "words")

    def __init__(self, tokenizer, serving, runner):
        self.tokenizer = tokenizer
        self.max_seq_length = serving["max_seq_length"]
        self.labels = serving.get("labels")
        width = runner.output_width("logits")
        if not self.labels:
            raise ConfigError("export_info.json names no labels: a token classifier is served with its tag names "
                              "(export again with --labels=O,B-PER,I-PER,... in output order)")
        if width is not None and len(self.labels) != width:
            raise ConfigError(f"export_info.json names {len(self.labels)} labels for {width} outputs; export "
                              "again with one --labels name per output")
        self.chunks = all(_CHUNK_TAG.match(label) for label in self.labels)

    def example(self, instance, where="instance"):
        text = text_of(read_object(instance, self.FIELDS, where, text_field="text"), "text", where)
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        if not spans:
            raise InputError(f"{where}.text: no words")
        sentence = TaggedSentence([text[a:b] for a, b in spans], None, 1)
        features, windows = encode_sentences([sentence], self.tokenizer, self.labels, self.max_seq_length)
        return ServedExample(list(zip(features["input_ids"], features["segment_ids"])), False,
                             {"text": text, "spans": spans, "sentence": sentence, "windows": windows})

    def answer(self, example, outputs):
        context = example.context
        longest = max(len(ids) for ids, _ in example.rows)
        logits = np.stack([np.pad(row["logits"][:len(ids)], ((0, longest - len(ids)), (0, 0)))
                           for row, (ids, _) in zip(outputs, example.rows)])
        predicted = word_predictions([context["sentence"]], context["windows"], logits)[0]
        scores = [0.0] * len(predicted)
        for row, (_, start, firsts) in enumerate(context["windows"]):
            for word, position in enumerate(firsts):
                scores[start + word] = float(softmax(logits[row, position])[predicted[start + word]])
        tags = [self.labels[index] for index in predicted]
        text, spans = context["text"], context["spans"]
        words = [{"text": text[a:b], "start": a, "end": b, "label": tag, "score": score}
                 for (a, b), tag, score in zip(spans, tags, scores)]
        entities = None
        if self.chunks:
            entities = [{"entity": kind, "text": text[spans[first][0]:spans[last][1]], "start": spans[first][0],
                         "end": spans[last][1], "score": float(np.mean(scores[first:last + 1]))}
                        for kind, first, last in get_entities(tags)]
        return {"entities": entities, "words": words}
