"""create_pretraining_data throughput: instances/s and peak memory, whole process.

Input: WikiText-2 valid+test from ../shared/data concatenated four times
(about 10 MB, written to a temporary file), the ALBERT release settings
(seq 512, max_predictions 20, ngram 3, whole-word masking) and dupe_factor
1, with the shared German 30k ALBERT SentencePiece model (Google's English
model is not available here). Each run is the command-line tool in a fresh
process; wall time covers the whole process (start-up, imports, reading,
writing). Peak memory is the largest sum of proportional set sizes (PSS)
over the process and its workers, sampled every 20 ms, so pages shared
between forked workers are counted once.

The reference is the original google-research/albert script measured on this
machine (given in the issue): 3,060 instances from one copy in 20.5 s wall
(about 150 instances/s), 630 MiB peak. The original is not run here.

    python benchmarks/create_pretraining_data_throughput.py --rounds 3

The last line reads `create_pretraining_data 1 worker X inst/s Y MiB | 2 workers X inst/s Y MiB`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
REFERENCE_INSTANCES_PER_S = 150.0
REFERENCE_PEAK_MIB = 630.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--spm_model_file",
                        default=os.path.join(SHARED, "sentencepiece/albert_de_privately/30k-clean.model"))
    return parser.parse_args()


def _children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_once(command):
    """Runs `command`; returns (wall seconds, peak PSS MiB over the process tree, stderr)."""
    peak = [0]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def sample():
        while process.poll() is None:
            tree, frontier = [], [process.pid]
            while frontier:
                pid = frontier.pop()
                tree.append(pid)
                frontier += _children(pid)
            peak[0] = max(peak[0], sum(_pss_kib(pid) for pid in tree))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    return wall, peak[0] / 1024, stderr


def main():
    args = parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "wikitext2_x%d.txt" % args.copies)
        with open(corpus, "wb") as out:
            for _ in range(args.copies):
                for split in ("valid", "test"):
                    with open(os.path.join(SHARED, f"corpus_en/wikitext-2/{split}.txt"), "rb") as f:
                        out.write(f.read())
        size_mb = os.path.getsize(corpus) / 1e6
        print(f"input: {corpus} ({size_mb:.1f} MB), model {args.spm_model_file}")
        results = {w: [] for w in workers}
        instances = None
        for round_index in range(args.rounds):
            for w in workers:
                command = [sys.executable, os.path.join(REPO, "tools", "create_pretraining_data.py"),
                           f"--input_file={corpus}", f"--output_file={os.path.join(tmp, 'out.tfrecord')}",
                           f"--spm_model_file={args.spm_model_file}", "--max_seq_length=512",
                           "--max_predictions_per_seq=20", "--ngram=3", "--do_whole_word_mask",
                           "--dupe_factor=1", f"--num_workers={w}"]
                wall, peak, stderr = run_once(command)
                count = int(stderr.split("instances: ")[-1].split()[0])
                instances = instances or count
                results[w].append((wall, peak))
                print(f"round {round_index + 1} workers {w}: {count} instances in {wall:.2f} s "
                      f"= {count / wall:.0f} inst/s, peak {peak:.0f} MiB", flush=True)
        parts = []
        for w in workers:
            wall = statistics.median(r[0] for r in results[w])
            peak = max(r[1] for r in results[w])
            rate = instances / wall
            print(f"{w} worker(s): median {wall:.2f} s, {rate:.0f} inst/s = "
                  f"{rate / REFERENCE_INSTANCES_PER_S:.1f}x the original's {REFERENCE_INSTANCES_PER_S:.0f}; "
                  f"peak {peak:.0f} MiB (original {REFERENCE_PEAK_MIB:.0f})")
            parts.append(f"{w} worker{'s' if w > 1 else ''} {rate:.0f} inst/s {peak:.0f} MiB")
        print("create_pretraining_data " + " | ".join(parts))


if __name__ == "__main__":
    main()
