#!/usr/bin/env python3
"""Paired timing of two builds of example 03 (the digits MLP), for A/B checks
of a change on a shared, noisy machine.

    cargo build --release --example 03_mlp_digits && cp target/release/examples/03_mlp_digits /tmp/a
    # ... make the change ...
    cargo build --release --example 03_mlp_digits && cp target/release/examples/03_mlp_digits /tmp/b
    python3 scripts/paired_timing.py /tmp/a /tmp/b 24

Each round runs both binaries once (`--seeds 5`: the median of five training
times in one process), alternating which goes first, and takes the ratio B/A.
It prints the median of the per-round ratios with its quartiles, and each
binary's fastest and median time. Below 1 means B is faster. The machine's
load comes in states that last longer than a round, so only the per-round
ratios are worth comparing; a change is worth quoting when the quartiles
agree on its side of 1.
"""

import re
import statistics
import subprocess
import sys


def median_time(binary):
    out = subprocess.run(
        [binary, "--seeds", "5"], check=True, capture_output=True, text=True
    ).stdout
    times = [float(t) for t in re.findall(r"([\d.]+) s$", out, re.M)]
    if not times:
        sys.exit(f"{binary}: no training times in its output")
    return statistics.median(times)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: paired_timing.py BINARY_A BINARY_B ROUNDS")
    a, b, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if rounds < 1:
        sys.exit("ROUNDS must be at least 1")
    ratios, ta, tb = [], [], []
    for i in range(rounds):
        if i % 2 == 0:
            x = median_time(a)
            y = median_time(b)
        else:
            y = median_time(b)
            x = median_time(a)
        ta.append(x)
        tb.append(y)
        ratios.append(y / x)
    r = sorted(ratios)
    print(
        f"B/A paired: median {statistics.median(r):.3f} "
        f"(q1 {r[len(r) // 4]:.3f}, q3 {r[3 * len(r) // 4]:.3f}, {rounds} rounds); "
        f"A fastest {min(ta) * 1e3:.1f} ms, median {statistics.median(ta) * 1e3:.1f} ms; "
        f"B fastest {min(tb) * 1e3:.1f} ms, median {statistics.median(tb) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
