#!/usr/bin/env python3
"""scikit-learn baseline for the digits MLP (issue 6).

Trains MLPClassifier(hidden_layer_sizes=(64,), relu, solver='adam', batch_size=32,
max_iter=50) on the UCI digits, with the split stackgrad uses (row i is a test row
when i % 5 == 4) and pixels scaled to [0, 1] (count / 16), and prints the training
time (fit only, wall clock, median of --repeats runs) and the test accuracy.
The inputs are float32 by default, as in stackgrad's example (scikit-learn then
trains in float32); `--dtype float64` trains in float64, which measured no
different in time.

    pip install scikit-learn
    python3 scripts/sklearn_digits.py [--repeats 3]

With --stackgrad, each scikit-learn fit alternates with one run of stackgrad's
example 03 (`--seeds 3`: the median of its three training times as it prints
them), so that both see the same machine load, and the script prints the
median of the per-pair time ratios, and the ratio of the two fastest runs
(each program's time on the quietest machine the run saw):

    cargo build --release --example 03_mlp_digits
    python3 scripts/sklearn_digits.py --repeats 15 --stackgrad target/release/examples/03_mlp_digits

Reads data/digits.csv.gz, or /work/shared/data/digits.csv.gz when the repository
copy is absent.
"""
import argparse
import gzip
import os
import re
import statistics
import subprocess
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def load():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "..", "data", "digits.csv.gz"),
                 "/work/shared/data/digits.csv.gz"):
        if os.path.exists(path):
            with gzip.open(path, "rt") as f:
                rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
            return rows[:, :64].astype(np.float64) / 16.0, rows[:, 64]
    raise SystemExit("digits.csv.gz not found (data/ or /work/shared/data/)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                    help="precision of the inputs and so of scikit-learn's training")
    ap.add_argument("--stackgrad", metavar="EXAMPLE_03_BINARY",
                    help="alternate each fit with a run of this binary and print the time ratio")
    args = ap.parse_args()
    x, y = load()
    x = x.astype(args.dtype)
    test = np.arange(len(y)) % 5 == 4
    xtr, ytr, xte, yte = x[~test], y[~test], x[test], y[test]
    times, accs, epochs, ours = [], [], [], []
    for seed in range(args.repeats):
        if args.stackgrad:
            ours.append(stackgrad_time(args.stackgrad))
        clf = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam",
                            batch_size=32, max_iter=50, random_state=seed)
        with warnings.catch_warnings():
            # 50 epochs is the fixed budget being timed, not a convergence criterion.
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(xtr, ytr)
            times.append(time.perf_counter() - t0)
        accs.append(clf.score(xte, yte))
        epochs.append(clf.n_iter_)
    print(f"sklearn MLPClassifier 64 -> 64 -> 10, adam, batch 32, 50 epochs, {args.dtype}, "
          f"{len(ytr)} train / {len(yte)} test rows, epochs run: {epochs}")
    print(f"training time: median {statistics.median(times):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"test accuracy: {statistics.median(accs):.4f} "
          f"(runs: {', '.join(f'{a:.4f}' for a in accs)})")
    if ours:
        ratios = [t / o for t, o in zip(times, ours)]
        print(f"stackgrad (alternated): median {statistics.median(ours):.4f} s "
              f"(runs: {', '.join(f'{o:.4f}' for o in ours)})")
        print(f"scikit-learn time / stackgrad time: median {statistics.median(ratios):.1f}x "
              f"(pairs: {', '.join(f'{r:.1f}' for r in ratios)}; target >= 20x)")
        # The load moves the two programs differently; each one's fastest run
        # is its time on the quietest machine this run saw.
        print(f"fastest scikit-learn fit / fastest stackgrad run: {min(times) / min(ours):.1f}x "
              f"({min(times):.3f} s / {min(ours):.4f} s)")


def stackgrad_time(binary):
    """Median training time of three seeds of example 03 in one process (the
    first run of a fresh process pays its page faults and cold caches, which
    scikit-learn's fits after the first in this process do not), as the
    example prints them."""
    out = subprocess.run([binary, "--seeds", "3"], check=True, capture_output=True, text=True).stdout
    times = [float(t) for t in re.findall(r"^seed +[0-9]+: .*, ([0-9.]+) s$", out, re.M)]
    if len(times) != 3:
        raise SystemExit(f"no training times in the output of {binary}:\n{out}")
    return statistics.median(times)


if __name__ == "__main__":
    main()
