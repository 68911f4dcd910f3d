//! Test-only central-difference check of a layer's backward pass (the layers of
//! this crate's image path are linear or piecewise linear in each input and
//! parameter, so central differences are exact up to rounding there).
//!
//! The loss is `L = Σ_k g_k y_k` with a fixed, non-constant upstream gradient
//! `g_k = sin(0.7 k + 0.3) + 0.5` (its non-zero mean keeps bias gradients away
//! from cancellation), accumulated in f64. For every input element and every parameter element
//! the numerical derivative `(L(θ + h) - L(θ - h)) / 2h` is compared with the
//! analytic one; per tensor, `||a - n|| / (||a|| + ||n||)` must stay below a
//! tolerance (1e-8 in f64, 1e-4 in f32), and at least one analytic value must be
//! non-zero (a check of an all-zero gradient proves nothing).

use super::{Layer, Params};
use crate::{Elements, Scalar};

fn loss<X, Y>(layer: &impl Layer<X, Output = Y>, x: &X, g: &[f64]) -> f64
where
    Y: Elements,
{
    let y = layer.infer(x);
    y.elems().iter().zip(g).map(|(v, g)| v.as_f64() * g).sum()
}

fn rel_error(a: &[f64], n: &[f64]) -> f64 {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff: Vec<f64> = a.iter().zip(n).map(|(a, n)| a - n).collect();
    let den = norm(a) + norm(n);
    if den == 0.0 { 0.0 } else { norm(&diff) / den }
}

/// Checks `layer`'s input and parameter gradients at `x` against central
/// differences; panics with the tensor's name and worst element on failure.
pub(crate) fn check_layer<T, X, L>(layer: &L, x: &X)
where
    T: Scalar,
    X: Elements<Elem = T>,
    L: Layer<X> + Params<T> + Clone,
    L::Output: Elements<Elem = T>,
{
    let (h, tol) = if T::EPSILON.as_f64() < 1e-10 {
        (1e-5, 1e-8)
    } else {
        (1e-2, 1e-4)
    };
    let (y, cache) = layer.forward(x);
    let mut dy = y;
    let g: Vec<f64> = (0..dy.elems().len())
        .map(|k| (k as f64 * 0.7 + 0.3).sin() + 0.5)
        .collect();
    for (d, &gk) in dy.elems_mut().iter_mut().zip(&g) {
        *d = T::from_f64(gk);
    }
    let g: Vec<f64> = dy.elems().iter().map(|v| v.as_f64()).collect();
    let mut grads = layer.zeros_like();
    let dx = layer.backward(x, &y, &cache, &dy, &mut grads);

    let report = |name: &str, a: &[f64], n: &[f64]| {
        let err = rel_error(a, n);
        let (worst, _) = a
            .iter()
            .zip(n)
            .map(|(a, n)| (a - n).abs())
            .enumerate()
            .fold(
                (0, -1.0),
                |best, (i, d)| if d > best.1 { (i, d) } else { best },
            );
        assert!(
            err <= tol,
            "{name}: relative error {err:e} > {tol:e}; worst element {worst}: analytic {} numerical {}",
            a[worst],
            n[worst]
        );
    };

    // Input gradient.
    let a: Vec<f64> = dx.elems().iter().map(|v| v.as_f64()).collect();
    let mut n = Vec::with_capacity(a.len());
    for k in 0..a.len() {
        let mut xp = *x;
        let mut xm = *x;
        let v = x.elems()[k];
        xp.elems_mut()[k] = v + T::from_f64(h);
        xm.elems_mut()[k] = v - T::from_f64(h);
        let step = xp.elems()[k].as_f64() - xm.elems()[k].as_f64();
        n.push((loss(layer, &xp, &g) - loss(layer, &xm, &g)) / step);
    }
    assert!(a.iter().any(|&v| v != 0.0), "input gradient is all zero");
    report("input", &a, &n);

    // Parameter gradients.
    for t in 0..L::TENSORS {
        let gt = grads.tensor(t).expect("tensor index below TENSORS");
        let a: Vec<f64> = gt.data.iter().map(|v| v.as_f64()).collect();
        let name = gt.name;
        let mut n = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            let mut lp = layer.clone();
            let mut lm = layer.clone();
            let v = layer.tensor(t).unwrap().data[i];
            lp.tensor_mut(t).unwrap().data[i] = v + T::from_f64(h);
            lm.tensor_mut(t).unwrap().data[i] = v - T::from_f64(h);
            let step = (v + T::from_f64(h)).as_f64() - (v - T::from_f64(h)).as_f64();
            n.push((loss(&lp, x, &g) - loss(&lm, x, &g)) / step);
        }
        assert!(a.iter().any(|&v| v != 0.0), "{name} gradient is all zero");
        report(&std::format!("{name}"), &a, &n);
    }
}
