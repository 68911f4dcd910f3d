# Reference values for tests/optim_reference.rs: PyTorch's optimizers,
# learning-rate schedulers and gradient clipping in float64. Prints Rust
# constants; the test file holds this output verbatim.
#
#   python3 scripts/reference/optim.py
#
# Parameters: the four tensors of (Dense<3, 2>, Sigmoid, Dense<2, 1>), in
# stackgrad's order (0.weight 3x2, 0.bias 2, 2.weight 2x1, 2.bias 1), flat.
# The gradient at every step is g = c * theta + d, element by element, so
# that it depends on where the optimizer has moved the weights.
import math
import torch

torch.set_default_dtype(torch.float64)
SHAPES = [(3, 2), (2,), (2, 1), (1,)]
THETA0 = [0.5, -1.2, 0.3, 0.8, -0.4, 1.1, 0.2, -0.1, 0.7, -0.9, 0.05]
C = [1.0, 0.5, 2.0, -0.3, 1.5, 0.1, 3.0, 0.7, -0.2, 1.2, 0.9]
D = [0.1, -0.2, 0.05, 0.3, -0.15, 0.0, 0.25, -0.05, 0.4, -0.35, 0.2]
STEPS = 5


def tensors(flat):
    out, i = [], 0
    for s in SHAPES:
        n = math.prod(s)
        out.append(torch.tensor(flat[i : i + n]).reshape(s))
        i += n
    return out


def flat(ts):
    return [float(v) for t in ts for v in t.detach().reshape(-1)]


def rust(name, values):
    print(f"pub const {name}: [f64; {len(values)}] = [")
    for v in values:
        print(f"    {v!r},")
    print("];")


def set_grads(params, clip=None):
    for p, c, d in zip(params, tensors(C), tensors(D)):
        p.grad = c * p.detach() + d
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(params, clip, foreach=False)


def run(make, clip=None):
    params = [torch.nn.Parameter(t) for t in tensors(THETA0)]
    opt = make(params)
    for _ in range(STEPS):
        set_grads(params, clip)
        opt.step()
    return flat(params)


O = torch.optim
print("// Optimizers: the weights after 5 steps.")
rust("SGD", run(lambda p: O.SGD(p, lr=0.1, foreach=False)))
rust("SGD_WD", run(lambda p: O.SGD(p, lr=0.1, weight_decay=0.01, foreach=False)))
rust("SGD_MOMENTUM", run(lambda p: O.SGD(p, lr=0.05, momentum=0.9, foreach=False)))
rust(
    "SGD_NESTEROV_WD",
    run(lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False)),
)
rust("ADAM", run(lambda p: O.Adam(p, lr=0.01, foreach=False)))
rust(
    "ADAM_L2",
    run(lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, foreach=False)),
)
rust("ADAMW", run(lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, foreach=False)))
rust("RMSPROP", run(lambda p: O.RMSprop(p, lr=0.01, foreach=False)))
rust(
    "RMSPROP_ALL",
    run(
        lambda p: O.RMSprop(
            p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.8, centered=True, foreach=False
        )
    ),
)


def lrs(make, epochs):
    opt = O.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


S = torch.optim.lr_scheduler
print("// Schedules: the learning rate of epochs 1, 2, ... (base 0.1).")
rust("STEP", lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12))
rust("EXPONENTIAL", lrs(lambda o: S.ExponentialLR(o, gamma=0.9), 12))
rust("COSINE", lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25))
rust("WARMUP", lrs(lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5), 10))
rust("LAMBDA", lrs(lambda o: S.LambdaLR(o, lambda e: 1.0 / (1.0 + e)), 8))

print("// Clipping: the gradients at THETA0, clipped; the norm before clipping.")
params = [torch.nn.Parameter(t) for t in tensors(THETA0)]
set_grads(params)
norm = torch.nn.utils.clip_grad_norm_(params, 0.5, foreach=False)
rust("CLIP_NORM", [float(norm)] + flat([p.grad for p in params]))
set_grads(params)
norm = torch.nn.utils.clip_grad_norm_(params, 100.0, foreach=False)
rust("CLIP_NORM_UNDER", [float(norm)] + flat([p.grad for p in params]))
set_grads(params)
torch.nn.utils.clip_grad_value_(params, 0.3, foreach=False)
rust("CLIP_VALUE", flat([p.grad for p in params]))
rust("SGD_CLIPPED", run(lambda p: O.SGD(p, lr=0.1, momentum=0.9, foreach=False), clip=0.5))
