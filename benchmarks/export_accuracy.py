"""SST-2 dev accuracy of one fine-tuned classifier in every export format and precision.

A demo-sized ALBERT (E 64, H 128, 4 shared layers; the shared German 30k
SentencePiece model) is fine-tuned from random weights on SST-2 train
(`run_training`, the runners' loop) and its best checkpoint exported with
`albert_tf.export.model_export.export_model` as a SavedModel, ONNX and
LiteRT, float32 and int8. Every engine then scores the 872 dev sentences:
the tensor inputs come from the Python tokenizer (`tokens`), the raw-text
signatures (`text`) tokenize in the graph. The table gives accuracy, its
difference from the Keras model, and how many predicted labels differ.

    python benchmarks/export_accuracy.py [--steps 2000] [--work_dir DIR]
"""

import argparse
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SPM = os.path.join(SHARED, "sentencepiece", "albert_de_privately", "30k-clean.model")
SEQ = 64


def fine_tune(work_dir, steps):
    from albert_tf import AlbertConfig
    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training

    config_file = os.path.join(work_dir, "albert_config.json")
    AlbertConfig(vocab_size=30000, embedding_size=64, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
                 intermediate_size=512, max_position_embeddings=128, hidden_dropout_prob=0.0,
                 attention_probs_dropout_prob=0.0).to_json_file(config_file)  # the demo's sizes
    task = create_task("classifier", task_name="sst-2", data_dir=os.path.join(SHARED, "glue", "SST-2"),
                       spm_model_file=SPM, max_seq_length=SEQ)
    run_training(task, TrainingConfig.for_finetuning(
        albert_config_file=config_file, output_dir=os.path.join(work_dir, "run"), do_train=True, do_eval=True,
        train_batch_size=32, learning_rate=1e-4, num_train_steps=steps, num_warmup_steps=100,  # learning_check.sh's
        save_checkpoints_steps=steps // 4, log_steps=100, export_saved_model=False))
    return task


def export_all(work_dir):
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.model_export import export_model

    run = os.path.join(work_dir, "run", "export")
    weights = dict(albert_config_file=os.path.join(run, "albert_config.json"),
                   checkpoint=os.path.join(run, "model.ckpt-best"), spm_model_file=SPM)
    folders = {}
    for fmt, quantize in (("saved_model", "none"), ("onnx", "none"), ("onnx", "int8"), ("litert", "none"),
                          ("litert", "int8")):
        folder = os.path.join(work_dir, f"{fmt}_{quantize}")
        if not os.path.exists(folder):
            export_model(ExportConfig(model_type="classifier", export_dir=folder, max_seq_length=SEQ, format=fmt,
                                      quantize=quantize, **weights))
        folders[(fmt, quantize)] = folder
    return folders


def padded(rows):
    length = max(len(r) for r in rows)
    ids = np.array([r + [0] * (length - len(r)) for r in rows], np.int32)
    return {"input_ids": ids, "input_mask": (ids > 0).astype(np.int32), "segment_ids": np.zeros_like(ids)}


def in_batches(function, rows, size=64):
    return np.concatenate([function(padded(rows[i:i + size])) for i in range(0, len(rows), size)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "export_accuracy"))
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (tf-text ops of the SavedModel)

    from albert_tf.tasks.classification_tasks import TASKS, encode_examples, read_examples
    from albert_tf.tokenization import FullTokenizer

    os.makedirs(args.work_dir, exist_ok=True)
    if not os.path.exists(os.path.join(args.work_dir, "run", "export", "model.ckpt-best.index")):
        fine_tune(args.work_dir, args.steps)
    folders = export_all(args.work_dir)
    examples = read_examples(TASKS["sst-2"], os.path.join(SHARED, "glue", "SST-2"), "dev")
    features = encode_examples(TASKS["sst-2"], examples, FullTokenizer(spm_model_file=SPM), SEQ)
    rows, labels = features["input_ids"], np.asarray(features["label_ids"])
    texts = [e.text_a for e in examples]

    import onnxruntime as ort
    from ai_edge_litert.interpreter import InterpreterWithCustomOps
    from tensorflow_text import tflite_registrar

    from albert_tf import AlbertConfig, load_checkpoint
    from albert_tf.models import AlbertClassifier

    run = os.path.join(args.work_dir, "run", "export")
    keras_model = AlbertClassifier(AlbertConfig.from_json_file(os.path.join(run, "albert_config.json")), 2)
    load_checkpoint(keras_model, os.path.join(run, "model.ckpt-best"))
    saved = tf.saved_model.load(folders[("saved_model", "none")])
    engines = {"Keras model": lambda f: keras_model(f, training=False)["logits"].numpy(),
               "SavedModel tokens": lambda f: saved.signatures["tokens"](**{k: tf.constant(v) for k, v in f.items()})
               ["logits"].numpy()}
    for quantize in ("none", "int8"):
        session = ort.InferenceSession(os.path.join(folders[("onnx", quantize)], "model.onnx"),
                                       providers=["CPUExecutionProvider"])
        engines[f"ONNX {quantize.replace('none', 'float32')}"] = (
            lambda f, s=session: s.run(["logits"], f)[0])
        litert = InterpreterWithCustomOps(model_path=os.path.join(folders[("litert", quantize)], "model.tflite"),
                                          custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS)
        engines[f"LiteRT {quantize.replace('none', 'float32')} tokens"] = (
            lambda f, r=litert.get_signature_runner("tokens"): r(**f)["logits"])
        engines[f"LiteRT {quantize.replace('none', 'float32')} text"] = (
            "text", lambda t, r=litert.get_signature_runner("text"): r(text=np.array(t))["logits"])
    engines["SavedModel text"] = ("text", lambda t: saved.signatures["text"](text=tf.constant(t))["logits"].numpy())

    predictions = {}
    for name, engine in engines.items():
        if isinstance(engine, tuple):
            logits = np.concatenate([engine[1](texts[i:i + 64]) for i in range(0, len(texts), 64)])
        else:
            logits = in_batches(engine, rows)
        predictions[name] = logits.argmax(-1)
    reference = predictions["Keras model"]
    base = float(np.mean(reference == labels))
    print("| engine | SST-2 dev accuracy (872) | vs Keras | labels differing from Keras |")
    print("|---|---|---|---|")
    for name, predicted in predictions.items():
        accuracy = float(np.mean(predicted == labels))
        print(f"| {name} | {accuracy:.4f} | {accuracy - base:+.4f} | {int(np.sum(predicted != reference))} |")


if __name__ == "__main__":
    main()
