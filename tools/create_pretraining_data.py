"""`albert-create-pretraining-data` from the source tree: see albert_tf/cli/create_pretraining_data.py.

`--helpfull` lists the flags.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from albert_tf.cli.create_pretraining_data import run  # noqa: E402

if __name__ == "__main__":
    run()
