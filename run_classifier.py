"""Fine-tune ALBERT for classification or regression (GLUE, CLUE, your own files).

The command known from google-research/albert:

    python run_classifier.py --helpfull

The same command is installed as `albert-classifier` and runs as `python -m albert_tf.cli.classifier`;
its flags are defined in albert_tf/cli/classifier.py.
"""

from albert_tf.cli.classifier import run

if __name__ == "__main__":
    run()
