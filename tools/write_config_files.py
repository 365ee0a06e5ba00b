"""Writes flags/configs/*.json from `albert_tf.albert_config.PRESETS`, the one list of released configs.

    python tools/write_config_files.py           # rewrite the files
    python tools/write_config_files.py --check   # exit 1 naming any file that differs from its preset

The files are the release's albert_config.json (Google's keys, unused ones included) for the flagfiles
and for users who want a file; tests/test_albert_config.py runs --check.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from albert_tf.albert_config import PRESETS  # noqa: E402

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flags", "configs")
# file name -> preset
FILES = {"albert_base.json": "base_v2", "albert_large.json": "large_v2", "albert_xlarge.json": "xlarge_v2",
         "albert_xxlarge.json": "xxlarge_v2", "albert_zh_base.json": "google_zh_base"}


def text_of(preset):
    return json.dumps(PRESETS[preset], indent=2, sort_keys=True) + "\n"


def main(argv):
    differing = []
    for name, preset in FILES.items():
        path = os.path.join(CONFIGS, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current == text_of(preset):
            continue
        if "--check" in argv:
            differing.append(f"{path} differs from PRESETS[{preset!r}]")
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text_of(preset))
            print(f"wrote {path} (PRESETS[{preset!r}])")
    for line in differing:
        print(line, file=sys.stderr)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
