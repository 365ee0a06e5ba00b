r"""Fine-tune ALBERT on SQuAD v1.1 or v2.0 and write the official prediction files.

    albert-squad --flagfile=flags/squad_v2.flags --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/squad2

(also `python run_squad.py ...` or `python -m albert_tf.cli.squad`). The task is
`albert_tf.tasks.squad_task` (windows, the v1/v2 heads, the official scores and the v2 threshold
search); the loop `albert_tf.training.training_loop`. tools/squad_eval.py (albert-squad-eval)
scores the written predictions like the official script.
"""

from absl import flags

from albert_tf.cli import flag_groups
from albert_tf.tasks.squad_config import SquadConfig

FLAGS = flags.FLAGS
configs_from_flags, main, run = flag_groups.finetuning_command("squad", SquadConfig(), __name__)


if __name__ == "__main__":
    run()
