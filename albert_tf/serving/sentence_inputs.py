"""Instances of one sentence or a pair: text, or token ids (the inputs of classifiers and the encoder).

Text is packed as `[CLS] A [SEP] (B [SEP])` with the original truncation rule (the longer segment loses a
token first) to the export's max_seq_length. Token ids come as `{"input_ids": [...], "segment_ids": [...],
"input_mask": [...]}`; padding a client sent is dropped (the batch is padded again to its own longest row).
"""

from albert_tf.serving.served_example import Field, InputError, ServedExample, read_object, text_of
from albert_tf.tasks.classification_tasks import truncate_pair


class SentenceInputs:
    """Reads sentence instances for the kinds whose model sees one packed sequence and answers once."""

    FIELDS = {
        "text": Field("BYTES", 1, "the sentence (or the first of a pair)"),
        "text_pair": Field("BYTES", 1, "the second sentence of a pair"),
        "input_ids": Field("INT32", 2, "token ids instead of text"),
        "input_mask": Field("INT32", 2, "ones then zeros (padding), one per input id"),
        "segment_ids": Field("INT32", 2, "0 or 1, one per input id"),
    }

    def __init__(self, tokenizer, serving, runner):
        self.tokenizer = tokenizer
        self.max_seq_length = serving["max_seq_length"]
        self.cls_id, self.sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])

    def example(self, instance, where="instance"):
        instance = read_object(instance, self.FIELDS, where, text_field="text")
        if "input_ids" in instance:
            return self._token_example(instance, where)
        if "text" not in instance:
            raise InputError(f"{where}: expected \"text\" (or \"input_ids\")")
        text, pair = text_of(instance, "text", where), text_of(instance, "text_pair", where, required=False)
        ids_a = self.tokenizer.encode(text)
        ids_b = self.tokenizer.encode(pair) if pair is not None else None
        length = len(ids_a) + (len(ids_b) + 1 if ids_b is not None else 0)
        truncated = length > self.max_seq_length - 2
        if ids_b is None:
            ids_a = ids_a[:self.max_seq_length - 2]
        else:
            truncate_pair(ids_a, ids_b, self.max_seq_length - 3)
        input_ids = [self.cls_id] + ids_a + [self.sep_id]
        segment_ids = [0] * len(input_ids)
        if ids_b is not None:
            input_ids += ids_b + [self.sep_id]
            segment_ids += [1] * (len(ids_b) + 1)
        return ServedExample([(input_ids, segment_ids)], truncated, self.context(instance, where))

    def context(self, instance, where):
        """What the kind's answer needs of the instance besides its rows."""
        return {}

    def _token_example(self, instance, where):
        ids = instance["input_ids"]
        if not (isinstance(ids, list) and ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            raise InputError(f"{where}.input_ids: expected a non-empty list of integers")
        limit = self.tokenizer.vocab_size
        if min(ids) < 0 or max(ids) >= limit:
            raise InputError(f"{where}.input_ids: ids must lie in [0, {limit}) (the vocabulary), found "
                             f"{min(ids)}..{max(ids)}")
        segments = instance.get("segment_ids", [0] * len(ids))
        if not (isinstance(segments, list) and len(segments) == len(ids) and all(s in (0, 1) for s in segments)):
            raise InputError(f"{where}.segment_ids: expected {len(ids)} values of 0 or 1, one per input id")
        mask = instance.get("input_mask", [1] * len(ids))
        keep = sum(mask) if isinstance(mask, list) and all(m in (0, 1) for m in mask) else -1
        if keep < 1 or len(mask) != len(ids) or mask != [1] * keep + [0] * (len(ids) - keep):
            raise InputError(f"{where}.input_mask: expected {len(ids)} values, ones then zeros (padding), one per "
                             "input id")
        truncated = keep > self.max_seq_length
        keep = min(keep, self.max_seq_length)
        return ServedExample([(list(ids[:keep]), list(segments[:keep]))], truncated, self.context(instance, where))
