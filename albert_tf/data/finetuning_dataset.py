"""tf.data for fine-tuning features held in memory, with length-aware batching.

Features come from the task modules as Python lists: token sequences of
each example's own length and scalar labels. Sequences are padded to the
longest in their batch, not to max_seq_length; training batches are drawn
from length buckets (`bucket_width` tokens wide) so that a batch holds
sequences of similar length. With `length_aware=False` every batch is
padded to `max_seq_length` as in the original scripts. The model's results
do not depend on the padding: padded positions are masked in attention and
in the span heads.
"""

import numpy as np
import tensorflow as tf

SEQUENCE_FEATURES = ("input_ids", "input_mask", "segment_ids", "p_mask", "token_labels")
# Padding: ids, mask and segments 0; p_mask 1 (a padded position is never an answer); token labels -1 (not scored).
PADDING_VALUES = {"p_mask": 1, "token_labels": -1}


def _to_tensor(values):
    if values and isinstance(values[0], (list, tuple, np.ndarray)):
        lengths = [len(v) for v in values]
        flat = np.concatenate([np.asarray(v, np.int32) for v in values]) if sum(lengths) else np.zeros(0, np.int32)
        return tf.RaggedTensor.from_row_lengths(flat, lengths)
    dtype = np.float32 if values and isinstance(values[0], float) else np.int32
    return tf.constant(np.asarray(values, dtype))


def finetuning_dataset(features, batch_size, is_training, max_seq_length, length_aware=True,
                       bucket_width=16, num_choices=None, seed=12345, input_context=None,
                       skip_batches=0):
    """Batches of a dict of in-memory features.

    Args:
        features: dict of equal-length lists; `input_ids` (and the other
            `SEQUENCE_FEATURES` present) hold one int list per example, other
            features one scalar per example. `input_mask` (all ones) is
            added unless given.
        batch_size: examples per batch (per replica under `input_context`).
        is_training: shuffle, repeat, bucket and drop the last partial batch;
            otherwise one pass in order.
        max_seq_length: the longest sequence; the padded length when
            `length_aware` is False.
        length_aware: pad to each batch's longest sequence (and bucket by
            length when training).
        bucket_width: token width of the training length buckets.
        num_choices: multiple choice: each sequence feature holds the K
            choices of an example concatenated, padded to one length (give
            `input_mask`); batches are `[batch, K, length]`.
        seed: shuffle seed.
        input_context: a `tf.distribute.InputContext`: shard by input pipeline.
        skip_batches: batches to skip (resuming a training run).
    """
    sizes = {name: len(values) for name, values in features.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"features of different lengths: {sizes}")
    if not sizes or not next(iter(sizes.values())):
        raise ValueError("no examples to batch")
    count = next(iter(sizes.values()))
    tensors = {name: _to_tensor(values) for name, values in features.items()}
    # Shuffling example indices, not examples, keeps the shuffle buffer small
    # and quick to fill (a whole GLUE training set is shuffled at once).
    indices = tf.data.Dataset.range(count)
    if input_context and input_context.num_input_pipelines > 1:
        indices = indices.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if is_training:
        indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True).repeat()

    def prepare(index):
        example = {name: tensor[index] for name, tensor in tensors.items()}
        if "input_mask" not in example:
            example["input_mask"] = tf.ones_like(example["input_ids"])
        if num_choices:
            for name in SEQUENCE_FEATURES:
                if name in example:
                    example[name] = tf.reshape(example[name], [num_choices, -1])
        return example

    dataset = indices.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    element_spec = dataset.element_spec
    padding_values = {name: tf.constant(PADDING_VALUES.get(name, 0), spec.dtype)
                      for name, spec in element_spec.items()}
    fixed_shapes = {
        name: ([num_choices, max_seq_length] if num_choices else [max_seq_length])
        if name in SEQUENCE_FEATURES else spec.shape
        for name, spec in element_spec.items()
    }
    if is_training:
        if length_aware:
            boundaries = list(range(bucket_width + 1, max_seq_length + 1, bucket_width))
            dataset = dataset.bucket_by_sequence_length(
                lambda example: tf.shape(example["input_ids"])[-1], boundaries,
                [batch_size] * (len(boundaries) + 1), padding_values=padding_values,
                drop_remainder=True)
        else:
            dataset = dataset.padded_batch(batch_size, fixed_shapes, padding_values, drop_remainder=True)
        dataset = dataset.skip(skip_batches)
    else:
        dataset = dataset.padded_batch(batch_size, None if length_aware else fixed_shapes, padding_values)
    return dataset.prefetch(tf.data.AUTOTUNE)
