"""A multiple-choice (RACE) model's answers: the chosen option and every option's probability.

An instance is `{"article": ..., "question": ..., "options": [...]}` (RACE has 4 options; the model scores
each option on its own, so 2 to 26 are taken), packed as run_race does (`race_data.encode_choices`).
"""

from albert_tf.serving.served_example import Field, InputError, ServedExample, read_object, softmax, text_of
from albert_tf.tasks.race_data import RaceExample, encode_choices

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class ChoiceAnswers:
    """`{"choice": "B", "index": 1, "option": "the text of B", "probabilities": [0.1, 0.7, 0.1, 0.1]}`."""

    FIELDS = {"article": Field("BYTES", 1, "the passage"),
              "question": Field("BYTES", 1, "the question; a \"_\" in it is replaced by each option"),
              "options": Field("BYTES", 2, "the options, in order (A, B, ...)")}
    outputs = ("choice", "index", "option", "probabilities")

    def __init__(self, tokenizer, serving, runner):
        self.tokenizer = tokenizer
        self.max_seq_length = serving["max_seq_length"]
        self.max_qa_length = serving.get("max_qa_length", 128)

    def example(self, instance, where="instance"):
        instance = read_object(instance, self.FIELDS, where)
        article, question = text_of(instance, "article", where), text_of(instance, "question", where)
        options = instance.get("options")
        if not (isinstance(options, list) and 2 <= len(options) <= len(LETTERS)
                and all(isinstance(option, str) for option in options)):
            raise InputError(f"{where}.options: expected a list of 2 to {len(LETTERS)} strings, got "
                             f"{options!r}"[:200])
        rows, truncated = encode_choices(RaceExample("0", "middle", article, question, options, 0), self.tokenizer,
                                         self.max_seq_length, self.max_qa_length)
        return ServedExample([([ids for ids, _ in rows], [segments for _, segments in rows])], truncated,
                             {"options": options})

    def answer(self, example, outputs):
        probabilities = softmax(outputs[0]["logits"])
        index = int(probabilities.argmax())
        return {"choice": LETTERS[index], "index": index, "option": example.context["options"][index],
                "probabilities": [float(p) for p in probabilities]}
