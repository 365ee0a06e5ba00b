"""SavedModel classifier serving: ours vs keras-hub's AlbertTextClassifier, both exported as SavedModels.

albert_base (v2 sizes, 2 classes, random weights). Ours is exported with
`albert_tf.export.serving_module.ClassifierServing` (tools/export_savedmodel.py);
keras-hub's `AlbertTextClassifier` (no preprocessor) with `model.export(...)`,
Keras 3's SavedModel export. Each SavedModel is loaded in a fresh process
(ours imports tensorflow and tensorflow_text only) and fed SST-2 dev
sentences tokenized with a real ALBERT SentencePiece model (the shared German
30k model), each batch padded to its longest sentence rounded up to 16 tokens:

* latency: batch 1, the first `--sentences` dev sentences one at a time, median ms;
* throughput: batch 32 over the whole dev set (872 sentences), examples/s.

Ours is also timed through its raw-text signature (`text`: tokenization in
the graph, batches padded to their own length). Each worker first makes one
untimed pass over the same requests, so one-off per-shape costs are left out. Rounds alternate the engines; medians over rounds.

    python benchmarks/serving_latency.py
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile

import numpy as np

from worker_processes import run_worker

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SPM = os.path.join(SHARED, "sentencepiece", "albert_de_privately", "30k-clean.model")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=50, help="batch-1 requests per round")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work_dir", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def prepare(work_dir):
    """Exports both SavedModels and writes the tokenized dev set; returns the paths."""
    sys.path.insert(0, REPO)
    import albert_tf  # noqa: F401  (Keras backend)
    import keras_hub

    from albert_tf import AlbertConfig
    from albert_tf.export.serving_module import ClassifierServing, export_saved_model
    from albert_tf.models import AlbertClassifier
    from albert_tf.tasks.classification_tasks import TASKS, encode_examples, read_examples
    from albert_tf.tokenization import FullTokenizer

    examples = read_examples(TASKS["sst-2"], os.path.join(SHARED, "glue", "SST-2"), "dev")
    features = encode_examples(TASKS["sst-2"], examples, FullTokenizer(spm_model_file=SPM), 128)
    with open(os.path.join(work_dir, "dev.json"), "w", encoding="utf-8") as f:
        json.dump({"ids": features["input_ids"], "text": [e.text_a for e in examples]}, f)
    model = AlbertClassifier(AlbertConfig.from_preset("base_v2"), num_classes=2)
    export_saved_model(ClassifierServing(model, 128, spm_model_file=SPM), os.path.join(work_dir, "ours"))
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=30000, num_layers=12, num_heads=12, num_groups=1, num_inner_repetitions=1,
        embedding_dim=128, hidden_dim=768, intermediate_dim=3072, dropout=0.0, max_sequence_length=512)
    classifier = keras_hub.models.AlbertTextClassifier(backbone=backbone, num_classes=2, preprocessor=None)
    classifier.export(os.path.join(work_dir, "keras_hub"), format="tf_saved_model")


def batches(ids, size, multiple=16):
    """Batches padded to their longest sentence rounded up to `multiple` tokens.

    Rounding bounds the number of distinct shapes: a loaded SavedModel pays a
    large one-off cost (0.6-3.9 s measured here) the first time it sees a
    shape, which would otherwise dominate every request.
    """
    for start in range(0, len(ids), size):
        rows = ids[start:start + size]
        length = -(-max(len(r) for r in rows) // multiple) * multiple
        padded = np.array([r + [0] * (length - len(r)) for r in rows], np.int32)
        yield padded, (padded > 0).astype(np.int32), np.zeros_like(padded)


def worker(args):
    import time

    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (tf-text ops of our SavedModel)

    with open(os.path.join(args.work_dir, "dev.json"), encoding="utf-8") as f:
        dev = json.load(f)
    engine = args.worker
    model = tf.saved_model.load(os.path.join(args.work_dir, "keras_hub" if engine == "keras_hub" else "ours"))
    if engine == "keras_hub":
        serve = model.serve

        def call(ids, mask, segments, texts):
            return serve({"token_ids": ids, "padding_mask": mask.astype(bool), "segment_ids": segments})
    elif engine == "ours":
        signature = model.signatures["tokens"]

        def call(ids, mask, segments, texts):
            return signature(input_ids=ids, input_mask=mask, segment_ids=segments)
    else:
        signature = model.signatures["text"]

        def call(ids, mask, segments, texts):
            return signature(text=tf.constant(texts))

    def run(size, count):
        texts = dev["text"]
        times = []
        for index, (ids, mask, segments) in enumerate(batches(dev["ids"][:count], size)):
            start = time.perf_counter()
            out = call(ids, mask, segments, texts[index * size:(index + 1) * size])
            (list(out.values())[0] if isinstance(out, dict) else out).numpy()
            times.append(time.perf_counter() - start)
        return times

    run(1, args.sentences)
    run(32, len(dev["ids"]))  # warm-up: every shape of the timed passes is seen once
    latency = statistics.median(run(1, args.sentences)) * 1000
    throughput = len(dev["ids"]) / sum(run(32, len(dev["ids"])))
    return {"latency_ms": latency, "throughput": throughput,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    args = parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args)))
        return
    work_dir = tempfile.mkdtemp()
    prepare(work_dir)
    engines = ["ours", "ours_text", "keras_hub"]
    results = {name: [] for name in engines}
    for round_index in range(args.rounds):
        for name in engines:
            result = run_worker(name, [sys.executable, os.path.abspath(__file__), f"--worker={name}",
                                       f"--work_dir={work_dir}", f"--sentences={args.sentences}"])
            results[name].append(result)
            print(f"round {round_index + 1} {name}: batch 1 {result['latency_ms']:.1f} ms, batch 32 "
                  f"{result['throughput']:.1f} examples/s, peak {result['peak_mib']:.0f} MiB", flush=True)
    summary = {}
    for name in engines:
        summary[name] = (statistics.median(r["latency_ms"] for r in results[name]),
                         statistics.median(r["throughput"] for r in results[name]))
        print(f"{name}: batch 1 {summary[name][0]:.1f} ms, batch 32 {summary[name][1]:.1f} examples/s")
    print(f"ours / keras-hub: latency {summary['keras_hub'][0] / summary['ours'][0]:.2f}x faster, "
          f"throughput {summary['ours'][1] / summary['keras_hub'][1]:.2f}x")
    print("serve ours {:.1f} ms {:.1f} ex/s text {:.1f} ms {:.1f} ex/s keras-hub {:.1f} ms {:.1f} ex/s".format(
        *summary["ours"], *summary["ours_text"], *summary["keras_hub"]))


if __name__ == "__main__":
    main()
