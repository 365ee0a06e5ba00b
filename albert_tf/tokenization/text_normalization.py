"""Text normalisation of the original ALBERT and BERT tokenizers.

Two families of rules live here:

* ALBERT's SentencePiece preprocessing (`preprocess_text`): collapse
  whitespace, NFKD, drop combining marks, optionally lower-case.
* BERT's basic tokenizer character classes (whitespace, control,
  punctuation, CJK), used by the WordPiece tokenizer.

Each rule is defined once, by a Python predicate over characters. The
in-graph tokenizers (`graph_tokenizer.py`) turn the same predicates into RE2
character classes with `regex_class`, so the Python and TensorFlow paths agree
on every code point Python's `unicodedata` knows.
"""

import functools
import re
import sys
import unicodedata

SPIECE_UNDERLINE = "\u2581"


def preprocess_text(text, lower=False, remove_space=True):
    """ALBERT's text normalisation for SentencePiece models.

    The same steps as `preprocess_text` in google-research/albert's
    tokenization.py: whitespace runs become one space (and the ends are
    stripped), the text is NFKD-normalised, combining marks are dropped
    (which strips accents), and the text is lower-cased when `lower` is set.
    The function is idempotent.

    Args:
        text: a `str`.
        lower: lower-case the result (`do_lower_case` of the model).
        remove_space: collapse and strip whitespace.

    Returns:
        The normalised `str`.

    Example:
    >>> preprocess_text("  Café   au LAIT ", lower=True)
    'cafe au lait'
    """
    if remove_space:
        text = " ".join(text.split())
    if not text.isascii():  # NFKD and combining marks only touch non-ASCII.
        text = _MAYBE_COMBINING.sub(_drop_combining, unicodedata.normalize("NFKD", text))
    if lower:
        text = text.lower()
    return text


# Every combining character (canonical combining class > 0) lies in this
# range; the regex finds candidate runs fast and `_drop_combining` decides.
_MAYBE_COMBINING = re.compile("[\u0300-\U000E01EF]+")


def _drop_combining(match):
    return "".join(c for c in match.group() if not unicodedata.combining(c))


def is_bert_whitespace(char):
    """BERT's whitespace: space, tab, newline, carriage return and category Zs."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_bert_control(char):
    """BERT's control characters: categories Cc and Cf, except tab/newline/CR."""
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def is_bert_punctuation(char):
    """BERT's punctuation: all non-alphanumeric ASCII and Unicode category P*."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


# The CJK Unified Ideograph blocks that BERT's basic tokenizer splits into
# single characters (google-research/bert tokenization.py).
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_cjk_character(char):
    """Whether `char` is in one of BERT's CJK ideograph blocks."""
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def is_combining(char):
    """Python's `unicodedata.combining(char) != 0` (ALBERT drops these)."""
    return unicodedata.combining(char) != 0


def is_nonspacing_mark(char):
    """Unicode category Mn (BERT's accent stripping drops these)."""
    return unicodedata.category(char) == "Mn"


def is_python_space(char):
    """What `str.split()` splits on."""
    return char.isspace()


def is_python_digit(char):
    """What `str.isdigit()` accepts (ALBERT's digit-comma rule uses it)."""
    return char.isdigit()


@functools.lru_cache(maxsize=None)
def code_point_ranges(predicate):
    """Inclusive (first, last) code point ranges that `predicate` accepts (no surrogates)."""
    ranges = []
    start = None
    for cp in range(sys.maxunicode + 1):
        inside = not 0xD800 <= cp <= 0xDFFF and predicate(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, sys.maxunicode))
    return tuple(ranges)


def regex_class(predicate):
    """An RE2 character class (for tf.strings ops) of the code points `predicate` accepts."""
    parts = [f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}"
             for lo, hi in code_point_ranges(predicate)]
    return "[" + "".join(parts) + "]"
