import torch
torch.set_printoptions(precision=17)
def arr(t): 
    t = t.detach().double()
    if t.dim() == 1: return "[" + ", ".join(repr(float(v)) for v in t) + "]"
    return "[" + ", ".join(arr(r) for r in t) + "]"
# BatchNorm1d(3), training on the 3 real rows of a batch
x = torch.tensor([[0.5, -1.2, 3.0], [1.5, 0.3, -2.0], [-0.7, 2.2, 0.1]], dtype=torch.float64, requires_grad=True)
bn = torch.nn.BatchNorm1d(3).double()
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0], dtype=torch.float64)); bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
dy = torch.tensor([[0.3, -0.1, 0.7], [-0.2, 0.5, 0.4], [0.9, -0.6, -0.8]], dtype=torch.float64)
y = bn(x); y.backward(dy)
print("bn1d y", arr(y)); print("bn1d dx", arr(x.grad)); print("bn1d dw", arr(bn.weight.grad)); print("bn1d db", arr(bn.bias.grad))
print("bn1d rm", arr(bn.running_mean)); print("bn1d rv", arr(bn.running_var))
bn.eval(); print("bn1d eval", arr(bn(x)))
# BatchNorm2d(2) on 2 images 2x3x3
g = torch.Generator().manual_seed(0)
x2 = (torch.rand(2, 2, 3, 3, generator=g, dtype=torch.float64) * 4 - 2).requires_grad_()
dy2 = torch.rand(2, 2, 3, 3, generator=g, dtype=torch.float64) - 0.5
bn2 = torch.nn.BatchNorm2d(2).double()
with torch.no_grad():
    bn2.weight.copy_(torch.tensor([0.7, -1.3], dtype=torch.float64)); bn2.bias.copy_(torch.tensor([0.05, 0.4], dtype=torch.float64))
y2 = bn2(x2); y2.backward(dy2)
print("bn2d x", arr(x2.reshape(-1))); print("bn2d dy", arr(dy2.reshape(-1)))
print("bn2d y", arr(y2.reshape(-1))); print("bn2d dx", arr(x2.grad.reshape(-1)))
print("bn2d dw", arr(bn2.weight.grad)); print("bn2d db", arr(bn2.bias.grad))
print("bn2d rm", arr(bn2.running_mean)); print("bn2d rv", arr(bn2.running_var))
bn2.eval(); print("bn2d eval", arr(bn2(x2).reshape(-1)))
# LayerNorm(4) on 2 rows
x3 = torch.tensor([[0.5, -1.2, 3.0, 0.25], [1.5, 0.3, -2.0, 4.0]], dtype=torch.float64, requires_grad=True)
ln = torch.nn.LayerNorm(4).double()
with torch.no_grad():
    ln.weight.copy_(torch.tensor([1.5, -0.5, 2.0, 0.8], dtype=torch.float64)); ln.bias.copy_(torch.tensor([0.1, 0.2, -0.3, 0.0], dtype=torch.float64))
dy3 = torch.tensor([[0.3, -0.1, 0.7, 0.2], [-0.2, 0.5, 0.4, -0.9]], dtype=torch.float64)
y3 = ln(x3); y3.backward(dy3)
print("ln y", arr(y3)); print("ln dx", arr(x3.grad)); print("ln dw", arr(ln.weight.grad)); print("ln db", arr(ln.bias.grad))
