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

from albert_tf.cli import flag_groups
from albert_tf.tasks.token_classification_config import TokenClassificationConfig

FLAGS = flags.FLAGS
configs_from_flags, main, run = flag_groups.finetuning_command(
    "token_classification", TokenClassificationConfig(), __name__)


if __name__ == "__main__":
    run()
