"""Prints PyTorch's float64 losses and gradients for tests/loss_reference.rs.

Run: python3 scripts/loss_reference.py   (needs torch)
"""
import torch

torch.set_default_dtype(torch.float64)
z = torch.tensor([[0.3, -1.2, 2.5], [2.0, 0.1, -0.7], [-0.4, 0.9, 0.05], [1.5, -2.2, 0.6]])
y = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.25], [1.0, 0.0, 1.0], [0.2, 0.7, 0.0]])
p = torch.sigmoid(z)
labels = torch.tensor([2, 0, 1, 1])
soft = y / y.sum(1, keepdim=True)


def run(name, f, inp):
    x = inp.clone().requires_grad_(True)
    loss = f(x)
    loss.backward()
    grad = ", ".join("[" + ", ".join(repr(v) for v in row) + "]" for row in x.grad.tolist())
    print(f'    ("{name}", {loss.item()!r}, [{grad}]),')


print("const TORCH: [(&str, f64, [[f64; 3]; 4]); 11] = [")
for red in ["mean", "sum"]:
    run("mse_" + red, lambda x: torch.nn.MSELoss(reduction=red)(x, y), z)
    run("bce_logits_" + red, lambda x: torch.nn.BCEWithLogitsLoss(reduction=red)(x, y), z)
    run("bce_" + red, lambda x: torch.nn.BCELoss(reduction=red)(x, y), p)
    run("ce_labels_" + red, lambda x: torch.nn.CrossEntropyLoss(reduction=red)(x, labels), z)
    run("ce_soft_" + red, lambda x: torch.nn.CrossEntropyLoss(reduction=red)(x, soft), z)
run("mse_batchmean", lambda x: torch.nn.MSELoss(reduction="sum")(x, y) / x.shape[0], z)
print("];")
