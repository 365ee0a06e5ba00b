r"""Trains an ALBERT-style SentencePiece model on a text corpus.

The settings are those of the ALBERT release's 30k-clean.model: unigram,
ids 0-4 = <pad> <unk> [CLS] [SEP] [MASK] ([CLS], [SEP], [MASK] as control
symbols), no <s>/</s>, user-defined symbols ( ) " - . – £ €, character
coverage 0.99995, shuffled input sentences. The corpus is normalised with
ALBERT's preprocess_text first (lower-cased with --do_lower_case), as the
release did, so the model matches what FullTokenizer feeds it.

Example:

  albert-train-sentencepiece --input='corpus/*.txt' \
    --model_prefix=out/30k-clean --vocab_size=30000
"""

import os

from absl import flags, logging

from albert_tf.cli import console


from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.tokenization.sentencepiece_training import train_sentencepiece

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "Text file(s): comma-separated paths or globs.")
flags.DEFINE_string("model_prefix", None, "Writes PREFIX.model and PREFIX.vocab.")
flags.DEFINE_integer("vocab_size", 30000, "Vocabulary size (the release: 30000).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the corpus (uncased model).")
flags.DEFINE_float("character_coverage", 0.99995, "Share of characters the vocabulary must cover.")
flags.DEFINE_integer("input_sentence_size", 10_000_000, "Most sentences sampled for training.")
flags.DEFINE_bool("hard_vocab_limit", True, "Fail if the corpus cannot fill the vocabulary (off: allow fewer).")
flags.DEFINE_integer("random_seed", 12345, "Seed of sentence sampling and shuffling.")
flags.DEFINE_integer("num_threads", os.cpu_count() or 1, "Trainer threads.")
flags.DEFINE_bool("overwrite", False, "Replace PREFIX.model/.vocab if they exist (without it: an error).")


def main(argv):
    del argv
    train_sentencepiece(
        expand_file_patterns(FLAGS.input), FLAGS.model_prefix, vocab_size=FLAGS.vocab_size,
        do_lower_case=FLAGS.do_lower_case, character_coverage=FLAGS.character_coverage,
        input_sentence_size=FLAGS.input_sentence_size, hard_vocab_limit=FLAGS.hard_vocab_limit,
        random_seed=FLAGS.random_seed, num_threads=FLAGS.num_threads, overwrite=FLAGS.overwrite, log=logging.info)


def run():
    """The `albert-train-sentencepiece` command."""
    flags.mark_flags_as_required(["input", "model_prefix"])
    console.run(main)


if __name__ == "__main__":
    run()
