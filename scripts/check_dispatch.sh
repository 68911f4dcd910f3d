#!/usr/bin/env bash
# The run-time SIMD dispatch must really compile the training step for
# AVX2/AVX-512: the closure passed to pulp has to be inlined into pulp's
# target-feature functions, and so must everything the training epoch calls.
# Once, pulp called the closure through a compiler shim that LLVM left out of
# line, and the "dispatched" epoch ran as baseline SSE2 code without any test
# noticing. This reads the machine code of the compare bench (the f64 and f32
# sigmoid notebook nets, under 1024 parameters: each epoch runs in one
# dispatch, see simd::run_epoch) and of the release digits example (an f32
# ReLU net with Adam, 4810 parameters: its epoch is baseline code and each
# product and activation dispatches itself; the checks below then say that
# those dispatched copies are whole, and that the per-batch work is inlined).
#
# usage: scripts/check_dispatch.sh [binary...]   (default: those two)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    cargo build --release --example 03_mlp_digits
    compare=$(cargo bench -p stackgrad-bench --bench compare --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "compare":
        print(m["executable"])')
    set -- target/release/examples/03_mlp_digits "$compare"
fi
asm=$(mktemp)
trap 'rm -f "$asm"' EXIT

check() {
    local bin=$1 fail=0
    objdump -d --no-show-raw-insn -C "$bin" > "$asm"
    # 1. The per-batch work is inlined into the dispatched epoch, not called.
    for sym in 'stackgrad::train::backprop' 'stackgrad::train::loss_rows' \
               'stackgrad::nn::net::Net<L> as stackgrad::nn::Layer<In>>::forward'; do
        if grep -q "call .*<.*${sym}" "$asm"; then
            echo "check_dispatch: $bin: ${sym} is called out of line" >&2
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
        echo "check_dispatch: $bin: $shims dispatched functions call a closure shim (baseline code)" >&2
        fail=1
    fi
    # 3. Nor does one call a closure of stackgrad's out of line: the closure body
    #    is then compiled as baseline code, and a fused kernel in it calls a
    #    software fma per multiply-add (an activation's per-element closure not
    #    marked #[inline(always)] made the f64 notebook step 8x slower).
    calls=$(awk '
        /^[0-9a-f]+ <pulp::x86::v[34]::V[34]::vectorize/ { inside = 1; next }
        /^[0-9a-f]+ </ { inside = 0 }
        inside && /call .*<stackgrad::.*\{\{closure\}\}/ { n++ }
        END { print n + 0 }' "$asm")
    if [ "$calls" -ne 0 ]; then
        echo "check_dispatch: $bin: $calls dispatched calls to a stackgrad closure out of line" >&2
        fail=1
    fi
    # 4. The dispatched functions exist and use AVX-512 registers.
    if ! grep -q '<pulp::x86::v4::V4::vectorize' "$asm" || ! grep -q 'zmm' "$asm"; then
        echo "check_dispatch: $bin: no AVX-512 code found" >&2
        fail=1
    fi
    [ "$fail" -eq 0 ] && echo "check_dispatch: $bin: the dispatched code is compiled for AVX2/AVX-512, the per-batch work inlined"
    return "$fail"
}

status=0
for bin in "$@"; do
    check "$bin" || status=1
done
exit "$status"
