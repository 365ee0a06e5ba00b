r"""Fine-tune ALBERT for token classification: named entities, chunks, part-of-speech tags (CoNLL files).

    albert-ner --train_file=conll2003/train.txt --dev_file=conll2003/valid.txt --test_file=conll2003/test.txt \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --max_seq_length=128 --do_train --do_eval --do_predict \
        --output_dir=out/ner

(also `python run_ner.py ...` or `python -m albert_tf.cli.ner`). Files hold one token per line with its tag
in a column (--label_column, default the last), sentences separated by blank lines. Scores are entity-level
precision, recall and F1 (seqeval, the conlleval definitions). The task is
`albert_tf.tasks.token_classification_task`; the loop `albert_tf.training.training_loop`.
"""

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.tasks.token_classification_config import TokenClassificationConfig

FLAGS = flags.FLAGS

flag_groups.define_finetuning_flags()
flags.DEFINE_string("task_name", "ner", "Name in logs and in the prediction file's name.")
flags.DEFINE_string("train_file", None, "CoNLL-format training file.")
flags.DEFINE_string("dev_file", None, "CoNLL-format dev file (evaluated with --do_eval).")
flags.DEFINE_string("test_file", None, "CoNLL-format test file (tags not needed; predicted with --do_predict).")
flags.DEFINE_integer("token_column", 0, "Column of the token.")
flags.DEFINE_integer("label_column", -1, "Column of the tag (-1: the last).")
flags.DEFINE_string("label_list", None, "Comma-separated tags (default: those of --train_file).")


def configs_from_flags():
    """(task config, training config) from the parsed flags, validated."""
    return flag_groups.finetuning_configs(TokenClassificationConfig())


def main(argv):
    del argv
    console.run_job("token_classification", *configs_from_flags())


def run():
    """The `albert-ner` command."""
    console.run(main)


if __name__ == "__main__":
    run()
