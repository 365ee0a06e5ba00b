r"""Fine-tune ALBERT for classification or regression: GLUE, CLUE and your own files.

    albert-classifier --flagfile=flags/glue/sst-2.flags --data_dir=glue/SST-2 \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/sst-2

(also `python run_classifier.py ...` or `python -m albert_tf.cli.classifier`). Tasks
(--task_name): cola, sst-2, mrpc, sts-b (regression), qqp, mnli (dev_matched, also scored on
dev_mismatched), qnli, rte, wnli, lcqmc, afqmc, xnli-zh, and `generic`: any TSV/CSV/JSON-lines
files given by --train_file/--dev_file/--test_file with --text_a_column, --text_b_column,
--label_column and --label_list. The task is `albert_tf.tasks.classifier_task`; the loop
`albert_tf.training.training_loop`.
"""

from absl import flags

from albert_tf.cli import flag_groups
from albert_tf.tasks.classifier_config import ClassifierConfig

FLAGS = flags.FLAGS
configs_from_flags, main, run = flag_groups.finetuning_command("classifier", ClassifierConfig(), __name__)


if __name__ == "__main__":
    run()
