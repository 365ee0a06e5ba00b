"""Every command keeps its flags: names, types and defaults as recorded in tests/golden/command_flags.json.

The flags are generated from the config dataclasses' fields; this pins what users type and what a
flagfile may hold. A deliberate change rewrites the file: `python tests/test_command_flags.py --write`
(from tests/). Recorded before the flags were generated; since then squad and ner lost --data_dir,
which they defined and never read, albert-export gained --labels, albert-serve arrived, and the fine-tuning
commands gained the distillation flags (albert-distill TASK runs them with a teacher).
"""

import json
import os
import sys

import pytest

from conftest import REPO
import processes

GOLDEN = os.path.join(REPO, "tests", "golden", "command_flags.json")
COMMANDS = ["pretrain", "classifier", "squad", "race", "ner", "create_pretraining_data", "train_sentencepiece",
            "export_model", "convert_checkpoint", "serve"]
# Each command in its own process: absl's flags are process-global.
CAPTURE = """
import importlib, json, os, sys
importlib.import_module("albert_tf.cli." + sys.argv[1])
from absl import flags
flags.FLAGS(["command"])
found = {}
for module, defined in flags.FLAGS.flags_by_module_dict().items():
    if module.startswith("albert_tf.cli"):
        for flag in defined:
            default = list(flag.default) if isinstance(flag.default, (list, tuple)) else flag.default
            if flag.name in ("num_workers", "num_threads") and default == os.cpu_count():
                default = "os.cpu_count()"  # the machine's
            found[flag.name] = {"default": default, "type": flag.flag_type()}
print(json.dumps(found, sort_keys=True))
"""


def command_flags(command):
    result = processes.run([sys.executable, "-c", CAPTURE, command], capture_output=True, text=True, timeout=120,
                           cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("command", COMMANDS)
def test_flag_names_types_and_defaults_are_unchanged(command):
    with open(GOLDEN, encoding="utf-8") as f:
        expected = json.load(f)[command]
    assert command_flags(command) == expected


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    with open(GOLDEN, "w", encoding="utf-8") as f:
        json.dump({command: command_flags(command) for command in COMMANDS}, f, indent=1, sort_keys=True)
        f.write("\n")
