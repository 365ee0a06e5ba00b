"""tf.data input pipeline for pretraining TFRecords (static or dynamic masking)."""

import dataclasses
import re

import numpy as np
import tensorflow as tf

from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.data.tfrecord_writer import framing_problem

INT_FEATURES = ("input_ids", "input_mask", "segment_ids", "token_boundary",
                "masked_lm_positions", "masked_lm_ids", "next_sentence_labels")
FLOAT_FEATURES = ("masked_lm_weights",)


def feature_lengths(max_seq_length, max_predictions_per_seq):
    """Name -> length of every feature create_pretraining_data writes."""
    return {
        "input_ids": max_seq_length,
        "input_mask": max_seq_length,
        "segment_ids": max_seq_length,
        "token_boundary": max_seq_length,
        "masked_lm_positions": max_predictions_per_seq,
        "masked_lm_ids": max_predictions_per_seq,
        "masked_lm_weights": max_predictions_per_seq,
        "next_sentence_labels": 1,
    }


def feature_spec(max_seq_length, max_predictions_per_seq):
    """The `tf.io.parse_example` spec of pretraining records."""
    return {
        name: tf.io.FixedLenFeature([length], tf.float32 if name in FLOAT_FEATURES else tf.int64)
        for name, length in feature_lengths(max_seq_length, max_predictions_per_seq).items()
    }


def check_pretraining_files(files, max_seq_length, max_predictions_per_seq, vocab_size=None):
    """Reads the first record of each file and checks feature names, kinds and lengths (and, given
    `vocab_size`, that its token ids are below it); local files are also walked record by record to their
    end (`framing_problem`), so that a truncated copy stops the run before training rather than minutes
    into it.

    Raises:
        ValueError: naming each bad file with its missing, mis-typed or
            mis-sized features (or why it cannot be read at all).
    """
    expected = feature_lengths(max_seq_length, max_predictions_per_seq)
    problems = []
    for path in files:
        try:
            first = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
            problems.append(f"{path}: not a readable TFRecord file ({error.message.splitlines()[0]})")
            continue
        if first is None:
            problems.append(f"{path}: no records")
            continue
        truncated = framing_problem(path)
        if truncated:
            problems.append(f"{path}: {truncated}; copy or create it again")
            continue
        try:
            example = tf.train.Example.FromString(first.numpy())
        except Exception as error:  # protobuf raises its own DecodeError
            problems.append(f"{path}: first record is not a tf.train.Example ({error})")
            continue
        present = example.features.feature
        missing = [name for name in expected if name not in present]
        wrong = []
        for name, length in expected.items():
            if name not in present:
                continue
            feature = present[name]
            kind = feature.WhichOneof("kind")
            want_kind = "float_list" if name in FLOAT_FEATURES else "int64_list"
            values = getattr(feature, kind).value if kind else []
            if kind != want_kind:
                wrong.append(f"{name} is {kind}, expected {want_kind}")
            elif len(values) != length:
                wrong.append(f"{name} has {len(values)} values, expected {length}")
            elif vocab_size and name in ("input_ids", "masked_lm_ids") and max(values, default=0) >= vocab_size:
                wrong.append(f"{name} of the first record holds token id {max(values)}, expected ids below the "
                             f"model's vocab_size={vocab_size} (the data was made with a larger vocabulary than "
                             "the model's: create it with the model's own vocabulary)")
        if missing or wrong:
            detail = []
            if missing:
                detail.append("missing features: " + ", ".join(missing))
            detail.extend(wrong)
            problems.append(f"{path}: " + "; ".join(detail))
    if problems:
        raise ValueError(
            f"pretraining files do not match max_seq_length={max_seq_length}, "
            f"max_predictions_per_seq={max_predictions_per_seq}"
            + (f", vocab_size={vocab_size}" if vocab_size else "") + ":\n  " + "\n  ".join(problems))


def damaged_records(files):
    """"path: where" for each TFRecord file whose records do not all read back (a checksum that does not
    match: the bytes changed after writing). Reads every file whole: for the error path only."""
    found = []
    for path in files:
        try:
            tf.data.TFRecordDataset(path).reduce(np.int64(0), lambda count, _: count + 1)
        except tf.errors.DataLossError as error:
            where = re.search(r"corrupted record at \d+", error.message)
            found.append(f"{path}: {where.group(0) if where else error.message.splitlines()[0]} (byte offset)")
    return found


@dataclasses.dataclass(frozen=True)
class DynamicMasking:
    """Settings of on-the-fly masking (same algorithm as create_pretraining_data).

    Attributes:
        cls_id, sep_id, mask_id: special token ids.
        vocab_size: random replacements come from [0, vocab_size).
        options: `InstanceOptions` for masked_lm_prob, ngram,
            favor_shorter_ngram and do_whole_word_mask (max_predictions_per_seq
            comes from the dataset).
    """

    cls_id: int
    sep_id: int
    mask_id: int
    vocab_size: int
    options: InstanceOptions = InstanceOptions()

    @classmethod
    def from_tokenizer(cls, tokenizer, options=InstanceOptions()):
        special = tokenizer.special_token_ids()
        return cls(special["[CLS]"], special["[SEP]"], special["[MASK]"], tokenizer.vocab_size, options)


def mask_example(features, seed, masking, max_predictions_per_seq):
    """Whole-word n-gram masking of one parsed example, in graph.

    The original token ids are restored first (from masked_lm_ids), so
    statically masked files can be re-masked too. `seed` is a stateless seed
    of shape [2].
    """
    opts = masking.options
    ids = tf.cast(features["input_ids"], tf.int32)
    input_mask = tf.cast(features["input_mask"], tf.int32)
    old_positions = tf.cast(features["masked_lm_positions"], tf.int32)
    old_labels = tf.cast(features["masked_lm_ids"], tf.int32)
    had_label = features["masked_lm_weights"] > 0
    ids = tf.tensor_scatter_nd_update(
        ids, tf.boolean_mask(old_positions, had_label)[:, None], tf.boolean_mask(old_labels, had_label))

    special = (ids == masking.cls_id) | (ids == masking.sep_id) | (input_mask == 0)
    candidate = ~special
    if opts.do_whole_word_mask:
        after_special = tf.concat([[True], special[:-1]], axis=0)
        unit_start = candidate & ((tf.cast(features["token_boundary"], tf.int32) > 0) | after_special)
    else:
        unit_start = candidate
    starts = tf.cast(tf.where(unit_start)[:, 0], tf.int32)
    num_units = tf.size(starts)
    boundaries = tf.cast(tf.where(unit_start | special)[:, 0], tf.int32)
    ends = tf.gather(boundaries, tf.searchsorted(boundaries, starts, side="right"))
    cumulative = tf.concat([[0], tf.cumsum(ends - starts)], axis=0)
    length = tf.reduce_sum(input_mask)
    budget = tf.minimum(max_predictions_per_seq, tf.maximum(
        1, tf.cast(tf.round(tf.cast(length, tf.float32) * opts.masked_lm_prob), tf.int32)))

    seeds = tf.random.experimental.stateless_split(seed, 5)
    order = tf.argsort(tf.random.stateless_uniform([num_units], seeds[0]))
    cdf = tf.constant(np.cumsum(opts.ngram_probabilities()), tf.float32)
    sizes = tf.searchsorted(cdf, tf.random.stateless_uniform([num_units], seeds[1]), side="right") + 1
    span_sizes = tf.range(1, opts.ngram + 1)
    unit_index = tf.range(num_units)

    def keep_going(k, count, covered):
        return (k < num_units) & (count < budget)

    def visit(k, count, covered):
        w = order[k]
        largest = tf.minimum(sizes[k], num_units - w)
        span_tokens = tf.gather(cumulative, tf.minimum(w + span_sizes, num_units)) - cumulative[w]
        fits = (span_sizes <= largest) & (count + span_tokens <= budget)
        m = tf.reduce_max(tf.where(fits, span_sizes, 0))
        in_span = (unit_index >= w) & (unit_index < w + m)
        accept = (m > 0) & ~tf.reduce_any(covered & in_span)
        covered = covered | (in_span & accept)
        count += tf.where(accept, tf.gather(span_tokens, tf.maximum(m - 1, 0)), 0)
        return k + 1, count, covered

    _, _, covered = tf.while_loop(
        keep_going, visit, (tf.constant(0), tf.constant(0), tf.zeros([num_units], tf.bool)))

    # Special tokens before the first unit get index 0; `candidate` masks them
    # out, and the appended False keeps the gather valid when there are no units.
    unit_of_token = tf.maximum(tf.cumsum(tf.cast(unit_start, tf.int32)) - 1, 0)
    selected = candidate & tf.gather(tf.concat([covered, [False]], axis=0), unit_of_token)
    positions = tf.cast(tf.where(selected)[:, 0], tf.int32)
    labels = tf.gather(ids, positions)
    k = tf.size(positions)
    first_draw = tf.random.stateless_uniform([k], seeds[2])
    second_draw = tf.random.stateless_uniform([k], seeds[3])
    random_ids = tf.random.stateless_uniform([k], seeds[4], 0, masking.vocab_size, dtype=tf.int32)
    replacement = tf.where(first_draw < 0.8, masking.mask_id,
                           tf.where(second_draw < 0.5, labels, random_ids))
    masked_ids = tf.tensor_scatter_nd_update(ids, positions[:, None], replacement)
    padding = [[0, max_predictions_per_seq - k]]
    out = dict(features)
    out["input_ids"] = masked_ids
    out["masked_lm_positions"] = tf.pad(positions, padding)
    out["masked_lm_ids"] = tf.pad(labels, padding)
    out["masked_lm_weights"] = tf.pad(tf.ones([k], tf.float32), padding)
    return out


def _to_model_inputs(features):
    """int32 tensors for the model; next_sentence_labels squeezed to [batch]."""
    out = {}
    for name, value in features.items():
        if name == "token_boundary":
            continue
        if value.dtype == tf.int64:
            value = tf.cast(value, tf.int32)
        out[name] = value
    out["next_sentence_labels"] = tf.reshape(out["next_sentence_labels"], [-1])
    return out


def pretraining_dataset(file_patterns, batch_size, max_seq_length, max_predictions_per_seq, *,
                        is_training=True, input_context=None, shuffle_buffer_size=10000,
                        seed=None, dynamic_masking=None, check_files=True, skip_batches=0):
    """Batches of pretraining features from TFRecord files.

    Training reads files in a shuffled, repeated, interleaved order, shuffles
    records in a buffer, and drops the last partial batch; evaluation reads
    files once, in order, and keeps it. Under tf.distribute, pass the
    `tf.distribute.InputContext`: files (or records, when there are fewer
    files than input pipelines) are sharded per input pipeline and
    `batch_size` is the global batch size.

    Args:
        file_patterns: comma-separated paths/globs, or a list of them.
        batch_size: global batch size.
        max_seq_length, max_predictions_per_seq: the lengths the files were written with.
        is_training: shuffle, repeat and drop the remainder.
        input_context: `tf.distribute.InputContext` or None.
        shuffle_buffer_size: records in the shuffle buffer.
        seed: makes shuffling and dynamic masking reproducible.
        dynamic_masking: a `DynamicMasking` to mask each example anew every
            epoch (for files written with --dynamic_masking, or to re-mask
            static files); None uses the masks in the files.
        check_files: check the first record of every file before starting.
        skip_batches: batches (of this input pipeline) to skip, to resume a
            seeded training run at its data position.

    Returns:
        A `tf.data.Dataset` of dicts: input_ids, input_mask, segment_ids,
        masked_lm_positions, masked_lm_ids (int32), masked_lm_weights
        (float32) and next_sentence_labels (int32 [batch]).

    Example:
    >>> dataset = pretraining_dataset("data/train.tfrecord-*", 64, 512, 20)  # doctest: +SKIP
    """
    files = expand_file_patterns(file_patterns, "pretraining TFRecord file")
    if check_files:
        check_pretraining_files(files, max_seq_length, max_predictions_per_seq)
    num_pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    per_replica_batch = input_context.get_per_replica_batch_size(batch_size) if input_context else batch_size
    deterministic = seed is not None or not is_training

    dataset = tf.data.Dataset.from_tensor_slices(files)
    shard_files = num_pipelines > 1 and len(files) >= num_pipelines
    if shard_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    if is_training:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.interleave(
        tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if num_pipelines > 1 and not shard_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    if is_training:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=seed, reshuffle_each_iteration=True)
    spec = feature_spec(max_seq_length, max_predictions_per_seq)
    skip_records = skip_batches * per_replica_batch
    if dynamic_masking is None:
        dataset = dataset.skip(skip_records)
        dataset = dataset.batch(per_replica_batch, drop_remainder=is_training)
        dataset = dataset.map(lambda records: tf.io.parse_example(records, spec),
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    else:
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).skip(skip_records)
        dataset = dataset.map(
            lambda record, pair: mask_example(
                tf.io.parse_single_example(record, spec), pair, dynamic_masking, max_predictions_per_seq),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
        dataset = dataset.batch(per_replica_batch, drop_remainder=is_training)
    dataset = dataset.map(_to_model_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    return dataset.prefetch(tf.data.AUTOTUNE)
