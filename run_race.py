"""Fine-tune ALBERT on RACE.

The command known from google-research/albert:

    python run_race.py --helpfull

The same command is installed as `albert-race` and runs as `python -m albert_tf.cli.race`;
its flags are defined in albert_tf/cli/race.py.
"""

from albert_tf.cli.race import run

if __name__ == "__main__":
    run()
