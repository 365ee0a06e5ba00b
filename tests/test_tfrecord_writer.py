"""The NumPy TFRecord writer against TensorFlow's reader and parser."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.data.tfrecord_writer import TFRecordWriter, crc32c, serialize_example, serialize_examples


@pytest.mark.parametrize("data, expected", [
    (b"", 0x0), (b"a", 0xC1D04330), (b"123456789", 0xE3069283), (b"\x00" * 32, 0x8A9136AA),
])
def test_crc32c_known_values(data, expected):
    assert crc32c(data) == expected


def test_many_crcs_equal_single_crcs():
    rng = np.random.default_rng(0)
    messages = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in (0, 1, 3, 4, 5, 100, 3000, 7)]
    assert crc32c.many(messages).tolist() == [crc32c(m) for m in messages]


def test_examples_parse_with_tensorflow(tmp_path):
    rng = np.random.default_rng(1)
    batch = {
        "ids": rng.integers(0, 2**21, (5, 64)),
        "flags": rng.integers(0, 2, (5, 64)),
        "large": np.array([[0, 127, 128, 16383, 16384, 2**35, 2**62, 2**63 - 1]] * 5),
        "weights": rng.random((5, 3)).astype(np.float32),
        "label": np.array([[1], [0], [1], [1], [0]]),
    }
    path = str(tmp_path / "x.tfrecord")
    with TFRecordWriter(path) as writer:
        for record in serialize_examples(batch):
            writer.write(record)
    spec = {"ids": tf.io.FixedLenFeature([64], tf.int64), "flags": tf.io.FixedLenFeature([64], tf.int64),
            "large": tf.io.FixedLenFeature([8], tf.int64), "weights": tf.io.FixedLenFeature([3], tf.float32),
            "label": tf.io.FixedLenFeature([1], tf.int64)}
    parsed = next(iter(tf.data.TFRecordDataset(path).batch(10).map(lambda r: tf.io.parse_example(r, spec))))
    for name, values in batch.items():
        np.testing.assert_array_equal(parsed[name].numpy(), values)
    assert serialize_example({k: v[2] for k, v in batch.items()}) == serialize_examples(batch)[2]


def test_corrupted_record_is_detected_by_tensorflow(tmp_path):
    path = tmp_path / "x.tfrecord"
    with TFRecordWriter(str(path)) as writer:
        writer.write(serialize_example({"ids": np.arange(100)}))
    data = bytearray(path.read_bytes())
    data[30] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(str(path)))


def test_negative_integers_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        serialize_example({"ids": np.array([1, -1])})
