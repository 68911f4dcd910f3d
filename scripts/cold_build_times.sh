#!/usr/bin/env bash
# Cold build times a newcomer sees: clones the committed repository into a
# temporary directory and times, each from an empty target directory,
#   cargo run --release --example 01_dense_network
#   cargo test
# Crates are fetched first (`cargo fetch`), so the times are compile and test
# times, not download times. Prints wall and CPU (user + system) seconds.
#
# usage: scripts/cold_build_times.sh [git revision, default HEAD]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git clone --quiet --no-local . "$dir/repo"
git -C "$dir/repo" checkout --quiet "$rev"
cd "$dir/repo"
unset CARGO_TARGET_DIR
cargo fetch --quiet
measure() {
    local label=$1
    shift
    rm -rf target
    /usr/bin/time -f "%e %U %S" -o "$dir/time" "$@" > "$dir/log" 2>&1 || {
        tail -20 "$dir/log"
        echo "cold_build_times: '$*' failed" >&2
        exit 1
    }
    read -r wall user sys < "$dir/time"
    printf '%-52s wall %6.1f s   CPU %6.1f s\n' "$label" "$wall" "$(awk "BEGIN { print $user + $sys }")"
}
echo "cold build times at $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "cargo run --release --example 01_dense_network" cargo run --release --example 01_dense_network
measure "cargo test" cargo test
