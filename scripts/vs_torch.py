#!/usr/bin/env python3
"""Training time of a digits example against PyTorch on one CPU thread, in alternated runs.

Usage, from the repository root:

    python3 scripts/vs_torch.py cnn --runs 7     # example 04 against digits_torch.py cnn
    python3 scripts/vs_torch.py mlp --runs 7     # example 03 against digits_torch.py mlp

Builds the example once, then runs `cargo run --release --example 04_cnn_digits`
(or 03_mlp_digits) and the PyTorch baseline (`--torch`, default
../shared/bench/digits_torch.py, with --repeats 1 --threads 1) one after the
other, N times. Both print their own training time (the example without its
per-epoch test pass, PyTorch without its imports and data loading); this
script prints each pair's times and ratio (PyTorch / stackgrad: how many times
faster stackgrad trained), the median of the per-pair ratios and the ratio of
the two fastest runs, and the load average before and after (the machines are
shared: alternating puts both programs under the same load).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

EXAMPLE = {"cnn": "04_cnn_digits", "mlp": "03_mlp_digits"}


def load():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "unknown"


def run(cmd, pattern):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(pattern, out)
    if not m:
        sys.exit(f"no training time in the output of {' '.join(cmd)}:\n{out}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=sorted(EXAMPLE))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--torch", default=os.path.join("..", "shared", "bench", "digits_torch.py"))
    args = ap.parse_args()
    example = EXAMPLE[args.kind]
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", example], check=True)
    ours = ["cargo", "run", "--release", "--quiet", "--example", example]
    theirs = [sys.executable, args.torch, args.kind, "--repeats", "1", "--threads", "1"]
    print(f"{example} against PyTorch ({args.torch} {args.kind}, one thread), {args.runs} alternated pairs; load average {load()}")
    s_times, t_times, ratios = [], [], []
    for i in range(args.runs):
        s = run(ours, r"training time: ([0-9.]+) s")
        t = run(theirs, r"train time median ([0-9.]+) s")
        s_times.append(s)
        t_times.append(t)
        ratios.append(t / s)
        print(f"pair {i + 1}: stackgrad {s:.4f} s, PyTorch {t:.4f} s, ratio {t / s:.2f}")
    print(
        f"median ratio {statistics.median(ratios):.2f} (stackgrad median {statistics.median(s_times):.4f} s, "
        f"PyTorch median {statistics.median(t_times):.4f} s); fastest runs {min(s_times):.4f} s and "
        f"{min(t_times):.4f} s, ratio {min(t_times) / min(s_times):.2f}; load average {load()}"
    )


if __name__ == "__main__":
    main()
