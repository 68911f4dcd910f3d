#!/usr/bin/env bash
# Copy census of the digits MLP's training step: every memcpy/memmove and
# memset of at least 1 KiB that glibc runs during one training run of
# example 03 (`--seeds 1`: 50 epochs of 45 batches = 2250 steps), counted per
# call site, with the source lines (innermost inlined frames) of each site.
# A site counted about 2250 times runs once per step. Not part of CI; needs
# gdb and binutils' addr2line, and a glibc whose copy routines have symbols.
#
#   scripts/copy_census.sh            # the step's copies, most frequent first
#
# README.md's Performance section quotes its result.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR_CENSUS:-/tmp/stackgrad-census}
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR="$target" \
    cargo build --release --example 03_mlp_digits >&2
bin="$target/release/examples/03_mlp_digits"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# glibc picks one variant per CPU; breakpoints on the others stay pending.
{
    echo "set pagination off"
    echo "set breakpoint pending on"
    echo "starti --seeds 1"
    echo "info proc mappings"
    for v in avx512_unaligned_erms evex_unaligned_erms avx_unaligned_erms sse2_unaligned_erms; do
        for f in memmove memset; do
            echo "break __${f}_${v} if \$rdx >= 1024"
            echo "commands"
            echo "silent"
            echo "printf \"census ${f} %lu %p\\n\", \$rdx, *(void**)\$rsp"
            echo "continue"
            echo "end"
        done
    done
    echo "continue"
} >"$out.gdb"
gdb -batch -x "$out.gdb" "$bin" >"$out" 2>&1 || true
rm -f "$out.gdb"

# The executable's load address, from its first mapping.
base=$(awk -v b="$bin" '$NF == b { print $1; exit }' "$out")
if [ -z "$base" ]; then
    echo "copy_census: no mapping of $bin in gdb's output" >&2
    exit 1
fi
grep '^census ' "$out" | sort | uniq -c | sort -rn | awk '$1 >= 1000' |
    while read -r count _ kind bytes ret; do
        offset=$(printf '0x%x' $((ret - base - 1)))
        where=$(addr2line -i -e "$bin" "$offset" | head -4 |
            awk -F/ '{ printf "%s%s/%s", sep, $(NF-1), $NF; sep = " < " }')
        printf '%6d x %-7s %6d bytes  %s\n' "$count" "$kind" "$bytes" "$where"
    done
