"""RACE reading comprehension: 4-option multiple choice, middle and high school.

Files as the RACE release: `RACE/{train,dev,test}/{middle,high}/*.txt`, each a
JSON object with `article`, `questions`, `options` (4 per question),
`answers` ("A".."D") and `id`. Encoding as the original run_race: for each
option the question's "_" is replaced by the option if it has one, else
the option is appended after a space; the last `max_qa_length` tokens of
that are kept; `[CLS] article [SEP] question+option [SEP]` with the longer
side truncated first.
"""

import dataclasses
import glob
import json
import os
from typing import List

from albert_tf.tasks.classification_tasks import truncate_pair

LEVELS = ("middle", "high")
NUM_CHOICES = 4


@dataclasses.dataclass
class RaceExample:
    guid: str
    level: str
    article: str
    question: str
    options: List[str]
    label: int


def read_race_examples(data_dir, split, levels=LEVELS):
    """Examples of `data_dir/split/{middle,high}/*.txt` (errors name the file)."""
    examples = []
    for level in levels:
        folder = os.path.join(data_dir, split, level)
        paths = sorted(glob.glob(os.path.join(folder, "*.txt")))
        if not paths:
            raise FileNotFoundError(f"no RACE files in {folder} (expected RACE/{split}/{level}/*.txt)")
        for path in paths:
            try:
                with open(path, encoding="utf-8") as f:
                    record = json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"{path}: not a RACE JSON file ({error})") from None
            for number, (question, options, answer) in enumerate(
                    zip(record["questions"], record["options"], record["answers"])):
                if len(options) != NUM_CHOICES or answer not in "ABCD" or len(answer) != 1:
                    raise ValueError(f"{path}: question {number}: expected 4 options and an answer A-D, "
                                     f"got {len(options)} options and answer {answer!r}")
                examples.append(RaceExample(f"{record.get('id', os.path.basename(path))}-{number}", level,
                                            record["article"], question, list(options), "ABCD".index(answer)))
    return examples


def encode_choices(example, tokenizer, max_seq_length, max_qa_length=128, article_ids=None):
    """(rows, truncated): per option `(input_ids, segment_ids)` of `[CLS] article [SEP] question+option [SEP]`
    (a "_" in the question is replaced by the option, else the option follows it; the question+option keeps
    its last `max_qa_length` tokens; the longer side loses tokens first), and whether anything was cut."""
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    if article_ids is None:
        article_ids = tokenizer.encode(example.article)
    rows, truncated = [], False
    for option in example.options:
        qa = example.question.replace("_", option) if "_" in example.question else f"{example.question} {option}"
        qa_ids = tokenizer.encode(qa)
        kept_qa = qa_ids[-max_qa_length:]
        kept_article = list(article_ids)
        truncate_pair(kept_article, kept_qa, max_seq_length - 3)
        truncated = truncated or len(kept_qa) < len(qa_ids) or len(kept_article) < len(article_ids)
        ids = [cls_id] + kept_article + [sep_id] + kept_qa + [sep_id]
        rows.append((ids, [0] * (len(kept_article) + 2) + [1] * (len(kept_qa) + 1)))
    return rows, truncated


def encode_race_examples(examples, tokenizer, max_seq_length, max_qa_length=128):
    """Features for `finetuning_dataset(num_choices=4)`: the 4 encodings of an example padded to one length."""
    features = {name: [] for name in ("input_ids", "input_mask", "segment_ids", "label_ids", "level",
                                      "example_index")}
    articles = {}
    for index, example in enumerate(examples):
        if example.article not in articles:
            articles[example.article] = tokenizer.encode(example.article)
        choices, _ = encode_choices(example, tokenizer, max_seq_length, max_qa_length, articles[example.article])
        length = max(len(ids) for ids, _ in choices)
        flat_ids, flat_mask, flat_segments = [], [], []
        for ids, segments in choices:
            pad = length - len(ids)
            flat_ids += ids + [0] * pad
            flat_mask += [1] * len(ids) + [0] * pad
            flat_segments += segments + [0] * pad
        features["input_ids"].append(flat_ids)
        features["input_mask"].append(flat_mask)
        features["segment_ids"].append(flat_segments)
        features["label_ids"].append(example.label)
        features["level"].append(LEVELS.index(example.level))
        features["example_index"].append(index)
    return features
