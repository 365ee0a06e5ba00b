"""Text files -> pretraining TFRecords, on all cores, reproducibly.

The job has three stages:

1. Tokenize. Input lines (one sentence per line, blank lines between
   documents) are read in chunks and tokenized by worker processes. Bytes
   that are not UTF-8 are replaced (U+FFFD) and counted. Each file ends a
   document. The result is a `TokenizedCorpus` of flat arrays.
2. Make instances. Each dupe pass visits the documents in a seeded random
   order, cut into blocks of `BLOCK_DOCUMENTS` documents; all (pass, block)
   pairs are processed in a seeded random order. A block's random draws come
   from generators seeded by (random_seed, pass, block), so the output does
   not depend on how many workers there are. The instances of a block are
   shuffled and serialised in the worker.
3. Write. The parent writes records round-robin to the output files, in
   block order.

The whole job imports no TensorFlow (see tfrecord_writer.py), and workers
are forked after the corpus is built, so they share its arrays.
"""

import collections
import dataclasses
import importlib
import itertools
import multiprocessing
import random
import time

import numpy as np

from albert_tf.data.pretraining_instances import (
    InstanceMaker,
    InstanceOptions,
    InstanceStats,
    TokenizedCorpus,
    batch_features,
)
from albert_tf.data.data_creation_config import DataCreationConfig
from albert_tf.data.file_patterns import expand_file_patterns
from albert_tf.data.tfrecord_writer import TFRecordWriter, frame_records, serialize_examples
from albert_tf.outputs.atomic_files import prepare_outputs
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.text_normalization import is_cjk_character

LINES_PER_CHUNK = 2000
BLOCK_DOCUMENTS = 256

# State of a worker process (set before forking, or by the pool initializer).
_WORKER = {}


def load_word_segmenter(spec):
    """A Chinese word segmenter from a flag value: "jieba" or "module:function"."""
    if not spec:
        return None
    if spec == "jieba":
        try:
            import jieba
        except ImportError as error:
            raise ImportError("--word_segmenter=jieba needs the jieba package: pip install jieba") from error
        return jieba.lcut
    module_name, _, function_name = spec.partition(":")
    if not function_name:
        raise ValueError(f"--word_segmenter={spec!r}: expected 'jieba' or 'module:function'")
    return getattr(importlib.import_module(module_name), function_name)


@dataclasses.dataclass
class TokenizeStats:
    lines: int = 0
    sentences: int = 0
    blank_lines: int = 0
    lines_without_tokens: int = 0
    long_lines: int = 0
    non_utf8_lines: int = 0
    non_utf8_examples: list = dataclasses.field(default_factory=list)

    def merge(self, other):
        for field in dataclasses.fields(self):
            if field.name == "non_utf8_examples":
                self.non_utf8_examples.extend(other.non_utf8_examples[:10 - len(self.non_utf8_examples)])
            else:
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclasses.dataclass
class Summary:
    input_files: list
    output_files: list
    empty_files: list
    documents: int
    one_sentence_documents: int
    tokenize: TokenizeStats
    instances: InstanceStats
    seconds: float

    def lines(self):
        c = self.instances.counts
        total_spans = max(1, int(self.instances.ngram_histogram.sum()))
        masked = max(1, c["masked_tokens"])
        instances = max(1, c["instances"])
        t = self.tokenize
        out = [
            f"input files: {len(self.input_files)} ({len(self.empty_files)} empty or blank-only, skipped)",
            f"documents: {self.documents} ({self.one_sentence_documents} of one sentence)",
            f"lines: {t.lines}; sentences: {t.sentences}; blank (document breaks): {t.blank_lines}",
            f"skipped lines: {t.lines_without_tokens} without any token; "
            f"{t.non_utf8_lines} lines had non-UTF-8 bytes (replaced by U+FFFD)",
            f"lines longer than max_seq_length - 3 tokens (truncated in instances): {t.long_lines}",
            f"instances: {c['instances']} in {len(self.output_files)} file(s); "
            f"{c['instances'] / max(self.seconds, 1e-9):.0f} instances/s over {self.seconds:.1f} s",
            f"tokens: {c['tokens']} (mean {c['tokens'] / instances:.1f} per instance); "
            f"truncated away: {c['truncated_tokens']}",
            f"masked tokens: {c['masked_tokens']} ({c['masked_tokens'] / max(1, c['tokens']):.2%} of tokens); "
            f"[MASK] {c['replaced_by_mask'] / masked:.1%}, kept {c['kept'] / masked:.1%}, "
            f"random {c['replaced_by_random'] / masked:.1%}",
            "n-gram spans masked (units): " + ", ".join(
                f"{n}: {count} ({count / total_spans:.1%})"
                for n, count in enumerate(self.instances.ngram_histogram) if n)
            + "; drawn: " + ", ".join(
                f"{n}: {count / max(1, self.instances.ngram_drawn.sum()):.1%}"
                for n, count in enumerate(self.instances.ngram_drawn) if n),
            f"sentence order labels: swapped or random (1) {(c['sop_swapped'] + c['random_next']) / instances:.1%} "
            f"(B from a random document: {c['random_next']})",
        ]
        if c["random_next"] > 0.25 * instances:
            out.append(
                f"WARNING: {c['random_next'] / instances:.0%} of instances took B from a random document "
                "because their chunk was a single line: the input looks like one paragraph per line. "
                "Split it into one sentence per line for a balanced sentence-order task.")
        for file, line in self.tokenize.non_utf8_examples:
            out.append(f"  non-UTF-8 bytes replaced at {file}:{line}")
        for file in self.empty_files:
            out.append(f"  empty or blank-only input skipped: {file}")
        return out


# --- Stage 1: tokenization ------------------------------------------------------

def _init_tokenize_worker(tokenizer_args, word_segmenter, max_num_tokens):
    tokenizer = FullTokenizer(**tokenizer_args)
    _WORKER.update(tokenizer=tokenizer, word_start=tokenizer.word_start_mask(),
                   segmenter=word_segmenter, max_num_tokens=max_num_tokens)


def _mark_segmented_words(tokens, flags, segmenter):
    """Whole words of runs of single CJK characters, from a word segmenter."""
    i = 0
    while i < len(tokens):
        if len(tokens[i]) == 1 and is_cjk_character(tokens[i]):
            j = i
            while j < len(tokens) and len(tokens[j]) == 1 and is_cjk_character(tokens[j]):
                j += 1
            run = "".join(tokens[i:j])
            position = i
            words = [w for w in segmenter(run) if w]
            if "".join(words) != run:
                raise ValueError(f"word segmenter changed the text: {run!r} -> {words!r}")
            for word in words:
                flags[position] = True
                flags[position + 1:position + len(word)] = False
                position += len(word)
            i = j
        else:
            i += 1


def _tokenize_chunk(chunk):
    file_name, first_line, raw_lines = chunk
    tokenizer = _WORKER["tokenizer"]
    stats = TokenizeStats(lines=len(raw_lines))
    texts = []
    for offset, raw in enumerate(raw_lines):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            stats.non_utf8_lines += 1
            if len(stats.non_utf8_examples) < 10:
                stats.non_utf8_examples.append((file_name, first_line + offset))
        texts.append(tokenizer.backend.normalize(text))
    line_counts = np.zeros(len(texts), dtype=np.int64)
    blank = [not t for t in texts]
    non_blank = [t for t in texts if t]
    segmenter = _WORKER["segmenter"]
    if segmenter is not None and tokenizer.sp_model is None:
        id_lists, flag_lists = [], []
        for text in non_blank:
            tokens = tokenizer.tokenize(text)
            token_ids = tokenizer.convert_tokens_to_ids(tokens)
            flags = _WORKER["word_start"][token_ids] if tokens else np.zeros(0, bool)
            _mark_segmented_words(tokens, flags, segmenter)
            id_lists.append(token_ids)
            flag_lists.append(flags)
    else:
        id_lists = tokenizer.backend.encode_batch(non_blank)
        flag_lists = None
    counts = np.array([len(ids) for ids in id_lists], dtype=np.int64)
    line_counts[np.flatnonzero(~np.array(blank, dtype=bool))] = counts
    line_counts[np.array(blank, dtype=bool)] = -1
    ids = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int32, count=int(counts.sum()))
    if flag_lists is None:
        word_starts = _WORKER["word_start"][ids]
    else:
        word_starts = np.concatenate(flag_lists) if flag_lists else np.zeros(0, bool)
    stats.blank_lines = int(sum(blank))
    stats.lines_without_tokens = int((counts == 0).sum())
    stats.sentences = int((counts > 0).sum())
    stats.long_lines = int((counts > _WORKER["max_num_tokens"]).sum())
    return file_name, ids, word_starts, line_counts, stats


def _read_chunks(input_files):
    for file_name in input_files:
        opener = open
        if "://" in file_name:
            import tensorflow as tf

            opener = tf.io.gfile.GFile
        with opener(file_name, "rb") as f:
            chunk, first_line = [], 1
            for line_number, raw in enumerate(f, 1):
                chunk.append(raw.rstrip(b"\r\n"))
                if len(chunk) == LINES_PER_CHUNK:
                    yield file_name, first_line, chunk
                    chunk, first_line = [], line_number + 1
            if chunk:
                yield file_name, first_line, chunk


def tokenize_corpus(input_files, tokenizer_args, max_num_tokens, num_workers=1, word_segmenter=None):
    """Stage 1: a `TokenizedCorpus` of the input files, plus stats and empty files."""
    init_args = (tokenizer_args, word_segmenter, max_num_tokens)
    ids, starts, line_counts = [], [], []
    stats = TokenizeStats()
    tokens_per_file = collections.Counter()
    chunks = _read_chunks(input_files)
    if num_workers > 1:
        pool = multiprocessing.get_context("fork").Pool(num_workers, _init_tokenize_worker, init_args)

        def results():
            # Windows of chunks keep the raw text in flight bounded.
            while window := list(itertools.islice(chunks, 8 * num_workers)):
                yield from pool.imap(_tokenize_chunk, window, chunksize=1)
        results = results()
    else:
        pool = None
        _init_tokenize_worker(*init_args)
        results = map(_tokenize_chunk, chunks)
    previous_file = None
    try:
        for file_name, chunk_ids, chunk_starts, counts, chunk_stats in results:
            if file_name != previous_file:
                line_counts.append(np.array([-1]))  # a new file starts a new document
                previous_file = file_name
            ids.append(chunk_ids)
            starts.append(chunk_starts)
            line_counts.append(counts)
            stats.merge(chunk_stats)
            tokens_per_file[file_name] += len(chunk_ids)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    line_counts = np.concatenate(line_counts) if line_counts else np.zeros(0, np.int64)  # empty files: no chunk
    sentence_lengths = line_counts[line_counts > 0]
    document_of_sentence = np.cumsum(line_counts < 0)[line_counts > 0]
    new_document = np.diff(document_of_sentence, prepend=-1) != 0
    corpus = TokenizedCorpus(
        token_ids=np.concatenate(ids) if ids else np.zeros(0, np.int32),
        word_starts=np.concatenate(starts) if starts else np.zeros(0, bool),
        sentence_starts=np.concatenate([[0], np.cumsum(sentence_lengths)]).astype(np.int64),
        document_starts=np.concatenate(
            [np.flatnonzero(new_document), [len(sentence_lengths)]]).astype(np.int64),
    )
    empty_files = [f for f in input_files if tokens_per_file[f] == 0]
    return corpus, stats, empty_files


# --- Stage 2: instances -----------------------------------------------------------

def _document_order(random_seed, pass_index, num_documents):
    cache = _WORKER.setdefault("orders", {})
    if pass_index not in cache:
        cache.clear()
        cache[pass_index] = np.random.default_rng([random_seed, 1, pass_index]).permutation(num_documents)
    return cache[pass_index]


def _make_block(task):
    pass_index, block_index = task
    maker, seed = _WORKER["maker"], _WORKER["random_seed"]
    options = maker.options
    order = _document_order(seed, pass_index, maker.corpus.num_documents)
    documents = order[block_index * BLOCK_DOCUMENTS:(block_index + 1) * BLOCK_DOCUMENTS]
    rng = np.random.default_rng([seed, 2, pass_index, block_index])
    py_rng = random.Random(int(rng.integers(2**63)))
    stats = InstanceStats(options.ngram)
    instances = []
    for document in documents.tolist():
        instances.extend(maker.instances_from_document(document, rng, py_rng, stats))
    instances = [instances[i] for i in rng.permutation(len(instances)).tolist()]
    features = batch_features(instances, options.max_seq_length, options.max_predictions_per_seq)
    return frame_records(serialize_examples(features)), stats


_DEFAULTS = DataCreationConfig()


def create_pretraining_data(input_files, output_files, *, spm_model_file=None, vocab_file=None,
                            do_lower_case=_DEFAULTS.do_lower_case, options=InstanceOptions(),
                            dupe_factor=_DEFAULTS.dupe_factor, random_seed=_DEFAULTS.random_seed, num_workers=1,
                            word_segmenter=None, log=print):
    """Writes pretraining TFRecords; returns a `Summary` (defaults: `DataCreationConfig`'s, one worker).

    Args:
        input_files: text files (one sentence per line, blank line between documents).
        output_files: TFRecord paths; instances go round-robin to them.
        spm_model_file / vocab_file / do_lower_case: the tokenizer (`FullTokenizer`).
        options: `InstanceOptions` (sequence length, masking, SOP/NSP).
        dupe_factor: passes over the corpus, each with different chunks and masks.
        random_seed: makes the output byte-for-byte reproducible.
        num_workers: processes; the output does not depend on it.
        word_segmenter: callable str -> list of words, for Chinese whole-word
            masking with a WordPiece vocab (e.g. `jieba.lcut`).
        log: progress printer.
    """
    options.validate()
    if dupe_factor < 1:
        raise ValueError(f"dupe_factor={dupe_factor} must be at least 1")
    if not output_files:
        raise ValueError("no output file given")
    started = time.time()
    tokenizer_args = dict(vocab_file=vocab_file, do_lower_case=do_lower_case, spm_model_file=spm_model_file)
    tokenizer = FullTokenizer(**tokenizer_args)
    special = tokenizer.special_token_ids()
    num_workers = max(1, int(num_workers))

    corpus, token_stats, empty_files = tokenize_corpus(
        input_files, tokenizer_args, options.max_seq_length - 3, num_workers, word_segmenter)
    for file_name in empty_files:
        log(f"WARNING: {file_name} has no text (empty or blank lines only); skipped")
    if corpus.num_documents == 0:
        raise ValueError("the corpus is empty: no input file has any tokenizable text: "
                         + ", ".join(input_files))
    for file_name, line in token_stats.non_utf8_examples[:3]:
        log(f"WARNING: non-UTF-8 bytes replaced by U+FFFD at {file_name}:{line}")
    sentences_per_document = np.diff(corpus.document_starts)
    log(f"tokenized {len(input_files)} file(s): {corpus.num_documents} documents, "
        f"{len(corpus.sentence_starts) - 1} sentences, {corpus.num_tokens} tokens "
        f"in {time.time() - started:.1f} s")
    if corpus.num_documents == 1:
        log("WARNING: the corpus has one document; random B segments come from the same document")

    maker = InstanceMaker(corpus, options, special["[CLS]"], special["[SEP]"], special["[MASK]"],
                          tokenizer.vocab_size)
    _WORKER.clear()
    _WORKER.update(maker=maker, random_seed=random_seed)
    blocks_per_pass = -(-corpus.num_documents // BLOCK_DOCUMENTS)
    tasks = [(p, b) for p in range(dupe_factor) for b in range(blocks_per_pass)]
    task_order = np.random.default_rng([random_seed, 0]).permutation(len(tasks))
    tasks = [tasks[i] for i in task_order]

    stats = InstanceStats(options.ngram)
    writers = [TFRecordWriter(path) for path in output_files]
    pool, complete = None, False
    try:
        if num_workers > 1:
            pool = multiprocessing.get_context("fork").Pool(num_workers)
            results = pool.imap(_make_block, tasks, chunksize=1)
        else:
            results = map(_make_block, tasks)
        written = 0
        stage_start = last_log = time.time()
        for done, (records, block_stats) in enumerate(results, 1):
            for record in records:
                writers[written % len(writers)].write_framed(record)
                written += 1
            stats.merge(block_stats)
            now = time.time()
            if now - last_log >= 5 or done == len(tasks):
                rate = written / max(now - stage_start, 1e-9)
                eta = (now - stage_start) / done * (len(tasks) - done)
                log(f"blocks {done}/{len(tasks)}  instances {written}  {rate:.0f} instances/s  "
                    f"ETA {eta:.0f} s")
                last_log = now
        complete = True
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        for writer in writers:  # complete files appear under their names; a failed run leaves none
            if complete:
                writer.close()
            else:
                writer.abort()
        _WORKER.clear()
    return Summary(
        input_files=list(input_files), output_files=list(output_files), empty_files=empty_files,
        documents=corpus.num_documents, one_sentence_documents=int((sentences_per_document == 1).sum()),
        tokenize=token_stats, instances=stats, seconds=time.time() - started)


def create_from_config(config, log=print):
    """Runs `create_pretraining_data` as a `DataCreationConfig` describes; returns (summary, output paths)."""
    config.validate()
    input_files = expand_file_patterns(config.input_file)
    outputs = config.output_paths()
    with prepare_outputs(outputs, config.overwrite):
        log(f"reading {len(input_files)} file(s), writing {len(outputs)} file(s), {config.num_workers} worker(s)")
        summary = create_pretraining_data(
            input_files, outputs, spm_model_file=config.spm_model_file, vocab_file=config.vocab_file,
            do_lower_case=config.do_lower_case, options=config.instance_options(), dupe_factor=config.dupe_factor,
            random_seed=config.random_seed, num_workers=config.num_workers,
            word_segmenter=load_word_segmenter(config.word_segmenter), log=log)
    return summary, outputs
