"""The tf.data pretraining pipeline: static files, validation, sharding, dynamic masking."""

import os

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.pretraining_dataset import DynamicMasking, pretraining_dataset
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.data.tfrecord_writer import TFRecordWriter, serialize_example
from albert_tf.tokenization import FullTokenizer
from pretraining_data_helpers import read_records, sentence_corpus

SEQ, PRED = 128, 20
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from conftest import TEST_DATA as shared
    root = tmp_path_factory.mktemp("pipeline")
    corpus = sentence_corpus(shared, root / "corpus.txt", paragraphs=240)
    spm = os.path.join(shared, "sentencepiece/albert_de_privately/30k-clean.model")
    result = {"spm": spm, "tokenizer": FullTokenizer(spm_model_file=spm)}
    for name, dynamic in (("static", False), ("dynamic", True)):
        files = [str(root / f"{name}-{i}") for i in range(3)]
        create_pretraining_data([corpus], files, spm_model_file=spm, dupe_factor=2, log=lambda _: None,
                                options=InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED,
                                                        dynamic_masking=dynamic))
        result[name] = files
    return result


def collect(dataset, batches=None):
    out = {}
    for batch in dataset.take(batches) if batches else dataset:
        for key, value in batch.items():
            out.setdefault(key, []).append(value.numpy())
    return {key: np.concatenate(values) for key, values in out.items()}


def test_static_batches_equal_the_records(data):
    records = read_records(data["static"])
    got = collect(pretraining_dataset(data["static"], 16, SEQ, PRED, is_training=False))
    assert set(got) == {"input_ids", "input_mask", "segment_ids", "masked_lm_positions", "masked_lm_ids",
                        "masked_lm_weights", "next_sentence_labels"}
    assert got["input_ids"].dtype == np.int32 and got["masked_lm_weights"].dtype == np.float32
    assert got["next_sentence_labels"].shape == (len(records["input_ids"]),)

    def key(ids):
        return sorted(row.tobytes() for row in ids.astype(np.int32))

    assert key(got["input_ids"]) == key(records["input_ids"])


def test_training_mode_shuffles_repeats_and_drops_remainder(data):
    dataset = pretraining_dataset(",".join(data["static"]), 16, SEQ, PRED, seed=3, shuffle_buffer_size=100)
    first = collect(dataset, 60)
    again = collect(pretraining_dataset(data["static"], 16, SEQ, PRED, seed=3, shuffle_buffer_size=100), 60)
    assert first["input_ids"].shape == (960, SEQ)  # more than one epoch, always full batches
    np.testing.assert_array_equal(first["input_ids"], again["input_ids"])  # seeded
    records = read_records(data["static"])
    assert len(records["input_ids"]) < 960
    in_file_order = [row.astype(np.int32).tobytes() for row in records["input_ids"]]
    assert [row.tobytes() for row in first["input_ids"][:50]] != in_file_order[:50]


def test_input_context_shards_records_and_splits_the_global_batch(data):
    seen = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        got = collect(pretraining_dataset(data["static"][:1], 8, SEQ, PRED, is_training=False,
                                          input_context=context))
        assert next(iter(pretraining_dataset(data["static"][:1], 8, SEQ, PRED, is_training=False,
                                             input_context=context)))["input_ids"].shape[0] == 4
        seen.append({row.tobytes() for row in got["input_ids"]})
    everything = {row.astype(np.int32).tobytes() for row in read_records(data["static"][:1])["input_ids"]}
    assert not seen[0] & seen[1] and seen[0] | seen[1] == everything


def test_bad_files_are_named(data, tmp_path):
    with pytest.raises(ValueError, match=r"static-0: input_ids has 128 values, expected 512"):
        pretraining_dataset(data["static"], 8, 512, PRED)
    partial = str(tmp_path / "partial.tfrecord")
    with TFRecordWriter(partial) as writer:
        writer.write(serialize_example({"input_ids": np.zeros(SEQ, np.int64),
                                        "masked_lm_weights": np.zeros(PRED, np.int64)}))
    with pytest.raises(ValueError, match=r"partial.tfrecord: missing features: input_mask, segment_ids.*"
                                         r"masked_lm_weights is int64_list, expected float_list"):
        pretraining_dataset([partial], 8, SEQ, PRED)
    garbage = tmp_path / "garbage.tfrecord"
    garbage.write_bytes(b"\x00" * 7 + b"this is not a tfrecord file" * 3)
    with pytest.raises(ValueError, match=r"garbage.tfrecord: not a readable TFRecord file"):
        pretraining_dataset([str(garbage)], 8, SEQ, PRED)
    with pytest.raises(FileNotFoundError, match="nothing-here-\\*"):
        pretraining_dataset(str(tmp_path / "nothing-here-*"), 8, SEQ, PRED)


def test_dynamic_masking(data):
    tokenizer = data["tokenizer"]
    masking = DynamicMasking.from_tokenizer(tokenizer, InstanceOptions(max_seq_length=SEQ))
    records = read_records(data["dynamic"])
    assert not records["masked_lm_weights"].any()
    got = collect(pretraining_dataset(data["dynamic"], 16, SEQ, PRED, is_training=False, seed=5,
                                      dynamic_masking=masking))
    again = collect(pretraining_dataset(data["dynamic"], 16, SEQ, PRED, is_training=False, seed=5,
                                        dynamic_masking=masking))
    np.testing.assert_array_equal(got["masked_lm_positions"], again["masked_lm_positions"])
    other = collect(pretraining_dataset(data["dynamic"], 16, SEQ, PRED, is_training=False, seed=6,
                                        dynamic_masking=masking))
    assert (other["masked_lm_positions"] != got["masked_lm_positions"]).any()

    # Put the labels back: the original file's ids, whatever the mask.
    restored = got["input_ids"].copy()
    rows, cols = np.nonzero(got["masked_lm_weights"])
    restored[rows, got["masked_lm_positions"][rows, cols]] = got["masked_lm_ids"][rows, cols]
    by_ids = {row.astype(np.int32).tobytes(): i for i, row in enumerate(records["input_ids"])}
    assert sorted(row.astype(np.int32).tobytes() for row in records["input_ids"]) == sorted(
        row.tobytes() for row in restored)
    boundaries = records["token_boundary"][[by_ids[row.tobytes()] for row in restored]]

    lengths = got["input_mask"].sum(axis=1)
    budget = np.minimum(PRED, np.maximum(1, np.round(lengths * 0.15)))
    masked = got["masked_lm_weights"].sum(axis=1)
    assert (masked <= budget).all() and masked.sum() / budget.sum() > 0.95
    at = got["input_ids"][rows, got["masked_lm_positions"][rows, cols]]
    labels = got["masked_lm_ids"][rows, cols]
    assert abs((at == tokenizer.vocab["[MASK]"]).mean() - 0.8) < 0.03
    kept_or_random = at != tokenizer.vocab["[MASK]"]
    assert abs((at[kept_or_random] == labels[kept_or_random]).mean() - 0.5) < 0.08

    # Whole words: a masked token's unit is masked completely.
    cls, sep = tokenizer.vocab["[CLS]"], tokenizer.vocab["[SEP]"]
    for row in range(len(restored)):
        n = lengths[row]
        ids = restored[row, :n]
        special = np.isin(ids, [cls, sep])
        boundary = boundaries[row, :n].astype(bool)
        unit = np.cumsum(~special & (boundary | np.concatenate([[True], special[:-1]])))
        is_masked = np.zeros(n, bool)
        is_masked[got["masked_lm_positions"][row, :int(masked[row])]] = True
        for u in np.unique(unit[is_masked]):
            assert is_masked[(unit == u) & ~special].all()


def test_dynamic_masking_changes_every_epoch(data):
    masking = DynamicMasking.from_tokenizer(data["tokenizer"], InstanceOptions(max_seq_length=SEQ))
    records = read_records(data["dynamic"][:1])
    n = len(records["input_ids"])
    dataset = pretraining_dataset(data["dynamic"][:1], 1, SEQ, PRED, seed=1, shuffle_buffer_size=1,
                                  dynamic_masking=masking)
    got = collect(dataset, 2 * n)
    first = {}
    changed = 0
    for i in range(2 * n):
        restored = got["input_ids"][i].copy()
        k = int(got["masked_lm_weights"][i].sum())
        restored[got["masked_lm_positions"][i, :k]] = got["masked_lm_ids"][i, :k]
        key = restored.tobytes()
        mask = got["masked_lm_positions"][i].tobytes()
        if key in first:
            changed += first[key] != mask
        else:
            first[key] = mask
    assert changed > 0.9 * n


def test_truncated_file_is_refused_before_training(data, tmp_path):
    whole = data["static"][0]
    size = os.path.getsize(whole)
    for cut in (size - 3, size // 2):  # inside the last record's checksum; somewhere in the middle
        truncated = tmp_path / f"cut-{cut}.tfrecord"
        with open(whole, "rb") as f:
            truncated.write_bytes(f.read(cut))
        with pytest.raises(ValueError, match=rf"cut-{cut}.tfrecord: .*truncated; copy or create it again"):
            pretraining_dataset([str(truncated)], 8, SEQ, PRED)
    assert len(collect(pretraining_dataset([whole], 8, SEQ, PRED, is_training=False))["input_ids"]) > 0
