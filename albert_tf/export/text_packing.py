"""In-graph `[CLS] A [SEP] (B [SEP])` packing with the original truncation rule.

The original `_truncate_seq_pair` pops a token from the longer segment (B on
ties) until both fit. Its result has a closed form, used here on whole
batches: with `budget` tokens for the two segments and `short` the shorter
length, the shorter segment is kept whole when `short <= budget / 2` and
the longer keeps `budget - short`; otherwise A keeps `ceil(budget / 2)` and B
`floor(budget / 2)`.
"""

import tensorflow as tf


def keep_first(ragged, lengths):
    """The first `lengths[i]` tokens of each row."""
    positions = tf.ragged.range(ragged.row_lengths())
    return tf.ragged.boolean_mask(ragged, positions < tf.cast(lengths, positions.dtype)[:, None])


def pair_lengths(length_a, length_b, budget):
    """Kept lengths of A and B (int64 [batch]) under the original truncation rule."""
    budget = tf.cast(budget, tf.int64)
    length_a, length_b = tf.cast(length_a, tf.int64), tf.cast(length_b, tf.int64)
    short = tf.minimum(length_a, length_b)
    fits = length_a + length_b <= budget
    short_kept = 2 * short <= budget
    half_up, half_down = (budget + 1) // 2, budget // 2
    keep_a = tf.where(fits, length_a, tf.where(short_kept, tf.where(length_a <= length_b, length_a,
                                                                    budget - length_b), half_up))
    keep_b = tf.where(fits, length_b, tf.where(short_kept, tf.where(length_a <= length_b,
                                                                    budget - length_a, length_b), half_down))
    return keep_a, keep_b


def pack_inputs(ids_a, ids_b, max_seq_length, cls_id, sep_id, length_multiple=16):
    """Dense int32 `input_ids`, `input_mask`, `segment_ids` from ragged token ids.

    The batch is padded to its longest packed row rounded up to a multiple of
    `length_multiple` (at most `max_seq_length`). The models are padding
    invariant, and few distinct lengths matter in serving: a loaded
    SavedModel pays a one-off cost (seconds on a CPU: benchmarks/RESULTS.md,
    "SavedModel serving latency") the first time it sees a new input shape.

    Args:
        ids_a: RaggedTensor [batch, (tokens)] of the first segments.
        ids_b: RaggedTensor of the second segments, or None.
        max_seq_length: longest packed sequence, special tokens included.
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.
        length_multiple: the padded length is a multiple of this (1: the longest row).
    """
    ids_a = tf.cast(ids_a, tf.int32)
    batch = ids_a.nrows()
    cls = tf.fill([batch, 1], cls_id)
    sep = tf.fill([batch, 1], sep_id)
    if ids_b is None:
        ids_a = keep_first(ids_a, tf.fill([batch], tf.cast(max_seq_length - 2, tf.int64)))
        ids = tf.concat([cls, ids_a, sep], axis=1)
        segments = tf.zeros_like(ids)
    else:
        ids_b = tf.cast(ids_b, tf.int32)
        keep_a, keep_b = pair_lengths(ids_a.row_lengths(), ids_b.row_lengths(), max_seq_length - 3)
        ids_a, ids_b = keep_first(ids_a, keep_a), keep_first(ids_b, keep_b)
        first = tf.concat([cls, ids_a, sep], axis=1)
        second = tf.concat([ids_b, sep], axis=1)
        ids = tf.concat([first, second], axis=1)
        segments = tf.concat([tf.zeros_like(first), tf.ones_like(second)], axis=1)
    longest = tf.maximum(tf.cast(tf.reduce_max(ids.row_lengths()), tf.int32), 0)  # 0 for an empty batch
    length = tf.minimum(-(-longest // length_multiple) * length_multiple, max_seq_length)
    shape = tf.stack([tf.cast(batch, tf.int32), length])
    return {name: ragged.to_tensor(shape=shape)
            for name, ragged in (("input_ids", ids), ("input_mask", tf.ones_like(ids)), ("segment_ids", segments))}
