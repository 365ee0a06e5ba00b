r"""Does pretraining pay off? Pretrain a small ALBERT on unlabeled text, fine-tune on few labels, compare.

    python benchmarks/pretraining_payoff.py [--work_dir output/pretraining_payoff]   (about 75 min, 2 cores)

One command, in stages that each skip what an earlier (killed) run finished:

1. corpus: unlabeled text from ../shared/data (benchmarks/payoff_corpus.py
   says what and how it is grouped into documents), a SentencePiece model
   trained on it, and TFRecords by create_pretraining_data (seq 64, 10
   predictions, dupe factor 5; held-out SST-2 test sentences and WikiText
   articles in files of their own).
2. pretrain: `run_pretraining.py` (a subprocess, the command users run) with
   LAMB, evaluating on the held-out text at every checkpoint (TensorBoard in
   WORK/pretrain/eval); then the held-out MLM/SOP accuracy of the final
   weights on each held-out file, and a PNG of the curve.
3. fine-tune: SST-2 with 500 and 2,000 labels (subsets of train drawn with
   the seed) and STS-B with its whole train set (5,749 pairs), each from the
   pretrained weights and from random weights with the same recipe
   (`RECIPES`), for every seed; scored on the full dev sets. Also from an
   intermediate pretraining checkpoint (SST-2, 500 labels): transfer against
   pretraining minutes.
4. baseline: TF-IDF of word 1-2-grams and character 2-5-grams with logistic
   regression (SST-2) or ridge regression on pair features (STS-B), from
   scikit-learn, on the same subsets; its C/alpha chosen on dev, as the
   networks' checkpoints are (early stopping on dev).
5. report: one table, task x labels x start -> mean ± std over seeds, and
   the paired difference, printed and written to WORK/payoff.md/json.

The fine-tuning runs share this process (the library's `run_training`, the
runners' loop) to save TensorFlow's start-up per run.
"""

import argparse
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import payoff_corpus  # noqa: E402  (beside this script)
from albert_tf.outputs.atomic_files import atomic_open  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

absl_logging.set_verbosity(absl_logging.INFO)

SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SEQ = 64
MAX_PREDICTIONS = 10
VOCAB_SIZE = 8000
# The model: the embedded demo's width and depth (E 128 here), the size that gives the most transfer per
# CPU-minute on 2 cores (RESULTS.md, "Pretraining payoff"). Dropout 0 in pretraining (ALBERT v2), 0.1 in
# fine-tuning (few labels), the same for both starts.
MODEL = dict(vocab_size=VOCAB_SIZE, embedding_size=128, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
             intermediate_size=512, max_position_embeddings=SEQ)
# Batch 32: a step costs 0.44 s here against 1.39 s at batch 128 (a fixed ~0.1 s per step), so 3.2x the updates
# per minute, and at this scale the updates are what is short: after 800 steps at batch 32 the held-out MLM
# accuracy was 0.107 with LAMB 0.005, 0.080 with 0.002, and 0.042 (a constant prediction: collapse) with 0.02
# and with AdamW 1e-3 (RESULTS.md, "Pretraining payoff").
PRETRAINING = dict(train_batch_size=32, optimizer="lamb", learning_rate=0.005, warmup_fraction=0.1)
# Fine-tuning on few labels: AdamW with Adam's bias correction (Zhang et al. 2021, "Revisiting Few-sample BERT
# Fine-tuning": without it the first updates are ~3x the learning rate), warmup 10% then a constant rate
# (poly_power 0), the best dev checkpoint of `evals_per_run` kept. Against linear decay it moved SST-2 500 labels
# from 0.530/0.617 to 0.620/0.628 (pretrained, seeds 0/1) and 0.601/0.615 to 0.619/0.657 (random start).
RECIPES = {
    "sst-2": dict(learning_rate=5e-4, train_batch_size=32, epochs={500: 20, 2000: 5}, evals_per_run=8),
    "sts-b": dict(learning_rate=5e-4, train_batch_size=32, epochs={None: 2}, evals_per_run=8),
}
FINETUNING = dict(bias_correction=True, poly_power=0.0, warmup_fraction=0.1)
RUNS = (("sst-2", 500), ("sst-2", 2000), ("sts-b", None))  # (task, labels; None: the whole train set)


def log(message):
    print(f"[payoff {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- 1. corpus ---------------------------------------------------------------------------------------------

def prepare_corpus(work):
    from albert_tf.data.create_pretraining_data import create_pretraining_data
    from albert_tf.data.pretraining_instances import InstanceOptions
    from albert_tf.tokenization.sentencepiece_training import train_sentencepiece

    folder = os.path.join(work, "corpus")
    done = os.path.join(folder, "corpus.json")
    if os.path.exists(done):
        with open(done) as f:
            return json.load(f)
    counts = payoff_corpus.build_corpus(SHARED, folder)
    spm = os.path.join(folder, "spm.model")
    if not os.path.exists(spm):
        train_sentencepiece([os.path.join(folder, "train.txt")], spm[:-len(".model")], vocab_size=VOCAB_SIZE,
                            hard_vocab_limit=False, log=log)
    options = InstanceOptions(max_seq_length=SEQ, max_predictions_per_seq=MAX_PREDICTIONS)
    instances = {}
    for name, dupe in (("train", 5), ("eval_sst", 1), ("eval_wiki", 1)):
        summary = create_pretraining_data([os.path.join(folder, f"{name}.txt")],
                                          [os.path.join(folder, f"{name}.tfrecord")], spm_model_file=spm,
                                          options=options, dupe_factor=dupe, random_seed=12345, num_workers=2,
                                          log=log)
        instances[name] = summary.instances.counts["instances"]
    record = {"text": {k: dict(zip(("documents", "sentences", "words"), v)) for k, v in counts.items()},
              "instances": instances, "spm_model_file": spm}
    with atomic_open(done, "w") as f:  # written last: the stage is done
        json.dump(record, f, indent=2)
    log(f"corpus: {json.dumps(record)}")
    return record


def write_model_configs(work):
    from albert_tf import AlbertConfig

    paths = {}
    for name, dropout in (("pretrain", 0.0), ("finetune", 0.1)):
        paths[name] = os.path.join(work, f"albert_config_{name}.json")
        AlbertConfig(hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **MODEL) \
            .to_json_file(paths[name])
    return paths


# --- 2. pretraining ----------------------------------------------------------------------------------------

def pretrain(work, configs, steps, checkpoint_every):
    corpus = os.path.join(work, "corpus")
    out = os.path.join(work, "pretrain")
    if os.path.exists(os.path.join(out, "eval_results.txt")):
        return out
    command = [
        sys.executable, os.path.join(REPO, "run_pretraining.py"),
        f"--albert_config_file={configs['pretrain']}", f"--output_dir={out}",
        f"--input_file={corpus}/train.tfrecord", f"--eval_file={corpus}/eval_sst.tfrecord,{corpus}/eval_wiki.tfrecord",
        f"--spm_model_file={corpus}/spm.model", f"--max_seq_length={SEQ}",
        f"--max_predictions_per_seq={MAX_PREDICTIONS}", f"--train_batch_size={PRETRAINING['train_batch_size']}",
        "--eval_batch_size=128", f"--optimizer={PRETRAINING['optimizer']}",
        f"--learning_rate={PRETRAINING['learning_rate']}", f"--num_train_steps={steps}",
        f"--num_warmup_steps={int(steps * PRETRAINING['warmup_fraction'])}",
        f"--save_checkpoints_steps={checkpoint_every}", "--keep_checkpoint_max=100", "--log_steps=50",
        "--do_train", "--do_eval", "--eval_during_training", "--export_saved_model=false"]
    log("pretraining: " + " ".join(command))
    subprocess.run(command, check=True)
    return out


def held_out_scores(work):
    """Masked-LM and SOP accuracy of the final pretrained weights on each held-out file."""
    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training

    scores = {}
    corpus = os.path.join(work, "corpus")
    for name in ("eval_sst", "eval_wiki"):
        out = os.path.join(work, "held_out", name)
        if not os.path.exists(os.path.join(out, "eval_results.txt")):
            record = os.path.join(corpus, f"{name}.tfrecord")
            task = create_task("pretraining", input_file=record, eval_file=record, max_seq_length=SEQ,
                               max_predictions_per_seq=MAX_PREDICTIONS)
            run_training(task, TrainingConfig.for_pretraining(
                albert_config_file=os.path.join(work, "albert_config_pretrain.json"), output_dir=out,
                init_checkpoint=os.path.join(work, "pretrain", "checkpoints"), do_train=False, do_eval=True,
                eval_batch_size=128, max_eval_steps=None, export_saved_model=False))
        scores[name] = read_results(os.path.join(out, "eval_results.txt"))
    return scores


def eval_curve(work):
    """[(step, wall seconds since the first training summary, metrics)] of the pretraining run's evaluations."""
    import tensorflow as tf

    def events(folder):
        rows = {}
        for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    rows.setdefault(event.step, {"wall_time": event.wall_time})[value.tag] = float(
                        tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
        return rows

    train = events(os.path.join(work, "pretrain", "train"))
    evals = events(os.path.join(work, "pretrain", "eval"))
    if not train or not evals:
        return []
    first_step = min(train)
    # The first training summary comes after `first_step` steps: extrapolate the start from its rate.
    start = train[first_step]["wall_time"] - first_step * PRETRAINING["train_batch_size"] / train[first_step].get(
        "examples_per_second", float("inf"))
    return [(step, evals[step]["wall_time"] - start, evals[step]) for step in sorted(evals)]


def plot_curve(curve, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [seconds / 60 for _, seconds, _ in curve]
    figure, left = plt.subplots(figsize=(6.4, 4.0))
    left.plot(minutes, [m["masked_lm_accuracy"] for *_, m in curve], "o-", label="held-out masked-LM accuracy")
    left.plot(minutes, [m["sentence_order_accuracy"] for *_, m in curve], "s--", label="held-out SOP accuracy")
    left.set_xlabel("pretraining minutes (2 CPU cores)")
    left.set_ylabel("accuracy")
    top = left.secondary_xaxis("top", functions=(lambda m: m, lambda m: m))
    top.set_xticks(minutes[::max(1, len(minutes) // 6)])
    top.set_xticklabels([str(step) for step, *_ in curve][::max(1, len(minutes) // 6)])
    top.set_xlabel("step")
    left.grid(alpha=0.3)
    left.legend(loc="center right")
    figure.tight_layout()
    with atomic_open(path, "wb") as f:
        figure.savefig(f, format="png", dpi=120)
    plt.close(figure)


# --- 3. fine-tuning ----------------------------------------------------------------------------------------

def read_results(path):
    values = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(" = ")
            values[key.strip()] = float(value)
    return values


def subset_dir(work, task, labels, seed):
    """A data folder with `labels` train rows drawn with `seed` (or the whole train set) and the full dev set."""
    source = os.path.join(SHARED, "glue", {"sst-2": "SST-2", "sts-b": "STS-B"}[task])
    if labels is None:
        return source
    folder = os.path.join(work, "data", f"{task}_{labels}_seed{seed}")
    if not os.path.exists(os.path.join(folder, "dev.tsv")):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(source, "train.tsv"), encoding="utf-8") as f:
            header, *rows = f.readlines()
        chosen = np.random.default_rng(seed).choice(len(rows), size=labels, replace=False)
        with open(os.path.join(folder, "train.tsv"), "w", encoding="utf-8") as f:
            f.write(header + "".join(rows[i] for i in sorted(chosen)))
        shutil.copyfile(os.path.join(source, "dev.tsv"), os.path.join(folder, "dev.tsv"))
    return folder


def train_size(data_dir):
    with open(os.path.join(data_dir, "train.tsv"), encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def fine_tune(work, configs, task_name, labels, seed, init, tag):
    """Dev metrics of one fine-tuning run (read back if it finished before)."""
    import keras

    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training

    out = os.path.join(work, "finetune", f"{task_name}_{labels or 'all'}_{tag}_seed{seed}")
    results = os.path.join(out, "eval_results.txt")
    if not os.path.exists(results):
        recipe = RECIPES[task_name]
        data_dir = subset_dir(work, task_name, labels, seed)
        examples = train_size(data_dir)
        steps = max(1, examples * recipe["epochs"][labels] // recipe["train_batch_size"])
        task = create_task("classifier", task_name=task_name, data_dir=data_dir,
                           spm_model_file=os.path.join(work, "corpus", "spm.model"), max_seq_length=SEQ)
        log(f"fine-tuning {task_name} labels={labels or examples} start={tag} seed={seed}: {steps} steps")
        keras.backend.clear_session()
        run_training(task, TrainingConfig.for_finetuning(
            albert_config_file=configs["finetune"], output_dir=out, init_checkpoint=init, do_train=True,
            do_eval=True, train_batch_size=recipe["train_batch_size"], learning_rate=recipe["learning_rate"],
            num_train_steps=steps, num_warmup_steps=int(steps * FINETUNING["warmup_fraction"]), seed=seed,
            bias_correction=FINETUNING["bias_correction"], poly_power=FINETUNING["poly_power"],
            save_checkpoints_steps=max(1, steps // recipe["evals_per_run"]), keep_checkpoint_max=1,
            log_steps=max(1, steps // 5), export_saved_model=False))
    return read_results(results)


# --- 4. baseline -------------------------------------------------------------------------------------------

def read_pairs(data_dir, split, task_name):
    """(texts or text pairs, labels) of a GLUE split, the columns the classifier task reads."""
    with open(os.path.join(data_dir, f"{split}.tsv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    if task_name == "sst-2":
        return [r[0].strip() for r in rows], np.array([int(r[1]) for r in rows])
    return [(r[7], r[8]) for r in rows], np.array([float(r[9]) for r in rows])


def tfidf_baseline(task_name, data_dir, dev_dir):
    """Dev metric of TF-IDF (word 1-2-grams + char 2-5-grams) with a linear model, C/alpha picked on dev."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_union

    from albert_tf.tasks.metrics import accuracy, pearson

    train_x, train_y = read_pairs(data_dir, "train", task_name)
    dev_x, dev_y = read_pairs(dev_dir, "dev", task_name)
    vectorizer = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
                            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    if task_name == "sst-2":
        train_f, dev_f = vectorizer.fit_transform(train_x), vectorizer.transform(dev_x)
        scores = {c: accuracy(dev_y, LogisticRegression(C=c, max_iter=2000).fit(train_f, train_y).predict(dev_f))
                  for c in (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)}
        return max(scores.values()), {"metric": "accuracy", "C": max(scores, key=scores.get)}
    vectorizer.fit([t for pair in train_x for t in pair])

    def features(pairs):
        a = vectorizer.transform([p[0] for p in pairs])
        b = vectorizer.transform([p[1] for p in pairs])
        cosine = np.asarray(a.multiply(b).sum(axis=1))  # rows are L2-normalised per vectorizer: a sum of two cosines
        return sparse.hstack([a.multiply(b), abs(a - b), sparse.csr_matrix(cosine)]).tocsr()

    train_f, dev_f = features(train_x), features(dev_x)
    scores = {alpha: pearson(dev_y, Ridge(alpha=alpha).fit(train_f, train_y).predict(dev_f))
              for alpha in (1.0, 3.0, 10.0, 30.0, 100.0)}
    return max(scores.values()), {"metric": "pearson", "alpha": max(scores, key=scores.get)}


# --- 5. report ---------------------------------------------------------------------------------------------

def mean_std(values):
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def report(rows, held_out, curve, minutes, work):
    """The table: every row's mean ± std over seeds and its difference from the random start of the same runs
    (paired by seed when both have a value per seed)."""
    lines = ["| task | labels | start | dev metric | mean ± std over seeds | minus from-scratch | per seed |",
             "|---|---|---|---|---|---|---|"]
    scratch = {(r["task"], r["labels"]): r["values"] for r in rows if r["start"] == "scratch"}
    for row in rows:
        mean, std = mean_std(row["values"])
        reference = scratch.get((row["task"], row["labels"]))
        if row["start"] == "scratch" or reference is None:
            difference = "-"
        elif len(reference) == len(row["values"]):
            d_mean, d_std = mean_std(np.subtract(row["values"], reference))
            difference = f"{d_mean:+.4f} ± {d_std:.4f}"
        else:
            difference = f"{mean - float(np.mean(reference)):+.4f}"
        lines.append(f"| {row['task']} | {row['labels']} | {row['start']} | {row['metric']} | "
                     f"{mean:.4f} ± {std:.4f} | {difference} | {', '.join(f'{v:.4f}' for v in row['values'])} |")
    text = "\n".join(lines)
    summary = {"rows": rows, "held_out": held_out, "pretraining_minutes": minutes,
               "curve": [{"step": s, "minutes": t / 60, **m} for s, t, m in curve]}
    with atomic_open(os.path.join(work, "payoff.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with atomic_open(os.path.join(work, "payoff.md"), "w") as f:
        f.write(text + "\n")
    print("\n" + text)
    for name, scores in held_out.items():
        print(f"held-out {name}: masked_lm_accuracy {scores['masked_lm_accuracy']:.4f}  "
              f"sentence_order_accuracy {scores['sentence_order_accuracy']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "pretraining_payoff"))
    parser.add_argument("--pretrain_steps", type=int, default=3600)
    parser.add_argument("--transfer_curve", action="store_true",
                        help="also fine-tune SST-2 (500 labels) from the checkpoint at half the pretraining steps")
    parser.add_argument("--checkpoint_every", type=int, default=600)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--plot", default=os.path.join(REPO, "benchmarks", "pretraining_payoff_mlm.png"))
    args = parser.parse_args()
    work = os.path.abspath(args.work_dir)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(work, exist_ok=True)
    began = time.time()

    prepare_corpus(work)
    configs = write_model_configs(work)
    pretrain(work, configs, args.pretrain_steps, args.checkpoint_every)
    curve = eval_curve(work)
    if curve:
        plot_curve(curve, args.plot)
        log(f"held-out curve: {args.plot}")
    held_out = held_out_scores(work)
    exported = os.path.join(work, "pretrain", "export", f"model.ckpt-{args.pretrain_steps}")
    starts = {"pretrained": exported, "scratch": None}
    if args.transfer_curve:  # transfer against pretraining minutes: the checkpoint nearest half the budget
        half = args.checkpoint_every * max(1, round(args.pretrain_steps / 2 / args.checkpoint_every))
        starts[f"pretrained_{half}_steps"] = os.path.join(work, "pretrain", "checkpoints", f"ckpt-{half}")
    rows = []
    for task_name, labels in RUNS:
        for start, init in starts.items():
            if start.endswith("_steps") and labels != 500:
                continue
            values = []
            for seed in seeds:
                metrics = fine_tune(work, configs, task_name, labels, seed, init, start)
                values.append(metrics["accuracy" if task_name == "sst-2" else "pearson"])
            rows.append({"task": task_name, "labels": labels or "all", "start": start,
                         "metric": "accuracy" if task_name == "sst-2" else "pearson", "values": values})
        baseline = []
        for seed in seeds[:1] if labels is None else seeds:
            value, _ = tfidf_baseline(task_name, subset_dir(work, task_name, labels, seed),
                                      subset_dir(work, task_name, None, seed))
            baseline.append(value)
        rows.append({"task": task_name, "labels": labels or "all", "start": "tf-idf + linear",
                     "metric": rows[-1]["metric"], "values": baseline})
    minutes = curve[-1][1] / 60 if curve else None
    report(rows, held_out, curve, minutes, work)
    log(f"done in {(time.time() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
