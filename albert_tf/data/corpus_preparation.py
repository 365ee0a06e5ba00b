"""A plain-text corpus made ready for pretraining: a SentencePiece model and train/eval TFRecords.

The pretraining demo starts from one text file (documents separated by blank
lines); this writes what `create_pretraining_data` and the original's
spm_train would, once, into one folder.
"""

import os

from absl import logging

from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.errors import ConfigError
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.sentencepiece_training import train_sentencepiece


def prepare_corpus(corpus_file, data_dir, vocab_size, instance_options, eval_documents, dupe_factor, seed,
                   spm_model_file=None, config_name="the model config"):
    """A SentencePiece model and train/eval TFRecords from a text; returns (spm, train, eval) paths.

    Each file is written under a temporary name and renamed when complete,
    so a later run finds either finished files or none.
    """
    os.makedirs(data_dir, exist_ok=True)
    spm = spm_model_file or os.path.join(data_dir, "spm.model")
    if not os.path.exists(spm):
        train_sentencepiece([corpus_file], spm[:-len(".model")], vocab_size=vocab_size, hard_vocab_limit=False,
                            random_seed=seed, log=logging.info)
    pieces = FullTokenizer(spm_model_file=spm).vocab_size
    if pieces != vocab_size:
        raise ConfigError(f"{spm} has {pieces} pieces but {config_name} says vocab_size={vocab_size}: the "
                          f"corpus is too small for that vocabulary; set vocab_size to {pieces} in the config")
    train_file, eval_file = os.path.join(data_dir, "train.tfrecord"), os.path.join(data_dir, "eval.tfrecord")
    if os.path.exists(train_file) and os.path.exists(eval_file):
        return spm, train_file, eval_file
    with open(corpus_file, encoding="utf-8") as f:
        documents = [d for d in f.read().split("\n\n") if d.strip()]
    if len(documents) <= eval_documents + 1:
        raise ConfigError(f"{corpus_file} has {len(documents)} documents: too few to hold out "
                          f"eval_documents={eval_documents}")
    for path, part, dupe in ((train_file, documents[:-eval_documents], dupe_factor),
                             (eval_file, documents[-eval_documents:], 1)):
        text = os.path.join(data_dir, os.path.basename(path) + ".txt")
        with open(text, "w", encoding="utf-8") as f:
            f.write("\n\n".join(part) + "\n")
        # Written atomically: a file under its name is complete, so an interrupted run prepares it again.
        summary = create_pretraining_data([text], [path], spm_model_file=spm, options=instance_options,
                                          dupe_factor=dupe, random_seed=seed, num_workers=os.cpu_count() or 1,
                                          log=logging.info)
        logging.info("%s: %d instances", path, summary.instances.counts["instances"])
    return spm, train_file, eval_file
