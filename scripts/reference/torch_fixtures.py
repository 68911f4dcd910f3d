"""Makes the PyTorch fixtures of tests/torch_fixtures.rs and example 08.

Run from the repository root (needs torch and safetensors, `pip install
safetensors`; CI does not run this, the files are committed):

    python3 scripts/reference/torch_fixtures.py

Trains two networks in PyTorch (float32, CPU, one thread, seed 0) on the
bundled digits (data/digits.csv.gz; pixels / 16; test rows i % 5 == 4, the
split of examples 03 and 08) and writes to tests/fixtures/torch/:

  digits_mlp_{f32,bf16}.safetensors  Linear(64, 32), ReLU, Linear(32, 10): the
      state_dict as safetensors.torch.save_file writes it, in float32 and in
      bfloat16; metadata "test_correct": PyTorch's correct test
      predictions, "348/359".
  cnn_bn_{f32,bf16}.safetensors      a CNN with batch norm and a residual block
      (the Residual class stackgrad's io::torch::python prints), in eval mode.
  NAME_io.safetensors                "input": 16 test rows (float32); PyTorch's
      outputs on them: "output_f32" from the float32 weights and "output_bf16"
      from the bfloat16 weights (both computed in float32), and the same two in
      float64 ("output_f32_f64", "output_bf16_f64"); for the MLP also
      "test_predictions" (uint8), PyTorch's class for each of the 359 test rows.
"""
import gzip
import os

import torch
from safetensors.torch import save_file
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch")
os.makedirs(OUT, exist_ok=True)

rows = [list(map(int, line.split(","))) for line in gzip.open(os.path.join(ROOT, "data", "digits.csv.gz"), "rt")]
x = torch.tensor([r[:64] for r in rows], dtype=torch.float32) / 16
y = torch.tensor([r[64] for r in rows])
test = torch.tensor([i % 5 == 4 for i in range(len(rows))])
x_train, y_train, x_test, y_test = x[~test], y[~test], x[test], y[test]
print(f"{len(rows)} rows: {len(x_train)} train, {len(x_test)} test")


class Residual(nn.ModuleList):
    """stackgrad's Residual: y = x + f(x); the branch f is child "0"."""

    def __init__(self, branch):
        super().__init__([branch])

    def forward(self, x):
        return x + self[0](x)


def train(model, epochs, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x_train), generator=g).split(32):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            opt.step()
    model.eval()


def write(name, model, extra_io):
    with torch.no_grad():
        predictions = model(x_test).argmax(dim=1)
    correct = int((predictions == y_test).sum())
    # One key: safetensors writes a metadata map in no fixed order.
    meta = {"test_correct": f"{correct}/{len(x_test)}"}
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    bf16 = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in sd.items()}
    save_file(sd, os.path.join(OUT, f"{name}_f32.safetensors"), metadata=meta)
    save_file(bf16, os.path.join(OUT, f"{name}_bf16.safetensors"), metadata=meta)
    io = {"input": x_test[:16].contiguous()}
    for tag, state in (("f32", sd), ("bf16", bf16)):
        model.load_state_dict({k: v.to(sd[k].dtype) for k, v in state.items()})
        with torch.no_grad():
            io[f"output_{tag}"] = model(io["input"]).contiguous()
            io[f"output_{tag}_f64"] = model.double()(io["input"].double()).contiguous()
        model.float()
    model.load_state_dict(sd)
    io.update(extra_io(predictions))
    save_file(io, os.path.join(OUT, f"{name}_io.safetensors"))
    sizes = ", ".join(f"{t} {os.path.getsize(os.path.join(OUT, f'{name}_{t}.safetensors'))} B" for t in ("f32", "bf16", "io"))
    print(f"{name}: test accuracy {correct}/{len(x_test)} = {correct / len(x_test):.4f}; {sizes}")


mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
train(mlp, epochs=30, lr=1e-2)
write("digits_mlp", mlp, lambda p: {"test_predictions": p.to(torch.uint8).contiguous()})

cnn = nn.Sequential(
    nn.Unflatten(1, (1, 8, 8)),
    nn.Conv2d(1, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    Residual(nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.BatchNorm2d(16),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(64, 10),
)
train(cnn, epochs=5, lr=1e-2)
write("cnn_bn", cnn, lambda p: {})
print("state_dict names of the CNN:", ", ".join(cnn.state_dict().keys()))
