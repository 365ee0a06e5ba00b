"""Classifier serving: our SavedModel, ONNX Runtime and LiteRT exports vs keras-hub's SavedModel export.

albert_base (v2 sizes, 2 classes, random weights). Ours is exported with
`albert_tf.export.serving_module.ClassifierServing` (tools/export_savedmodel.py);
keras-hub's `AlbertTextClassifier` (no preprocessor) with `model.export(...)`,
Keras 3's SavedModel export. The requests are SST-2 dev sentences tokenized
with a real ALBERT SentencePiece model (the shared German 30k model), each
batch padded to its longest sentence rounded up to 16 tokens (at most 128):

* latency: batch 1, the first `--sentences` dev sentences one at a time, median ms;
* throughput: batch 32 over the whole dev set (872 sentences, or
  `--batched_sentences`), examples/s.

Ours is also timed through its raw-text signature (`text`: tokenization and
packing in the graph, which pads to the same multiples of 16), and as the
exports of `albert-export --format=onnx|litert` (float32 and `--quantize=int8`)
run by ONNX Runtime (2 intra-op threads, spinning off: spin-waiting doubles
batch-1 latency on a shared 2-core host) and by LiteRT (2 threads, XNNPACK).
The file size of every export is reported.

The timing worker loads the three engines in one process (importing only
tensorflow and tensorflow_text) and interleaves them request by request,
rotating which goes first, so that they see the same host: this VM's speed
swings by up to 10x within minutes, which decides any comparison of runs
made one after another. Before timing, every engine gets one untimed
request of every shape the timed passes use, so the one-off cost of a new
shape in a loaded SavedModel is left out (it is reported). Peak memory comes
from separate processes, one engine each, serving the same warm-up requests.

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

from worker_processes import run_worker, timed

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SPM = os.path.join(SHARED, "sentencepiece", "albert_de_privately", "30k-clean.model")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="timing processes, one after another")
    parser.add_argument("--sentences", type=int, default=50, help="batch-1 requests per round")
    parser.add_argument("--batched_sentences", type=int, default=None,
                        help="dev sentences of the batch-32 pass (default: all 872)")
    parser.add_argument("--work_dir", default=None, help="folder of the exports; reused when it has them")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--prepare_only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def prepare(work_dir):
    """Exports both SavedModels (`ours`, `keras_hub`) and writes the tokenized dev set (`dev.json`) into `work_dir`."""
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
    from albert_tf.export.litert_export import export_litert
    from albert_tf.export.onnx_export import export_onnx

    for quantize in ("none", "int8"):
        export_onnx(model, "classifier", os.path.join(work_dir, f"onnx_{quantize}"), quantize=quantize)
        export_litert(model, "classifier", os.path.join(work_dir, f"litert_{quantize}"), quantize=quantize)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=30000, num_layers=12, num_heads=12, num_groups=1, num_inner_repetitions=1,
        embedding_dim=128, hidden_dim=768, intermediate_dim=3072, dropout=0.0, max_sequence_length=512)
    classifier = keras_hub.models.AlbertTextClassifier(backbone=backbone, num_classes=2, preprocessor=None)
    classifier.export(os.path.join(work_dir, "keras_hub"), format="tf_saved_model")


def batches(ids, size, multiple=16, limit=128):
    """Batches padded to their longest sentence rounded up to `multiple` tokens.

    Rounding bounds the number of distinct shapes: a loaded SavedModel pays a
    large one-off cost (0.6-4.4 s measured here) the first time it sees a
    shape, which would otherwise dominate every request.
    """
    for start in range(0, len(ids), size):
        rows = ids[start:start + size]
        length = min(-(-max(len(r) for r in rows) // multiple) * multiple, limit)
        padded = np.array([r + [0] * (length - len(r)) for r in rows], np.int32)
        yield padded, (padded > 0).astype(np.int32), np.zeros_like(padded)


ENGINES = ("ours", "ours_text", "keras_hub", "onnx_fp32", "onnx_int8", "litert_fp32", "litert_int8")
FILES = {"ours": "ours", "keras_hub": "keras_hub", "onnx_fp32": "onnx_none/model.onnx",
         "onnx_int8": "onnx_int8/model.onnx", "litert_fp32": "litert_none/model.tflite",
         "litert_int8": "litert_int8/model.tflite"}


def size_mib(path):
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files) / 2**20


def load_engine(name, work_dir):
    """A function (ids, mask, segments, texts) -> NumPy logits of one engine."""
    if name.startswith("onnx"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(os.path.join(work_dir, FILES[name]), options,
                                       providers=["CPUExecutionProvider"])

        def call(ids, mask, segments, texts):
            return session.run(["logits"], {"input_ids": ids, "input_mask": mask, "segment_ids": segments})[0]
        call.model = session
        return call
    if name.startswith("litert"):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=os.path.join(work_dir, FILES[name]), num_threads=2)
        runner = interpreter.get_signature_runner("tokens")

        def call(ids, mask, segments, texts):
            return runner(input_ids=ids, input_mask=mask, segment_ids=segments)["logits"]
        call.model = interpreter
        return call
    import tensorflow as tf

    model = tf.saved_model.load(os.path.join(work_dir, "keras_hub" if name == "keras_hub" else "ours"))
    if name == "keras_hub":
        def call(ids, mask, segments, texts):
            return model.serve({"token_ids": ids, "padding_mask": mask, "segment_ids": segments}).numpy()
    elif name == "ours":
        signature = model.signatures["tokens"]

        def call(ids, mask, segments, texts):
            return signature(input_ids=ids, input_mask=mask, segment_ids=segments)["logits"].numpy()
    else:
        signature = model.signatures["text"]

        def call(ids, mask, segments, texts):
            return signature(text=tf.constant(texts))["logits"].numpy()
    call.model = model  # keeps the loaded objects alive
    return call


def requests(dev, size, count):
    """(ids, mask, segments, texts) batches of `size` over the first `count` dev sentences."""
    texts = dev["text"]
    return [(ids, mask, segments, texts[index * size:(index + 1) * size])
            for index, (ids, mask, segments) in enumerate(batches(dev["ids"][:count], size))]


def first_of_each_shape(batch_list):
    """The first request of each distinct input shape."""
    seen, firsts = set(), []
    for request in batch_list:
        if request[0].shape not in seen:
            seen.add(request[0].shape)
            firsts.append(request)
    return firsts


def worker(args):
    import tensorflow_text  # noqa: F401  (tf-text ops of our SavedModel)

    with open(os.path.join(args.work_dir, "dev.json"), encoding="utf-8") as f:
        dev = json.load(f)
    count = args.batched_sentences or len(dev["ids"])
    single, batched = requests(dev, 1, args.sentences), requests(dev, 32, count)
    warm_up = first_of_each_shape(single) + first_of_each_shape(batched)
    names = ENGINES if args.worker == "timing" else (args.worker,)
    engines = {name: load_engine(name, args.work_dir) for name in names}
    first_call = {name: [] for name in names}
    for request in warm_up:  # interleaved like the timed passes
        for name in names:
            first_call[name].append(timed(engines[name], *request))
    if args.worker != "timing":
        return {"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    def interleaved(batch_list):
        times = {name: [] for name in names}
        for index, request in enumerate(batch_list):
            for name in names[index % len(names):] + names[:index % len(names)]:
                times[name].append(timed(engines[name], *request))
        return times

    latency, throughput = interleaved(single), interleaved(batched)
    return {name: {"latency_ms": statistics.median(latency[name]) * 1000,
                   "throughput": count / sum(throughput[name]),
                   "first_shape_s": statistics.median(first_call[name])} for name in names}


def main():
    args = parse_args()
    if args.prepare_only:
        prepare(args.work_dir)
        return
    if args.worker:
        print("RESULT " + json.dumps(worker(args)))
        return
    work_dir = args.work_dir or tempfile.mkdtemp()
    os.makedirs(work_dir, exist_ok=True)
    if not os.path.exists(os.path.join(work_dir, "dev.json")):
        # In a child: Linux keeps a process's peak RSS across exec, so workers started by a parent that had
        # exported albert_base itself would all report the parent's peak.
        import subprocess

        subprocess.run([sys.executable, os.path.abspath(__file__), f"--work_dir={work_dir}", "--prepare_only"],
                       check=True)
    command = [sys.executable, os.path.abspath(__file__), f"--work_dir={work_dir}", f"--sentences={args.sentences}"]
    if args.batched_sentences:
        command.append(f"--batched_sentences={args.batched_sentences}")
    peak = {name: run_worker(name, command + [f"--worker={name}"])["peak_mib"] for name in ENGINES}
    print("peak memory serving one engine: " + ", ".join(f"{n} {peak[n]:.0f} MiB" for n in ENGINES), flush=True)
    rounds = []
    for round_index in range(args.rounds):
        rounds.append(run_worker("timing", command + ["--worker=timing"]))
        for name in ENGINES:
            result = rounds[-1][name]
            print(f"round {round_index + 1} {name}: batch 1 {result['latency_ms']:.1f} ms, batch 32 "
                  f"{result['throughput']:.1f} examples/s, first call of a shape {result['first_shape_s']:.2f} s "
                  "(median)", flush=True)
    summary = {}
    for name in ENGINES:
        summary[name] = (statistics.median(r[name]["latency_ms"] for r in rounds),
                         statistics.median(r[name]["throughput"] for r in rounds))
        print(f"{name}: batch 1 {summary[name][0]:.1f} ms, batch 32 {summary[name][1]:.1f} examples/s")
    print(f"ours / keras-hub: latency {summary['keras_hub'][0] / summary['ours'][0]:.2f}x faster, "
          f"throughput {summary['ours'][1] / summary['keras_hub'][1]:.2f}x")
    for name in ENGINES:
        size = f", {size_mib(os.path.join(work_dir, FILES[name])):.1f} MiB" if name in FILES else ""
        print(f"{name} / ours (SavedModel, tensors): batch-1 latency {summary[name][0] / summary['ours'][0]:.2f}, "
              f"batch-32 throughput {summary[name][1] / summary['ours'][1]:.2f}{size}")
    print("serve ours {:.1f} ms {:.1f} ex/s text {:.1f} ms {:.1f} ex/s keras-hub {:.1f} ms {:.1f} ex/s".format(
        *summary["ours"], *summary["ours_text"], *summary["keras_hub"]))


if __name__ == "__main__":
    main()
