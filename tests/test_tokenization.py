"""Tokenizers: the original ALBERT/BERT rules, and in-graph ids equal to Python ids on real text."""

import json
import os

import pytest

from albert_tf.tokenization import FullTokenizer, preprocess_text
from albert_tf.tokenization.sentencepiece_tokenizer import is_sentencepiece_word_start

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"
OSS_SPM = "sentencepiece/tensorflow_text_test/test_oss_model.model"
ZH_VOCAB = "albert_zh_brightmart/albert_config/vocab.txt"


def _read_lines(test_data, name, limit=None):
    if name == "sst2_train":
        with open(os.path.join(test_data, "glue/SST-2/train.tsv"), encoding="utf-8") as f:
            lines = [line.split("\t")[0] for line in f.read().splitlines()[1:]]
    elif name == "wikitext2":
        lines = []
        for split in ("valid", "test"):
            with open(os.path.join(test_data, f"corpus_en/wikitext-2/{split}.txt"), encoding="utf-8") as f:
                lines += f.read().splitlines()
    elif name == "afqmc_dev":
        lines = []
        with open(os.path.join(test_data, "clue/afqmc/dev.json"), encoding="utf-8") as f:
            for row in f:
                record = json.loads(row)
                lines += [record["sentence1"], record["sentence2"]]
    elif name == "news_zh":
        with open(os.path.join(test_data, "albert_zh_brightmart/data/news_zh_1.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    return lines[:limit]


# --- ALBERT normalisation and the SentencePiece rules -------------------------

@pytest.mark.parametrize("text, lower, expected", [
    ("  Café \t au\n LAIT  ", True, "cafe au lait"),
    ("  Café \t au\n LAIT  ", False, "Cafe au LAIT"),
    ("ﬁne Ｆｕｌｌ", False, "fine Full"),          # NFKD compatibility forms
    ("Ὀδυσσεύς", True, "οδυσσευς"),               # Greek accents and breathings dropped
    ("a\u00a0b\u3000c", False, "a b c"),          # Unicode spaces collapse
])
def test_preprocess_text(text, lower, expected):
    assert preprocess_text(text, lower=lower) == expected
    assert preprocess_text(expected, lower=lower) == expected  # idempotent


def test_sentencepiece_digit_comma_rule(test_data):
    tokenizer = FullTokenizer(spm_model_file=os.path.join(test_data, GERMAN_SPM))
    sp = tokenizer.sp_model
    # The raw model keeps "▁2009," together; ALBERT's rule splits the comma off.
    assert sp.EncodeAsPieces("im jahr 2009, als") == ["▁im", "▁", "jahr", "▁2009,", "▁als"]
    assert tokenizer.tokenize("Im Jahr 2009, als") == ["▁im", "▁", "jahr", "▁2009", ",", "▁als"]
    # Tokenize normalises (case, accents, spaces) itself, unlike the original.
    assert tokenizer.tokenize("  GRÖSSE  ") == tokenizer.tokenize("grosse")


@pytest.mark.parametrize("piece, is_start", [
    ("▁the", True), ("<unk>", True), (",", True), ("ing", False), ("s", False),
    ("9", True), ("ß", True), ("€", True), ("a€", True),
    ("'", True), ("a'", True),  # the original set lacks the apostrophe
])
def test_sentencepiece_word_start_rule(piece, is_start):
    assert is_sentencepiece_word_start(piece) is is_start


def test_full_tokenizer_api(test_data):
    tokenizer = FullTokenizer(spm_model_file=os.path.join(test_data, GERMAN_SPM))
    assert len(tokenizer.vocab) == 30000
    assert [tokenizer.vocab[p] for p in ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")] == [0, 1, 2, 3, 4]
    tokens = tokenizer.tokenize("Das ist ein Haus.")
    ids = tokenizer.convert_tokens_to_ids(tokens)
    assert tokenizer.convert_ids_to_tokens(ids) == tokens
    assert tokenizer.encode("Das ist ein Haus.") == ids
    assert tokenizer.special_token_ids() == {"[CLS]": 2, "[SEP]": 3, "[MASK]": 4}


def test_sentencepiece_model_without_albert_specials_is_refused(test_data):
    path = os.path.join(test_data, OSS_SPM)
    tokenizer = FullTokenizer(spm_model_file=path)
    with pytest.raises(ValueError, match=r"test_oss_model\.model has no \[CLS\], \[SEP\], \[MASK\]"):
        tokenizer.special_token_ids()


def test_missing_or_bad_tokenizer_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.model"):
        FullTokenizer(spm_model_file=str(tmp_path / "nope.model"))
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.model is not a SentencePiece model"):
        FullTokenizer(spm_model_file=str(bad))
    with pytest.raises(ValueError, match="needs spm_model_file or vocab_file"):
        FullTokenizer()


# --- WordPiece (BERT basic tokenizer) ----------------------------------------

def test_wordpiece_basic_rules(test_data):
    tokenizer = FullTokenizer(vocab_file=os.path.join(test_data, ZH_VOCAB))
    assert len(tokenizer.vocab) == 21128
    assert tokenizer.tokenize("ALBERT模型，unaffable") == [
        "al", "##bert", "模", "型", "，", "u", "##na", "##ff", "##able"]
    assert tokenizer.tokenize("Héllo\x00\ufffd wörld!") == ["hello", "world", "!"]
    assert tokenizer.tokenize("x" * 201) == ["[UNK]"]
    cased = FullTokenizer(vocab_file=os.path.join(test_data, ZH_VOCAB), do_lower_case=False)
    assert cased.tokenize("Héllo") != tokenizer.tokenize("Héllo")
    mask = tokenizer.word_start_mask()
    assert not mask[tokenizer.vocab["##able"]] and mask[tokenizer.vocab["模"]]


# --- In-graph twins: identical ids on real text --------------------------------

REAL_TEXT = [("sst2_train", 5000), ("wikitext2", None), ("afqmc_dev", None), ("news_zh", None)]




@pytest.mark.parametrize("model", [GERMAN_SPM, OSS_SPM, ZH_VOCAB])
@pytest.mark.parametrize("do_lower_case", [True, False])
def test_graph_tokenizer_matches_python_on_real_text(test_data, model, do_lower_case):
    import tensorflow as tf

    from albert_tf.tokenization import GraphTokenizer

    path = os.path.join(test_data, model)
    kwargs = {"vocab_file": path} if model.endswith(".txt") else {"spm_model_file": path}
    python_tokenizer = FullTokenizer(do_lower_case=do_lower_case, **kwargs)
    graph_tokenizer = GraphTokenizer(do_lower_case=do_lower_case, **kwargs)
    tokenize = tf.function(graph_tokenizer.tokenize)
    for corpus, limit in REAL_TEXT:
        if model == ZH_VOCAB and corpus in ("sst2_train", "wikitext2"):
            limit = 2000  # the pure-Python WordPiece is slow on long English lines
        lines = _read_lines(test_data, corpus, limit)
        assert len(lines) >= 200
        expected = [python_tokenizer.encode(line) for line in lines]
        got = tokenize(tf.constant(lines)).to_list()
        mismatches = [(line, e, g) for line, e, g in zip(lines, expected, got) if e != g]
        assert not mismatches, f"{corpus}: {len(mismatches)} of {len(lines)} lines differ, first {mismatches[0]}"


def test_graph_tokenizer_edge_cases(test_data):
    import tensorflow as tf

    from albert_tf.tokenization import GraphTokenizer

    texts = ["", "   ", "Größe 1,000, 9,9 x,", "a5, b 12,3,", "ΣΟΦΟΣ ﬁne ²,", "\u2028x\u2029y", "stone iii"]
    for kwargs in ({"spm_model_file": os.path.join(test_data, GERMAN_SPM)},
                   {"vocab_file": os.path.join(test_data, ZH_VOCAB)}):
        python_tokenizer = FullTokenizer(**kwargs)
        got = GraphTokenizer(**kwargs).tokenize(tf.constant(texts)).to_list()
        assert got == [python_tokenizer.encode(t) for t in texts]


def test_combining_characters_lie_in_the_fast_path_range():
    """preprocess_text only scans U+0300..U+E01EF for combining marks."""
    from albert_tf.tokenization.text_normalization import code_point_ranges, is_combining

    ranges = code_point_ranges(is_combining)
    assert ranges[0][0] >= 0x300 and ranges[-1][1] <= 0xE01EF
