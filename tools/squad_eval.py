"""`albert-squad-eval` from the source tree: see albert_tf/cli/squad_eval.py (`--help` lists the arguments)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from albert_tf.cli.squad_eval import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
