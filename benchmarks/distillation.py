r"""Which distillation recipe gives the best small ALBERT? Teacher, students, recipes, seeds; one table.

    python benchmarks/distillation.py [--work_dir output/distillation] [--tasks sst-2,sts-b] [--seeds 0,1,2]

No released English ALBERT is available offline, so the teacher is trained here, from random weights, on the
task's full train set (`TEACHER`: the largest that trains on SST-2 within about an hour on 2 cores, RESULTS.md).
Each stage skips what an earlier (killed) run finished, and every run is a run of the library's loop (which
resumes a killed run exactly), so the command can be repeated until the table is complete:

1. corpus: an 8,000-piece English SentencePiece model trained on benchmarks/payoff_corpus.py's unlabelled text
   (no dev sentence in it), and the augmentation files the teacher labels (`--augment_file`): for SST-2,
   WikiText-2 sentences and SST-2's test sentences (GLUE gives no labels for them), one a line; for STS-B,
   the sentence pairs of STS-B test and of MRPC (train, test), without their labels. No dev sentence in either.
2. teacher: `albert-classifier`'s job (in this process) on the full train set, the best dev checkpoint kept.
3. students (`STUDENTS`: albert_tiny's shape 4x312 and 2x128) with each recipe of `RECIPES`: the labels only
   (a plain fine-tuning run), soft targets (DistilBERT), TinyBERT's layer losses, MiniLM's, and the first two
   with the augmentation text; every seed. All train the same steps with the same optimiser.
4. agreement: each student's dev predictions against the teacher's (classifiers: the share of equal labels;
   regressors: Pearson's r between the two models' scores).
5. speed: ONNX int8 exports of the teacher and of one student per shape (the speed depends on the shape only),
   timed in lockstep: batch-1 latency over dev sentences and batch-32 throughput over the dev set, the models
   taking turns round by round in one process (onnxruntime, 1 thread).
6. report: per task, size and recipe the dev metric mean ± std over seeds, its share of the teacher's, the
   paired difference from the label-only student, agreement, latency, throughput and file size; printed and
   written to WORK/distillation.md/json.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import payoff_corpus  # noqa: E402  (beside this script)
from pretraining_payoff import mean_std, read_results  # noqa: E402  (beside this script)
from albert_tf.outputs.atomic_files import atomic_open  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

absl_logging.set_verbosity(absl_logging.INFO)

SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SEQ = 128
VOCAB_SIZE = 8000
GLUE = {"sst-2": "SST-2", "sts-b": "STS-B"}
METRIC = {"sst-2": "accuracy", "sts-b": "pearson"}
AGREEMENT = {"sst-2": "agreement with teacher (same label)", "sts-b": "agreement with teacher (Pearson of the scores)"}

# The teacher: 6 layers of albert_base's width (12 heads, so that TinyBERT's attention loss applies to the
# 12-head 4x312 student), one shared group as ALBERT. Trained in bfloat16 (AMX here).
TEACHER = dict(embedding_size=128, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
               intermediate_size=3072)
STUDENTS = {
    "4x312": dict(embedding_size=128, hidden_size=312, num_hidden_layers=4, num_attention_heads=12,
                  intermediate_size=1248),  # albert_tiny's shape (brightmart/albert_zh)
    "2x128": dict(embedding_size=128, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=512),
}
# Optimisation, the same for every student of a task (AdamW with bias correction, 10% warmup, linear decay; the
# best of `evals` dev evaluations kept); the teacher trains `teacher_epochs` at `teacher_learning_rate`.
TRAINING = {
    "sst-2": dict(epochs=0.5, teacher_epochs=2, learning_rate=5e-4, teacher_learning_rate=1e-4, batch_size=32, evals=4),
    "sts-b": dict(epochs=4, teacher_epochs=4, learning_rate=5e-4, teacher_learning_rate=1e-4, batch_size=32, evals=4),
}
SOFT = dict(soft_target_weight=1.0, hard_label_weight=1.0, temperature=2.0)  # DistilBERT: soft targets + labels
# The recipes: None is the plain fine-tuning run (labels only). TinyBERT's attention-score loss and MiniLM's
# attention KL need equal head counts; where the student's differ, TinyBERT goes without it and MiniLM takes its v2
# form (query/key and value relations over `relation_heads`).
RECIPES = {
    "labels only": None,
    "soft targets": dict(SOFT),
    "TinyBERT": dict(SOFT, hidden_weight=1.0, embedding_weight=1.0, attention_score_weight=1.0),
    "MiniLM": dict(SOFT, attention_kl_weight=1.0, value_relation_weight=1.0, layer_map="last"),
    "soft targets + augmentation": dict(SOFT, augment=True),
    "TinyBERT + augmentation": dict(SOFT, hidden_weight=1.0, embedding_weight=1.0, attention_score_weight=1.0,
                                    augment=True),
}


def log(message):
    print(f"[distillation {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- 1. corpus ---------------------------------------------------------------------------------------------

def prepare_corpus(work):
    from albert_tf.tokenization.sentencepiece_training import train_sentencepiece

    folder = os.path.join(work, "corpus")
    spm = os.path.join(folder, "spm.model")
    augment = {"sst-2": os.path.join(folder, "augment.txt"), "sts-b": os.path.join(folder, "augment_pairs.txt")}
    if not os.path.exists(spm):
        payoff_corpus.build_corpus(SHARED, folder)
        train_sentencepiece([os.path.join(folder, "train.txt")], spm[:-len(".model")], vocab_size=VOCAB_SIZE,
                            hard_vocab_limit=False, log=log)
    dev = None if all(map(os.path.exists, augment.values())) else payoff_corpus.dev_sentences(SHARED)
    if not os.path.exists(augment["sst-2"]):
        wiki = os.path.join(SHARED, "corpus_en", "wikitext-2")
        sentences = [s for name in ("valid.txt", "test.txt")
                     for article in payoff_corpus.wikitext_articles(os.path.join(wiki, name)) for s in article]
        sentences += payoff_corpus.read_tsv_column(os.path.join(SHARED, "glue", "SST-2", "test.tsv"), "sentence")
        sentences = [s for s in dict.fromkeys(sentences) if s not in dev and len(s.split()) >= 3]
        with atomic_open(augment["sst-2"], "w", encoding="utf-8") as f:
            f.write("".join(s.replace("\t", " ") + "\n" for s in sentences))
        log(f"augmentation text: {len(sentences)} sentences in {augment['sst-2']}")
    if not os.path.exists(augment["sts-b"]):  # sentence pairs without scores: STS-B test (GLUE has no labels
        pairs = []                             # for it) and MRPC's pairs (STS-B's MSRpar pairs come from MRPC)
        glue = os.path.join(SHARED, "glue")
        for folder_name, columns, splits in (("STS-B", ("sentence1", "sentence2"), ("test",)),
                                             ("MRPC", ("#1 String", "#2 String"), ("train", "test"))):
            for split in splits:
                path = os.path.join(glue, folder_name, f"{split}.tsv")
                pairs += zip(*(payoff_corpus.read_tsv_column(path, column) for column in columns))
        pairs = [p for p in dict.fromkeys(pairs) if p[0] not in dev and p[1] not in dev]
        with atomic_open(augment["sts-b"], "w", encoding="utf-8") as f:
            f.write("".join(f"{a.replace(chr(9), ' ')}\t{b.replace(chr(9), ' ')}\n" for a, b in pairs))
        log(f"augmentation pairs: {len(pairs)} in {augment['sts-b']}")
    return spm, augment


def write_config(work, name, sizes, dropout=0.1):
    from albert_tf import AlbertConfig

    path = os.path.join(work, f"albert_config_{name}.json")
    if not os.path.exists(path):
        AlbertConfig(vocab_size=VOCAB_SIZE, max_position_embeddings=SEQ, hidden_dropout_prob=dropout,
                     attention_probs_dropout_prob=dropout, **sizes).to_json_file(path)
    return path


def read_minutes(run):
    with open(os.path.join(run, "minutes.txt")) as f:
        return float(f.read())


def train_size(task_name):
    with open(os.path.join(SHARED, "glue", GLUE[task_name], "train.tsv"), encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def classifier_task(task_name, spm):
    from albert_tf.tasks.registry import create_task

    return create_task("classifier", task_name=task_name, data_dir=os.path.join(SHARED, "glue", GLUE[task_name]),
                       spm_model_file=spm, max_seq_length=SEQ)


def train(task, out, config_file, steps, learning_rate, batch_size, evals, seed):
    import keras

    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training

    keras.backend.clear_session()
    began = time.time()
    run_training(task, TrainingConfig.for_finetuning(
        albert_config_file=config_file, output_dir=out, do_train=True, do_eval=True, train_batch_size=batch_size,
        learning_rate=learning_rate, num_train_steps=steps, num_warmup_steps=steps // 10, seed=seed,
        bias_correction=True, mixed_precision="bf16", save_checkpoints_steps=max(1, steps // evals),
        keep_checkpoint_max=1, log_steps=max(1, steps // 20), export_saved_model=False))
    with atomic_open(os.path.join(out, "minutes.txt"), "w") as f:  # written last: the run is done
        f.write(f"{(time.time() - began) / 60:.1f}\n")


# --- 2. teacher --------------------------------------------------------------------------------------------

def train_teacher(work, task_name, spm, steps=None):
    out = os.path.join(work, task_name, "teacher")
    results = os.path.join(out, "eval_results.txt")
    if not os.path.exists(results):
        recipe = TRAINING[task_name]
        steps = steps or train_size(task_name) * recipe["teacher_epochs"] // recipe["batch_size"]
        log(f"teacher {task_name}: {steps} steps")
        train(classifier_task(task_name, spm), out, write_config(work, "teacher", TEACHER), steps,
              recipe["teacher_learning_rate"], recipe["batch_size"], recipe["evals"], seed=0)
    return out


# --- 3. students -------------------------------------------------------------------------------------------

def recipe_settings(recipe, size):
    """The DistillationConfig fields of `recipe` for a student of `size` (head counts decide the attention terms)."""
    settings = {k: v for k, v in recipe.items() if k != "augment"}
    if STUDENTS[size]["num_attention_heads"] != TEACHER["num_attention_heads"]:
        settings.pop("attention_score_weight", None)
        if settings.pop("attention_kl_weight", None):
            settings.update(query_key_relation_weight=1.0, relation_heads=STUDENTS[size]["num_attention_heads"])
            settings["value_relation_weight"] = 1.0
    return settings


def student_dir(work, task_name, size, name, seed):
    return os.path.join(work, task_name, size, name.replace(" ", "_").replace("+", "plus"), f"seed{seed}")


def train_student(work, task_name, spm, augment, size, name, seed, steps=None):
    from albert_tf.distillation.distillation_config import DistillationConfig
    from albert_tf.distillation.distillation_task import DistillationTask

    out = student_dir(work, task_name, size, name, seed)
    results = os.path.join(out, "eval_results.txt")
    if not os.path.exists(results):
        recipe = RECIPES[name]
        training = TRAINING[task_name]
        steps = steps or int(train_size(task_name) * training["epochs"]) // training["batch_size"]
        task = classifier_task(task_name, spm)
        if recipe is not None:
            teacher = os.path.join(work, task_name, "teacher", "export", "model.ckpt-best")
            task = DistillationTask(task, DistillationConfig(
                teacher_checkpoint=teacher, teacher_dtype="bfloat16",
                augment_file=augment[task_name] if recipe.get("augment") else None, **recipe_settings(recipe, size)))
        log(f"student {task_name} {size} {name} seed {seed}: {steps} steps")
        train(task, out, write_config(work, f"student_{size}", STUDENTS[size]), steps,
              training["learning_rate"], training["batch_size"], training["evals"], seed)
    return out


# --- 4. agreement ------------------------------------------------------------------------------------------

def dev_rows(task_name, spm):
    features = classifier_task(task_name, spm).features("dev")
    return list(zip(features["input_ids"], features["segment_ids"]))


def padded(rows):
    length = max(len(ids) for ids, _ in rows)
    ids = np.array([list(i) + [0] * (length - len(i)) for i, _ in rows], np.int32)
    segments = np.array([list(s) + [0] * (length - len(s)) for _, s in rows], np.int32)
    return {"input_ids": ids, "input_mask": (ids > 0).astype(np.int32), "segment_ids": segments}


def dev_outputs(run, task_name, rows):
    """The dev logits (regression: scores) of a run's exported best weights, in float32."""
    import keras

    from albert_tf import AlbertConfig
    from albert_tf.checkpoints.original_checkpoint import load_checkpoint
    from albert_tf.models import AlbertClassifier

    keras.backend.clear_session()
    export = os.path.join(run, "export")
    model = AlbertClassifier(AlbertConfig.from_json_file(os.path.join(export, "albert_config.json")),
                             num_classes=1 if task_name == "sts-b" else 2)
    load_checkpoint(model, os.path.join(export, "model.ckpt-best"))
    order = np.argsort([len(ids) for ids, _ in rows], kind="stable")
    logits = np.zeros((len(rows), 1 if task_name == "sts-b" else 2), np.float32)
    for start in range(0, len(rows), 64):
        chosen = order[start:start + 64]
        logits[chosen] = model(padded([rows[i] for i in chosen]), training=False)["logits"].numpy()
    return logits


def agreement(task_name, teacher, student):
    if task_name == "sts-b":
        return float(np.corrcoef(teacher[:, 0], student[:, 0])[0, 1])
    return float((teacher.argmax(-1) == student.argmax(-1)).mean())


# --- 5. speed ----------------------------------------------------------------------------------------------

def reference_run(work, task_name):
    """A run folder holding albert_base's shape (12x768) with random weights: its speed is the usual teacher's
    (a latency does not depend on the weights' values), for the ratios against a full-depth teacher."""
    import keras

    from albert_tf import AlbertConfig
    from albert_tf.checkpoints.original_checkpoint import save_checkpoint
    from albert_tf.models import AlbertClassifier

    run = os.path.join(work, task_name, "reference_12x768")
    prefix = os.path.join(run, "export", "model.ckpt-best")
    if not os.path.exists(prefix + ".index"):
        keras.backend.clear_session()
        shape = dict(TEACHER, num_hidden_layers=12)
        config = AlbertConfig.from_json_file(write_config(work, "reference_12x768", shape))
        save_checkpoint(AlbertClassifier(config, num_classes=1 if task_name == "sts-b" else 2), prefix)
    return run


def export_int8(work, run, task_name, spm, name):
    from albert_tf.export.export_config import ExportConfig
    from albert_tf.export.model_export import export_model

    folder = os.path.join(work, task_name, "onnx_int8", name)
    if not os.path.exists(os.path.join(folder, "model.onnx")):
        export = os.path.join(run, "export")
        export_model(ExportConfig(model_type="classifier", export_dir=folder, max_seq_length=SEQ, format="onnx",
                                  quantize="int8", albert_config_file=os.path.join(export, "albert_config.json"),
                                  checkpoint=os.path.join(export, "model.ckpt-best"), spm_model_file=spm,
                                  num_classes=1 if task_name == "sts-b" else 2))
    return os.path.join(folder, "model.onnx")


def time_onnx(paths, rows, rounds, latency_rows):
    """{name: (batch-1 median ms, batch-32 examples/s)}: the models take turns in each round, one thread each."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    sessions = {name: ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                for name, path in paths.items()}
    singles = [padded([row]) for row in rows[:latency_rows]]
    order = np.argsort([len(ids) for ids, _ in rows], kind="stable")
    batches = [padded([rows[i] for i in order[start:start + 32]]) for start in range(0, len(rows), 32)]
    latency = {name: [] for name in paths}
    throughput = {name: [] for name in paths}
    for name, session in sessions.items():  # warm-up
        session.run(["logits"], singles[0])
        session.run(["logits"], batches[-1])
    for _ in range(rounds):
        for name, session in sessions.items():
            times = []
            for inputs in singles:
                began = time.perf_counter()
                session.run(["logits"], inputs)
                times.append(time.perf_counter() - began)
            latency[name].append(float(np.median(times)) * 1000)
            began = time.perf_counter()
            for inputs in batches:
                session.run(["logits"], inputs)
            throughput[name].append(len(rows) / (time.perf_counter() - began))
    return {name: (float(np.median(latency[name])), float(np.median(throughput[name]))) for name in paths}


# --- 6. report ---------------------------------------------------------------------------------------------

def speed_cells(speed, teacher, reference):
    """The latency, throughput and size cells of a row, with ratios to the teacher and to 12x768."""
    latency = f"{speed['latency_ms']:.2f} ms"
    per_second = f"{speed['per_second']:.0f}/s"
    if speed is not teacher:
        latency += (f" ({speed['latency_ms'] / teacher['latency_ms']:.2f}x; "
                    f"{speed['latency_ms'] / reference['latency_ms']:.2f}x 12x768)")
        per_second += f" ({speed['per_second'] / teacher['per_second']:.1f}x)"
    return f"{latency} | {per_second} | {speed['mib']:.1f} MiB"


def report(work, tables):
    lines = []
    for task_name, table in tables.items():
        teacher, reference = table["teacher"], table["speed"]["12x768"]
        lines += [f"### {task_name}: dev {METRIC[task_name]}, teacher {teacher['metric']:.4f} "
                  f"({teacher['minutes']:.0f} min of training)", "",
                  f"| student | recipe | dev {METRIC[task_name]} mean ± std | share of teacher | minus labels only "
                  f"(paired) | {AGREEMENT[task_name]} | ONNX int8 batch 1 | batch 32 | file | training min "
                  "| per seed |",
                  "|---|---|---|---|---|---|---|---|---|---|---|",
                  f"| teacher {TEACHER['num_hidden_layers']}x{TEACHER['hidden_size']} | labels | "
                  f"{teacher['metric']:.4f} | 1.000 | | 1.000 | {speed_cells(teacher, teacher, reference)} | "
                  f"{teacher['minutes']:.1f} | |",
                  f"| 12x768 (albert_base's shape, random weights: speed only) | | | | | | "
                  f"{speed_cells(reference, reference, reference)} | | |"]
        for row in table["rows"]:
            mean, std = mean_std(row["values"])
            base = next((dict(zip(r["seeds"], r["values"])) for r in table["rows"]
                         if r["size"] == row["size"] and r["recipe"] == "labels only"), {})
            paired = [(value, base[seed]) for seed, value in zip(row["seeds"], row["values"]) if seed in base]
            difference = "-"
            if paired and row["recipe"] != "labels only":  # paired by seed
                d_mean, d_std = mean_std([value - reference for value, reference in paired])
                difference = f"{d_mean:+.4f} ± {d_std:.4f}" + (f" ({len(paired)} seeds)" if len(paired) <
                                                                len(row["values"]) else "")
            agree, _ = mean_std(row["agreement"])
            lines.append(
                f"| {row['size']} | {row['recipe']} | {mean:.4f} ± {std:.4f} | {mean / teacher['metric']:.3f} | "
                f"{difference} | {agree:.3f} | {speed_cells(table['speed'][row['size']], teacher, reference)} | "
                f"{np.median(row['minutes']):.1f} | {', '.join(f'{v:.4f}' for v in row['values'])} |")
        lines.append("")
    text = "\n".join(lines)
    with atomic_open(os.path.join(work, "distillation.json"), "w") as f:
        json.dump(tables, f, indent=2)
    with atomic_open(os.path.join(work, "distillation.md"), "w") as f:
        f.write(text + "\n")
    print("\n" + text)


def size_mib(path):
    return os.path.getsize(path) / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "distillation"))
    parser.add_argument("--tasks", default="sst-2,sts-b")
    parser.add_argument("--sizes", default=",".join(STUDENTS))
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated names of RECIPES")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--teacher_steps", type=int, default=None, help="default: TRAINING's teacher epochs")
    parser.add_argument("--student_steps", type=int, default=None, help="default: TRAINING's epochs (a smoke test: 10)")
    parser.add_argument("--report_only", action="store_true",
                        help="train nothing: time the exports and report the finished runs (seeds may differ by row)")
    parser.add_argument("--teacher_only", action="store_true", help="stop after training the teachers")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds")
    parser.add_argument("--latency_rows", type=int, default=200, help="dev examples timed one at a time per round")
    args = parser.parse_args()
    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    recipes = [r for r in RECIPES if r in args.recipes.split(",")]
    began = time.time()
    spm, augment = prepare_corpus(work)
    tables = {}
    for task_name in args.tasks.split(","):
        teacher_run = train_teacher(work, task_name, spm, args.teacher_steps)
        if args.teacher_only:
            continue
        runs = {}
        for seed in seeds:  # seed by seed: a partial run leaves whole tables of fewer seeds
            for size in args.sizes.split(","):
                for name in recipes:
                    if args.report_only:  # the finished runs only
                        run = student_dir(work, task_name, size, name, seed)
                        if os.path.exists(os.path.join(run, "minutes.txt")):
                            runs[size, name, seed] = run
                        continue
                    runs[size, name, seed] = train_student(work, task_name, spm, augment, size, name, seed,
                                                           args.student_steps)
        rows = dev_rows(task_name, spm)
        teacher_logits = dev_outputs(teacher_run, task_name, rows)
        table_rows = []
        for size in args.sizes.split(","):
            for name in recipes:
                chosen = [(seed, runs[size, name, seed]) for seed in seeds if (size, name, seed) in runs]
                if not chosen:
                    continue
                values = [read_results(os.path.join(run, "eval_results.txt"))[METRIC[task_name]] for _, run in chosen]
                agreements = [agreement(task_name, teacher_logits, dev_outputs(run, task_name, rows))
                              for _, run in chosen]
                table_rows.append({"size": size, "recipe": name, "values": values, "agreement": agreements,
                                   "seeds": [seed for seed, _ in chosen],
                                   "minutes": [read_minutes(run) for _, run in chosen]})
        paths = {"teacher": export_int8(work, teacher_run, task_name, spm, "teacher"),
                 "12x768": export_int8(work, reference_run(work, task_name), task_name, spm, "reference_12x768")}
        for size in args.sizes.split(","):
            some = next(run for (s, _, _), run in runs.items() if s == size)
            paths[size] = export_int8(work, some, task_name, spm, size)
        log(f"timing {', '.join(paths)} in lockstep, {args.rounds} rounds")
        speed = {name: {"latency_ms": latency, "per_second": per_second, "mib": size_mib(paths[name])}
                 for name, (latency, per_second) in time_onnx(paths, rows, args.rounds, args.latency_rows).items()}
        tables[task_name] = {
            "teacher": {"metric": read_results(os.path.join(teacher_run, "eval_results.txt"))[METRIC[task_name]],
                        "minutes": read_minutes(teacher_run), **speed["teacher"]},
            "speed": speed, "rows": table_rows}
    if tables:
        report(work, tables)
    log(f"done in {(time.time() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
