"""Training ALBERT-style SentencePiece models (the release's settings)."""

import io
import os
import re

import sentencepiece

from albert_tf.outputs.atomic_files import atomic_open, prepare_outputs
from albert_tf.tokenization.full_tokenizer import FullTokenizer
from albert_tf.tokenization.sentencepiece_config import SentencePieceConfig
from albert_tf.tokenization.text_normalization import preprocess_text

# The ALBERT release's trainer settings (its README's spm_train command).
CONTROL_SYMBOLS = ("[CLS]", "[SEP]", "[MASK]")
USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac")


_DEFAULTS = SentencePieceConfig()


def train_sentencepiece(input_files, model_prefix, vocab_size=_DEFAULTS.vocab_size,
                        do_lower_case=_DEFAULTS.do_lower_case, character_coverage=_DEFAULTS.character_coverage,
                        input_sentence_size=_DEFAULTS.input_sentence_size, hard_vocab_limit=_DEFAULTS.hard_vocab_limit,
                        random_seed=_DEFAULTS.random_seed, num_threads=1, overwrite=False, log=print):
    """Trains `model_prefix`.model/.vocab; returns the model path. An existing model is an error
    unless `overwrite`. The defaults are `SentencePieceConfig`'s (one thread unless asked).

    Raises:
        ValueError: if the corpus has no text.
    """
    with prepare_outputs([model_prefix + ".model", model_prefix + ".vocab"], overwrite):
        return _train(input_files, model_prefix, vocab_size, do_lower_case, character_coverage, input_sentence_size,
                      hard_vocab_limit, random_seed, num_threads, log)


def _train(input_files, model_prefix, vocab_size, do_lower_case, character_coverage, input_sentence_size,
           hard_vocab_limit, random_seed, num_threads, log):
    directory = os.path.dirname(os.path.abspath(model_prefix))
    os.makedirs(directory, exist_ok=True)
    # A fixed name (it is recorded in the model's trainer spec) keeps models reproducible.
    normalized_path = model_prefix + ".normalized.txt"
    try:
        with open(normalized_path, "w", encoding="utf-8") as normalized:
            lines = 0
            for path in input_files:
                with open(path, "rb") as f:
                    for number, raw in enumerate(f, 1):
                        try:
                            line = raw.decode("utf-8")
                        except UnicodeDecodeError as error:
                            raise ValueError(
                                f"{path}:{number}: not UTF-8 ({error.reason} at byte {error.start}); convert the file "
                                f"to UTF-8 first, e.g. iconv -f latin1 -t utf-8 {path}") from None
                        line = preprocess_text(line, lower=do_lower_case)
                        if line:
                            normalized.write(line + "\n")
                            lines += 1
        if not lines:
            raise ValueError("no text to train on in: " + ", ".join(input_files))
        log(f"training a {vocab_size}-piece unigram model on {lines} normalised lines")
        if hasattr(sentencepiece, "set_random_generator_seed"):
            sentencepiece.set_random_generator_seed(random_seed)
        proto = io.BytesIO()  # the model is written below, atomically, with its .vocab
        try:
            sentencepiece.SentencePieceTrainer.Train(
                input=normalized_path, model_writer=proto, vocab_size=vocab_size,
                model_type="unigram", pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                control_symbols=",".join(CONTROL_SYMBOLS),
                # CSV: the double quote must be written as a quoted field, """".
                user_defined_symbols=",".join('""""' if s == '"' else s for s in USER_DEFINED_SYMBOLS),
                character_coverage=character_coverage, input_sentence_size=input_sentence_size,
                shuffle_input_sentence=True, hard_vocab_limit=hard_vocab_limit,
                num_threads=num_threads, minloglevel=2)
        except RuntimeError as error:
            raise ValueError(_trainer_problem(str(error), vocab_size, lines, input_files)) from None
    finally:
        os.remove(normalized_path)
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto.getvalue())
    # The .vocab exactly as SentencePiece writes it (piece TAB score); the .model last, so that a
    # complete .model means a complete pair.
    with atomic_open(model_prefix + ".vocab", "w", encoding="utf-8") as f:
        f.writelines(f"{processor.id_to_piece(i)}\t{processor.get_score(i):g}\n"
                     for i in range(processor.get_piece_size()))
    model = model_prefix + ".model"
    with atomic_open(model, "wb") as f:
        f.write(proto.getvalue())
    special = FullTokenizer(spm_model_file=model).special_token_ids()
    log(f"wrote {model} (special ids {special}) and {model_prefix}.vocab")
    return model


def _trainer_problem(message, vocab_size, lines, input_files):
    """SentencePiece's trainer error (`Internal: src/...cc(N) [check] text`) as what to change."""
    text = re.sub(r"^.*?\] ", "", message.strip().splitlines()[-1])
    high = re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", text)
    if high:
        return (f"vocab_size={vocab_size}: the corpus ({lines} lines of {', '.join(input_files)}) has only enough "
                f"text for {high.group(2)} pieces; lower vocab_size to at most {high.group(2)} or give more text "
                "(or pass --nohard_vocab_limit to accept fewer pieces)")
    low = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", text)
    if low:
        return (f"vocab_size={vocab_size}: the corpus has {low.group(2)} distinct characters and special pieces "
                f"that the vocabulary must hold; raise vocab_size to at least {low.group(2)} (or lower "
                "character_coverage)")
    return f"SentencePiece could not train on {', '.join(input_files)}: {text}"
