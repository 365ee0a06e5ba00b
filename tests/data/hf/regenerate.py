"""Regenerates the tiny Hugging Face ALBERT folders in this directory and their reference outputs.

Run by hand where torch and transformers are installed (tests never need them):

    python tests/data/hf/regenerate.py

Each folder is what `save_pretrained` writes for a randomly initialised model of one HF class (a grouped
config: 4 layers in 2 groups of 2 inner blocks; vocabulary 96, E 8, H 16). `reference_outputs.npz` holds
the inputs (two rows, the second padded) and every folder's outputs in float32, computed by transformers
in eval mode (no dropout), as `<folder>/<output name>`. Biases and LayerNorm parameters are random too.
"""

import json
import os
import shutil

import numpy as np
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = dict(vocab_size=96, embedding_size=8, hidden_size=16, num_hidden_layers=4, num_hidden_groups=2,
            inner_group_num=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
            type_vocab_size=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
            classifier_dropout_prob=0.1, initializer_range=0.2)
# folder: (class, config changes, shard size or None)
MODELS = {
    "pretraining": ("AlbertForPreTraining", dict(hidden_act="gelu_new"), None),
    "pretraining_sharded": ("AlbertForPreTraining", dict(hidden_act="gelu_new"), "20KB"),
    "masked_lm_erf_gelu": ("AlbertForMaskedLM", dict(hidden_act="gelu"), None),
    "model": ("AlbertModel", dict(hidden_act="gelu_new"), None),
    "sequence_classification": ("AlbertForSequenceClassification", dict(
        hidden_act="gelu_new", num_labels=3, id2label={0: "contradiction", 1: "entailment", 2: "neutral"},
        label2id={"contradiction": 0, "entailment": 1, "neutral": 2}), None),
    "regression": ("AlbertForSequenceClassification", dict(hidden_act="gelu_new", num_labels=1,
                                                           problem_type="regression"), None),
    "question_answering": ("AlbertForQuestionAnswering", dict(hidden_act="gelu_new"), None),
    "multiple_choice": ("AlbertForMultipleChoice", dict(hidden_act="gelu_new"), None),
    "token_classification": ("AlbertForTokenClassification", dict(
        hidden_act="gelu_new", num_labels=5, id2label={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"},
        label2id={"O": 0, "B-PER": 1, "I-PER": 2, "B-LOC": 3, "I-LOC": 4}), None),
}
INPUT_IDS = np.array([[2, 11, 45, 7, 88, 3, 19, 60, 30, 3], [2, 5, 73, 3, 40, 41, 3, 0, 0, 0]], np.int64)
ATTENTION_MASK = (INPUT_IDS != 0).astype(np.int64)
TOKEN_TYPE_IDS = np.array([[0, 0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]], np.int64)


def randomize(model):
    """Random biases and LayerNorm parameters too (HF initialises them to 0 and 1): a bias or a norm loaded
    into the wrong place, or a square kernel left untransposed, then changes the outputs."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():  # tied parameters come once and stay tied
            if "LayerNorm" in name or "layer_norm" in name:
                parameter.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn_like(parameter))
            elif name.endswith("bias"):
                parameter.copy_(0.1 * torch.randn_like(parameter))


def outputs_of(model, class_name):
    inputs = dict(input_ids=torch.tensor(INPUT_IDS), attention_mask=torch.tensor(ATTENTION_MASK),
                  token_type_ids=torch.tensor(TOKEN_TYPE_IDS))
    if class_name == "AlbertForMultipleChoice":  # [batch 1, choices 2, length]
        inputs = {k: v[None] for k, v in inputs.items()}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
    found = {"sequence_output": out.hidden_states[-1]} if out.hidden_states is not None else {}
    for name in ("last_hidden_state", "pooler_output", "prediction_logits", "sop_logits", "logits",
                 "start_logits", "end_logits"):
        value = getattr(out, name, None)
        if value is not None:
            found[name] = value
    return {k: v.numpy().astype(np.float32) for k, v in found.items()}


def main():
    torch.manual_seed(0)
    references = {"input_ids": INPUT_IDS, "attention_mask": ATTENTION_MASK, "token_type_ids": TOKEN_TYPE_IDS}
    for folder, (class_name, changes, shard) in MODELS.items():
        config = transformers.AlbertConfig(**BASE, **changes)
        model = getattr(transformers, class_name)(config).eval()
        randomize(model)
        path = os.path.join(HERE, folder)
        shutil.rmtree(path, ignore_errors=True)
        if folder == "pretraining_sharded":  # the same weights as pretraining/, in shards
            model.load_state_dict(transformers.AlbertForPreTraining.from_pretrained(
                os.path.join(HERE, "pretraining")).state_dict())
        model.save_pretrained(path, **({"max_shard_size": shard} if shard else {}))
        for name, value in outputs_of(model, class_name).items():
            references[f"{folder}/{name}"] = value
    np.savez_compressed(os.path.join(HERE, "reference_outputs.npz"), **references)
    with open(os.path.join(HERE, "VERSIONS.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
