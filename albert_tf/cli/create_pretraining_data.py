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

from absl import flags, logging

from albert_tf.cli import console, flag_groups
from albert_tf.data.create_pretraining_data import create_from_config
from albert_tf.data.data_creation_config import DataCreationConfig

FLAGS = flags.FLAGS

flags.DEFINE_string("input_file", None, "Input text file(s): comma-separated paths or globs.")
flags.DEFINE_string(
    "output_file", None,
    "Output TFRecord file, or comma-separated files (instances go round-robin). With "
    "--num_output_shards > 1, a single path is a prefix: PREFIX-00000-of-00016, ...")
flags.DEFINE_integer("num_output_shards", 1, "Number of output files made from a single --output_file.")
flag_groups.define_vocabulary_flags()
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
flags.DEFINE_bool("overwrite", False, "Replace output files that already exist (without it: an error naming them).")


def main(argv):
    del argv
    config = flag_groups.config_from_flags(DataCreationConfig()).validate()
    summary, outputs = create_from_config(config, log=logging.info)
    for line in summary.lines():
        logging.info(line)
    for path in outputs:
        logging.info("wrote %s", path)


def run():
    """The `albert-create-pretraining-data` command."""
    console.run(main)


if __name__ == "__main__":
    run()
