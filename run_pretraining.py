"""ALBERT pretraining (MLM + SOP) with LAMB, tf.distribute and mixed precision.

The command known from google-research/albert:

    python run_pretraining.py --flagfile=flags/demo.flags      # the embedded demo
    python run_pretraining.py --helpfull

The same command is installed as `albert-pretrain` and runs as `python -m albert_tf.cli.pretrain`;
its flags are defined in albert_tf/cli/pretrain.py.
"""

from albert_tf.cli.pretrain import run

if __name__ == "__main__":
    run()
