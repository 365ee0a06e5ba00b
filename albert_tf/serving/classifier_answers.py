"""A classifier's answers: the label name and every label's probability; a regressor's (one output): its score."""

from albert_tf.errors import ConfigError
from albert_tf.serving.sentence_inputs import SentenceInputs
from albert_tf.serving.served_example import softmax


class ClassifierAnswers(SentenceInputs):
    """`{"label": "positive", "probabilities": {"negative": 0.1, "positive": 0.9}}` or `{"score": 3.2}`."""

    def __init__(self, tokenizer, serving, runner):
        super().__init__(tokenizer, serving, runner)
        # a SavedModel regressor's signature gives its score as "predictions" only
        self.num_classes = runner.output_width("logits") or 1
        self.labels = serving.get("labels")
        if self.labels is not None and len(self.labels) != self.num_classes:
            raise ConfigError(f"export_info.json names {len(self.labels)} labels for {self.num_classes} outputs; "
                              "export again with one --labels name per output")
        self.outputs = ("label", "probabilities") if self.num_classes > 1 else ("score",)

    def answer(self, example, outputs):
        row = outputs[0]
        if self.num_classes == 1:
            score = row["logits"][0] if "logits" in row else row["predictions"].reshape(-1)[0]
            return {"score": float(score)}
        probabilities = softmax(row["logits"])
        names = self.labels or [str(i) for i in range(self.num_classes)]
        return {"label": names[int(probabilities.argmax())],
                "probabilities": {name: float(p) for name, p in zip(names, probabilities)}}
