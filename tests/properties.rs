//! Property tests over sizes (1,1), (1,4), (4,1), (2,3), (7,5) in f32 and f64:
//! matmul against a naive triple loop, `(AB)ᵀ = Bᵀ Aᵀ`, the transposed products,
//! softmax rows summing to 1 (also for extreme logits), and the dense layer's
//! backward against its element-wise definition.
//!
//! Const sizes cannot be looped over at run time, so a macro stamps one suite
//! per (rows, cols, precision); each suite draws many seeded random cases.

use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Dense, Layer, Params, log_softmax_rows, softmax_rows};
use stackgrad::rand::{RngExt, SeedableRng, rngs::StdRng};
use stackgrad::{Matrix, Scalar};

const CASES: u64 = 200;

fn random<T: Scalar, const R: usize, const C: usize>(
    rng: &mut StdRng,
    scale: f64,
) -> Matrix<T, R, C> {
    Matrix::from_fn(|_, _| T::from_f64(scale * (2.0 * rng.random::<f64>() - 1.0)))
}

/// `Σ_k a_ik b_kj` by the textbook triple loop, accumulated in f64.
fn naive_matmul<T: Scalar, const M: usize, const K: usize, const N: usize>(
    a: &Matrix<T, M, K>,
    b: &Matrix<T, K, N>,
) -> Matrix<f64, M, N> {
    let mut c = Matrix::<f64, M, N>::zeros();
    for i in 0..M {
        for j in 0..N {
            for k in 0..K {
                c[(i, j)] += a[(i, k)].as_f64() * b[(k, j)].as_f64();
            }
        }
    }
    c
}

/// Largest `|got - want|` relative to the scale of the product's terms.
fn max_rel_diff<T: Scalar, const R: usize, const C: usize>(
    got: &Matrix<T, R, C>,
    want: &Matrix<f64, R, C>,
    scale: f64,
) -> f64 {
    let mut worst: f64 = 0.0;
    for r in 0..R {
        for c in 0..C {
            worst = worst.max((got[(r, c)].as_f64() - want[(r, c)]).abs() / scale);
        }
    }
    worst
}

macro_rules! suite {
    ($name:ident, $t:ty, $r:literal, $c:literal) => {
        mod $name {
            use super::*;
            type T = $t;
            const R: usize = $r;
            const C: usize = $c;
            /// Tolerance for sums of up to ~10 products of numbers below 1.
            const TOL: f64 = 40.0 * <T as Scalar>::EPSILON as f64;

            #[test]
            fn matmul_matches_triple_loop_and_transposes() {
                let mut rng = StdRng::seed_from_u64(($r * 100 + $c) as u64);
                for _ in 0..CASES {
                    let a: Matrix<T, R, C> = random(&mut rng, 1.0);
                    let b: Matrix<T, C, 3> = random(&mut rng, 1.0);
                    let ab = a.matmul(&b);
                    assert!(max_rel_diff(&ab, &naive_matmul(&a, &b), C as f64) < TOL);
                    assert_eq!(ab, a * b);
                    // (AB)ᵀ = Bᵀ Aᵀ
                    let bt_at = b.transpose().matmul(&a.transpose());
                    assert!(max_rel_diff(&ab.transpose(), &bt_at.cast::<f64>(), C as f64) < TOL);
                    // Aᵀ D and A Eᵀ without forming the transposes.
                    let d: Matrix<T, R, 4> = random(&mut rng, 1.0);
                    let at_d = a.t_matmul(&d);
                    assert!(max_rel_diff(&at_d, &naive_matmul(&a.transpose(), &d), R as f64) < TOL);
                    let e: Matrix<T, 6, C> = random(&mut rng, 1.0);
                    let a_et = a.matmul_t(&e);
                    assert!(max_rel_diff(&a_et, &naive_matmul(&a, &e.transpose()), C as f64) < TOL);
                    assert_eq!(a.transpose().transpose(), a);
                }
            }

            #[test]
            fn softmax_rows_sum_to_one() {
                let mut rng = StdRng::seed_from_u64(7 + ($r * 100 + $c) as u64);
                for case in 0..CASES {
                    // Ordinary logits, then logits of magnitude up to 1e4.
                    let scale = if case % 2 == 0 { 5.0 } else { 1e4 };
                    let z: Matrix<T, R, C> = random(&mut rng, scale);
                    let p = softmax_rows(&z);
                    let l = log_softmax_rows(&z);
                    assert!(
                        p.is_finite() && l.is_finite(),
                        "non-finite at scale {scale}: {z:?}"
                    );
                    for r in 0..R {
                        let s: f64 = p.row(r).iter().map(|v| v.as_f64()).sum();
                        assert!(
                            (s - 1.0).abs() <= C as f64 * <T as Scalar>::EPSILON as f64,
                            "row sum {s}"
                        );
                        assert!(p.row(r).iter().all(|&v| (0.0..=1.0).contains(&v.as_f64())));
                    }
                    // Cross-entropy from logits stays finite too.
                    let labels =
                        Labels::<R, C>::new(core::array::from_fn(|_| rng.random_range(0..C)))
                            .unwrap();
                    let (loss, grad) = SoftmaxCrossEntropy::mean().loss_and_grad(&z, &labels);
                    assert!(loss.is_finite() && grad.is_finite());
                }
            }

            #[test]
            fn dense_backward_matches_definition() {
                let mut rng = StdRng::seed_from_u64(11 + ($r * 100 + $c) as u64);
                for _ in 0..CASES / 4 {
                    let layer = Dense::<T, C, R>::new(
                        random(&mut rng, 1.0),
                        core::array::from_fn(|_| T::from_f64(rng.random::<f64>())),
                    );
                    let x: Matrix<T, 3, C> = random(&mut rng, 1.0);
                    let d: Matrix<T, 3, R> = random(&mut rng, 1.0);
                    let (y, cache) = layer.forward(&x);
                    let want_y = naive_matmul(&x, &layer.weight);
                    for b in 0..3 {
                        for o in 0..R {
                            let w = want_y[(b, o)] + layer.bias[o].as_f64();
                            assert!((y[(b, o)].as_f64() - w).abs() < TOL * C as f64);
                        }
                    }
                    let mut g = layer.zeros_like();
                    let dx = layer.backward(&x, &y, &cache, &d, &mut g);
                    assert!(max_rel_diff(&g.weight, &naive_matmul(&x.transpose(), &d), 3.0) < TOL);
                    assert!(
                        max_rel_diff(&dx, &naive_matmul(&d, &layer.weight.transpose()), R as f64)
                            < TOL
                    );
                    for o in 0..R {
                        let s: f64 = (0..3).map(|b| d[(b, o)].as_f64()).sum();
                        assert!((g.bias[o].as_f64() - s).abs() < TOL * 3.0);
                    }
                }
            }
        }
    };
}

suite!(f32_1x1, f32, 1, 1);
suite!(f32_1x4, f32, 1, 4);
suite!(f32_4x1, f32, 4, 1);
suite!(f32_2x3, f32, 2, 3);
suite!(f32_7x5, f32, 7, 5);
suite!(f64_1x1, f64, 1, 1);
suite!(f64_1x4, f64, 1, 4);
suite!(f64_4x1, f64, 4, 1);
suite!(f64_2x3, f64, 2, 3);
suite!(f64_7x5, f64, 7, 5);
