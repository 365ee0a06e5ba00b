"""SQuAD v1.1/v2.0 examples and windowed features with character alignment.

Tokens do not keep character offsets (SentencePiece and BERT's basic
tokenizer both normalise the text), so each token is mapped back to the
original paragraph by aligning characters: every original character is
normalised on its own (NFKD, accents dropped, lower case when asked), the
tokens are concatenated (SentencePiece's `▁` read as a space, WordPiece's
`##` dropped, a space before each word), and the two strings are aligned
with difflib's longest matching blocks. The original ALBERT does the same
with a banded longest-common-subsequence in pure Python; difflib gives the
same map on SQuAD text and is much faster. A token's span is its first to
last aligned character; tokens with none (such as `[UNK]`) borrow their
neighbours' positions.

Windows follow the original: `[CLS] question [SEP] paragraph-window [SEP]`,
the question cut to `max_query_length` tokens, windows `doc_stride` tokens
apart, `p_mask` 1 on the question, the [SEP]s and padding, and a gold span
outside a window (or no answer) pointing at position 0 ([CLS]).
"""

import dataclasses
import difflib
import json
from typing import List

from albert_tf.tokenization.sentencepiece_tokenizer import SentencePieceTokenizer
from albert_tf.tokenization.text_normalization import preprocess_text


@dataclasses.dataclass
class SquadExample:
    qas_id: str
    question_text: str
    paragraph_text: str
    answer_text: str = ""
    start_char: int = -1
    is_impossible: bool = False
    gold_answers: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SquadWindow:
    """What post-processing needs of one feature (window)."""

    example_index: int
    doc_offset: int  # position of the window's first paragraph token
    tok_start_to_orig: List[int]  # per window paragraph token: first original character
    tok_end_to_orig: List[int]  # per window paragraph token: last original character
    token_is_max_context: List[bool]  # per window paragraph token


_LAYOUT = ('{"data": [{"paragraphs": [{"context": ..., "qas": [{"id": ..., "question": ..., "answers": '
           '[{"text": ..., "answer_start": ...}]}]}]}]}')


def _example(path, qa, context, is_training, version_2_with_negative):
    impossible = bool(qa.get("is_impossible", False)) and version_2_with_negative
    gold = [answer["text"] for answer in qa.get("answers", [])]
    example = SquadExample(qa["id"], qa["question"], context, is_impossible=impossible, gold_answers=gold)
    if is_training and not impossible:
        if len(qa["answers"]) != 1:
            raise ValueError(f"{path}: question {qa['id']} has {len(qa['answers'])} answers; "
                             "training needs exactly one")
        answer = qa["answers"][0]
        start = answer["answer_start"]
        if context[start:start + len(answer["text"])] != answer["text"]:
            raise ValueError(
                f"{path}: question {qa['id']}: answer {answer['text']!r} is not at character "
                f"{start} of its paragraph (found {context[start:start + len(answer['text'])]!r})")
        example.answer_text, example.start_char = answer["text"], start
    return example


def read_squad_examples(path, is_training, version_2_with_negative=False):
    """Examples of a SQuAD JSON file (v1.1 or v2.0 layout).

    Training needs exactly one answer per answerable question and answers
    that match the paragraph at `answer_start`; both errors name the
    question id.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)["data"]
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}); expected a SQuAD file "
                         f"{_LAYOUT}") from None
    except (KeyError, TypeError):
        raise ValueError(f"{path}: no \"data\" list of articles; expected the SQuAD layout {_LAYOUT}") from None
    examples, where = [], "the data"
    try:
        for a, article in enumerate(data):
            where = f"article {a}"
            for p, paragraph in enumerate(article["paragraphs"]):
                where = f"article {a}, paragraph {p}"
                context = paragraph["context"]
                for q, qa in enumerate(paragraph["qas"]):
                    where = f"article {a}, paragraph {p}, question {q}"
                    examples.append(_example(path, qa, context, is_training, version_2_with_negative))
    except KeyError as error:
        raise ValueError(f"{path}: {where} has no {error.args[0]!r}; expected the SQuAD layout {_LAYOUT}") from None
    except (TypeError, AttributeError):
        raise ValueError(f"{path}: {where} is not laid out as SQuAD's {_LAYOUT}") from None
    if not examples:
        raise ValueError(f"{path}: no questions")
    return examples


def _token_text(token, is_sentencepiece):
    if is_sentencepiece:
        return token.replace("\u2581", " ")
    return token[2:] if token.startswith("##") else " " + token


def align_tokens(text, tokens, is_sentencepiece, do_lower_case):
    """(first, last) original character of each token; see the module docstring."""
    normalized, normalized_to_orig = [], []
    for index, char in enumerate(text):
        for piece in preprocess_text(char, lower=do_lower_case, remove_space=False):
            normalized.append(" " if piece.isspace() else piece)
            normalized_to_orig.append(index)
    token_texts = [_token_text(token, is_sentencepiece) for token in tokens]
    concatenated = "".join(token_texts)
    concatenated_to_orig = [None] * len(concatenated)
    matcher = difflib.SequenceMatcher(None, "".join(normalized), concatenated, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            if normalized[block.a + k] != " ":
                concatenated_to_orig[block.b + k] = normalized_to_orig[block.a + k]
    starts, ends, position = [], [], 0
    for token_text in token_texts:
        mapped = [i for i in concatenated_to_orig[position:position + len(token_text)] if i is not None]
        starts.append(min(mapped) if mapped else None)
        ends.append(max(mapped) if mapped else None)
        position += len(token_text)
    # Tokens with no aligned character take the neighbouring positions.
    for i in range(len(tokens)):
        if starts[i] is None:
            previous = next((ends[j] for j in range(i - 1, -1, -1) if ends[j] is not None), -1)
            following = next((starts[j] for j in range(i + 1, len(tokens)) if starts[j] is not None), len(text))
            starts[i], ends[i] = min(previous + 1, len(text) - 1), max(following - 1, previous + 1, 0)
            ends[i] = min(ends[i], len(text) - 1)
    return starts, ends


def _max_context(spans, span_index, position):
    """The original _check_is_max_context: the window where the token has most context."""
    best_score, best_index = None, None
    for index, (start, length) in enumerate(spans):
        end = start + length - 1
        if position < start or position > end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_index = score, index
    return best_index == span_index


def convert_examples_to_features(examples, tokenizer, max_seq_length, doc_stride, max_query_length,
                                 is_training, do_lower_case=True):
    """(features dict of lists for `finetuning_dataset`, list of `SquadWindow`, stats dict)."""
    is_sentencepiece = isinstance(tokenizer.backend, SentencePieceTokenizer)
    cls_id, sep_id = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    features = {name: [] for name in ("input_ids", "segment_ids", "p_mask", "example_index")}
    if is_training:
        features.update(start_positions=[], end_positions=[], is_impossible=[])
    windows = []
    stats = {"examples": len(examples), "features": 0, "answer_outside_window": 0}
    paragraphs = {}  # questions share paragraphs: tokenize and align each once
    for example_index, example in enumerate(examples):
        query_ids = tokenizer.encode(example.question_text)[:max_query_length]
        if example.paragraph_text not in paragraphs:
            tokens = tokenizer.tokenize(example.paragraph_text)
            paragraphs[example.paragraph_text] = (tokenizer.convert_tokens_to_ids(tokens), *align_tokens(
                example.paragraph_text, tokens, is_sentencepiece, do_lower_case))
        paragraph_ids, starts, ends = paragraphs[example.paragraph_text]
        answer_span = None
        if is_training and not example.is_impossible:
            first_char = example.start_char
            last_char = first_char + len(example.answer_text) - 1
            first = next((i for i, end in enumerate(ends) if end >= first_char), len(ends) - 1)
            last = next((i for i in range(len(starts) - 1, -1, -1) if starts[i] <= last_char), first)
            answer_span = (first, max(first, last))

        max_tokens_for_doc = max_seq_length - len(query_ids) - 3
        spans, start = [], 0
        while True:
            length = min(len(paragraph_ids) - start, max_tokens_for_doc)
            spans.append((start, length))
            if start + length >= len(paragraph_ids):
                break
            start += min(length, doc_stride)

        for span_index, (span_start, span_length) in enumerate(spans):
            ids = [cls_id] + query_ids + [sep_id]
            doc_offset = len(ids)
            ids += paragraph_ids[span_start:span_start + span_length] + [sep_id]
            segments = [0] * doc_offset + [1] * (span_length + 1)
            p_mask = [0] + [1] * (doc_offset - 1) + [0] * span_length + [1]
            features["input_ids"].append(ids)
            features["segment_ids"].append(segments)
            features["p_mask"].append(p_mask)
            features["example_index"].append(len(windows))
            windows.append(SquadWindow(
                example_index, doc_offset, starts[span_start:span_start + span_length],
                ends[span_start:span_start + span_length],
                [_max_context(spans, span_index, span_start + i) for i in range(span_length)]))
            if is_training:
                impossible, start_position, end_position = True, 0, 0
                if answer_span is not None:
                    if span_start <= answer_span[0] and answer_span[1] < span_start + span_length:
                        impossible = False
                        start_position = answer_span[0] - span_start + doc_offset
                        end_position = answer_span[1] - span_start + doc_offset
                    else:
                        stats["answer_outside_window"] += 1
                features["start_positions"].append(start_position)
                features["end_positions"].append(end_position)
                features["is_impossible"].append(int(impossible))
    stats["features"] = len(windows)
    return features, windows, stats


def window_answer_span(example, window, start, end):
    """(text, first character, end character) of window token positions `start..end` (sequence positions) in
    the paragraph: the text the tokens cover, without surrounding spaces."""
    first = window.tok_start_to_orig[start - window.doc_offset]
    last = window.tok_end_to_orig[end - window.doc_offset]
    covered = example.paragraph_text[first:last + 1]
    text = covered.strip()
    begin = first + len(covered) - len(covered.lstrip())
    return text, begin, begin + len(text)


def window_answer_text(example, window, start, end):
    """The paragraph text of window token positions `start..end` (sequence positions)."""
    return window_answer_span(example, window, start, end)[0]

