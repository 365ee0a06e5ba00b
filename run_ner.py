"""Fine-tune ALBERT for token classification (named entities, part-of-speech tags) on CoNLL files.

    python run_ner.py --helpfull

The same command is installed as `albert-ner` and runs as `python -m albert_tf.cli.ner`;
its flags are defined in albert_tf/cli/ner.py.
"""

from albert_tf.cli.ner import run

if __name__ == "__main__":
    run()
