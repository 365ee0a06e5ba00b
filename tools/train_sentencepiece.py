r"""Trains an ALBERT-style SentencePiece model on a text corpus.

The settings are those of the ALBERT release's 30k-clean.model: unigram,
ids 0-4 = <pad> <unk> [CLS] [SEP] [MASK] ([CLS], [SEP], [MASK] as control
symbols), no <s>/</s>, user-defined symbols ( ) " - . – £ €, character
coverage 0.99995, shuffled input sentences. The corpus is normalised with
ALBERT's preprocess_text first (lower-cased with --do_lower_case), as the
release did, so the model matches what FullTokenizer feeds it.

Example:

  python tools/train_sentencepiece.py --input='corpus/*.txt' \
    --model_prefix=out/30k-clean --vocab_size=30000
"""

import os
import sys

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sentencepiece  # noqa: E402

from albert_tf.data.file_patterns import expand_file_patterns  # noqa: E402
from albert_tf.tokenization import FullTokenizer, preprocess_text  # noqa: E402

# The ALBERT release's trainer settings (its README's spm_train command).
CONTROL_SYMBOLS = ("[CLS]", "[SEP]", "[MASK]")
USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac")

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


def train_sentencepiece(input_files, model_prefix, vocab_size=30000, do_lower_case=True,
                        character_coverage=0.99995, input_sentence_size=10_000_000,
                        hard_vocab_limit=True, random_seed=12345, num_threads=1, log=print):
    """Trains `model_prefix`.model/.vocab; returns the model path.

    Raises:
        ValueError: if the corpus has no text.
    """
    directory = os.path.dirname(os.path.abspath(model_prefix))
    os.makedirs(directory, exist_ok=True)
    # A fixed name (it is recorded in the model's trainer spec) keeps models reproducible.
    normalized_path = model_prefix + ".normalized.txt"
    with open(normalized_path, "w", encoding="utf-8") as normalized:
        lines = 0
        for path in input_files:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = preprocess_text(line, lower=do_lower_case)
                    if line:
                        normalized.write(line + "\n")
                        lines += 1
    try:
        if not lines:
            raise ValueError("no text to train on in: " + ", ".join(input_files))
        log(f"training a {vocab_size}-piece unigram model on {lines} normalised lines")
        if hasattr(sentencepiece, "set_random_generator_seed"):
            sentencepiece.set_random_generator_seed(random_seed)
        sentencepiece.SentencePieceTrainer.Train(
            input=normalized_path, model_prefix=model_prefix, vocab_size=vocab_size,
            model_type="unigram", pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
            control_symbols=",".join(CONTROL_SYMBOLS),
            # CSV: the double quote must be written as a quoted field, """".
            user_defined_symbols=",".join('""""' if s == '"' else s for s in USER_DEFINED_SYMBOLS),
            character_coverage=character_coverage, input_sentence_size=input_sentence_size,
            shuffle_input_sentence=True, hard_vocab_limit=hard_vocab_limit,
            num_threads=num_threads, minloglevel=2)
    finally:
        os.remove(normalized_path)
    model = model_prefix + ".model"
    special = FullTokenizer(spm_model_file=model).special_token_ids()
    log(f"wrote {model} (special ids {special}) and {model_prefix}.vocab")
    return model


def main(argv):
    del argv
    train_sentencepiece(
        expand_file_patterns(FLAGS.input), FLAGS.model_prefix, vocab_size=FLAGS.vocab_size,
        do_lower_case=FLAGS.do_lower_case, character_coverage=FLAGS.character_coverage,
        input_sentence_size=FLAGS.input_sentence_size, hard_vocab_limit=FLAGS.hard_vocab_limit,
        random_seed=FLAGS.random_seed, num_threads=FLAGS.num_threads, log=logging.info)


if __name__ == "__main__":
    flags.mark_flags_as_required(["input", "model_prefix"])
    app.run(main)
