"""The way back, checked by PyTorch: a network that stackgrad trained and saved
in PyTorch's layout loads into the PyTorch module that stackgrad printed, and
gives stackgrad's outputs.

Run by hand (needs torch and safetensors, `pip install safetensors`; CI does
not run it):

    cargo run --release --example 08_from_pytorch
    python3 scripts/torch_round_trip.py target/torch_round_trip

Reads DIR/model.py (io::torch::python's source, which defines `model`),
DIR/weights.safetensors and DIR/weights_f16.safetensors (io::torch::save, F32
and F16) and DIR/io.safetensors (16 inputs, stackgrad's outputs "output" and
"output_f16"). Each weights file goes through `model.load_state_dict(...)`,
strict, into the module in eval mode; the worst output difference relative
to each row's largest logit must be at most 1e-6. Exits 1 otherwise.
"""
import os
import sys

import torch
from safetensors.torch import load_file

directory = sys.argv[1] if len(sys.argv) > 1 else "target/torch_round_trip"
namespace = {}
with open(os.path.join(directory, "model.py")) as f:
    exec(f.read(), namespace)
model = namespace["model"].eval()
io = load_file(os.path.join(directory, "io.safetensors"))
print(f"module: {type(model).__name__} of {len(model)} layers, "
      f"{sum(p.numel() for p in model.parameters())} parameters")

failed = False
for weights, expected in (("weights.safetensors", "output"), ("weights_f16.safetensors", "output_f16")):
    state = load_file(os.path.join(directory, weights))
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in state.values()})
    model.load_state_dict(state, strict=True)  # raises on any missing or extra name
    with torch.no_grad():
        out = model(io["input"])
    ours = io[expected]
    worst = ((out - ours).abs().amax(dim=1) / ours.abs().amax(dim=1)).max().item()
    same_class = int((out.argmax(dim=1) == ours.argmax(dim=1)).sum())
    ok = worst <= 1e-6 and same_class == len(ours)
    failed |= not ok
    print(f"{weights} ({', '.join(dtypes)}, {len(state)} tensors, strict load): "
          f"worst relative difference {worst:.2e}, same class {same_class}/{len(ours)}: "
          f"{'ok' if ok else 'FAILED'}")
sys.exit(1 if failed else 0)
