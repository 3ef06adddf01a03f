#!/usr/bin/python3
"""Where a translation unit's compile time goes: clang's -ftime-trace, summarised by self time.

Compiles one of bench/compile_time.py's generated translation units with clang++ -ftime-trace
(or reads an existing trace) and prints the self time (a trace event's duration minus its
children's) per event kind and per template (arguments stripped), largest first. Self time, not
the inclusive time the trace records, so nested instantiations are not counted twice.

    bench/time_trace.py --layers 4 [--top 25] [--cxx clang++-14]
    bench/time_trace.py --trace FILE.json
"""
import argparse
import collections
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def self_times(trace):
    events = [e for e in trace["traceEvents"] if e.get("ph") == "X" and not e["name"].startswith("Total")]
    events.sort(key=lambda e: (e["ts"], -e["dur"]))
    stack, own = [], {}
    for e in events:
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
            stack.pop()
        if stack:
            own[id(stack[-1])] = own.get(id(stack[-1]), 0) - e["dur"]
        own[id(e)] = own.get(id(e), 0) + e["dur"]
        stack.append(e)
    by_kind, by_template, count = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        by_kind[e["name"]] += own[id(e)]
        if e["name"] in ("InstantiateFunction", "InstantiateClass"):
            name = re.sub(r"<.*", "", e.get("args", {}).get("detail", ""))
            key = (e["name"].replace("Instantiate", "").lower(), name)
            by_template[key] += own[id(e)]
            count[key] += 1
    return by_kind, by_template, count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--handwritten", action="store_true", help="the hand-written twin instead")
    ap.add_argument("--trace", help="summarise this trace instead of compiling")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--cxx", default="clang++-14")
    args = ap.parse_args()
    if args.trace:
        with open(args.trace) as f:
            trace = json.load(f)
    else:
        spec = importlib.util.spec_from_file_location("compile_time", os.path.join(ROOT, "bench", "compile_time.py"))
        ct = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ct)
        source = (ct.handwritten_tu if args.handwritten else ct.tapeless_tu)(args.layers)
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "tu.cpp")
            with open(path, "w") as f:
                f.write(source)
            cmd = [args.cxx, "-std=c++20", "-O2", "-DNDEBUG", "-ftime-trace", "-ftime-trace-granularity=0",
                   "-I", os.path.join(ROOT, "include"), "-I", ct.eigen_include(), "-c", path,
                   "-o", os.path.join(work, "tu.o")]
            subprocess.run(cmd, check=True)
            with open(os.path.join(work, "tu.json")) as f:
                trace = json.load(f)
    by_kind, by_template, count = self_times(trace)
    total = sum(by_kind.values())
    print(f"total {total / 1e6:.2f} s of traced self time")
    print("\nby event kind (self time):")
    for k, v in by_kind.most_common(12):
        print(f"  {v / 1e6:7.2f} s {100 * v / total:5.1f}%  {k}")
    print(f"\ntop {args.top} templates (self time, instantiations):")
    for (kind, name), v in by_template.most_common(args.top):
        print(f"  {v / 1e6:7.2f} s {count[(kind, name)]:6d}  {kind:8s} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
