"""`albert-export` from the source tree: see albert_tf/cli/export_model.py.

`--helpfull` lists the flags.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from albert_tf.cli.export_model import run  # noqa: E402

if __name__ == "__main__":
    run()
