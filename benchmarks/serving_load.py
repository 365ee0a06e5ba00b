"""albert-serve under load: throughput and latency with concurrent clients, against the export in-process.

An albert_base-sized classifier (v2 sizes, 2 labels, random weights; the shared German 30k SentencePiece
model; max_seq_length 128) is exported once into `--work_dir` (`--export`: ONNX int8, the default; ONNX
float32; or a SavedModel, run in TensorFlow by the server). Then:

1. in-process: the same export through `ServedModel` (tokenizer + ONNX Runtime, no HTTP): batch-1 latency
   (median over `--sentences` SST-2 dev sentences) and batch-32 throughput (sentences/s), each batch padded
   to its longest sentence, as the server pads;
2. the server (`albert-serve`, a subprocess on 127.0.0.1, port chosen by the OS) with dynamic batching
   (`--max_batch_size 32`, `--max_batch_delay_ms`), driven by N closed-loop clients (each sends one SST-2
   dev sentence, waits for the answer, sends the next) for `--seconds` per level, N in `--clients`:
   answered requests/s, p50/p95/p99 latency, errors;
3. open loop at half the saturating load (Poisson arrivals at half the best closed-loop throughput): p99;
4. the server with batching off (`--max_batch_size 1`) at the largest client count;
5. in-process again (the host's speed drifts; both in-process runs are reported).

The clients run in this process (asyncio + httpx). By default they share the cores with the server: on a
2-core host they take CPU from it, so the figures are a floor for a server with cores of its own. With
`--pin`, the server (and the in-process runs) compute on core 0 with one thread and the clients run on
core 1, so that client work does not queue behind the model.

Beside the measured p99 at half load, the queueing floor: the p99 of an ideal FIFO server (no HTTP, no
batching) whose service times are the in-process batch-1 times, under the same Poisson arrivals
(Lindley's recursion over the recorded times): what queueing alone costs at that load. `--plot` draws
p50/p99 latency against offered load (the closed-loop levels and open-loop rates of `--open_fractions`).

    python benchmarks/serving_load.py --work_dir /tmp/serving_load
    python benchmarks/serving_load.py --pin --soak_seconds 600
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))
SPM = os.path.join(SHARED, "sentencepiece", "albert_de_privately", "30k-clean.model")
sys.path.insert(0, REPO)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work_dir", default="/tmp/serving_load", help="the export is written here once")
    parser.add_argument("--export", default="onnx-int8", choices=("onnx-int8", "onnx-fp32", "saved_model"),
                        help="which export of the model the server and the in-process runs use")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--seconds", type=float, default=20.0, help="per load level")
    parser.add_argument("--sentences", type=int, default=0,
                        help="in-process runs on the first N dev sentences (0: all 872, as the clients send)")
    parser.add_argument("--max_batch_size", type=int, default=32,
                        help="the server's; 0: the best in-process batch size of --sweep")
    parser.add_argument("--sweep", type=int, nargs="*", default=[],
                        help="in-process sentences/s at these batch sizes (sentences in arrival order, each batch "
                             "run as the server runs it) before the server runs")
    parser.add_argument("--max_batch_delay_ms", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--soak_seconds", type=float, default=0.0,
                        help="also hold half the saturating load this long and report resident-memory growth")
    parser.add_argument("--pin", action="store_true",
                        help="server and in-process runs on core 0 with 1 thread, clients on core 1")
    parser.add_argument("--open_fractions", type=float, nargs="*", default=[0.25, 0.5, 0.75, 0.9],
                        help="open-loop rates as fractions of the saturating throughput (for the plot)")
    parser.add_argument("--plot", default=os.path.join(REPO, "benchmarks", "serving_load_latency.png"))
    args = parser.parse_args()
    if args.pin:
        args.threads = 1
    return args


SERVER_CORES, CLIENT_CORES = {0}, {1}


def sentences():
    with open(os.path.join(SHARED, "glue", "SST-2", "dev.tsv"), encoding="utf-8") as f:
        return [line.split("\t")[0] for line in f.read().splitlines()[1:] if line]


def export(work_dir, kind):
    """The export folder of `kind` (written once, by a child process: this one stays free of TensorFlow)."""
    folder = os.path.join(work_dir, {"onnx-int8": "classifier-onnx-int8"}.get(kind, f"classifier-{kind}"))
    file_format = "saved_model" if kind == "saved_model" else "onnx"
    quantize = "int8" if kind == "onnx-int8" else "none"
    if os.path.exists(os.path.join(folder, "export_info.json")):
        return folder
    code = f"""
import os, sys
sys.path.insert(0, {REPO!r})
from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.original_checkpoint import save_checkpoint
from albert_tf.export.export_config import ExportConfig
from albert_tf.export.model_export import export_model
from albert_tf.models import AlbertClassifier
run = os.path.join({work_dir!r}, "run")
model = AlbertClassifier(AlbertConfig.from_preset("base_v2"), num_classes=2)
save_checkpoint(model, os.path.join(run, "model.ckpt-best"))
export_model(ExportConfig(model_type="classifier", albert_config_file=os.path.join(run, "albert_config.json"),
                          checkpoint=os.path.join(run, "model.ckpt-best"), spm_model_file={SPM!r},
                          export_dir={folder!r}, format={file_format!r}, quantize={quantize!r}, max_seq_length=128,
                          labels="negative,positive"))
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    return folder


def in_process(folder, texts, count, threads):
    """(batch-1 median ms, batch-32 sentences/s, batch-1 seconds of each sentence, batch-1 sentences/s) of the
    export through ServedModel, no HTTP, on the same first `count` sentences (0: all)."""
    from albert_tf.serving.served_model import ServedModel

    model = ServedModel("bench", folder, threads)
    examples = [model.example(text) for text in (texts[:count] if count else texts)]
    model.run_batch(examples[:1])
    model.run_batch(examples[:32])
    single = []
    for example in examples:
        started = time.perf_counter()
        model.run_batch([example])
        single.append(time.perf_counter() - started)
    started, done = time.perf_counter(), 0
    for start in range(0, len(examples), 32):
        batch = examples[start:start + 32]
        model.run_batch(batch)
        done += len(batch)
    return (statistics.median(single) * 1000, done / (time.perf_counter() - started), single,
            len(single) / sum(single))


def sweep(folder, texts, sizes, threads):
    """{batch size: sentences/s} of the export in-process, the sentences in the order the clients send them."""
    from albert_tf.serving.served_model import ServedModel

    model = ServedModel("bench", folder, threads)
    examples = [model.example(text) for text in texts]
    rates = {}
    for size in sizes:
        model.run_batch(examples[:size])
        started = time.perf_counter()
        for start in range(0, len(examples), size):
            model.run_batch(examples[start:start + size])
        rates[size] = len(examples) / (time.perf_counter() - started)
        print(f"  in-process batch {size:3d}: {rates[size]:7.2f} sentences/s", flush=True)
    return rates


def queueing_p99(service_times, rate, seconds, seed=0):
    """p99 (ms) of an ideal FIFO single server under Poisson arrivals at `rate`, service times drawn from the
    measured `service_times` (Lindley: wait_next = max(0, wait + service - gap))."""
    rng = random.Random(seed)
    latencies, wait = [], 0.0
    for _ in range(max(1000, int(rate * seconds))):
        service = rng.choice(service_times)
        latencies.append(wait + service)
        wait = max(0.0, wait + service - rng.expovariate(rate))
    return percentiles(latencies)[2]


def start_server(folder, threads, max_batch_size, delay_ms, pin=False):
    taskset = ["taskset", "-c", ",".join(map(str, sorted(SERVER_CORES)))] if pin else []
    process = subprocess.Popen(
        taskset + [sys.executable, "-m", "albert_tf.cli.serve", f"--model=sst2={folder}", "--port=0",
                   f"--threads={threads}", f"--max_batch_size={max_batch_size}", f"--max_batch_delay_ms={delay_ms}",
                   "--max_queue=4096"],
        cwd=REPO, stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise RuntimeError("albert-serve exited before listening")
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else None
    return process, port


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


async def wait_ready(client):
    for _ in range(1200):
        try:
            if (await client.get("/v2/health/ready")).status_code == 200:
                return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready in 2 minutes")


async def predict(client, text, latencies, errors):
    """One request; its latency goes to `latencies` (answered) or a count to `errors` (a list of one int)."""
    started = time.perf_counter()
    reply = await client.post("/v1/models/sst2:predict", json={"instances": [text]})
    if reply.status_code == 200:
        latencies.append(time.perf_counter() - started)
    else:
        errors[0] += 1


async def closed_loop(client, texts, clients, seconds):
    """(answered/s, latencies in s, errors) of `clients` clients sending one sentence at a time."""
    latencies, errors = [], [0]
    stop = time.perf_counter() + seconds

    async def one_client(index):
        position = index * 97
        while time.perf_counter() < stop:
            await predict(client, texts[position % len(texts)], latencies, errors)
            position += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies, errors[0]


async def open_loop(client, texts, rate, seconds, seed=0):
    """(latencies, errors) of Poisson arrivals at `rate` requests/s for `seconds`."""
    rng = random.Random(seed)
    latencies, errors, tasks = [], [0], []
    stop, position = time.perf_counter() + seconds, 0
    while time.perf_counter() < stop:
        tasks.append(asyncio.create_task(predict(client, texts[position % len(texts)], latencies, errors)))
        position += 1
        await asyncio.sleep(rng.expovariate(rate))
    await asyncio.gather(*tasks)
    return latencies, errors[0]


def percentiles(latencies):
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


async def drive(port, texts, args, levels, open_rates=()):
    import httpx

    connections = max(levels, default=0) + 8 + (64 if open_rates else 0)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as client:
        await wait_ready(client)
        await closed_loop(client, texts, 4, 3.0)  # warm-up: connections, every padded length the model meets
        results = {}
        for clients in levels:
            results[clients] = await closed_loop(client, texts, clients, args.seconds)
            rate, latencies, errors = results[clients]
            p50, p95, p99 = percentiles(latencies)
            print(f"  {clients:4d} clients: {rate:7.2f} req/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                  f"p99 {p99:7.1f} ms  errors {errors}", flush=True)
        opened = {}
        for rate in open_rates:
            opened[rate] = await open_loop(client, texts, rate, args.seconds)
            p50, p95, p99 = percentiles(opened[rate][0])
            print(f"  open loop {rate:7.2f} req/s: p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  "
                  f"errors {opened[rate][1]}", flush=True)
        return results, opened


def pin(cores, enabled):
    if enabled:
        os.sched_setaffinity(0, cores)


def plot(report, path):
    """p50 and p99 latency against answered load: closed-loop levels and open-loop rates."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from albert_tf.outputs.atomic_files import atomic_open

    figure, axis = plt.subplots(figsize=(6.4, 4.0))
    closed = sorted(report["levels"].items())
    opened = sorted(report["open_loop"].items())
    for index, (label, marker) in enumerate((("p50", "o"), ("p99", "s"))):
        axis.plot([rate for _, (rate, _, _) in opened], [p[index * 2] for _, (_, p, _) in opened], marker + "-",
                  label=f"{label}, Poisson arrivals")
        axis.plot([rate for _, (rate, _, _) in closed], [p[index * 2] for _, (_, p, _) in closed], marker + ":",
                  label=f"{label}, closed loop (1-128 clients)")
    for clients, (rate, p, _) in closed:
        axis.annotate(f"{clients}", (rate, p[2]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axis.axvline(report["in_process_batch32"], color="grey", lw=0.8, ls="--")
    axis.text(report["in_process_batch32"], axis.get_ylim()[1] * 0.5, " in-process\n batch 32", color="grey",
              fontsize=8)
    axis.set_yscale("log")
    axis.set_xlabel("answered requests/s (one SST-2 sentence each)")
    axis.set_ylabel("latency (ms)")
    axis.set_title(f"albert-serve, albert_base {report['args']['export']}, "
                   + ("server on 1 core, clients on the other" if report["args"]["pin"] else "2 shared cores"),
                   fontsize=9)
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    figure.tight_layout()
    with atomic_open(path, "wb") as f:
        figure.savefig(f, format="png", dpi=120)
    plt.close(figure)


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    texts = sentences()
    folder = export(args.work_dir, args.export)
    size = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(folder) for name in names)
    print(f"export: {folder} ({size / 2**20:.1f} MiB)"
          + (f"; server on cores {sorted(SERVER_CORES)}, clients on {sorted(CLIENT_CORES)}" if args.pin else ""),
          flush=True)
    pin(SERVER_CORES, args.pin)
    before = in_process(folder, texts, args.sentences, args.threads)
    print(f"in-process (before): batch 1 {before[0]:.1f} ms median, {before[3]:.2f} sentences/s; batch 32 "
          f"{before[1]:.2f} sentences/s", flush=True)

    report = {"args": vars(args), "in_process_before": (before[0], before[1], before[3])}
    if args.sweep:
        print("in-process batch sizes:", flush=True)
        report["sweep"] = sweep(folder, texts, args.sweep, args.threads)
        if args.max_batch_size == 0:
            args.max_batch_size = max(report["sweep"], key=report["sweep"].get)
    elif args.max_batch_size == 0:
        raise SystemExit("--max_batch_size=0 takes its value from --sweep: give the batch sizes to try")
    process, port = start_server(folder, args.threads, args.max_batch_size, args.max_batch_delay_ms, args.pin)
    pin(CLIENT_CORES, args.pin)
    try:
        print(f"server (batching: max_batch_size {args.max_batch_size}, delay {args.max_batch_delay_ms} ms):")
        results, _ = asyncio.run(drive(port, texts, args, args.clients))
        saturating = max(rate for rate, _, _ in results.values())
        half_rate = saturating / 2
        rates = sorted({half_rate} | {fraction * saturating for fraction in args.open_fractions})
        print(f"open loop (Poisson arrivals; half the saturating load is {half_rate:.2f} req/s):", flush=True)
        _, opened = asyncio.run(drive(port, texts, args, [], open_rates=rates))
        report.update(levels={c: (r, percentiles(lat), e) for c, (r, lat, e) in results.items()},
                      open_loop={rate: (len(lat) / args.seconds, percentiles(lat), e)
                                 for rate, (lat, e) in opened.items()},
                      half_load=(half_rate, percentiles(opened[half_rate][0]), opened[half_rate][1]))
        if args.soak_seconds:
            memory_start = rss_mib(process.pid)
            soak = argparse.Namespace(**{**vars(args), "seconds": args.soak_seconds})
            _, soaked = asyncio.run(drive(port, texts, soak, [], open_rates=[half_rate]))
            memory_end = rss_mib(process.pid)
            growth = (memory_end - memory_start) / memory_start
            latencies, errors = soaked[half_rate]
            print(f"soak {args.soak_seconds:.0f} s at half load: {len(latencies)} answers, {errors} errors, "
                  f"p99 {percentiles(latencies)[2]:.1f} ms; RSS {memory_start:.0f} -> {memory_end:.0f} MiB "
                  f"({growth:+.1%}, goal < +5%)", flush=True)
            report["soak"] = (memory_start, memory_end, len(latencies), errors, percentiles(latencies))
    finally:
        process.send_signal(signal.SIGTERM)
        report["server_exit"] = process.wait(timeout=120)

    process, port = start_server(folder, args.threads, 1, 0, args.pin)
    try:
        most = max(args.clients)
        print(f"server with batching off (max_batch_size 1), {most} clients:")
        unbatched, _ = asyncio.run(drive(port, texts, args, [most]))
        report["unbatched"] = {most: (unbatched[most][0], percentiles(unbatched[most][1]), unbatched[most][2])}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)

    pin(SERVER_CORES, args.pin)
    after = in_process(folder, texts, args.sentences, args.threads)
    print(f"in-process (after): batch 1 {after[0]:.1f} ms median, {after[3]:.2f} sentences/s; batch 32 "
          f"{after[1]:.2f} sentences/s", flush=True)
    report["in_process_after"] = (after[0], after[1], after[3])
    batch32 = min(before[1], after[1])
    report["in_process_batch32"] = batch32
    at32 = results.get(32, results[max(results)])[0]
    print(f"\n32 clients / in-process batch 32: {at32 / batch32:.2f} (goal >= 0.8)")
    print(f"32 clients / batching off at {max(args.clients)} clients: {at32 / unbatched[max(args.clients)][0]:.2f} "
          "(goal >= 3)")
    bound = 2.5 * min(before[0], after[0]) + args.max_batch_delay_ms
    floor = queueing_p99(before[2] + after[2], half_rate, max(args.seconds, 600))
    print(f"p99 at half load {report['half_load'][1][2]:.1f} ms; bound 2.5 x batch-1 + delay = {bound:.1f} ms; "
          f"queueing floor (ideal FIFO server, measured batch-1 times, same arrivals) {floor:.1f} ms")
    report["queueing_floor_p99"] = floor
    print("errors:", sum(e for _, _, e in results.values()) + sum(e for _, _, e in report["open_loop"].values()))
    if args.plot:
        plot(report, args.plot)
        print(f"plot: {args.plot}")
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
