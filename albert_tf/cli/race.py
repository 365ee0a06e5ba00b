r"""Fine-tune ALBERT on RACE (4-option reading comprehension).

    albert-race --flagfile=flags/race.flags --data_dir=RACE --init_checkpoint=albert_base/model.ckpt-best \
        --albert_config_file=albert_base/albert_config.json --spm_model_file=albert_base/30k-clean.model \
        --output_dir=out/race

(also `python run_race.py ...` or `python -m albert_tf.cli.race`). The task is
`albert_tf.tasks.race_task`; the loop `albert_tf.training.training_loop`.
"""

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.tasks.race_config import RaceConfig
from albert_tf.tasks.race_data import LEVELS

FLAGS = flags.FLAGS

flag_groups.define_finetuning_flags()
flags.DEFINE_integer("max_qa_length", 128, "Question+option tokens kept (the last ones).")
flags.DEFINE_list("levels", list(LEVELS), "RACE levels to read: middle, high or both.")


def configs_from_flags():
    """(task config, training config) from the parsed flags, validated."""
    return flag_groups.finetuning_configs(RaceConfig())


def main(argv):
    del argv
    console.run_job("race", *configs_from_flags())


def run():
    """The `albert-race` command."""
    console.run(main)


if __name__ == "__main__":
    run()
