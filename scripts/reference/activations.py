"""Reference values for the activations of tests/activation_reference.rs.

Prints, for each activation, a Rust array of rows
`[x, torch_y, torch_dy, exact_y, exact_dy]`:

- `torch_y`, `torch_dy`: PyTorch 2.15 in float64 (`torch.nn.functional`,
  the gradient through autograd of `y.sum()`);
- `exact_y`, `exact_dy`: the same functions and their derivatives evaluated
  with mpmath at 60 digits (the closed forms below, at the exact double `x`),
  rounded once to float64. PyTorch's float64 loses digits where its formula
  cancels (`1 + erf`, `1 + tanh` on the left tail), so the exact values are
  the accuracy oracle there.

Usage: python3 scripts/reference/activations.py > /tmp/ref.rs
(torch and mpmath only; mpmath comes with torch's sympy.)
"""
import mpmath as mp
import torch
import torch.nn.functional as F

mp.mp.dps = 60

POINTS = [0.0, 1e-8, -1e-8, 0.5, -0.5, -0.75, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 5.0, -5.0,
          10.0, -10.0, 20.0, -20.0, 30.0, -30.0, 1e4, -1e4]

SQRT_2_OVER_PI = mp.sqrt(2 / mp.pi)
KAPPA = mp.mpf("0.044715")


def ncdf(x):
    return mp.ncdf(x)


def npdf(x):
    return mp.npdf(x)


def sig(x):
    return 1 / (1 + mp.exp(-x))


def leaky(slope):
    s = mp.mpf(slope)
    return (lambda x: F.leaky_relu(x, slope),
            lambda x: x if x > 0 else s * x,
            lambda x: mp.mpf(1) if x > 0 else s)


def elu(alpha):
    a = mp.mpf(alpha)
    return (lambda x: F.elu(x, alpha),
            lambda x: x if x > 0 else a * mp.expm1(x),
            lambda x: mp.mpf(1) if x > 0 else a * mp.exp(x))


def gelu():
    return (lambda x: F.gelu(x),
            lambda x: x * ncdf(x),
            lambda x: ncdf(x) + x * npdf(x))


def gelu_tanh():
    def u(x):
        return SQRT_2_OVER_PI * (x + KAPPA * x ** 3)

    def du(x):
        return SQRT_2_OVER_PI * (1 + 3 * KAPPA * x ** 2)

    return (lambda x: F.gelu(x, approximate="tanh"),
            lambda x: x * sig(2 * u(x)),
            lambda x: sig(2 * u(x)) + 2 * x * du(x) * sig(2 * u(x)) * sig(-2 * u(x)))


def silu():
    return (lambda x: F.silu(x),
            lambda x: x * sig(x),
            lambda x: sig(x) * (1 + x * sig(-x)))


def softplus(beta, threshold):
    b = mp.mpf(beta)
    return (lambda x: F.softplus(x, beta, threshold),
            lambda x: x if b * x > threshold else mp.log1p(mp.exp(b * x)) / b,
            lambda x: mp.mpf(1) if b * x > threshold else sig(b * x))


CASES = [
    ("LEAKY_RELU", "LeakyRelu::default()", leaky(0.01)),
    ("LEAKY_RELU_0_2", "LeakyRelu::new(0.2)", leaky(0.2)),
    ("ELU", "Elu::default()", elu(1.0)),
    ("ELU_1_7", "Elu::new(1.7)", elu(1.7)),
    ("GELU", "Gelu", gelu()),
    ("GELU_TANH", "GeluTanh", gelu_tanh()),
    ("SILU", "Silu", silu()),
    ("SOFTPLUS", "Softplus::default()", softplus(1.0, 20.0)),
    ("SOFTPLUS_2_15", "Softplus::new(2.0, 15.0)", softplus(2.0, 15.0)),
]


def lit(v):
    v = float(v)
    s = repr(v)
    return s if ("e" in s or "." in s or "inf" in s or "nan" in s) else s + ".0"


for name, what, (torch_f, exact_f, exact_df) in CASES:
    x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    y = torch_f(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    print(f"/// {what}")
    print(f"const {name}: [[f64; 5]; {len(POINTS)}] = [")
    for i, p in enumerate(POINTS):
        xm = mp.mpf(p)
        row = [p, y[i].item(), g[i].item(), exact_f(xm), exact_df(xm)]
        print("    [" + ", ".join(lit(v) for v in row) + "],")
    print("];")
