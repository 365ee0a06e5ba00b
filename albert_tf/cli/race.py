r"""Fine-tune ALBERT on RACE (4-option reading comprehension).

    albert-race --flagfile=flags/race.flags --data_dir=RACE --init_checkpoint=albert_base/model.ckpt-best \
        --albert_config_file=albert_base/albert_config.json --spm_model_file=albert_base/30k-clean.model \
        --output_dir=out/race

(also `python run_race.py ...` or `python -m albert_tf.cli.race`). The task is
`albert_tf.tasks.race_task`; the loop `albert_tf.training.training_loop`.
"""

from absl import flags

from albert_tf.cli import flag_groups
from albert_tf.tasks.race_config import RaceConfig

FLAGS = flags.FLAGS
configs_from_flags, main, run = flag_groups.finetuning_command("race", RaceConfig(), __name__)


if __name__ == "__main__":
    run()
