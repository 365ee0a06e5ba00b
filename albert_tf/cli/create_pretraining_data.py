r"""Creates ALBERT pretraining TFRecords (MLM + SOP) from text.

Input: text files, one sentence per line, a blank line between documents.
Output: TFRecord files with the original features (input_ids, input_mask,
segment_ids, token_boundary, masked_lm_positions, masked_lm_ids,
masked_lm_weights, next_sentence_labels).

The flags keep the names of google-research/albert's script. The same
--random_seed gives byte-identical files, whatever --num_workers is.

Example (the ALBERT release settings, English SentencePiece):

  albert-create-pretraining-data \
    --input_file='corpus/*.txt' --output_file=data/train.tfrecord \
    --num_output_shards=16 --spm_model_file=30k-clean.model \
    --max_seq_length=512 --max_predictions_per_seq=20 --dupe_factor=40 \
    --num_workers=8

Chinese (albert_zh) with whole-word masking from jieba:

  albert-create-pretraining-data --input_file=news_zh.txt \
    --output_file=zh.tfrecord --vocab_file=vocab.txt --word_segmenter=jieba
"""

import os

from absl import app, flags, logging

from albert_tf.cli import console


from albert_tf.data.create_pretraining_data import (
    create_pretraining_data,
    load_word_segmenter,
)
from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.data.pretraining_instances import InstanceOptions

FLAGS = flags.FLAGS

flags.DEFINE_string("input_file", None, "Input text file(s): comma-separated paths or globs.")
flags.DEFINE_string(
    "output_file", None,
    "Output TFRecord file, or comma-separated files (instances go round-robin). With "
    "--num_output_shards > 1, a single path is a prefix: PREFIX-00000-of-00016, ...")
flags.DEFINE_integer("num_output_shards", 1, "Number of output files made from a single --output_file.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (English ALBERT).")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (Chinese ALBERT); used without --spm_model_file.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case (and strip accents from) the text.")
flags.DEFINE_integer("max_seq_length", 512, "Tokens per instance, including [CLS] and two [SEP].")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Most masked tokens per instance.")
flags.DEFINE_float("masked_lm_prob", 0.15, "Fraction of tokens to mask (before the cap above).")
flags.DEFINE_integer("dupe_factor", 40, "Passes over the corpus, each with new chunks and masks.")
flags.DEFINE_float("short_seq_prob", 0.1, "Probability of a shorter random target length.")
flags.DEFINE_integer("ngram", 3, "Longest n-gram (in whole words) to mask.")
flags.DEFINE_bool("favor_shorter_ngram", True, "p(n) proportional to 1/n; off reverses it.")
flags.DEFINE_bool("do_whole_word_mask", True, "Mask whole words rather than single pieces.")
flags.DEFINE_bool("random_next_sentence", False, "BERT's NSP (random B from another document) instead of SOP.")
flags.DEFINE_integer("random_seed", 12345, "Seed of every random draw; same seed, same bytes.")
flags.DEFINE_bool(
    "dynamic_masking", False,
    "Write unmasked instances (masked_lm_* all zero); the input pipeline masks them anew each "
    "epoch (albert_tf.data.pretraining_dataset(dynamic_masking=True)). Use --dupe_factor=1.")
flags.DEFINE_string(
    "word_segmenter", None,
    "Chinese word segmenter for whole-word masking with a WordPiece vocab: 'jieba' or "
    "'module:function' (a function str -> list of words).")
flags.DEFINE_integer("num_workers", os.cpu_count() or 1, "Worker processes (the output does not depend on it).")


def output_paths(output_file, num_output_shards):
    paths = [p for p in output_file.split(",") if p]
    if num_output_shards > 1:
        if len(paths) != 1:
            raise ValueError("--num_output_shards needs a single --output_file prefix")
        paths = [f"{paths[0]}-{i:05d}-of-{num_output_shards:05d}" for i in range(num_output_shards)]
    return paths


def main(argv):
    del argv
    if not FLAGS.spm_model_file and not FLAGS.vocab_file:
        raise app.UsageError("set --spm_model_file (SentencePiece) or --vocab_file (WordPiece)")
    input_files = expand_file_patterns(FLAGS.input_file)
    outputs = output_paths(FLAGS.output_file, FLAGS.num_output_shards)
    for path in outputs:
        directory = os.path.dirname(path)
        if directory and "://" not in path:
            os.makedirs(directory, exist_ok=True)
    options = InstanceOptions(
        max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=FLAGS.max_predictions_per_seq,
        masked_lm_prob=FLAGS.masked_lm_prob,
        short_seq_prob=FLAGS.short_seq_prob,
        ngram=FLAGS.ngram,
        favor_shorter_ngram=FLAGS.favor_shorter_ngram,
        do_whole_word_mask=FLAGS.do_whole_word_mask,
        random_next_sentence=FLAGS.random_next_sentence,
        dynamic_masking=FLAGS.dynamic_masking,
    )
    logging.info("reading %d file(s), writing %d file(s), %d worker(s)",
                 len(input_files), len(outputs), FLAGS.num_workers)
    summary = create_pretraining_data(
        input_files, outputs,
        spm_model_file=FLAGS.spm_model_file, vocab_file=FLAGS.vocab_file,
        do_lower_case=FLAGS.do_lower_case, options=options, dupe_factor=FLAGS.dupe_factor,
        random_seed=FLAGS.random_seed, num_workers=FLAGS.num_workers,
        word_segmenter=load_word_segmenter(FLAGS.word_segmenter), log=logging.info)
    for line in summary.lines():
        logging.info(line)
    for path in outputs:
        logging.info("wrote %s", path)


def run():
    """The `albert-create-pretraining-data` command."""
    flags.mark_flags_as_required(["input_file", "output_file"])
    console.run(main)


if __name__ == "__main__":
    run()
