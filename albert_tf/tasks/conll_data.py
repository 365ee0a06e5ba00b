"""CoNLL-format files for token classification: one token per line, sentences separated by blank lines.

    EU NNP B-NP B-ORG
    rejects VBZ B-VP O
    German JJ B-NP B-MISC

Columns are split on whitespace; the token is `token_column` (0) and the tag
`label_column` (-1: the last). `-DOCSTART-` lines (CoNLL-2003) are skipped.
A file of tokens alone (one column) is unlabelled (test data). Features put
each word's tag on its first piece ([CLS] and the other pieces are -1, not
scored), and split a sentence longer than `max_seq_length - 2` pieces into
consecutive windows at word boundaries, so that every word is predicted.
"""

import dataclasses
from typing import List, Optional

IGNORED = -1  # the label of positions that are not a word's first piece


@dataclasses.dataclass
class TaggedSentence:
    tokens: List[str]
    labels: Optional[List[str]]  # None: unlabelled
    line: int  # the line of its first token (1-based), for messages


def read_conll(path, token_column=0, label_column=-1):
    """The sentences of a CoNLL file; ValueError naming the file and line for a malformed one."""
    sentences, tokens, labels, first = [], [], [], None
    columns = None

    def close():
        if tokens:
            sentences.append(TaggedSentence(list(tokens), list(labels) if columns > 1 else None, first))
            tokens.clear()
            labels.clear()

    try:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    close()
                    continue
                if fields[0] == "-DOCSTART-":
                    continue
                if columns is None:
                    columns = len(fields)
                if len(fields) != columns:
                    raise ValueError(f"{path}:{number}: {len(fields)} columns where the file's first token line "
                                     f"has {columns}; a CoNLL file has the same columns on every token line")
                if not tokens:
                    first = number
                tokens.append(fields[token_column])
                if columns > 1:
                    labels.append(fields[label_column])
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error}); convert it with iconv") from None
    except IndexError:
        raise ValueError(f"{path}: token_column={token_column} or label_column={label_column} is not a column "
                         f"of its {columns}-column lines") from None
    if columns is not None:
        close()
    if not sentences:
        raise ValueError(f"{path}: no sentences (expected token lines separated by blank lines)")
    return sentences


def label_set(sentences):
    """The tags of labelled sentences: "O" first, then the rest sorted (entity types together, B- before I-)."""
    labels = {label for sentence in sentences for label in sentence.labels or ()}
    return (["O"] if "O" in labels else []) + sorted(labels - {"O"}, key=lambda t: (t[2:], t[:2]))


def check_labels(sentences, labels, path):
    """ValueError naming the file and line of the first tag outside `labels`."""
    known = set(labels)
    for sentence in sentences:
        for offset, label in enumerate(sentence.labels or ()):
            if label not in known:
                raise ValueError(f"{path}:{sentence.line + offset}: tag {label!r} is not one of the labels "
                                 f"{labels}; add it to label_list (or to the training data)")


def encode_sentences(sentences, tokenizer, labels, max_seq_length):
    """(features, windows): unpadded features (input_ids, segment_ids, token_labels, example_index) of every window, and
    per window (sentence index, first word, positions of its words' first pieces) to put predictions back."""
    cls, sep = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    unknown = tokenizer.convert_tokens_to_ids(["<unk>" if tokenizer.spm_model_file else "[UNK]"])[0]
    label_ids = {label: index for index, label in enumerate(labels)}
    budget = max_seq_length - 2
    features = {"input_ids": [], "segment_ids": [], "token_labels": [], "example_index": []}
    windows = []

    def emit(sentence_index, start, words):
        ids, tags, firsts = [cls], [IGNORED], []
        for pieces, tag in words:
            firsts.append(len(ids))
            ids += pieces
            tags += [tag] + [IGNORED] * (len(pieces) - 1)
        features["input_ids"].append(ids + [sep])
        features["segment_ids"].append([0] * (len(ids) + 1))
        features["token_labels"].append(tags + [IGNORED])
        features["example_index"].append(len(windows))
        windows.append((sentence_index, start, firsts))

    for index, sentence in enumerate(sentences):
        words, start, used = [], 0, 0
        for position, token in enumerate(sentence.tokens):
            pieces = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(token))[:budget] or [unknown]
            tag = label_ids[sentence.labels[position]] if sentence.labels else IGNORED
            if used + len(pieces) > budget:
                emit(index, start, words)
                words, start, used = [], position, 0
            words.append((pieces, tag))
            used += len(pieces)
        emit(index, start, words)
    return features, windows


def word_predictions(sentences, windows, logits):
    """Per sentence, the predicted label index of each word: the argmax at its first piece."""
    predicted = [[0] * len(sentence.tokens) for sentence in sentences]
    for row, (sentence_index, start, firsts) in enumerate(windows):
        for word, position in enumerate(firsts):
            predicted[sentence_index][start + word] = int(logits[row, position].argmax())
    return predicted
