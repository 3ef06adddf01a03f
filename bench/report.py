#!/usr/bin/python3
"""Writes docs/benchmarks.md and its plot from one run of mlp_bench and compile_time.py.

    bench/report.py --bench mlp_bench.json --compile compile_time.json --analysis bench/analysis.md
                    --flags "..." --out docs/benchmarks.md --svg docs/benchmarks.svg

Every figure is a median over the repetitions of that run, with the minimum and maximum beside
it; every ratio divides two medians of the same run. The targets of issue 4 are checked here
and each is reported as met or missed, with the figure.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import re
import statistics
import subprocess

IMPLS = ["tapeless_fixed", "tapeless_dynamic", "handwritten", "tape", "libtorch", "numerical"]
LABELS = {"tapeless_fixed": "tapeless (fixed batch)", "tapeless_dynamic": "tapeless (run-time batch)",
          "handwritten": "hand-written Eigen", "tape": "minimal tape", "libtorch": "libtorch",
          "numerical": "numerical gradient"}


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def dpkg_version(pkg):
    return sh("dpkg-query", "-W", "-f=${Version}", pkg) or "not installed"


def load_runs(path):
    """{(kind, config, impl): {"times": [us...], "counters": {...}}} from Google Benchmark JSON."""
    with open(path) as f:
        data = json.load(f)
    cells = collections.OrderedDict()
    peaks = collections.defaultdict(list)
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        if b["run_name"].startswith("peak/fma/"):  # one core's multiply-add peak, FLOP/s
            peaks[b["run_name"].split("/")[2]].append(b["flops"])
            continue
        kind, widths, act, batch, impl = b["run_name"].split("/")
        key = (kind, f"{widths} {act} {batch}", impl)
        cell = cells.setdefault(key, {"times": [], "counters": {}})
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        cell["times"].append(b["real_time"] * scale)
        for c in ("allocs_per_step", "bytes_per_step", "setup_bytes", "activation_bytes"):
            if c in b:
                cell["counters"][c] = max(cell["counters"].get(c, 0), b[c])
    global PEAKS
    PEAKS = {k: statistics.median(v) for k, v in peaks.items()}
    return data["context"], cells


PEAKS = {}


def step_flops(kind, cfg):
    """FLOPs of the matrix products of one step (2 per multiply-add): x W forward; then x^T dz
    and dz W^T backward (no input gradient for the first layer). Elementwise work is left out."""
    widths, _, batch = cfg.split()
    w, b = [int(x) for x in widths.split("-")], int(batch[1:])
    mads = [i * o for i, o in zip(w, w[1:])]
    if kind == "infer":
        return 2 * b * sum(mads)
    return 2 * b * (2 * sum(mads) + sum(mads[1:]))


def peak_share(kind, cfg, us):
    """The share of one core's measured multiply-add peak that a step of `us` microseconds runs at."""
    peak = PEAKS.get("f64" if cfg.split()[1].endswith("-f64") else "f32")
    if not peak or us is None:
        return None
    return step_flops(kind, cfg) / (us * 1e-6) / peak


def unit_of(us):
    return (1000.0, "ms") if us >= 1000 else (1.0, "µs")


def num(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def fmt_us(us):
    scale, unit = unit_of(us)
    return f"{num(us / scale)} {unit}"


def fmt_cell(cell):
    t = cell["times"]
    m = statistics.median(t)
    if len(t) > 1:
        scale, _ = unit_of(m)
        return f"{fmt_us(m)} <sub>{num(min(t) / scale)}–{num(max(t) / scale)}</sub>"
    return fmt_us(m)


def fmt_bytes(b):
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= size:
            return f"{num(b / size)} {unit}"
    return f"{b:.0f} B"


def med(cells, kind, cfg, impl):
    c = cells.get((kind, cfg, impl))
    return statistics.median(c["times"]) if c else None


def config_key(cfg):
    """Smallest network first, then activation, then batch (the run may interleave them)."""
    widths, act, batch = cfg.split()
    w = [int(x) for x in widths.split("-")]
    return (sum(a * b + b for a, b in zip(w, w[1:])), act != "relu", int(batch[1:]))


def configs(cells, kind):
    return sorted({cfg for (k, cfg, _) in cells if k == kind}, key=config_key)


def timing_table(cells, kind):
    impls = [i for i in IMPLS if any((kind, c, i) in cells for c in configs(cells, kind))]
    head = ["configuration"] + [LABELS[i] for i in impls] + ["tapeless / hand-written", "run-time batch / hand-written",
                                                             "libtorch / tapeless", "tape / tapeless",
                                                             "tapeless, share of FMA peak",
                                                             "hand-written, share of FMA peak"]
    if "numerical" in impls:
        head.append("numerical / tapeless")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cfg in configs(cells, kind):
        row = [f"`{cfg}`"] + [fmt_cell(cells[(kind, cfg, i)]) if (kind, cfg, i) in cells else "—" for i in impls]
        tf, td, hw = med(cells, kind, cfg, "tapeless_fixed"), med(cells, kind, cfg, "tapeless_dynamic"), \
            med(cells, kind, cfg, "handwritten")
        lt, tp, nu = med(cells, kind, cfg, "libtorch"), med(cells, kind, cfg, "tape"), med(cells, kind, cfg, "numerical")

        def ratio(a, b, bold_over=None):
            if a is None or b is None:
                return "—"
            r = a / b
            s = f"{r:.2f}x" if r < 100 else f"{r:,.0f}x"
            return f"**{s}**" if bold_over is not None and r > bold_over else s
        row += [ratio(tf, hw, 1.10), ratio(td, hw, 1.10), ratio(lt, tf), ratio(tp, tf)]
        for us in (tf, hw):
            share = peak_share(kind, cfg, us)
            row.append("—" if share is None else f"{100 * share:.1f}%")
        if "numerical" in impls:
            row.append(ratio(nu, tf))
        rows.append("| " + " | ".join(row) + " |")
    return "\n".join(rows)


def alloc_table(cells):
    impls = [i for i in IMPLS if any(k[2] == i for k in cells)]
    head = ["step", "configuration"] + [LABELS[i] for i in impls]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind in ("train", "infer"):
        for cfg in configs(cells, kind):
            row = [kind, f"`{cfg}`"]
            for i in impls:
                c = cells.get((kind, cfg, i))
                if not c:
                    row.append("—")
                    continue
                a, b = c["counters"].get("allocs_per_step", 0), c["counters"].get("bytes_per_step", 0)
                row.append("0" if a == 0 else f"{a:.3g} ({fmt_bytes(b)})")
            rows.append("| " + " | ".join(row) + " |")
    return "\n".join(rows)


def setup_table(cells):
    impls = [i for i in IMPLS if i != "numerical" and any(k[2] == i for k in cells)]
    head = ["configuration"] + [LABELS[i] for i in impls]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cfg in configs(cells, "train"):
        rows.append("| " + " | ".join([f"`{cfg}`"] + [
            fmt_bytes(cells[("train", cfg, i)]["counters"].get("setup_bytes", 0)) if ("train", cfg, i) in cells else "—"
            for i in impls]) + " |")
    return "\n".join(rows)


def taps_table(cells):
    """The step with every activation tapped, and with a hook on each tap, against no taps."""
    cfgs = configs(cells, "taps")
    if not cfgs:
        return "Not measured in this run."
    rows = ["| configuration | no taps | every activation tapped | tapped, a hook on each | tapped / no taps | "
            "hooked / no taps | allocations per step (hooked) |", "|---|---|---|---|---|---|---|"]
    for cfg in cfgs:
        u, t, h = (med(cells, "taps", cfg, i) for i in ("untapped", "tapped", "hooked"))
        if None in (u, t, h):
            continue
        allocs = cells[("taps", cfg, "hooked")]["counters"].get("allocs_per_step", 0)
        rows.append(f"| `{cfg}` | {fmt_cell(cells[('taps', cfg, 'untapped')])} | "
                    f"{fmt_cell(cells[('taps', cfg, 'tapped')])} | {fmt_cell(cells[('taps', cfg, 'hooked')])} | "
                    f"{t / u:.2f}x | {h / u:.2f}x | {allocs:.0f} |")
    return "\n".join(rows)


def variant_table(cells, kind, base, names, column, saved):
    """The deep residual MLP's step as variants of one baseline (`base`): time and activation bytes,
    each against the baseline's; `saved` adds a column of the bytes saved."""
    order = list(names)
    rows_in = sorted(((cfg, impl) for (k, cfg, impl) in cells if k == kind),
                     key=lambda r: (r[0], order.index(r[1]) if r[1] in order else len(order)))
    baseline = {cfg: cells[(kind, cfg, base)] for cfg, impl in rows_in if impl == base}
    if not baseline:
        return "Not measured in this run."
    rows = [f"| configuration | {column} | step | activation bytes | step / {base} | bytes / {base} | "
            + ("bytes saved | " if saved else "") + "allocations per step |",
            "|---|---|---|---|---|---|" + ("---|" if saved else "") + "---|"]
    for cfg, impl in rows_in:
        c, p = cells[(kind, cfg, impl)], baseline[cfg]
        t, tp = statistics.median(c["times"]), statistics.median(p["times"])
        b, bp = c["counters"].get("activation_bytes", 0), p["counters"].get("activation_bytes", 0)
        rows.append(f"| `{cfg}` | {names.get(impl, impl)} | {fmt_cell(c)} | {fmt_bytes(b)} | {t / tp:.2f}x | "
                    f"{b / bp:.2f}x | " + (f"{fmt_bytes(bp - b)} | " if saved else "")
                    + f"{c['counters'].get('allocs_per_step', 0):.0f} |")
    return "\n".join(rows)


def checkpoint_table(cells):
    """A deep residual MLP's step plain and checkpointed: time and activation bytes."""
    return variant_table(cells, "checkpoint", "plain",
                         {"plain": "no checkpoint", "per_block": "`Checkpoint<Block>` x 16",
                          "per_segment4": "`Checkpoint<Sequential<Block x 4>>` x 4"},
                         "checkpoints", saved=True)


def mixed_table(cells):
    """The deep residual MLP's step with float, bfloat16 and binary16 activations."""
    return variant_table(cells, "mixed", "float",
                         {"float": "float (`FullPrecision`)", "bf16": "`Mixed<Eigen::bfloat16>`",
                          "f16": "`Mixed<Eigen::half>`"},
                         "activations", saved=False)


def parallel_table(path):
    """Trainer (one thread) against ParallelTrainer on every core, from the unpinned run."""
    if not path or not os.path.exists(path):
        return "Not measured in this run.", []
    data = json.load(open(path))
    times = collections.defaultdict(list)
    allocs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        parts = b["run_name"].split("/")
        if parts[-1] == "real_time":  # Google Benchmark's suffix for UseRealTime()
            parts = parts[:-1]
        _, widths, act, batch, impl = parts
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        times[(f"{widths} {act} {batch}", impl)].append(b["real_time"] * scale)
        if "allocs_per_step" in b:
            allocs[(f"{widths} {act} {batch}", impl)] = b["allocs_per_step"]
    cfgs = sorted({c for c, _ in times}, key=config_key)
    rows = ["| configuration | Trainer (one thread) | ParallelTrainer | threads | speed-up | allocations per step |",
            "|---|---|---|---|---|---|"]
    speedups = []
    for cfg in cfgs:
        one = times.get((cfg, "trainer"))
        many = [(impl, t) for (c, impl), t in times.items() if c == cfg and impl.startswith("threads")]
        if not one or not many:
            continue
        impl, t = many[0]
        s = statistics.median(one) / statistics.median(t)
        speedups.append((cfg, int(impl[len("threads"):]), s))
        rows.append(f"| `{cfg}` | {fmt_us(statistics.median(one))} | {fmt_us(statistics.median(t))} | "
                    f"{impl[len('threads'):]} | {s:.2f}x | {allocs.get((cfg, impl), 0):.0f} |")
    return "\n".join(rows), speedups


def mainjob_table(directory):
    """The main job (examples/fashion-mnist) against bench/fashion_mnist_torch.py, same recipe."""
    if not directory or not os.path.isdir(directory):
        return "Not measured in this run.", []
    import csv
    shared = True  # every PyTorch run started from the example's initial weights
    rows = ["| threads | tapeless samples/s | PyTorch samples/s | tapeless / PyTorch | tapeless test accuracy | "
            "PyTorch test accuracy |", "|---|---|---|---|---|---|"]
    results = []
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"tapeless_threads(\d+)\.csv", name)
        if not m:
            continue
        threads = int(m.group(1))
        torch_path = os.path.join(directory, f"torch_threads{threads}.json")
        if not os.path.exists(torch_path):
            continue
        with open(os.path.join(directory, name)) as f:
            epochs = list(csv.DictReader(f))
        seconds = sum(float(e["seconds"]) for e in epochs)
        ours = 60000 * len(epochs) / seconds
        ours_acc = float(epochs[-1]["test_accuracy"])
        t = json.load(open(torch_path))
        shared = shared and t.get("init", "torch") != "torch"
        ratio = ours / t["samples_per_second"]
        results.append((threads, ratio, ours_acc - t["test_accuracy"]))
        rows.append(f"| {threads} | {ours:,.0f} | {t['samples_per_second']:,.0f} | {ratio:.1f}x | "
                    f"{100 * ours_acc:.2f}% | {100 * t['test_accuracy']:.2f}% |")
    if results:
        rows.append("")
        rows.append("Both sides start from the same weights (the example's `--save-init`, read by the script's "
                    "`--init`) and see the samples in the same order (the example's shuffle, reproduced in Python), so "
                    "their accuracies differ by float rounding, not by the draw." if shared else
                    "PyTorch drew its own initial weights (no `--init`): the accuracies differ by the draw too.")
    return "\n".join(rows), results


def compile_table(ct):
    head = ["layers", "tapeless", "hand-written", "ratio", "peak memory tapeless", "hand-written", "ratio",
            "object tapeless", "hand-written"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in ct["nets"]:
        t, h = n["tapeless"], n["handwritten"]
        rows.append("| " + " | ".join([
            str(n["layers"]), f"{t['seconds']:.2f} s", f"{h['seconds']:.2f} s", f"{t['seconds'] / h['seconds']:.2f}x",
            f"{t['peak_rss_mb']:.0f} MB", f"{h['peak_rss_mb']:.0f} MB", f"{t['peak_rss_mb'] / h['peak_rss_mb']:.2f}x",
            fmt_bytes(t["object_bytes"]), fmt_bytes(h["object_bytes"])]) + " |")
    if ct.get("programs"):
        head = ["program", "tapeless", "hand-written", "ratio", "peak memory tapeless", "hand-written", "ratio"]
        rows += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for p in ct["programs"]:
            t, h = p["tapeless"], p["handwritten"]
            other = "`<Eigen/Core>` alone" if p["program"] == "header only" else "by hand"
            rows.append("| " + " | ".join([
                f"{p['program']} (against {other})", f"{t['seconds']:.2f} s", f"{h['seconds']:.2f} s",
                f"{t['seconds'] / h['seconds']:.2f}x", f"{t['peak_rss_mb']:.0f} MB", f"{h['peak_rss_mb']:.0f} MB",
                f"{t['peak_rss_mb'] / h['peak_rss_mb']:.2f}x"]) + " |")
    return "\n".join(rows)


def targets(cells, ct, speedups=(), mainjob=()):
    out = []

    def line(ok, text):
        out.append(f"- {'met' if ok else '**missed**'}: {text}")
    for kind in ("train", "infer"):
        worst, misses = 0, []
        for cfg in configs(cells, kind):
            tf, hw = med(cells, kind, cfg, "tapeless_fixed"), med(cells, kind, cfg, "handwritten")
            if tf and hw:
                worst = max(worst, tf / hw)
                if tf / hw > 1.10:
                    misses.append(f"`{cfg}` {tf / hw:.2f}x")
        what = "training step" if kind == "train" else "inference"
        line(not misses, f"tapeless within 1.10x of hand-written Eigen ({what}, every configuration): worst "
             f"{worst:.2f}x" + (f"; over 1.10x: {', '.join(misses)}" if misses else ""))
    small = "4-16-16-3 relu b1"
    tf, lt = med(cells, "train", small, "tapeless_fixed"), med(cells, "train", small, "libtorch")
    if tf and lt:
        line(lt / tf >= 100, f"at least 100x faster than libtorch on `{small}` training: {lt / tf:,.0f}x "
             f"({fmt_us(tf)} against {fmt_us(lt)})")
        slower = [f"`{k} {c}`" for (k, c, i) in cells if i == "tapeless_fixed" and med(cells, k, c, "libtorch")
                  and med(cells, k, c, i) > med(cells, k, c, "libtorch")]
        line(not slower, "not slower than libtorch on any configuration" +
             (f": slower on {', '.join(slower)}" if slower else ""))
    else:
        out.append("- not measured: the libtorch comparisons (mlp_bench was built without libtorch)")
    for cfg, bound in (("784-256-10 relu b128", 0.65), ("24-8-2 tanh-mse-f64 b200", 0.20)):
        share = peak_share("train", cfg, med(cells, "train", cfg, "tapeless_fixed"))
        if share is not None:
            line(share >= bound, f"`{cfg}` training at {100 * bound:.0f}% or more of one core's measured "
                 f"multiply-add peak: {100 * share:.1f}%")
    for cfg, threads, speedup in speedups:
        if threads >= 2:
            line(speedup >= 1.7, f"`{cfg}` training at least 1.7x faster on {threads} cores (ParallelTrainer "
                 f"against Trainer): {speedup:.2f}x")
    for threads, ratio, gap in mainjob:
        line(ratio >= 3 and abs(gap) <= 0.005, f"main job on {threads} thread{'s' if threads > 1 else ''}: at least 3x "
             f"PyTorch's samples/s with test accuracy within 0.5 points: {ratio:.1f}x, {100 * gap:+.2f} points")
    if PEAKS:
        out.append("- the measured peak: " + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in sorted(PEAKS.items())))
    allocs = [f"`{k} {c} {i}`" for (k, c, i), v in cells.items() if i.startswith("tapeless")
              and v["counters"].get("allocs_per_step", 0) != 0]
    line(not allocs, "zero heap allocations per tapeless step, every configuration" +
         (f": allocating in {', '.join(allocs)}" if allocs else ""))
    nets = {n["layers"]: n for n in ct["nets"]} if ct else {}

    def ratios(row):
        t, h = row["tapeless"], row["handwritten"]
        return t["seconds"] / h["seconds"], t["peak_rss_mb"] / h["peak_rss_mb"]
    for layers, bound in ((4, 1.3), (16, 1.5)):
        if layers in nets:
            r, m = ratios(nets[layers])
            line(r <= bound and m <= bound, f"compile time and memory of the {layers}-layer translation unit at most "
                 f"{bound}x hand-written Eigen: {r:.2f}x time, {m:.2f}x memory")
    if 64 in nets:
        t = nets[64]["tapeless"]
        line(t["seconds"] < 60 and t["peak_rss_mb"] < 2048, f"a 64-layer net compiles in under 60 s and 2 GB: "
             f"{t['seconds']:.1f} s, {t['peak_rss_mb']:.0f} MB")
    for p in (ct or {}).get("programs", []):
        r, m = ratios(p)
        bound = 1.2 if p["program"] == "header only" else 1.5
        line(r <= bound, f"{p['program']}: compile time at most {bound}x "
             f"{'<Eigen/Core> alone' if p['program'] == 'header only' else 'the hand-written program'}: {r:.2f}x "
             f"({m:.2f}x memory)")
    return "\n".join(out)


def plot(cells, path):
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "tapeless"
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    markers = {"tapeless_fixed": "o", "tapeless_dynamic": "s", "handwritten": "D", "tape": "^", "libtorch": "v",
               "numerical": "x"}
    for ax, kind, title in ((axes[0], "train", "training step"), (axes[1], "infer", "inference")):
        cfgs = configs(cells, kind)
        for impl in IMPLS:
            xs, ys = [], []
            for y, cfg in enumerate(cfgs):
                m = med(cells, kind, cfg, impl)
                if m is not None:
                    xs.append(m)
                    ys.append(y)
            if xs:
                ax.scatter(xs, ys, marker=markers[impl], label=LABELS[impl], s=36, alpha=0.85)
        ax.set_xscale("log")
        ax.set_yticks(range(len(cfgs)))
        ax.set_yticklabels(cfgs)
        ax.invert_yaxis()
        ax.set_xlabel("median latency per step, µs (log scale)")
        ax.set_title(title)
        ax.grid(True, which="both", axis="x", alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8)  # the training panel has every implementation
    fig.suptitle("One MLP step, float32, one core: tapeless against hand-written Eigen, a tape and libtorch")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})


def environment(context, ct, flags):
    cpu = sh("sh", "-c", "lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    eigen = open("/usr/include/eigen3/Eigen/src/Core/util/Macros.h").read()
    ev = ".".join(re.search(rf"#define EIGEN_{k}_VERSION (\d+)", eigen).group(1) for k in ("WORLD", "MAJOR", "MINOR"))
    blas = sh("sh", "-c", "update-alternatives --query libblas.so.3-x86_64-linux-gnu | sed -n 's/^Value: //p'")
    caches = ", ".join(f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB" for c in context.get("caches", []))
    caches = f"; {caches}" if caches else ""
    rows = [
        ("date", context.get("date", "")),
        ("CPU", f"{cpu}, {context.get('num_cpus')} cores at {context.get('mhz_per_cpu')} MHz{caches}"),
        ("CPU scaling", "enabled" if context.get("cpu_scaling_enabled") else "disabled or unknown"),
        ("kernel", platform.release()),
        ("compiler", sh("g++", "--version").splitlines()[0] if sh("g++", "--version") else "?"),
        ("flags (mlp_bench)", f"{flags} ({context.get('mlp_bench_build', '?')})"),
        ("compile-time flags", ct["flags"] if ct else "—"),
        ("Eigen", ev), ("Boost", dpkg_version("libboost-dev")),
        ("Google Benchmark", f"{dpkg_version('libbenchmark-dev')} (Debian's library is a "
                             f"{context.get('library_build_type', '?')} build: it times only its own loop)"),
        ("libtorch", f"{context.get('libtorch', '?')} (Debian libtorch-dev {dpkg_version('libtorch-dev')}), "
                     f"BLAS {blas or '?'}, torch::set_num_threads(1)"),
        ("threads", "one: mlp_bench pinned to one core with taskset; OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1"),
    ]
    return "\n".join(f"| {k} | {v} |" for k, v in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--compile")
    ap.add_argument("--parallel")
    ap.add_argument("--mainjob")
    ap.add_argument("--analysis")
    ap.add_argument("--flags", default="")
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--svg", required=True)
    a = ap.parse_args()
    context, cells = load_runs(a.bench)
    ct = json.load(open(a.compile)) if a.compile else None
    ptable, speedups = parallel_table(a.parallel)
    mtable, mainjob = mainjob_table(a.mainjob)
    reps = max(len(c["times"]) for c in cells.values())
    if context.get("mlp_bench_build") != "optimized":
        print("report.py: warning: mlp_bench was not built optimized; its timings are meaningless")
    plot(cells, a.svg)
    analysis = open(a.analysis).read().strip() if a.analysis else ""
    svg_rel = os.path.relpath(a.svg, os.path.dirname(os.path.abspath(a.out)))
    doc = f"""# Benchmarks

Generated by `{a.command}` (bench/report.py) on {datetime.date.today().isoformat()}; do not edit by hand.
Every time is the median of {reps} repetitions of one run of `mlp_bench`, with the fastest and
slowest repetition in small print; every ratio divides two medians of that same run.

What is measured (bench/mlp_bench.cpp): one training step of an MLP (forward, softmax
cross-entropy on class labels, backward, plain SGD update) and one inference, in float32 on one
core, by each implementation, all starting from the same weights and data. One more
configuration, `24-8-2 tanh-mse-f64 b200`, is SimpleChains.jl's published example (tanh, MSE
loss, float64, batch 200), against the hand-written code only. The share of FMA peak divides the
step's matrix-product FLOPs by its median time and by one core's multiply-add peak, measured in
the same run (`peak/fma`: 12 independent chains of packet multiply-adds in registers). Before timing
anything, mlp_bench checks that every implementation's gradients equal tapeless's (libtorch and
the tape to 1e-4 of the largest gradient, in practice below 1e-6; the numerical gradient to 1e-1, the
error of float central differences); tests/bench/baselines.cpp checks the hand-written code and
the tape in double to 1e-12.

- **tapeless (fixed batch)**: `Trainer<Net, SoftmaxCrossEntropy<>, B>` and `Predictor<Net, B>`.
  The training step includes tapeless's guard: a non-finite loss or gradient leaves the
  weights untouched, which costs one read of every gradient.
- **tapeless (run-time batch)**: the same with `B = dynamic`.
- **hand-written Eigen** (bench/baselines/handwritten.hpp): the reference notes' backprop written
  out in Eigen, fixed-size matrices when the batch and every width are at most 32, dynamic
  preallocated ones otherwise, `noalias()` products. The zero-overhead reference.
- **minimal tape** (bench/baselines/tape.hpp): a run-time tape over the same Eigen kernels; it
  records a node per operation and replays them backwards, to isolate what the tape costs.
- **libtorch**: `torch::nn::Sequential` of `Linear` and activations, autograd,
  `torch::optim::SGD`; inference under `torch::NoGradGuard`.
- **numerical gradient**: the reference notes' central differences over every parameter (two
  forward passes each), then the same update; for the two smallest nets only.

![step latency per configuration]({svg_rel})

## Targets

{targets(cells, ct, speedups, mainjob)}

## Training step

{timing_table(cells, "train")}

## Inference

{timing_table(cells, "infer")}

## Taps

A tapped activation (`Tap<ReLU>`, layers/tap.hpp: every ReLU of the configuration's network,
through `tap_every_t`) copies its value forward and its gradient backward; a hook (`on_tap`)
adds a call per tap during backward, here one that takes the gradient's norm. The untapped
step is the training step above (a network without taps has no tap node); mlp_bench checks
that the tapped steps' gradients equal it to the bit. Same pinned run as the tables above.

{taps_table(cells)}

## Checkpoints

A deep residual MLP (64 inputs, 16 blocks `Residual<Sequential<Linear<256, 256>, ReLU>, 1/4>`,
10 classes, batch 128, float; plain SGD) without checkpoints, with every block checkpointed, and
with four checkpointed segments of four blocks (layers/checkpoint.hpp). Activation bytes are
`Trainer::activation_bytes()`, from the type: the values and adjoints the step keeps (op
workspaces excluded). mlp_bench checks that the three give the same gradients to the bit.

{checkpoint_table(cells)}

## Mixed precision

The same deep residual MLP with its activations in float, bfloat16 and binary16
(`Trainer<..., Mixed<H>>`, network/precision.hpp): every kept value and passed adjoint rounded
to 16 bits, the 16 blocks sharing one float program and keeping 2-byte copies of their values;
binary16 with dynamic loss scaling. Weights, gradients and the optimizer stay in float; every op
computes in float, so the step pays the rounding and the copies, and saves only memory (this
CPU's GEMM has no 16-bit path in Eigen 3.4). mlp_bench checks that the gradients are float's to
half precision (relative difference under 5% for bfloat16, 1% for binary16). The Fashion-MNIST
accuracy with bfloat16 activations is in bench/analysis.md.

{mixed_table(cells)}

## Training on every core

`ParallelTrainer` (network/parallel_trainer.hpp) splits each step over every core of this
machine, against one `Trainer` on one thread, both in one run that is not pinned to a core (the
rest of this page is). On two threads a network of one hidden layer, as here, is split by hidden
units (each thread half of them over the whole batch, owning their weights:
network/hidden_split.hpp); other networks and thread counts by rows of the batch. Plain SGD, as
above; median of the repetitions.

{ptable}

## The main job against PyTorch

The Fashion-MNIST example (examples/fashion-mnist, `--threads N`) against the same recipe in
PyTorch (bench/fashion_mnist_torch.py: 784-256-10 ReLU, He-normal weights, Adam 1e-3, batch 64,
10 epochs, training accuracy from each step's logits; `torch.set_num_threads(N)`), at equal
thread counts. Samples per second over the ten epochs' training (test evaluation excluded);
test accuracy after the tenth epoch.

{mtable}

## Heap allocations per step

Counted over eight steps after two warm-up steps, outside the timed loop, by replacing the
malloc family in the executable (bench/support/heap_counter.cpp): every operator new,
Eigen allocation and libtorch allocation is seen. Bytes requested per step in brackets.

{alloc_table(cells)}

## Memory set up before the first step

Heap bytes allocated while building the network, its trainer (or predictor) and the optimizer.

{setup_table(cells)}

## Compile time

One translation unit holding one network (Linear layers {ct['width'] if ct else ''} wide with ReLU
between them, {ct['outputs'] if ct else ''} outputs, batch {ct['batch'] if ct else ''}), its training step and an
inference, compiled alone; median of {ct['repeat'] if ct else ''} compilations, peak resident memory of the
compiler, and object file size (bench/compile_time.py). Then a typical embedding program (a
3-layer MLP, a fixed-batch training step, a Predictor at batch 1, a safetensors save and load,
one gradient check) against the same program by hand (its I/O through nlohmann-json), the same
again against a hand-written twin whose I/O is tapeless's own safetensors reader and writer ("same
I/O": only the network differs), and the umbrella header against `<Eigen/Core>`. Times on a shared machine vary by +-30% from run to run; the ratios within a
run and the memory are the steadier figures. bench/time_trace.py shows where the time goes.

{compile_table(ct) if ct else "Not measured in this run."}

## Analysis

{analysis}

## Environment

| | |
|---|---|
{environment(context, ct, a.flags)}

Reproduce: `bench/run` (about 25 minutes; it installs what it needs from Debian's packages,
builds in build/bench and rewrites this file and its plot). `bench/run --smoke` is the quick
check CI runs: every benchmark once with a tiny minimum time, the report written under build/.
"""
    with open(a.out, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
