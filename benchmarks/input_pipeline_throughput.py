"""Pretraining input pipeline throughput against what a training step consumes.

Writes pretraining TFRecords from WikiText-2 (shared German 30k ALBERT
SentencePiece model) at seq 128 and 512, then times
`albert_tf.data.pretraining_dataset` in training mode (shuffle, repeat,
interleave, parse, batch, prefetch) with static masks and with dynamic
masking, at the albert_base benchmark batch size. In the same run it times
an albert_base pretraining step (MLM + SOP loss, gradients, Adam update, fp32)
on the same batches, so the ratio says how far the pipeline is from being a
bottleneck on this machine.

    python benchmarks/input_pipeline_throughput.py

The last line reads
`pipeline seq128 static X ex/s dynamic Y ex/s train Z seq/s | seq512 ...`.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from albert_tf import AlbertConfig, AlbertPretrainer  # noqa: E402
from albert_tf.data.create_pretraining_data import create_pretraining_data  # noqa: E402
from albert_tf.data.pretraining_dataset import DynamicMasking, pretraining_dataset  # noqa: E402
from albert_tf.data.pretraining_instances import InstanceOptions  # noqa: E402
from albert_tf.tokenization import FullTokenizer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--seq_lengths", default="128,512")
    parser.add_argument("--pipeline_batches", type=int, default=300, help="timed batches per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train_steps", type=int, default=2, help="timed training steps (after 1 warm-up)")
    parser.add_argument("--preset", default="base_v1")
    return parser.parse_args()


def pipeline_rate(dataset, batches, batch_size):
    iterator = iter(dataset)
    for _ in range(20):  # fill shuffle buffer and prefetch
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def train_rate(config, dataset, steps, batch_size):
    model = AlbertPretrainer(config)
    optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            out = model({k: batch[k] for k in ("input_ids", "input_mask", "segment_ids", "masked_lm_positions")},
                        training=True)
            mlm = tf.keras.losses.sparse_categorical_crossentropy(
                batch["masked_lm_ids"], out["mlm_logits"], from_logits=True)
            weights = batch["masked_lm_weights"]
            loss = tf.reduce_sum(mlm * weights) / (tf.reduce_sum(weights) + 1e-5)
            loss += tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
                batch["next_sentence_labels"], out["sop_logits"], from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    iterator = iter(dataset)
    step(next(iterator))
    times = []
    for _ in range(steps):
        batch = next(iterator)
        start = time.perf_counter()
        step(batch).numpy()
        times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def main():
    args = parse_args()
    spm = os.path.join(SHARED, "sentencepiece/albert_de_privately/30k-clean.model")
    tokenizer = FullTokenizer(spm_model_file=spm)
    corpus = [os.path.join(SHARED, f"corpus_en/wikitext-2/{s}.txt") for s in ("valid", "test")]
    config = AlbertConfig.from_preset(args.preset)
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq in [int(s) for s in args.seq_lengths.split(",")]:
            options = InstanceOptions(max_seq_length=seq, max_predictions_per_seq=20)
            files = [os.path.join(tmp, f"seq{seq}-{i}") for i in range(4)]
            create_pretraining_data(corpus, files, spm_model_file=spm, options=options, dupe_factor=2,
                                    num_workers=2, log=lambda _: None)
            masking = DynamicMasking.from_tokenizer(tokenizer, options)
            rates = {"static": [], "dynamic": []}
            for _ in range(args.rounds):
                for mode in rates:
                    dataset = pretraining_dataset(files, args.batch_size, seq, 20, seed=0,
                                                  dynamic_masking=masking if mode == "dynamic" else None)
                    rates[mode].append(pipeline_rate(dataset, args.pipeline_batches, args.batch_size))
            static = statistics.median(rates["static"])
            dynamic = statistics.median(rates["dynamic"])
            train = train_rate(config, pretraining_dataset(files, args.batch_size, seq, 20, seed=0),
                               args.train_steps, args.batch_size)
            print(f"seq {seq}, batch {args.batch_size}: pipeline static {static:.0f} ex/s "
                  f"({static / train:.0f}x training), dynamic masking {dynamic:.0f} ex/s "
                  f"({dynamic / train:.0f}x); {args.preset} fp32 training step {train:.2f} seq/s", flush=True)
            summary.append(f"seq{seq} static {static:.0f} ex/s dynamic {dynamic:.0f} ex/s train {train:.2f} seq/s")
    print("pipeline " + " | ".join(summary))


if __name__ == "__main__":
    main()
