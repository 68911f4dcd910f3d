#!/usr/bin/env bash
# The run-time SIMD dispatch must really compile the training step for
# AVX2/AVX-512: the closure passed to pulp has to be inlined into pulp's
# target-feature functions, and so must everything the training epoch calls.
# Once, pulp called the closure through a compiler shim that LLVM left out of
# line, and the "dispatched" epoch ran as baseline SSE2 code without any test
# noticing. This reads the release digits example's machine code.
#
# usage: scripts/check_dispatch.sh [binary]   (default: the release example 03)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/examples/03_mlp_digits}
[ -x "$bin" ] || cargo build --release --example 03_mlp_digits
asm=$(mktemp)
trap 'rm -f "$asm"' EXIT
objdump -d --no-show-raw-insn -C "$bin" > "$asm"

fail=0
# 1. The per-batch work is inlined into the dispatched epoch, not called.
for sym in 'stackgrad::train::backprop' 'stackgrad::train::loss_rows' \
           'stackgrad::nn::net::Net<L> as stackgrad::nn::Layer<In>>::forward'; do
    if grep -q "call .*<.*${sym}" "$asm"; then
        echo "check_dispatch: ${sym} is called out of line" >&2
        fail=1
    fi
done
# 2. No AVX2/AVX-512 function of pulp merely forwards to a closure shim.
shims=$(awk '
    /^[0-9a-f]+ <pulp::x86::v[34]::V[34]::vectorize/ { inside = 1; next }
    /^[0-9a-f]+ </ { inside = 0 }
    inside && /(call|jmp) .*FnOnce>?::call_once/ { n++ }
    END { print n + 0 }' "$asm")
if [ "$shims" -ne 0 ]; then
    echo "check_dispatch: $shims dispatched functions call a closure shim (baseline code)" >&2
    fail=1
fi
# 3. The dispatched functions exist and use AVX-512 registers.
if ! grep -q '<pulp::x86::v4::V4::vectorize' "$asm" || ! grep -q 'zmm' "$asm"; then
    echo "check_dispatch: no AVX-512 code found" >&2
    fail=1
fi
[ "$fail" -eq 0 ] && echo "check_dispatch: the training epoch is compiled inside the dispatch"
exit "$fail"
