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

from absl import flags, logging

from albert_tf.cli import console, flag_groups
from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.tokenization.sentencepiece_config import SentencePieceConfig
from albert_tf.tokenization.sentencepiece_training import train_sentencepiece

FLAGS = flags.FLAGS
flag_groups.define_flags(SentencePieceConfig())


def main(argv):
    del argv
    config = flag_groups.config_from_flags(SentencePieceConfig()).validate()
    train_sentencepiece(expand_file_patterns(config.input), config.model_prefix, **config.trainer_settings(),
                        log=logging.info)


def run():
    """The `albert-train-sentencepiece` command."""
    flags.mark_flags_as_required(["input", "model_prefix"])
    console.run(main)


if __name__ == "__main__":
    run()
