"""Fine-tune ALBERT on SQuAD v1.1 or v2.0.

The command known from google-research/albert:

    python run_squad.py --helpfull

The same command is installed as `albert-squad` and runs as `python -m albert_tf.cli.squad`;
its flags are defined in albert_tf/cli/squad.py.
"""

from albert_tf.cli.squad import run

if __name__ == "__main__":
    run()
