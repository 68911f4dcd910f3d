#!/usr/bin/env bash
# Fuzz the loaders (cargo-fuzz, libFuzzer) for a fixed time per target and
# report how many inputs each ran. Any crash fails the script and leaves the
# input under fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 300        # 300 s per target
#
# Runs on the stable toolchain: `-s none` builds with coverage instrumentation
# but no sanitizer (sanitizers need nightly; the crate has no unsafe code).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# Seed corpora: a few valid inputs, so the fuzzer starts inside the format.
mkdir -p fuzz/corpus/digits_loader
# (gzip stops with SIGPIPE when head has its rows: not an error here.)
(gzip -dc data/digits.csv.gz || true) | head -n 3 > fuzz/corpus/digits_loader/three_rows.csv

mkdir -p fuzz/corpus/weights_loader
if ! ls target/interop/*.safetensors >/dev/null 2>&1; then
    cargo run --release --example 05_weights_interop >/dev/null
fi
cp target/interop/*.safetensors fuzz/corpus/weights_loader/

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^stackgrad-fuzz$')
for target in $targets; do
    log=$(mktemp)
    cargo fuzz run -s none "$target" -- -max_total_time="$seconds" 2>&1 | tee "$log" | tail -n 3
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
    echo "fuzz: $target ran ${runs:-?} inputs in ${seconds} s without a crash"
    rm -f "$log"
done
