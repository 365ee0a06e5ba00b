"""The encoder's answers: the pooled vector, and the token vectors when an instance asks for them."""

from albert_tf.serving.sentence_inputs import SentenceInputs
from albert_tf.serving.served_example import Field, flag_of


class EncoderAnswers(SentenceInputs):
    """`{"pooled_output": [...]}`, plus `"sequence_output"` (one vector per token, [CLS] and [SEP] included)
    for an instance with `"token_vectors": true`."""

    FIELDS = {**SentenceInputs.FIELDS, "token_vectors": Field("BOOL", 1, "also answer a vector per token")}
    outputs = ("pooled_output", "sequence_output")

    def context(self, instance, where):
        return {"token_vectors": flag_of(instance, "token_vectors", where)}

    def answer(self, example, outputs):
        row = outputs[0]
        answer = {"pooled_output": row["pooled_output"].tolist()}
        if example.context["token_vectors"]:
            answer["sequence_output"] = row["sequence_output"][:len(example.rows[0][0])].tolist()
        return answer
