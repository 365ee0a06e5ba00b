"""tools/train_sentencepiece.py: an ALBERT-style model our tokenizers accept."""

import os
import sys

from sentencepiece import sentencepiece_model_pb2

from albert_tf.tokenization import FullTokenizer
import processes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_trains_the_release_layout_reproducibly(test_data, tmp_path):
    corpus = os.path.join(test_data, "corpus_en/wikitext-2/valid.txt")
    models = []
    for run in ("a", "b"):
        prefix = tmp_path / run / "spm"
        result = processes.run(
            [sys.executable, os.path.join(REPO, "tools", "train_sentencepiece.py"), f"--input={corpus}",
             f"--model_prefix={prefix}", "--vocab_size=2000"],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        models.append((prefix.parent / "spm.model").read_bytes())
    protos = []
    for model in models:
        protos.append(sentencepiece_model_pb2.ModelProto())
        protos[-1].ParseFromString(model)
    proto = protos[0]
    pieces = [p.piece for p in proto.pieces]
    assert pieces[:5] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert pieces[5:13] == ["(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac"]
    assert proto.trainer_spec.model_type == sentencepiece_model_pb2.TrainerSpec.UNIGRAM
    assert proto.trainer_spec.bos_id == -1 and proto.trainer_spec.eos_id == -1
    assert len(pieces) == 2000
    # Same pieces and scores (the trainer spec differs only by the output paths).
    assert [(p.piece, p.score) for p in protos[0].pieces] == [(p.piece, p.score) for p in protos[1].pieces]
    # The model was trained on normalised, lower-cased text.
    assert not any(p.lower() != p for p in pieces[13:])
    tokenizer = FullTokenizer(spm_model_file=str(tmp_path / "a" / "spm.model"))
    assert tokenizer.special_token_ids() == {"[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    assert tokenizer.convert_tokens_to_ids(tokenizer.tokenize("The Café (1,000 €).")).count(1) == 0


def test_non_utf8_input_is_an_error_naming_file_and_line(tmp_path):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("first line\nCaf\u00e9 au lait\n".encode("latin-1"))
    result = processes.run([sys.executable, os.path.join(REPO, "tools", "train_sentencepiece.py"),
                            f"--input={corpus}", f"--model_prefix={tmp_path / 'spm'}", "--vocab_size=50"], timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{corpus}:2: not UTF-8" in result.stderr and "iconv" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["latin1.txt"]  # no model, no vocab, no scratch file
