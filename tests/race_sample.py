"""A small RACE-format folder built from real SQuAD paragraphs (RACE itself is not in tests/data)."""

import json
import os


def write_race_sample(squad_file, root, questions_per_split=(12, 8, 8)):
    """RACE/{train,dev,test}/{middle,high}/*.txt; the gold option is the SQuAD answer."""
    with open(squad_file, encoding="utf-8") as f:
        data = json.load(f)["data"]
    items = []
    for article in data:
        for paragraph in article["paragraphs"]:
            answers = [qa for qa in paragraph["qas"] if qa["answers"]]
            if len(answers) >= 4:
                items.append((paragraph["context"], answers))
    position = 0
    for split, count in zip(("train", "dev", "test"), questions_per_split):
        for level in ("middle", "high"):
            folder = os.path.join(root, split, level)
            os.makedirs(folder, exist_ok=True)
            for file_number in range(count // 4):
                context, qas = items[position % len(items)]
                position += 1
                record = {"id": f"{level}{file_number}.txt", "article": context, "questions": [],
                          "options": [], "answers": []}
                texts = [qa["answers"][0]["text"] for qa in qas[:4]]
                for number, qa in enumerate(qas[:4]):
                    gold = number % 4
                    options = [texts[(number + k) % 4] for k in range(4)]
                    options[0], options[gold] = options[gold], options[0]
                    question = qa["question"] if number % 2 else qa["question"].rstrip("?") + " _ ."
                    record["questions"].append(question)
                    record["options"].append(options)
                    record["answers"].append("ABCD"[gold])
                with open(os.path.join(folder, record["id"]), "w", encoding="utf-8") as f:
                    json.dump(record, f)
    return root
