"""create_pretraining_data on real text: layout, statistics, reproducibility, bad input."""

import os
import random
import sys

import numpy as np
import pytest

from albert_tf.data.create_pretraining_data import create_pretraining_data, tokenize_corpus
from albert_tf.data.pretraining_instances import InstanceMaker, InstanceOptions, InstanceStats
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.text_normalization import is_cjk_character
from pretraining_data_helpers import read_records, sentence_corpus
import processes

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"
ZH_VOCAB = "albert_zh_brightmart/albert_config/vocab.txt"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEQ, PRED = 128, 20
OPTIONS = InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=PRED)


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    from conftest import TEST_DATA as shared
    root = tmp_path_factory.mktemp("english")
    corpus = sentence_corpus(shared, root / "corpus.txt")
    spm = os.path.join(shared, GERMAN_SPM)
    out = [str(root / "a.tfrecord"), str(root / "b.tfrecord")]
    summary = create_pretraining_data([corpus], out, spm_model_file=spm, options=OPTIONS,
                                      dupe_factor=3, random_seed=7, num_workers=1, log=lambda _: None)
    return dict(corpus=corpus, spm=spm, out=out, summary=summary, records=read_records(out),
                tokenizer=FullTokenizer(spm_model_file=spm), root=root)


def unmask(records):
    ids = records["input_ids"].copy()
    for row in range(len(ids)):
        k = int(records["masked_lm_weights"][row].sum())
        ids[row, records["masked_lm_positions"][row, :k]] = records["masked_lm_ids"][row, :k]
    return ids


def test_layout_matches_the_original(english):
    records, tokenizer = english["records"], english["tokenizer"]
    cls, sep, mask = (tokenizer.vocab[t] for t in ("[CLS]", "[SEP]", "[MASK]"))
    assert len(records["input_ids"]) == english["summary"].instances.counts["instances"] > 300
    ids = unmask(records)
    corpus_ids, _, _ = tokenize_corpus([english["corpus"]], dict(spm_model_file=english["spm"]), SEQ - 3)
    corpus_bytes = corpus_ids.token_ids.astype(np.int32).tobytes()
    for row in range(len(ids)):
        n = int(records["input_mask"][row].sum())
        assert records["input_mask"][row, :n].all() and not records["input_mask"][row, n:].any()
        assert not ids[row, n:].any() and not records["token_boundary"][row, n:].any()
        seps = np.flatnonzero(ids[row, :n] == sep)
        assert ids[row, 0] == cls and len(seps) == 2 and seps[1] == n - 1
        segments = records["segment_ids"][row, :n]
        assert not segments[:seps[0] + 1].any() and segments[seps[0] + 1:].all()
        assert records["token_boundary"][row, [0, seps[0], n - 1]].all()
        k = int(records["masked_lm_weights"][row].sum())
        positions = records["masked_lm_positions"][row, :k]
        assert (np.diff(positions) > 0).all() and positions.min() > 0 and positions.max() < n - 1
        assert not np.isin(positions, seps).any()
        assert (records["masked_lm_weights"][row, :k] == 1).all() and not records["masked_lm_weights"][row, k:].any()
        # A and B are each a contiguous run of corpus tokens once the labels
        # are put back: masked_lm_ids are the true token ids.
        for segment in (ids[row, 1:seps[0]], ids[row, seps[0] + 1:n - 1]):
            assert len(segment) and segment.astype(np.int32).tobytes() in corpus_bytes


def test_masking_statistics(english):
    counts = english["summary"].instances.counts
    records = english["records"]
    assert counts["masked_tokens"] == int(records["masked_lm_weights"].sum())
    # 15% of tokens (the cap of 20 never binds at 128 tokens; whole words can leave a little unfilled).
    assert 0.14 <= counts["masked_tokens"] / counts["tokens"] <= 0.151
    masked = counts["masked_tokens"]
    assert abs(counts["replaced_by_mask"] / masked - 0.8) < 0.015
    assert abs(counts["kept"] / masked - 0.1) < 0.01
    assert abs(counts["replaced_by_random"] / masked - 0.1) < 0.01
    # The 80/10/10 split seen in the files themselves.
    mask_id = english["tokenizer"].vocab["[MASK]"]
    rows, cols = np.nonzero(records["masked_lm_weights"])
    at = records["input_ids"][rows, records["masked_lm_positions"][rows, cols]]
    assert abs((at == mask_id).mean() - 0.8) < 0.015
    drawn = english["summary"].instances.ngram_drawn[1:] / english["summary"].instances.ngram_drawn.sum()
    np.testing.assert_allclose(drawn, [6 / 11, 3 / 11, 2 / 11], atol=0.01)
    spans = english["summary"].instances.ngram_histogram[1:]
    assert spans[0] > spans[1] > spans[2] > 0.1 * spans.sum()


def test_sentence_order_labels_are_balanced(english):
    """Chunks of two or more sentences are swapped half the time; one-sentence
    chunks take B from another document (label 1), as in the original, so the
    overall share of label 1 is above one half by their share."""
    counts = english["summary"].instances.counts
    two_sided = counts["instances"] - counts["random_next"]
    assert abs(counts["sop_swapped"] / two_sided - 0.5) < 0.04
    labels = english["records"]["next_sentence_labels"][:, 0]
    assert labels.sum() == counts["sop_swapped"] + counts["random_next"]
    expected = (counts["sop_swapped"] + counts["random_next"]) / counts["instances"]
    assert labels.mean() == pytest.approx(expected) and 0.45 < labels.mean() < 0.7


def test_every_masked_unit_is_a_whole_word(english):
    records, tokenizer = english["records"], english["tokenizer"]
    cls, sep = tokenizer.vocab["[CLS]"], tokenizer.vocab["[SEP]"]
    ids = unmask(records)
    word_start = tokenizer.word_start_mask()
    partial_words = 0
    for row in range(len(ids)):
        n = int(records["input_mask"][row].sum())
        special = np.isin(ids[row, :n], [cls, sep])
        boundary = records["token_boundary"][row, :n].astype(bool)
        # token_boundary is the tokenizer's word-start rule, 1 on specials.
        assert (boundary == (word_start[ids[row, :n]] | special)).all()
        after_special = np.concatenate([[True], special[:-1]])
        unit_id = np.cumsum(~special & (boundary | after_special))
        k = int(records["masked_lm_weights"][row].sum())
        masked = np.zeros(n, bool)
        masked[records["masked_lm_positions"][row, :k]] = True
        for unit in np.unique(unit_id[masked]):
            members = (unit_id == unit) & ~special
            partial_words += not masked[members].all()
    assert partial_words == 0


def test_same_seed_same_bytes_for_any_worker_count(english, tmp_path):
    def run(seed, workers, name):
        out = [str(tmp_path / f"{name}-0"), str(tmp_path / f"{name}-1")]
        create_pretraining_data([english["corpus"]], out, spm_model_file=english["spm"], options=OPTIONS,
                                dupe_factor=3, random_seed=seed, num_workers=workers, log=lambda _: None)
        return [open(p, "rb").read() for p in out]

    reference = [open(p, "rb").read() for p in english["out"]]
    assert run(7, 2, "two_workers") == reference
    assert run(7, 1, "again") == reference
    assert run(8, 1, "other_seed") != reference


def test_truncation_matches_the_original_loop():
    """Final lengths equal the original's one-token-at-a-time loop; front cuts are fair coins."""
    class Corpus:
        token_ids = np.arange(10000, dtype=np.int32)
        word_starts = np.ones(10000, bool)

    maker = InstanceMaker(Corpus, InstanceOptions(max_seq_length=23), 1, 2, 3, 100)
    rng = random.Random(0)
    for len_a in range(1, 40):
        for len_b in range(1, 40):
            a, b = list(range(len_a)), list(range(100, 100 + len_b))
            while len(a) + len(b) > 20:
                (a if len(a) > len(b) else b).pop()
            new_a, new_b = maker._truncate((0, len_a), (100, 100 + len_b), rng, InstanceStats(3))
            assert (new_a[1] - new_a[0], new_b[1] - new_b[0]) == (len(a), len(b))
    fronts = [maker._truncate((0, 1000), (2000, 2010), rng, InstanceStats(3))[0][0] for _ in range(400)]
    assert abs(np.mean(fronts) - (1000 - 10) / 2) < 30


def test_bad_input_is_reported_and_skipped(english, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n  \n\t\n")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Erste Zeile .\nDie Stra\xdfe ist lang .\n\nOne sentence only .\n".encode("utf-8")
                       .replace(b"Stra\xc3\x9fe", b"Stra\xdfe"))
    long_line = tmp_path / "long.txt"
    long_line.write_text(" ".join(["word"] * 2000) + "\nshort tail .\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("Der Hund bellt .\nDie Katze schläft .\n\nEin Baum steht im Garten .\nEr ist alt .\n",
                    encoding="utf-8")
    logs = []
    summary = create_pretraining_data(
        [str(empty), str(good), str(blank), str(latin1), str(long_line)], [str(tmp_path / "o")],
        spm_model_file=english["spm"], options=OPTIONS, dupe_factor=1, log=logs.append)
    assert summary.empty_files == [str(empty), str(blank)]
    assert any("empty.txt has no text" in line for line in logs)
    assert summary.tokenize.non_utf8_lines == 1
    assert summary.tokenize.non_utf8_examples == [(str(latin1), 2)]
    assert any(f"{latin1}:2" in line for line in summary.lines())
    assert summary.tokenize.long_lines == 1 and summary.instances.counts["truncated_tokens"] > 1000
    assert summary.one_sentence_documents >= 1
    assert read_records([str(tmp_path / "o")])["input_mask"].sum(axis=1).max() <= SEQ

    with pytest.raises(ValueError, match="corpus is empty.*empty.txt.*blank.txt"):
        create_pretraining_data([str(empty), str(blank)], [str(tmp_path / "x")],
                                spm_model_file=english["spm"], options=OPTIONS, log=lambda _: None)


def test_sentencepiece_model_without_mask_is_refused(test_data, english, tmp_path):
    model = os.path.join(test_data, "sentencepiece/tensorflow_text_test/test_oss_model.model")
    with pytest.raises(ValueError, match=r"test_oss_model.model has no \[CLS\], \[SEP\], \[MASK\]"):
        create_pretraining_data([english["corpus"]], [str(tmp_path / "x")], spm_model_file=model,
                                options=OPTIONS, log=lambda _: None)


def bigram_segmenter(text):
    """A deterministic stand-in for jieba: words of two characters."""
    return [text[i:i + 2] for i in range(0, len(text), 2)]


def test_chinese_whole_word_masking_with_a_segmenter(test_data, tmp_path):
    corpus = os.path.join(test_data, "albert_zh_brightmart/data/news_zh_1.txt")
    vocab = os.path.join(test_data, ZH_VOCAB)
    tokenizer = FullTokenizer(vocab_file=vocab)
    out = str(tmp_path / "zh.tfrecord")
    summary = create_pretraining_data([corpus], [out], vocab_file=vocab, options=OPTIONS, dupe_factor=5,
                                      word_segmenter=bigram_segmenter, log=lambda _: None)
    records = read_records([out])
    assert summary.instances.counts["instances"] == len(records["input_ids"]) > 50
    ids = unmask(records)
    inv = tokenizer.inv_vocab
    cjk_pairs = continuation_seen = 0
    for row in range(len(ids)):
        k = int(records["masked_lm_weights"][row].sum())
        # Labels are plain vocabulary ids: no "##" rewriting of Chinese characters.
        labels = [inv[i] for i in records["masked_lm_ids"][row, :k]]
        assert not any(t.startswith("##") and is_cjk_character(t[-1]) for t in labels)
        tokens = [inv[i] for i in ids[row]]
        boundary = records["token_boundary"][row]
        for p in range(1, int(records["input_mask"][row].sum()) - 1):
            if boundary[p] == 0 and len(tokens[p]) == 1 and len(tokens[p - 1]) == 1:
                continuation_seen += 1
        masked = set(records["masked_lm_positions"][row, :k].tolist())
        for p in masked:
            # A later character of a word (not the first token after
            # [CLS]/[SEP], which starts a unit when truncation cut a word).
            if boundary[p] == 0 and len(tokens[p]) == 1 and tokens[p - 1] not in ("[CLS]", "[SEP]"):
                cjk_pairs += 1
                assert p - 1 in masked, (tokens[p - 1], tokens[p])
    assert continuation_seen > 100 and cjk_pairs > 20


def test_command_line_tool(english, tmp_path):
    out = tmp_path / "cli" / "train.tfrecord"
    command = [sys.executable, os.path.join(REPO, "tools", "create_pretraining_data.py"),
               f"--input_file={english['corpus']}", f"--output_file={out}", "--num_output_shards=2",
               f"--spm_model_file={english['spm']}", "--max_seq_length=64", "--max_predictions_per_seq=10",
               "--dupe_factor=1", "--num_workers=2", "--dynamic_masking"]
    result = processes.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "instances:" in result.stderr and "masked tokens: 0" in result.stderr
    shards = sorted(os.listdir(out.parent))
    assert shards == ["train.tfrecord-00000-of-00002", "train.tfrecord-00001-of-00002"]
    records = read_records([str(out.parent / s) for s in shards], 64, 10)
    assert not records["masked_lm_weights"].any() and records["token_boundary"].any()
    # What the user has is not replaced without being asked.
    before = [os.path.getmtime(out.parent / s) for s in shards]
    again = processes.run(command, timeout=300)
    assert again.returncode == 1 and "2 output(s) already exist" in again.stderr and "--overwrite" in again.stderr
    assert [os.path.getmtime(out.parent / s) for s in shards] == before
    assert processes.run(command + ["--overwrite"], timeout=300).returncode == 0


def test_full_disk_part_way_leaves_no_file_under_a_final_name(english, tmp_path, monkeypatch):
    from albert_tf.data import tfrecord_writer

    written = []
    real_write = tfrecord_writer.TFRecordWriter.write_framed

    def write_until_full(self, framed):
        if len(written) == 40:
            raise OSError(28, "No space left on device")
        written.append(1)
        real_write(self, framed)

    monkeypatch.setattr(tfrecord_writer.TFRecordWriter, "write_framed", write_until_full)
    out = [str(tmp_path / "train-0.tfrecord"), str(tmp_path / "train-1.tfrecord")]
    with pytest.raises(OSError, match="No space left"):
        create_pretraining_data([english["corpus"]], out, spm_model_file=english["spm"], options=OPTIONS,
                                dupe_factor=3, random_seed=7, num_workers=1, log=lambda _: None)
    assert written and os.listdir(tmp_path) == []  # neither torn files nor temporaries
    monkeypatch.undo()
    create_pretraining_data([english["corpus"]], out, spm_model_file=english["spm"], options=OPTIONS,
                            dupe_factor=3, random_seed=7, num_workers=1, log=lambda _: None)
    assert [open(p, "rb").read() for p in out] == [open(p, "rb").read() for p in english["out"]]
