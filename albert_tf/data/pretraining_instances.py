"""Pretraining instances (SOP/NSP pairs with n-gram whole-word masking).

A faithful re-implementation of google-research/albert's
create_pretraining_data.py over token-id arrays instead of token strings:

* A document is split into chunks of sentences of about the target length
  (max_seq_length - 3, or with probability short_seq_prob a random length in
  [2, max]); a chunk is split at a random sentence boundary into A and B.
  SOP: with probability 0.5 A and B are swapped (label 1). A one-sentence
  chunk takes B from a random other document (label 1, as the original does
  even in SOP mode). With random_next_sentence, BERT's NSP is used instead.
  The longer side is truncated one token at a time from the front or back.
* Masking: num_to_predict = min(max_predictions, max(1, round(n * p))).
  Units are whole words when do_whole_word_mask. Units are visited in random
  order; each starts an n-gram of n units with p(n) proportional to 1/n
  (6/11, 3/11, 2/11 for ngram=3; reversed when favor_shorter_ngram is off),
  shortened while it would exceed the budget, skipped if it overlaps an
  earlier span. Each chosen token becomes [MASK] 80%, itself 10%, a random
  vocabulary id 10%.

Deliberate differences from the original, all of them fixes:
* Every random draw comes from generators seeded by (random_seed, pass,
  block), so output is reproducible and independent of the worker count (the
  original drew n-gram sizes from NumPy's unseeded global generator).
* The random other document is drawn uniformly among the other documents
  (the original tried 10 times and could fall back to the same document).
* A word never spans [SEP]: the first token after a special token starts a
  new unit (the original could glue a "##" piece after [SEP] to the word
  before it).
* Labels are the ids of the original tokens; Chinese whole-word masking
  marks words with a flag instead of rewriting tokens to "##x" (the cause of
  wrong label ids in albert_zh, its issue 19).
"""

import collections
import dataclasses

import numpy as np

from albert_tf.config_fields import MAX_SEQ_LENGTH, setting


@dataclasses.dataclass(frozen=True)
class InstanceOptions:
    """Settings of instance creation; the defaults are the ALBERT release's."""

    max_seq_length: int = setting(MAX_SEQ_LENGTH, "Tokens per instance, including [CLS] and two [SEP].")
    max_predictions_per_seq: int = setting(20, "Most masked tokens per instance.")
    masked_lm_prob: float = setting(0.15, "Fraction of tokens to mask (before the cap above).")
    short_seq_prob: float = setting(0.1, "Probability of a shorter random target length.")
    ngram: int = setting(3, "Longest n-gram (in whole words) to mask.")
    favor_shorter_ngram: bool = setting(True, "p(n) proportional to 1/n; off reverses it.")
    do_whole_word_mask: bool = setting(True, "Mask whole words rather than single pieces.")
    random_next_sentence: bool = setting(False, "BERT's NSP (random B from another document) instead of SOP.")
    dynamic_masking: bool = setting(
        False, "Write unmasked instances (masked_lm_* all zero); the input pipeline masks them anew each epoch "
        "(albert_tf.data.pretraining_dataset(dynamic_masking=True)). Use --dupe_factor=1.")

    def validate(self):
        problems = []
        if self.max_seq_length < 5:
            problems.append(f"max_seq_length={self.max_seq_length} must be at least 5")
        if self.max_predictions_per_seq < 1:
            problems.append(f"max_predictions_per_seq={self.max_predictions_per_seq} must be at least 1")
        if not 0.0 < self.masked_lm_prob <= 1.0:
            problems.append(f"masked_lm_prob={self.masked_lm_prob} must be in (0, 1]")
        if not 0.0 <= self.short_seq_prob <= 1.0:
            problems.append(f"short_seq_prob={self.short_seq_prob} must be in [0, 1]")
        if self.ngram < 1:
            problems.append(f"ngram={self.ngram} must be at least 1")
        if problems:
            raise ValueError("invalid pretraining data options: " + "; ".join(problems))
        return self

    def ngram_probabilities(self):
        p = 1.0 / np.arange(1, self.ngram + 1)
        p /= p.sum()
        return p if self.favor_shorter_ngram else p[::-1].copy()


@dataclasses.dataclass
class TokenizedCorpus:
    """Documents of sentences of tokens, as flat arrays.

    Attributes:
        token_ids: int32 [num_tokens], all sentences back to back.
        word_starts: bool [num_tokens], whether a token starts a whole word.
        sentence_starts: int64 [num_sentences + 1], offsets into token_ids.
        document_starts: int64 [num_documents + 1], offsets into sentences.
    """

    token_ids: np.ndarray
    word_starts: np.ndarray
    sentence_starts: np.ndarray
    document_starts: np.ndarray

    @property
    def num_documents(self):
        return len(self.document_starts) - 1

    @property
    def num_tokens(self):
        return len(self.token_ids)


Instance = collections.namedtuple(
    "Instance", ["input_ids", "segment_ids", "token_boundary", "masked_lm_positions",
                 "masked_lm_ids", "sentence_order_label"])


class InstanceStats:
    """Counters summed over instances (mergeable across workers)."""

    FIELDS = ("instances", "tokens", "masked_tokens", "replaced_by_mask", "kept",
              "replaced_by_random", "sop_swapped", "random_next", "truncated_tokens")

    def __init__(self, ngram):
        self.counts = dict.fromkeys(self.FIELDS, 0)
        # Index = span length in units: as drawn (p ∝ 1/n) for each visited
        # unit, and as masked (after shortening to fit and overlap rejection).
        self.ngram_drawn = np.zeros(ngram + 1, dtype=np.int64)
        self.ngram_histogram = np.zeros(ngram + 1, dtype=np.int64)

    def merge(self, other):
        for key, value in other.counts.items():
            self.counts[key] += value
        self.ngram_drawn += other.ngram_drawn
        self.ngram_histogram += other.ngram_histogram


class InstanceMaker:
    """Makes instances from a `TokenizedCorpus`.

    Args:
        corpus: the `TokenizedCorpus`.
        options: `InstanceOptions`.
        cls_id, sep_id, mask_id: special token ids.
        vocab_size: random replacements are drawn from [0, vocab_size).
    """

    def __init__(self, corpus, options, cls_id, sep_id, mask_id, vocab_size):
        self.corpus = corpus
        self.options = options.validate()
        self.cls_id = cls_id
        self.sep_id = sep_id
        self.mask_id = mask_id
        self.vocab_size = vocab_size
        self._ngram_cdf = np.cumsum(options.ngram_probabilities())

    def instances_from_document(self, document_index, rng, py_rng, stats):
        """All instances of one document (one pass), as the original's function."""
        opts = self.options
        corpus = self.corpus
        first, last = corpus.document_starts[document_index], corpus.document_starts[document_index + 1]
        starts = corpus.sentence_starts[first:last + 1].tolist()
        num_sentences = len(starts) - 1
        max_num_tokens = opts.max_seq_length - 3
        target_length = max_num_tokens
        if py_rng.random() < opts.short_seq_prob:
            target_length = py_rng.randint(2, max_num_tokens)

        instances = []
        chunk_first = 0  # first sentence of the current chunk
        i = 0
        while i < num_sentences:
            chunk_length = starts[i + 1] - starts[chunk_first]
            if i == num_sentences - 1 or chunk_length >= target_length:
                chunk_size = i - chunk_first + 1
                a_end = 1 if chunk_size < 2 else py_rng.randint(1, chunk_size - 1)
                a = (starts[chunk_first], starts[chunk_first + a_end])
                if chunk_size == 1 or (opts.random_next_sentence and py_rng.random() < 0.5):
                    label = 1
                    b = self._random_b(document_index, target_length - (a[1] - a[0]), py_rng)
                    stats.counts["random_next"] += 1
                    # Sentences of the chunk not used for A go back to the pool.
                    i -= chunk_size - a_end
                elif not opts.random_next_sentence and py_rng.random() < 0.5:
                    label = 1
                    b = (a[1], starts[i + 1])
                    a, b = b, a
                    stats.counts["sop_swapped"] += 1
                else:
                    label = 0
                    b = (a[1], starts[i + 1])
                instances.append(self._make_instance(a, b, label, rng, py_rng, stats))
                chunk_first = i + 1
            i += 1
        return instances

    def _random_b(self, document_index, target_b_length, py_rng):
        corpus = self.corpus
        num_documents = corpus.num_documents
        other = document_index
        if num_documents > 1:
            other = py_rng.randrange(num_documents - 1)
            other += other >= document_index
        first, last = corpus.document_starts[other], corpus.document_starts[other + 1]
        start_sentence = first + py_rng.randint(0, last - first - 1)
        start = corpus.sentence_starts[start_sentence]
        end_sentence = start_sentence + 1
        while end_sentence < last and corpus.sentence_starts[end_sentence] - start < target_b_length:
            end_sentence += 1
        return start, int(corpus.sentence_starts[end_sentence])

    def _truncate(self, a, b, py_rng, stats):
        """The original's truncate_seq_pair in closed form.

        The original removes one token at a time from the longer side (B on
        ties), from the front or the back with equal probability. The final
        lengths follow from the lengths alone; the number of front removals on
        each side is a sum of fair coin flips.
        """
        len_a, len_b = a[1] - a[0], b[1] - b[0]
        max_tokens = self.options.max_seq_length - 3
        excess = len_a + len_b - max_tokens
        if excess <= 0:
            return a, b
        stats.counts["truncated_tokens"] += excess
        if len_a - len_b >= excess:
            new_a, new_b = len_a - excess, len_b
        elif len_b - len_a >= excess:
            new_a, new_b = len_a, len_b - excess
        else:  # Both sides end equal, or A one longer (B is trimmed on ties).
            new_a, new_b = (max_tokens + 1) // 2, max_tokens // 2
        sides = []
        for (start, end), new_len in ((a, new_a), (b, new_b)):
            removed = (end - start) - new_len
            front = bin(py_rng.getrandbits(removed)).count("1") if removed else 0
            sides.append((start + front, start + front + new_len))
        return sides[0], sides[1]

    def _make_instance(self, a, b, label, rng, py_rng, stats):
        a, b = self._truncate(a, b, py_rng, stats)
        ids = self.corpus.token_ids
        word_starts = self.corpus.word_starts
        len_a, len_b = a[1] - a[0], b[1] - b[0]
        n = len_a + len_b + 3
        input_ids = np.empty(n, dtype=np.int32)
        input_ids[0] = self.cls_id
        input_ids[1:len_a + 1] = ids[a[0]:a[1]]
        input_ids[len_a + 1] = self.sep_id
        input_ids[len_a + 2:n - 1] = ids[b[0]:b[1]]
        input_ids[n - 1] = self.sep_id
        special = np.zeros(n, dtype=bool)
        special[[0, len_a + 1, n - 1]] = True
        token_boundary = np.empty(n, dtype=bool)
        token_boundary[1:len_a + 1] = word_starts[a[0]:a[1]]
        token_boundary[len_a + 2:n - 1] = word_starts[b[0]:b[1]]
        token_boundary[special] = True
        segment_ids = np.zeros(n, dtype=np.int32)
        segment_ids[len_a + 2:] = 1

        stats.counts["instances"] += 1
        stats.counts["tokens"] += n
        if self.options.dynamic_masking:
            positions = np.zeros(0, dtype=np.int32)
            labels = np.zeros(0, dtype=np.int32)
        else:
            input_ids, positions, labels = self.mask_tokens(
                input_ids, token_boundary, special, rng, stats)
        return Instance(input_ids, segment_ids, token_boundary.astype(np.int32), positions, labels, label)

    def mask_tokens(self, input_ids, token_boundary, special, rng, stats):
        """N-gram (whole-word) masking of one instance.

        Returns:
            (masked input ids, masked positions ascending, label ids).
        """
        opts = self.options
        n = len(input_ids)
        candidate = ~special
        if opts.do_whole_word_mask:
            after_special = np.concatenate([[True], special[:-1]])
            unit_start = candidate & (token_boundary | after_special)
        else:
            unit_start = candidate
        starts = np.flatnonzero(unit_start)
        num_units = len(starts)
        budget = min(opts.max_predictions_per_seq, max(1, int(round(n * opts.masked_lm_prob))))
        if num_units == 0:
            return input_ids, np.zeros(0, np.int32), np.zeros(0, np.int32)
        boundaries = np.flatnonzero(unit_start | special)
        ends = boundaries[np.searchsorted(boundaries, starts, side="right")]
        cumulative = np.concatenate([[0], np.cumsum(ends - starts)]).tolist()

        order = rng.permutation(num_units).tolist()
        sizes = (np.searchsorted(self._ngram_cdf, rng.random(num_units), side="right") + 1).tolist()
        covered = bytearray(num_units)
        unit_selected = np.zeros(num_units, dtype=bool)
        count = 0
        histogram, drawn = stats.ngram_histogram, stats.ngram_drawn
        for w, size in zip(order, sizes):
            if count >= budget:
                break
            drawn[size] += 1
            m = min(size, num_units - w)
            while m and count + cumulative[w + m] - cumulative[w] > budget:
                m -= 1
            if not m or any(covered[w:w + m]):
                continue
            covered[w:w + m] = b"\x01" * m
            unit_selected[w:w + m] = True
            count += cumulative[w + m] - cumulative[w]
            histogram[m] += 1

        unit_of_token = np.cumsum(unit_start) - 1
        token_selected = candidate & unit_selected[np.maximum(unit_of_token, 0)] & (unit_of_token >= 0)
        positions = np.flatnonzero(token_selected).astype(np.int32)
        labels = input_ids[positions].copy()
        k = len(positions)
        first_draw = rng.random(k)
        second_draw = rng.random(k)
        random_ids = rng.integers(0, self.vocab_size, k, dtype=np.int32)
        to_mask = first_draw < 0.8
        to_keep = ~to_mask & (second_draw < 0.5)
        replacement = np.where(to_mask, self.mask_id, np.where(to_keep, labels, random_ids))
        masked = input_ids.copy()
        masked[positions] = replacement
        stats.counts["masked_tokens"] += k
        stats.counts["replaced_by_mask"] += int(to_mask.sum())
        stats.counts["kept"] += int(to_keep.sum())
        stats.counts["replaced_by_random"] += int(k - to_mask.sum() - to_keep.sum())
        return masked, positions, labels


def batch_features(instances, max_seq_length, max_predictions_per_seq):
    """The TFRecord features of instances (as the original create_pretraining_data.py writes them), padded, as
    [batch, length] arrays."""
    batch = len(instances)
    features = {
        "input_ids": np.zeros((batch, max_seq_length), np.int64),
        "input_mask": np.zeros((batch, max_seq_length), np.int64),
        "segment_ids": np.zeros((batch, max_seq_length), np.int64),
        "token_boundary": np.zeros((batch, max_seq_length), np.int64),
        "masked_lm_positions": np.zeros((batch, max_predictions_per_seq), np.int64),
        "masked_lm_ids": np.zeros((batch, max_predictions_per_seq), np.int64),
        "masked_lm_weights": np.zeros((batch, max_predictions_per_seq), np.float32),
        "next_sentence_labels": np.zeros((batch, 1), np.int64),
    }
    for row, instance in enumerate(instances):
        n = len(instance.input_ids)
        k = len(instance.masked_lm_positions)
        features["input_ids"][row, :n] = instance.input_ids
        features["input_mask"][row, :n] = 1
        features["segment_ids"][row, :n] = instance.segment_ids
        features["token_boundary"][row, :n] = instance.token_boundary
        features["masked_lm_positions"][row, :k] = instance.masked_lm_positions
        features["masked_lm_ids"][row, :k] = instance.masked_lm_ids
        features["masked_lm_weights"][row, :k] = 1.0
        features["next_sentence_labels"][row, 0] = instance.sentence_order_label
    return features
