"""Helpers shared by the pretraining data tests."""

import os

import tensorflow as tf

from albert_tf.data.pretraining_dataset import feature_spec

SEQ, PRED = 128, 20


def sentence_corpus(test_data, path, paragraphs=400, paragraphs_per_document=6):
    """WikiText-2 as documents of a few paragraphs, one sentence per line, blank lines between."""
    with open(os.path.join(test_data, "corpus_en/wikitext-2/valid.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip() and not line.strip().startswith("=")]
    with open(path, "w", encoding="utf-8") as out:
        for first in range(0, paragraphs, paragraphs_per_document):
            for paragraph in lines[first:first + paragraphs_per_document]:
                out.write("".join(s.strip() + " .\n" for s in paragraph.split(" . ") if s.strip()))
            out.write("\n")
    return str(path)


def read_records(paths, seq=SEQ, pred=PRED):
    spec = feature_spec(seq, pred)
    dataset = tf.data.TFRecordDataset(paths).batch(100000).map(lambda r: tf.io.parse_example(r, spec))
    return {k: v.numpy() for k, v in next(iter(dataset)).items()}
