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


from absl import flags, logging

from albert_tf.cli import console, flag_groups
from albert_tf.data.create_pretraining_data import create_from_config
from albert_tf.data.data_creation_config import DataCreationConfig

FLAGS = flags.FLAGS

flag_groups.define_flags(DataCreationConfig())


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
