"""Token classification: the CoNLL reader, first-piece labels and windows, conlleval metrics, a tiny run."""

import os

import numpy as np
import pytest

from albert_tf import AlbertConfig
from albert_tf.tasks import conll_data
from albert_tf.tasks.registry import create_task
from albert_tf.tokenization import FullTokenizer
from albert_tf.training.training_config import TrainingConfig
from albert_tf.training.training_loop import run_training

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"
CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O
"""


@pytest.fixture
def tokenizer(test_data):
    return FullTokenizer(spm_model_file=os.path.join(test_data, GERMAN_SPM))


def test_reader_skips_docstart_and_splits_sentences(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL, encoding="utf-8")
    sentences = conll_data.read_conll(str(path))
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"],
                                             ["BRUSSELS", "1996-08-22"]]
    assert sentences[1].labels == ["B-PER", "I-PER"] and [s.line for s in sentences] == [3, 8, 11]
    assert conll_data.label_set(sentences) == ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER"]
    (tmp_path / "test.txt").write_text("EU\nrejects\n\nPeter\n", encoding="utf-8")
    unlabelled = conll_data.read_conll(str(tmp_path / "test.txt"))
    assert [s.labels for s in unlabelled] == [None, None] and unlabelled[1].tokens == ["Peter"]


@pytest.mark.parametrize("text, message", [
    ("EU NNP B-ORG\nrejects O\n", r"bad.txt:2: 2 columns where the file's first token line has 3"),
    ("\n\n", r"bad.txt: no sentences"),
])
def test_malformed_files_name_the_file_and_line(tmp_path, text, message):
    (tmp_path / "bad.txt").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        conll_data.read_conll(str(tmp_path / "bad.txt"))


def test_non_utf8_and_unknown_tags_are_refused(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Müller B-PER\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin.txt: not UTF-8"):
        conll_data.read_conll(str(tmp_path / "latin.txt"))
    (tmp_path / "dev.txt").write_text(CONLL, encoding="utf-8")
    sentences = conll_data.read_conll(str(tmp_path / "dev.txt"))
    with pytest.raises(ValueError, match=r"dev.txt:8: tag 'B-PER' is not one of the labels"):
        conll_data.check_labels(sentences, ["O", "B-ORG", "B-MISC", "B-LOC"], str(tmp_path / "dev.txt"))


def test_each_word_is_labelled_at_its_first_piece_and_long_sentences_are_windowed(tokenizer):
    words = ["Blackburn", "rejects", "Zusammenarbeit", "in", "Brüssel"]
    sentence = conll_data.TaggedSentence(words, ["B-PER", "O", "O", "O", "B-LOC"], 1)
    labels = ["O", "B-LOC", "B-PER"]
    pieces = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(w)) for w in words]
    assert max(map(len, pieces)) > 1  # some word has several pieces
    features, windows = conll_data.encode_sentences([sentence], tokenizer, labels, max_seq_length=64)
    assert len(windows) == 1
    expected_ids, expected_tags = [], []
    for word_pieces, tag in zip(pieces, [2, 0, 0, 0, 1]):
        expected_ids += word_pieces
        expected_tags += [tag] + [-1] * (len(word_pieces) - 1)
    cls, sep = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    assert features["input_ids"][0] == [cls] + expected_ids + [sep]
    assert features["token_labels"][0] == [-1] + expected_tags + [-1]

    # Windows of at most max_seq_length - 2 pieces, cut at word boundaries; every word predicted once.
    budget = max(map(len, pieces)) + 1
    features, windows = conll_data.encode_sentences([sentence], tokenizer, labels, max_seq_length=budget + 2)
    assert len(windows) > 1 and all(len(ids) <= budget + 2 for ids in features["input_ids"])
    assert [start for _, start, _ in windows] == sorted(start for _, start, _ in windows)
    assert sum(len(firsts) for _, _, firsts in windows) == len(words)
    width = max(map(len, features["input_ids"]))
    logits = np.zeros((len(windows), width, 3), np.float32)
    truth = [2, 0, 0, 0, 1]
    for row, (_, start, firsts) in enumerate(windows):
        for word, position in enumerate(firsts):
            logits[row, position, truth[start + word]] = 1.0
    assert conll_data.word_predictions([sentence], windows, logits) == [truth]


def write_files(tmp_path, test_data):
    (tmp_path / "train.txt").write_text(CONLL, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(CONLL, encoding="utf-8")
    config = tmp_path / "albert_config.json"
    AlbertConfig(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=64).to_json_file(str(config))
    return create_task("token_classification", train_file=str(tmp_path / "train.txt"),
                       dev_file=str(tmp_path / "dev.txt"), test_file=str(tmp_path / "dev.txt"),
                       spm_model_file=os.path.join(test_data, GERMAN_SPM), max_seq_length=32), config


def test_metrics_are_entity_level_as_conlleval(test_data, tmp_path):
    task, _ = write_files(tmp_path, test_data)
    labels = task.labels
    # Gold entities: ORG(EU), MISC(German), PER(Peter Blackburn), LOC(BRUSSELS). Predicted: ORG right, MISC
    # missed, PER with only its first word (a wrong span: no credit), LOC right, and a spurious PER on "call".
    predicted = [["B-ORG", "O", "O", "B-PER"], ["B-PER", "O"], ["B-LOC", "O"]]
    features, windows = task.encoded("dev")
    width = max(map(len, features["input_ids"]))
    logits = np.zeros((len(windows), width, len(labels)), np.float32)
    for row, (sentence, start, firsts) in enumerate(windows):
        for word, position in enumerate(firsts):
            logits[row, position, labels.index(predicted[sentence][start + word])] = 1.0
    metrics = task.evaluate("dev", {"logits": logits})
    # 2 of 4 predicted entities are right (ORG, LOC); 2 of 4 gold entities found; 5 of 8 words right.
    assert metrics == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "accuracy": 5 / 8})


def test_a_tiny_run_trains_evaluates_predicts_and_exports_to_hugging_face(test_data, tmp_path):
    from albert_tf.checkpoints.hf_checkpoint import read_hf_model, save_hf_model
    task, config = write_files(tmp_path, test_data)
    out = tmp_path / "run"
    run_training(task, TrainingConfig.for_finetuning(
        albert_config_file=str(config), output_dir=str(out), do_train=True, do_eval=True, do_predict=True,
        train_batch_size=2, learning_rate=1e-3, num_train_steps=4, num_warmup_steps=1, save_checkpoints_steps=2,
        log_steps=2, export_saved_model=False))
    results = dict(line.split(" = ") for line in (out / "eval_results.txt").read_text().splitlines())
    assert {"precision", "recall", "f1", "accuracy", "global_step"} == set(results)
    lines = (out / "ner_test_predictions.conll").read_text().split("\n\n")
    assert [[row.split("\t")[0] for row in block.splitlines()] for block in lines if block] == [
        ["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["BRUSSELS", "1996-08-22"]]
    model = task.build_model(AlbertConfig.from_json_file(str(config)))
    save_hf_model(model, tmp_path / "hf", id2label=dict(enumerate(task.labels)))
    again, _, info = read_hf_model(tmp_path / "hf")
    assert type(again).__name__ == "AlbertTokenClassifier" and info.id2label[4] == "B-PER"
