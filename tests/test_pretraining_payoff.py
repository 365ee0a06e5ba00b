"""The unlabeled corpus of benchmarks/pretraining_payoff.py: what goes in, what is held out, no dev text."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import payoff_corpus  # noqa: E402


def test_maximal_phrases_drop_phrases_nested_as_whole_words_and_keep_first_order():
    phrases = ["a good film", "good", "the best", "a good film , the best", "goodness", "film", " good "]
    # "good", "film", "the best" and "a good film" sit inside the long one; "goodness" holds "good" only as letters.
    assert payoff_corpus.maximal_phrases(phrases) == ["a good film , the best", "goodness"]


def test_wikitext_articles_split_at_top_headings_and_sentences(tmp_path):
    path = tmp_path / "wiki.txt"
    path.write_text(" \n = First = \n \n The cat sat . A dog @-@ like <unk> ran 1 @,@ 000 m . \n"
                    " = = Sub = = \n Short . More text here . \n = Second = \n Only one sentence here . \n"
                    " = Third = \n One more line . And another one . \n", encoding="utf-8")
    articles = payoff_corpus.wikitext_articles(str(path))
    # "Second" has one sentence: no sentence order to learn, so it is left out; "Short ." has under 3 words.
    assert articles == [["The cat sat .", "A dog-like ran 1,000 m .", "More text here ."],
                        ["One more line .", "And another one ."]]


def test_the_corpus_holds_no_dev_sentence_and_holds_out_sst2_test(test_data, tmp_path):
    # tests/data keeps the shared data's layout, trimmed (tests/data/README.md); the benchmark reads the whole files.
    counts = payoff_corpus.build_corpus(test_data, str(tmp_path))
    with open(tmp_path / "train.txt", encoding="utf-8") as f:
        train = f.read()
    lines = {line for line in train.split("\n") if line}
    dev = payoff_corpus.dev_sentences(test_data)
    assert len(dev) > 2000 and not lines & dev  # STS-B's MSRpar dev pairs also sit in MRPC train/test: dropped
    sst_train = payoff_corpus.maximal_phrases(payoff_corpus.read_tsv_column(
        os.path.join(test_data, "glue", "SST-2", "train.tsv"), "sentence"))
    sst_test = payoff_corpus.read_tsv_column(os.path.join(test_data, "glue", "SST-2", "test.tsv"), "sentence")
    # Every maximal SST-2 train phrase is in, except those that are SST-2 test sentences too.
    assert len(sst_train) > 100 and set(sst_train) - lines == set(sst_train) & set(sst_test)
    # The first pseudo-document: the first SST_SENTENCES_PER_DOCUMENT sentences, in the file's order.
    assert train.split("\n\n")[0].split("\n") == sst_train[:payoff_corpus.SST_SENTENCES_PER_DOCUMENT]
    with open(tmp_path / "eval_sst.txt", encoding="utf-8") as f:
        assert [line for line in f.read().split("\n") if line] == sst_test
    assert not set(sst_test) & lines
    with open(tmp_path / "eval_wiki.txt", encoding="utf-8") as f:
        held_out_wiki = {line for line in f.read().split("\n") if line}
    assert held_out_wiki and not held_out_wiki & lines
    assert counts["train.txt"][0] == len(train.strip().split("\n\n"))
    assert counts["eval_wiki.txt"][0] == payoff_corpus.HELD_OUT_ARTICLES
    assert counts["train.txt"][2] == len(train.split())
