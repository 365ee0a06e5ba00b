"""Writes the test data of tests/data/ from the project's shared data folder (../shared/data).

Run by hand when the test data must change; tests never run it. The files keep the shared
folder's layout (glue/SST-2/dev.tsv, ...), so a test names one relative path for both. Each file
is either copied byte for byte or cut to its first rows (a header kept), never edited otherwise;
README.md beside this script lists what each holds, where it comes from and its license.

    python tests/data/trim_shared_data.py [--shared ../shared/data]
"""

import argparse
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

COPIED = [
    "sentencepiece/albert_de_privately/30k-clean.model",
    "sentencepiece/tensorflow_text_test/test_oss_model.model",
    "albert_zh_brightmart/albert_config/vocab.txt",
    "albert_zh_brightmart/data/news_zh_1.txt",
    "albert_configs/google_en_v1/base/config.json",
    "albert_configs/google_en_v1/large/config.json",
    "albert_configs/google_en_v1/xlarge/config.json",
    "albert_configs/google_en_v1/xxlarge/config.json",
    "albert_configs/google_zh/albert_base_zh/albert_config.json",
    *(f"albert_zh_brightmart/albert_config/albert_config_{name}.json" for name in (
        "tiny", "base", "large", "xlarge", "xxlarge", "tiny_google", "small_google", "tiny_google_fast",
        "base_google_fast")),
    "glue/SST-2/dev.tsv",
    "glue/MRPC/dev.tsv",
    "glue/CoLA/dev.tsv",
    "glue/STS-B/LICENSE.txt",
    "corpus_en/bert_sample_text/sample_text.txt",
]

# path -> (data rows kept, header lines)
FIRST_ROWS = {
    "glue/SST-2/train.tsv": (3000, 1),
    "glue/SST-2/test.tsv": (300, 1),
    "glue/MRPC/train.tsv": (600, 1),
    "glue/MRPC/test.tsv": (200, 1),
    "glue/STS-B/train.tsv": (600, 1),
    "glue/STS-B/dev.tsv": (400, 1),
    "glue/STS-B/test.tsv": (200, 1),
    "glue/CoLA/test.tsv": (200, 1),
    "clue/afqmc/dev.json": (1000, 0),
}

# WikiText-2: the lines before the first top-level heading past this line (whole articles only).
WIKITEXT_LINES = {"corpus_en/wikitext-2/valid.txt": 1100, "corpus_en/wikitext-2/test.txt": 450}

SQUAD = "squad/dev-v2.0-first5articles.json"
SQUAD_OUT = "squad/dev-v2.0-first2articles.json"
SQUAD_ARTICLES = 2


def first_rows(source, target, rows, header):
    with open(source, "rb") as f:
        lines = f.read().split(b"\n")
    with open(target, "wb") as f:
        f.write(b"\n".join(lines[:header + rows]) + b"\n")


def whole_articles(source, target, at_least):
    with open(source, "rb") as f:
        lines = f.read().split(b"\n")
    end = at_least
    while end < len(lines) and not (lines[end].startswith(b" = ") and not lines[end].startswith(b" = = ")):
        end += 1
    with open(target, "wb") as f:
        f.write(b"\n".join(lines[:end]) + b"\n")


def main(shared):
    def paths(relative):
        target = os.path.join(HERE, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return os.path.join(shared, relative), target

    for relative in COPIED:
        shutil.copyfile(*paths(relative))
    for relative, (rows, header) in FIRST_ROWS.items():
        first_rows(*paths(relative), rows, header)
    for relative, lines in WIKITEXT_LINES.items():
        whole_articles(*paths(relative), lines)
    source, _ = paths(SQUAD)
    _, target = paths(SQUAD_OUT)
    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    data["data"] = data["data"][:SQUAD_ARTICLES]
    with open(target, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    main(parser.parse_args().shared)
