"""The unlabeled corpus of benchmarks/pretraining_payoff.py, from the text in ../shared/data.

No TensorFlow here: these are plain functions over text files, tested in
tests/test_pretraining_payoff.py. The corpus is written in
create_pretraining_data's format (one sentence a line, a blank line between
documents).

What goes in (no dev split of any task: dev is what the benchmark scores; a sentence of a dev set that recurs in
other text, as STS-B's MSRpar pairs come from MRPC, is dropped from everything, `dev_sentences`):

* SST-2 train, sentences only (no labels): task-adaptive pretraining
  (Gururangan et al. 2020, "Don't Stop Pretraining"). GLUE's SST-2 train is
  67,349 phrases of the parse trees of 6,920 sentences, most of them nested
  inside one another; only the maximal ones (contained in no other, as whole
  words) are kept: 6,885 sentences, 133k words, each text once.
  The sentences are independent movie-review snippets: no order exists
  between them, so sentence-order prediction cannot be defined on them.
  They are grouped, in file order, into pseudo-documents of
  `SST_SENTENCES_PER_DOCUMENT` so that instances are filled to
  max_seq_length (the masked-LM signal, which is what transfers here); the
  SOP label of those instances is chance by construction, and the held-out
  SOP accuracy is measured on WikiText articles only.
* The sentences (no labels, no scores) of the train and test splits of
  STS-B, MRPC (train.tsv, test.tsv) and CoLA test: task-adaptive text for the
  pair task, grouped as SST-2's.
* WikiText-2 valid and test (the shared copy has no train split): real
  articles, split into documents at their top-level headings and into
  sentences at " . "; the tokenizer's markers are undone (" @-@ " -> "-",
  " @,@ " -> ",", " @.@ " -> ".") and "<unk>" is dropped.
* BERT's sample_text.txt (already one sentence a line, documents separated).
* The contexts of the SQuAD v2.0 dev subset (Wikipedia paragraphs; no
  questions or answers), one document per article.

Held out for the MLM/SOP curve: SST-2 test sentences (in-domain, never
labeled here) in a file of their own, and the last `HELD_OUT_ARTICLES`
WikiText articles in another (real documents: the SOP accuracy).
"""

import collections
import csv
import json
import os
import re

from albert_tf.outputs.atomic_files import atomic_open

SST_SENTENCES_PER_DOCUMENT = 8
HELD_OUT_ARTICLES = 6
_HEADING = re.compile(r"^ = [^=].* = $")
_WIKITEXT_MARKERS = ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."))


def maximal_phrases(phrases):
    """The phrases not contained (as whole words) in another one, in their first order of appearance."""
    unique = list(dict.fromkeys(p.strip() for p in phrases if p.strip()))
    by_word = collections.defaultdict(list)  # word -> maximal phrases (as " padded ") holding it
    kept = set()
    for phrase in sorted(unique, key=lambda p: (-len(p), p)):
        words = phrase.split()
        padded = f" {phrase} "
        candidates = min((by_word.get(w, ()) for w in words), key=len)
        if any(padded in other for other in candidates):
            continue
        for word in set(words):
            by_word[word].append(padded)
        kept.add(phrase)
    return [p for p in unique if p in kept]


def read_tsv_column(path, column, has_header=True):
    """One column (by name with a header, else by index) of a GLUE TSV file, as stripped strings."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if has_header:
        header, rows = rows[0], rows[1:]
        column = header.index(column)
    return [row[column].strip() for row in rows if len(row) > column and row[column].strip()]


def wikitext_articles(path):
    """[[sentence, ...], ...]: the articles of a tokenized WikiText file, detokenized lightly."""
    articles = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if _HEADING.match(line.rstrip("\n")):
                articles.append([])
                continue
            text = line.strip()
            if not text or text.startswith("= ") or not articles:
                continue  # blank lines and sub-headings
            text = f" {text} ".replace(" <unk> ", " ")
            for marker, replacement in _WIKITEXT_MARKERS:
                text = text.replace(marker, replacement)
            for sentence in re.split(r"(?<= \.) ", text.strip()):
                if len(sentence.split()) >= 3:
                    articles[-1].append(sentence.strip())
    return [a for a in articles if len(a) >= 2]


def sample_text_documents(path):
    with open(path, encoding="utf-8") as f:
        documents = [[s.strip() for s in d.split("\n") if s.strip()] for d in f.read().split("\n\n")]
    return [d for d in documents if d]


def squad_documents(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    documents = []
    for article in data:
        sentences = []
        for paragraph in article["paragraphs"]:
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph["context"].strip()) if s)
        documents.append(sentences)
    return documents


def dev_sentences(shared_data):
    """Every sentence of the GLUE dev sets in the shared data (SST-2, STS-B, MRPC, CoLA)."""
    glue = os.path.join(shared_data, "glue")
    sentences = set(read_tsv_column(os.path.join(glue, "SST-2", "dev.tsv"), "sentence"))
    for column in ("sentence1", "sentence2"):
        sentences.update(read_tsv_column(os.path.join(glue, "STS-B", "dev.tsv"), column))
    for column in ("#1 String", "#2 String"):
        sentences.update(read_tsv_column(os.path.join(glue, "MRPC", "dev.tsv"), column))
    sentences.update(read_tsv_column(os.path.join(glue, "CoLA", "dev.tsv"), 3, has_header=False))
    return sentences


def group(sentences, size=SST_SENTENCES_PER_DOCUMENT):
    return [sentences[i:i + size] for i in range(0, len(sentences), size)]


def write_documents(path, documents):
    """create_pretraining_data's text format; returns (documents, sentences, words) written."""
    sentences = words = 0
    with atomic_open(path, "w", encoding="utf-8") as f:
        for document in documents:
            f.write("\n".join(document) + "\n\n")
            sentences += len(document)
            words += sum(len(s.split()) for s in document)
    return len(documents), sentences, words


def build_corpus(shared_data, out_dir):
    """Writes train.txt, eval_sst.txt and eval_wiki.txt into out_dir; returns {file: (docs, sentences, words)}."""
    glue = os.path.join(shared_data, "glue")
    wiki = os.path.join(shared_data, "corpus_en", "wikitext-2")
    sst_train = maximal_phrases(read_tsv_column(os.path.join(glue, "SST-2", "train.tsv"), "sentence"))
    sst_test = read_tsv_column(os.path.join(glue, "SST-2", "test.tsv"), "sentence")
    pair_text = []
    for split in ("train", "test"):
        for column in ("sentence1", "sentence2"):
            pair_text += read_tsv_column(os.path.join(glue, "STS-B", f"{split}.tsv"), column)
        for column in ("#1 String", "#2 String"):
            pair_text += read_tsv_column(os.path.join(glue, "MRPC", f"{split}.tsv"), column)
    pair_text += read_tsv_column(os.path.join(glue, "CoLA", "test.tsv"), "sentence")
    pair_text = list(dict.fromkeys(pair_text))
    articles = wikitext_articles(os.path.join(wiki, "valid.txt")) + wikitext_articles(os.path.join(wiki, "test.txt"))
    other = []
    sample = os.path.join(shared_data, "corpus_en", "bert_sample_text", "sample_text.txt")
    if os.path.exists(sample):
        other += sample_text_documents(sample)
    squad = os.path.join(shared_data, "squad", "dev-v2.0-first5articles.json")
    if os.path.exists(squad):
        other += squad_documents(squad)
    os.makedirs(out_dir, exist_ok=True)
    dev = dev_sentences(shared_data) | set(sst_test)  # and the held-out text (one SST-2 test sentence recurs)
    sst_train = [s for s in sst_train if s not in dev]
    pair_text = [s for s in pair_text if s not in dev]
    other = [d for d in ([s for s in document if s not in dev] for document in articles[:-HELD_OUT_ARTICLES] + other)
             if d]
    train = group(sst_train) + group(pair_text) + other
    return {
        "train.txt": write_documents(os.path.join(out_dir, "train.txt"), train),
        "eval_sst.txt": write_documents(os.path.join(out_dir, "eval_sst.txt"), group(sst_test)),
        "eval_wiki.txt": write_documents(os.path.join(out_dir, "eval_wiki.txt"), articles[-HELD_OUT_ARTICLES:]),
    }
