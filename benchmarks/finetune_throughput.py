"""SST-2 fine-tuning throughput: ours (length-aware and padded) vs HF transformers' PyTorch ALBERT.

albert_base (v2 sizes: E 128, H 768, 12 layers, vocab 30000, no dropout in
the encoder, 0.1 on the classifier) fine-tunes on real SST-2 training
sentences at batch 32, max_seq_length 128, float32 on the CPU:

* ours, length-aware: `Trainer.train_step` (ClassificationObjective, AdamW,
  clipping) on `finetuning_dataset` batches drawn from 16-token length
  buckets and padded to their own longest sentence, as run_classifier.py
  trains by default;
* ours, padded: the same with every batch padded to 128
  (`--nolength_aware_batching`);
* HF: `AlbertForSequenceClassification` with `torch.optim.AdamW` and
  clipping, every batch padded to 128 (`--hf_python`: an environment with
  torch==2.13.0 and transformers).

All three read the same pool of sentences tokenized once with a real ALBERT
SentencePiece model (the shared German 30k model: Google's English one is
not available offline; English text then splits into more pieces, which
makes sentences longer, not shorter).

Each engine runs in its own process, and the processes take turns, one
training step each (`LockstepWorkers`), so that all three see the same host:
this VM's speed swings by up to 10x within minutes. Each round starts fresh
processes, warms each up alone, then times `--steps` steps of each,
interleaved, rotating which goes first. Length-aware batches differ in
length, so an engine's figure for a round is its mean step; the reported
figure is the median round.

    python benchmarks/finetune_throughput.py --hf_python=/tmp/hfenv/bin/python

The last line reads `finetune ours X ex/s padded Y ex/s hf Z ex/s`.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile

import numpy as np

from worker_processes import LockstepWorkers, serve_steps

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
BATCH, SEQ, POOL = 32, 128, 4096


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--hf_python", default=None, help="python of an environment with torch + transformers")
    parser.add_argument("--pool", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def write_pool(path):
    """POOL shuffled SST-2 train sentences as `[CLS] A [SEP]` ids (<= SEQ), padded, plus labels."""
    sys.path.insert(0, REPO)
    from albert_tf.tasks.classification_tasks import TASKS, encode_examples, read_examples
    from albert_tf.tokenization import FullTokenizer

    examples = read_examples(TASKS["sst-2"], os.path.join(SHARED, "glue", "SST-2"), "train")
    rng = np.random.default_rng(0)
    examples = [examples[i] for i in rng.permutation(len(examples))[:POOL]]
    tokenizer = FullTokenizer(spm_model_file=os.path.join(SHARED, "sentencepiece", "albert_de_privately",
                                                          "30k-clean.model"))
    features = encode_examples(TASKS["sst-2"], examples, tokenizer, SEQ)
    lengths = np.array([len(ids) for ids in features["input_ids"]])
    ids = np.zeros((POOL, SEQ), np.int32)
    for row, sequence in enumerate(features["input_ids"]):
        ids[row, :len(sequence)] = sequence
    np.savez(path, ids=ids, lengths=lengths, labels=np.array(features["label_ids"], np.int32))
    return lengths


def worker_ours(args, length_aware):
    sys.path.insert(0, REPO)
    import albert_tf  # noqa: F401  (Keras backend)
    from albert_tf import AlbertConfig
    from albert_tf.data.finetuning_dataset import finetuning_dataset
    from albert_tf.models import AlbertClassifier
    from albert_tf.optimization import create_optimizer
    from albert_tf.tasks.finetuning_objectives import ClassificationObjective
    from albert_tf.training.trainer import Trainer

    pool = np.load(args.pool)
    features = {"input_ids": [row[:n].tolist() for row, n in zip(pool["ids"], pool["lengths"])],
                "segment_ids": [[0] * n for n in pool["lengths"]], "label_ids": pool["labels"].tolist(),
                "example_index": list(range(POOL))}
    model = AlbertClassifier(AlbertConfig.from_preset("base_v2"), num_classes=2)
    optimizer = create_optimizer("adamw", learning_rate=1e-5, num_train_steps=1000, num_warmup_steps=0,
                                 gate_updates=True, aggregate_gradients=False)
    trainer = Trainer(model, ClassificationObjective(), optimizer)
    iterator = iter(finetuning_dataset(features, BATCH, True, SEQ, length_aware=length_aware))
    return serve_steps(lambda: float(trainer.train_step(iterator)[0]["loss_sum"]), args.warmup)


HF_WORKER = r"""
import json, resource, sys
import numpy as np, torch, transformers
sys.path.insert(0, sys.argv[4])
from worker_processes import serve_steps
torch.set_num_threads(int(sys.argv[3]))
pool = np.load(sys.argv[1])
config = transformers.AlbertConfig(vocab_size=30000, embedding_size=128, hidden_size=768, num_hidden_layers=12,
    num_attention_heads=12, intermediate_size=3072, hidden_act="gelu_new", hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.1, max_position_embeddings=512,
    type_vocab_size=2, num_labels=2)
model = transformers.AlbertForSequenceClassification(config)
model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
ids = torch.tensor(pool["ids"], dtype=torch.long)
mask = (ids > 0).long()
labels = torch.tensor(pool["labels"], dtype=torch.long)
order = np.random.default_rng(0).permutation(len(ids))
position = [0]
def step():
    rows = torch.tensor(order[position[0]:position[0] + 32])
    position[0] += 32
    optimizer.zero_grad()
    loss = model(input_ids=ids[rows], attention_mask=mask[rows], token_type_ids=torch.zeros_like(ids[rows]),
                 labels=labels[rows]).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
times = serve_steps(step, int(sys.argv[2]))
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"step_seconds": times, "peak_mib": peak_mib,
                             "version": f"torch {torch.__version__}, transformers {transformers.__version__}"}))
"""


def worker_command(name, args, pool):
    if name == "hf":
        return [args.hf_python, "-c", HF_WORKER, pool, str(args.warmup), str(os.cpu_count()),
                os.path.dirname(os.path.abspath(__file__))]
    return [sys.executable, os.path.abspath(__file__), f"--worker={name}", f"--warmup={args.warmup}",
            f"--pool={pool}"]


def main():
    args = parse_args()
    if args.worker:
        times = worker_ours(args, length_aware=args.worker == "ours")
        import tensorflow as tf

        print("RESULT " + json.dumps({"step_seconds": times,
                                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                      "version": f"tensorflow {tf.__version__}"}))
        return
    pool = os.path.join(tempfile.mkdtemp(), "sst2_pool.npz")
    lengths = write_pool(pool)
    print(f"SST-2 pool: {POOL} train sentences, tokens per sequence mean {lengths.mean():.1f}, "
          f"median {np.median(lengths):.0f}, max {lengths.max()} ({np.mean(lengths >= SEQ):.1%} truncated to {SEQ})")
    engines = ["ours", "ours_padded"] + (["hf"] if args.hf_python else [])
    results = {name: [] for name in engines}
    for round_index in range(args.rounds):
        workers = LockstepWorkers({name: worker_command(name, args, pool) for name in engines})
        workers.take_turns(args.steps)
        for name, result in workers.finish().items():
            result["seconds"] = statistics.mean(result["step_seconds"])
            results[name].append(result)
            steps = " ".join(f"{t:.2f}" for t in result["step_seconds"])
            print(f"round {round_index + 1} {name}: {BATCH / result['seconds']:.1f} examples/s "
                  f"(mean step {result['seconds']:.2f} s; steps {steps}), peak {result['peak_mib']:.0f} MiB",
                  flush=True)
    rates = {}
    for name in engines:
        seconds = statistics.median(r["seconds"] for r in results[name])
        rates[name] = BATCH / seconds
        print(f"{name}: {rates[name]:.1f} examples/s (median of {args.rounds}), peak "
              f"{max(r['peak_mib'] for r in results[name]):.0f} MiB [{results[name][0]['version']}]")
    for name in engines[1:]:
        print(f"ours (length-aware) / {name}: {rates['ours'] / rates[name]:.2f}x")
    print("finetune ours {:.1f} ex/s padded {:.1f} ex/s hf {} ex/s".format(
        rates["ours"], rates["ours_padded"], f"{rates['hf']:.1f}" if "hf" in rates else "n/a"))


if __name__ == "__main__":
    main()
