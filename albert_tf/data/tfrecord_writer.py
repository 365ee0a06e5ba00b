"""TFRecord files of tf.train.Example records, written with NumPy only.

create_pretraining_data must not import TensorFlow: the import alone costs
seconds and hundreds of MiB per worker process, more than the whole data job
should use. This module therefore encodes the Example protocol
buffer and the TFRecord framing (length, masked CRC-32C) by hand. Tests read
the files back with `tf.data.TFRecordDataset` and `tf.io.parse_single_example`.

CRC-32C is computed with per-position lookup tables: CRC is linear over
GF(2), so the checksum of a record is the XOR of one table entry per byte
(indexed by the byte value and its distance from the end), which NumPy does
in one gather and one reduction instead of a Python loop over bytes.
"""

import os
import struct

import numpy as np

from albert_tf.outputs.atomic_files import commit, is_remote, temporary_name

_CASTAGNOLI = 0x82F63B78
_MASK_DELTA = 0xA282EAD8


def _byte_table():
    table = np.zeros(256, dtype=np.uint32)
    for b in range(256):
        crc = b
        for _ in range(8):
            crc = (crc >> 1) ^ _CASTAGNOLI if crc & 1 else crc >> 1
        table[b] = crc
    return table


_BYTE_TABLE = _byte_table()


class _Crc32c:
    """CRC-32C of byte strings via position tables, grown on demand."""

    def __init__(self):
        self._tables = _BYTE_TABLE[None, :].copy()  # [distance from end, byte]

    def _grow(self, length):
        have = self._tables.shape[0]
        if length <= have:
            return
        new = np.empty((max(length, 2 * have), 256), dtype=np.uint32)
        new[:have] = self._tables
        for k in range(have, new.shape[0]):
            prev = new[k - 1]
            new[k] = _BYTE_TABLE[prev & 0xFF] ^ (prev >> 8)
        self._tables = new

    def __call__(self, data):
        return int(self.many([data])[0])

    def many(self, messages):
        """CRC-32C of each byte string in `messages`, as a uint32 array."""
        lengths = np.fromiter((len(m) for m in messages), dtype=np.int64, count=len(messages))
        crcs = np.zeros(len(messages), dtype=np.uint32)
        short = lengths < 4
        for i in np.flatnonzero(short):  # the table trick below needs 4 bytes
            crc = 0xFFFFFFFF
            for b in messages[i]:
                crc = int(_BYTE_TABLE[(crc ^ b) & 0xFF]) ^ (crc >> 8)
            crcs[i] = crc ^ 0xFFFFFFFF
        if short.all():
            return crcs
        long_index = np.flatnonzero(~short)
        lengths = lengths[long_index]
        self._grow(int(lengths.max()))
        data = np.frombuffer(b"".join(messages[i] for i in long_index), dtype=np.uint8).copy()
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        # An initial register of 0xFFFFFFFF equals XOR-ing 0xFF into the first
        # four bytes of the message and starting from zero.
        for k in range(4):
            data[starts + k] ^= 0xFF
        distance_from_end = np.repeat(starts + lengths - 1, lengths) - np.arange(len(data))
        values = self._tables.reshape(-1)[distance_from_end * 256 + data]
        crcs[long_index] = np.bitwise_xor.reduceat(values, starts) ^ np.uint32(0xFFFFFFFF)
        return crcs


crc32c = _Crc32c()


def _mask(crc):
    crc = np.asarray(crc, dtype=np.uint64)
    return (((crc >> np.uint64(15)) | (crc << np.uint64(17))) + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)


def masked_crc32c(data):
    return int(_mask(crc32c(data)))


def frame_records(records):
    """TFRecord frames of many records: length, masked CRC of the length, data, masked CRC of the data."""
    headers = [struct.pack("<Q", len(r)) for r in records]
    crcs = _mask(crc32c.many(headers + list(records))).astype("<u4")
    n = len(records)
    return [headers[i] + crcs[i].tobytes() + records[i] + crcs[n + i].tobytes() for i in range(n)]


def frame_record(data):
    """The TFRecord frame of one record."""
    return frame_records([data])[0]


def _varint(value):
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:
        return bytes((value & 0x7F | 0x80, value >> 7))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _packed_varint_rows(values):
    """Packed varint bytes of each row of a 2-D array of non-negative integers.

    Returns:
        (buffer, offsets): row i is buffer[offsets[i]:offsets[i + 1]].
    """
    values = np.asarray(values)
    rows, width_per_row = values.shape
    if values.size and values.min() < 0:
        raise ValueError("only non-negative int64 features are supported")
    max_value = int(values.max()) if values.size else 0
    width = max(1, (max_value.bit_length() + 6) // 7)
    if width == 1:
        offsets = np.arange(rows + 1, dtype=np.int64) * width_per_row
        return values.astype(np.uint8).tobytes(), offsets
    flat = values.reshape(-1).astype(np.uint64 if width > 4 else np.uint32)
    num_bytes = np.ones(flat.shape, dtype=np.int8)
    for k in range(1, width):
        num_bytes += flat >= (1 << (7 * k))
    shifts = np.arange(0, 7 * width, 7, dtype=flat.dtype)
    groups = ((flat[:, None] >> shifts) & 0x7F).astype(np.uint8)
    position = np.arange(width, dtype=np.int8)
    groups[position < (num_bytes[:, None] - 1)] |= 0x80
    row_bytes = num_bytes.reshape(rows, width_per_row).sum(axis=1, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(row_bytes)])
    return groups[position < num_bytes[:, None]].tobytes(), offsets


def _length_delimited(field_tag, payload):
    return bytes([field_tag]) + _varint(len(payload)) + payload


def serialize_examples(features):
    """Serialises a batch of tf.train.Example records.

    Args:
        features: ordered mapping of name -> 2-D NumPy array [batch, length];
            integer arrays become Int64List features (non-negative values),
            floating arrays FloatList features.

    Returns:
        A list of serialised `tf.train.Example`s, one per row.
    """
    per_feature = []
    batch = None
    for name, values in features.items():
        values = np.asarray(values)
        if values.ndim != 2:
            raise ValueError(f"feature {name!r} must be [batch, length], got shape {values.shape}")
        batch = values.shape[0] if batch is None else batch
        if np.issubdtype(values.dtype, np.floating):
            # Feature.float_list (field 2) -> FloatList.value (field 1, packed).
            buffer = values.astype("<f4").tobytes()
            offsets = np.arange(values.shape[0] + 1, dtype=np.int64) * (4 * values.shape[1])
            feature_tag = 0x12
        else:
            # Feature.int64_list (field 3) -> Int64List.value (field 1, packed).
            buffer, offsets = _packed_varint_rows(values)
            feature_tag = 0x1A
        key = _length_delimited(0x0A, name.encode("utf-8"))
        per_feature.append((key, feature_tag, buffer, offsets.tolist()))
    examples = []
    for i in range(batch or 0):
        entries = []
        for key, feature_tag, buffer, offsets in per_feature:
            inner = _length_delimited(0x0A, buffer[offsets[i]:offsets[i + 1]])
            # Features.feature map entry (field 1): key (1), value (2).
            entry = key + _length_delimited(0x12, _length_delimited(feature_tag, inner))
            entries.append(_length_delimited(0x0A, entry))
        # Example.features (field 1).
        examples.append(_length_delimited(0x0A, b"".join(entries)))
    return examples


def serialize_example(features):
    """Serialises one tf.train.Example from a mapping of name -> 1-D array."""
    return serialize_examples({k: np.asarray(v).reshape(1, -1) for k, v in features.items()})[0]


def open_output(path):
    """Opens `path` for binary writing; URLs such as gs:// go through tf.io.gfile."""
    if "://" in path:
        import tensorflow as tf

        return tf.io.gfile.GFile(path, "wb")
    return open(path, "wb")


class TFRecordWriter:
    """Writes framed records to one file (context manager), atomically.

    The records go to a temporary file beside `path` (`atomic_files`); `close()`
    renames it into place, `abort()` (or leaving the `with` block by an
    exception) deletes it, so `path` never holds a torn file.

    Example:
    >>> with TFRecordWriter("/tmp/x.tfrecord") as writer:  # doctest: +SKIP
    ...     writer.write(serialize_example({"ids": np.arange(4)}))
    """

    def __init__(self, path):
        self.path = path
        self._temporary = path if is_remote(path) else temporary_name(path)
        self._file = open_output(self._temporary)

    def write(self, record):
        self.write_framed(frame_record(record))

    def write_framed(self, framed):
        try:
            self._file.write(framed)
        except OSError as error:  # a full disk: name the output (the error of a write names no file)
            raise OSError(error.errno, error.strerror, self.path) from None

    def close(self):
        """Completes the file: flushed and renamed to `path`."""
        if self._file is None:
            return
        try:
            self._file.close()
        except OSError as error:
            self._file = None
            self._drop_temporary()
            raise OSError(error.errno, error.strerror, self.path) from None
        self._file = None
        if self._temporary != self.path:
            commit(self._temporary, self.path)

    def abort(self):
        """Drops what was written; `path` keeps what it had."""
        if self._file is None:
            return
        try:
            self._file.close()
        except OSError:
            pass  # the write that failed (a full disk) fails again in the flush: the file is dropped anyway
        self._file = None
        self._drop_temporary()

    def _drop_temporary(self):
        if self._temporary != self.path and os.path.exists(self._temporary):
            os.remove(self._temporary)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type:
            self.abort()
        else:
            self.close()


def framing_problem(path):
    """Why the local TFRecord file `path` does not end on a record boundary (a truncated copy), or None.

    Walks the length headers only (12 bytes read, then a seek over each record): about 3 us per
    record on this project's 2-core VM (14 ms for the demo's 5,005), so ~3 minutes per 50 million
    records at every start. Remote files are not walked.
    """
    if is_remote(path):
        return None
    size = os.path.getsize(path)
    offset = records = 0
    with open(path, "rb") as f:
        while offset < size:
            header = f.read(12)
            if len(header) < 12:
                return f"ends inside the header of record {records + 1} (byte {offset} of {size}): truncated"
            (length,) = struct.unpack("<Q", header[:8])
            offset += 12 + length + 4
            if offset > size:
                return (f"record {records + 1} needs {length + 16} bytes from byte {offset - length - 16} but the "
                        f"file has {size}: truncated")
            f.seek(offset)
            records += 1
    return None
