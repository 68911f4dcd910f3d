//! [`Matrix<T, R, C>`]: a row-major `R x C` matrix stored inline, on the stack.
//!
//! Batches are matrices with one example per row: a batch of `B` inputs with `N`
//! features is a `Matrix<T, B, N>`, and a dense layer computes `Y = X W + b` with
//! `W: I x O` (the notebooks' layout).
//!
//! | operation | shapes | result |
//! |---|---|---|
//! | [`a.matmul(&b)`](Matrix::matmul), `a * b` | `M x K`, `K x N` | `M x N` |
//! | [`a.t_matmul(&b)`](Matrix::t_matmul) (`Aᵀ B`) | `M x K`, `M x N` | `K x N` |
//! | [`a.matmul_t(&b)`](Matrix::matmul_t) (`A Bᵀ`) | `M x K`, `N x K` | `M x N` |
//! | [`transpose`](Matrix::transpose) | `R x C` | `C x R` |
//! | `+`, `-`, [`hadamard`](Matrix::hadamard), [`zip_map`](Matrix::zip_map) | `R x C`, `R x C` | `R x C` |
//! | [`add_row`](Matrix::add_row) (broadcast bias) | `R x C`, `[T; C]` | `R x C` |
//! | [`sum_rows`](Matrix::sum_rows) (sum over the batch) | `R x C` | `[T; C]` |
//! | [`row_argmax`](Matrix::row_argmax) | `R x C` | `[usize; R]` |
//!
//! A product whose inner dimensions differ does not compile, and says so in numbers:
//!
//! ```text
//! error[E0308]: mismatched types
//!   |     let _c = a.matmul(&b);
//!   |                ------ ^^ expected `3`, found `4`
//! ```

use core::fmt;
use core::ops::{Add, AddAssign, Index, IndexMut, Mul, Neg, Sub, SubAssign};

use crate::Scalar;

/// A row-major `R x C` matrix of `T`, stored inline as `[[T; C]; R]`.
///
/// `Copy`, no heap, and every shape is a type parameter, so shape errors are
/// compile errors. Rows are examples: a batch of 5 two-feature inputs is a
/// `Matrix<f64, 5, 2>`.
///
/// ```
/// use stackgrad::Matrix;
/// let x = Matrix::from_array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]); // 3 x 2
/// let w = Matrix::from_array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]);   // 2 x 3
/// let y = x.matmul(&w);                                             // 3 x 3
/// assert_eq!(y.into_array(), [[1.0, 2.0, 3.0], [3.0, 4.0, 7.0], [5.0, 6.0, 11.0]]);
/// assert_eq!(y.row_argmax(), [2, 2, 2]);
/// ```
///
/// Aligned to a cache line (64 bytes), so that a vector loop over a matrix
/// (an optimizer step, an activation) never issues a 64-byte load or store
/// that straddles two lines: with the alignment of `T` alone, Adam's step
/// over the digits net took 4.0 µs instead of 1.6 (split AVX-512 accesses). A matrix
/// whose size is not a multiple of 64 bytes is padded up to one.
#[derive(Clone, Copy, PartialEq)]
#[repr(C, align(64))]
pub struct Matrix<T, const R: usize, const C: usize> {
    data: [[T; C]; R],
}

/// An `f32` matrix, for concrete examples: `Mat<2, 3>`.
pub type Mat<const R: usize, const C: usize> = Matrix<f32, R, C>;
/// An `f64` matrix.
pub type Mat64<const R: usize, const C: usize> = Matrix<f64, R, C>;

impl<T: Copy, const R: usize, const C: usize> Matrix<T, R, C> {
    /// Number of rows `R` (the batch size when rows are examples).
    pub const ROWS: usize = R;
    /// Number of columns `C`.
    pub const COLS: usize = C;

    /// Wraps a row-major array: `a[r][c]` becomes element `(r, c)`.
    #[inline(always)]
    #[must_use]
    pub const fn from_array(data: [[T; C]; R]) -> Self {
        Self { data }
    }

    /// Every element equal to `v`.
    #[inline(always)]
    #[must_use]
    pub const fn splat(v: T) -> Self {
        Self { data: [[v; C]; R] }
    }

    /// Element `(r, c)` is `f(r, c)`, called in row-major order.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let m = Matrix::<f64, 2, 3>::from_fn(|r, c| (10 * r + c) as f64);
    /// assert_eq!(m[(1, 2)], 12.0);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn from_fn(mut f: impl FnMut(usize, usize) -> T) -> Self {
        if R == 0 || C == 0 {
            return Self {
                data: core::array::from_fn(|r| core::array::from_fn(|c| f(r, c))),
            };
        }
        // Fill with the first element, then overwrite in row-major order: plain
        // loops that the compiler vectorizes, where nested `array::from_fn` goes
        // through a closure call per row for large arrays.
        let first = f(0, 0);
        let mut data = [[first; C]; R];
        for (r, row) in data.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                if r > 0 || c > 0 {
                    *v = f(r, c);
                }
            }
        }
        Self { data }
    }

    /// Builds from `R * C` values in row-major order (the layout of `as_slice`).
    /// Returns `None` when `values.len() != R * C`.
    #[must_use]
    pub fn from_slice(values: &[T]) -> Option<Self> {
        if values.len() != R * C {
            return None;
        }
        Some(Self::from_fn(|r, c| values[r * C + c]))
    }

    /// The rows, as the underlying array.
    #[inline(always)]
    #[must_use]
    pub const fn as_array(&self) -> &[[T; C]; R] {
        &self.data
    }

    /// The rows, mutably.
    #[inline(always)]
    pub fn as_array_mut(&mut self) -> &mut [[T; C]; R] {
        &mut self.data
    }

    /// Unwraps the underlying array.
    #[inline(always)]
    #[must_use]
    pub const fn into_array(self) -> [[T; C]; R] {
        self.data
    }

    /// All `R * C` elements in row-major order.
    #[inline(always)]
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        self.data.as_flattened()
    }

    /// All `R * C` elements in row-major order, mutably.
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data.as_flattened_mut()
    }

    /// Row `r`. Panics if `r >= R` (use [`get`](Self::get) for a checked access).
    #[inline(always)]
    #[must_use]
    pub fn row(&self, r: usize) -> &[T; C] {
        &self.data[r]
    }

    /// Element `(r, c)`, or `None` when out of range.
    #[inline]
    #[must_use]
    pub fn get(&self, r: usize, c: usize) -> Option<T> {
        self.data.get(r).and_then(|row| row.get(c)).copied()
    }

    /// `Aᵀ`: element `(c, r)` of the result is element `(r, c)` of `self`.
    // Always inlined (an out-of-line call from the dispatched training code
    // runs as baseline code), but a large one copies in a function of its own
    // (see `simd::out_of_line`).
    #[inline(always)]
    #[must_use]
    pub fn transpose(&self) -> Matrix<T, C, R> {
        crate::simd::out_of_line_if(
            R * C,
            #[inline(always)]
            || self.transposed_copy(),
        )
    }

    #[inline(always)]
    fn transposed_copy(&self) -> Matrix<T, C, R> {
        Matrix::from_fn(|c, r| self.data[r][c])
    }

    /// Applies `f` to every element.
    #[inline(always)]
    #[must_use]
    pub fn map<U: Copy>(&self, mut f: impl FnMut(T) -> U) -> Matrix<U, R, C> {
        // Indexing through `from_fn` rather than `array::map`, which copies large
        // arrays through memcpy instead of writing in place.
        Matrix::from_fn(|r, c| f(self.data[r][c]))
    }

    /// Combines two matrices of the same shape element by element: `f(a_rc, b_rc)`.
    #[inline(always)]
    #[must_use]
    pub fn zip_map<U: Copy, V: Copy>(
        &self,
        other: &Matrix<U, R, C>,
        mut f: impl FnMut(T, U) -> V,
    ) -> Matrix<V, R, C> {
        Matrix::from_fn(|r, c| f(self.data[r][c], other.data[r][c]))
    }
}

impl<T: Scalar, const R: usize, const C: usize> Matrix<T, R, C> {
    /// The zero matrix.
    #[inline(always)]
    #[must_use]
    pub fn zeros() -> Self {
        Self::splat(T::zero())
    }

    /// Matrix product `A B` for `A: R x C` and `B: C x N`:
    /// `(A B)_ij = Σ_k A_ik B_kj`.
    ///
    /// The inner dimensions are checked at compile time; a mismatch reads
    /// ``expected `3`, found `4` `` at the right-hand argument.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let a = Matrix::from_array([[1.0f32, 2.0]]);
    /// let b = Matrix::from_array([[3.0f32], [4.0]]);
    /// assert_eq!(a.matmul(&b).into_array(), [[11.0]]);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn matmul<const N: usize>(&self, rhs: &Matrix<T, C, N>) -> Matrix<T, R, N> {
        let mut out = Matrix::<T, R, N>::zeros();
        self.matmul_to(rhs, &mut out);
        out
    }

    /// `out += A B`: the kernel behind [`matmul`](Self::matmul) and the dense
    /// layer's forward (which starts `out` at the bias).
    ///
    /// Large products (at least `MIN_WORK` multiply-adds) on a CPU with AVX2 or
    /// AVX-512 take the explicit fused kernel of `crate::simd`. Otherwise,
    /// register-blocked: a tile of `MR` rows by `NR` columns of `out` lives in a
    /// fixed-size local array across the whole `k` loop (the compiler keeps it
    /// in vector registers), so each loaded row segment of `B` serves `MR` rows
    /// of `A`; rows and columns that do not fill a tile are summed row by row,
    /// in the same order.
    #[inline(always)]
    pub(crate) fn matmul_acc<const N: usize>(
        &self,
        rhs: &Matrix<T, C, N>,
        out: &mut Matrix<T, R, N>,
    ) {
        let (a, b, o) = (&self.data, &rhs.data, &mut out.data);
        // The wide kernel has 2.5x the throughput of the portable tiles run
        // under AVX2; larger portable tiles, 8 x 8 or 4 x 16 f32, measured 8x
        // slower, as the compiler no longer kept them in registers.
        if R * C * N >= crate::simd::MIN_WORK && crate::simd::matmul_acc_wide(a, b, o) {
            return;
        }
        // Narrow outputs (a layer with 4 units): tiles as wide as the output,
        // all rows of a small batch in one, so that their running sums are
        // independent chains in flight together (row by row, each waited on
        // its own chain of `C` dependent adds: the notebook's 5 x 25 x 4 was
        // 13% of its f64 step). Else 4 x 8 tiles: eight 4-wide f32
        // registers, or (f64) sixteen halves of them.
        if N < 8 && R <= 8 {
            tiled_acc::<T, R, C, N, R, N>(a, b, o);
        } else if N < 8 {
            tiled_acc::<T, R, C, N, 4, N>(a, b, o);
        } else if core::mem::size_of::<T>() == 4 {
            tiled_acc::<T, R, C, N, 4, 8>(a, b, o);
        } else {
            tiled_acc::<T, R, C, N, 2, 8>(a, b, o);
        }
    }

    /// Overwrites `out` with `A B` ([`matmul`](Matrix::matmul)): the wide
    /// kernel stores its sums (no zeroing pass); the other paths add to zeros.
    #[inline(always)]
    pub(crate) fn matmul_to<const N: usize>(
        &self,
        rhs: &Matrix<T, C, N>,
        out: &mut Matrix<T, R, N>,
    ) {
        if R * C * N >= crate::simd::MIN_WORK
            && crate::simd::matmul_set_wide(&self.data, &rhs.data, &mut out.data)
        {
            return;
        }
        *out = Matrix::zeros();
        self.matmul_acc(rhs, out);
    }

    /// `Aᵀ B` for `A: R x C` and `B: R x N`, without forming `Aᵀ`:
    /// `(Aᵀ B)_ij = Σ_r A_ri B_rj`. This is a dense layer's weight gradient `Xᵀ D`.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let a = Matrix::from_array([[1.0f64, 2.0], [3.0, 4.0]]);
    /// let b = Matrix::from_array([[5.0f64], [6.0]]);
    /// assert_eq!(a.t_matmul(&b), a.transpose().matmul(&b));
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn t_matmul<const N: usize>(&self, rhs: &Matrix<T, R, N>) -> Matrix<T, C, N> {
        let mut out = Matrix::<T, C, N>::zeros();
        self.t_matmul_to(rhs, &mut out);
        out
    }

    /// Overwrites `out` with `Aᵀ B` ([`t_matmul`](Matrix::t_matmul)) in place:
    /// a layer writes its weight gradient straight into the gradient value
    /// (returning it was one more copy of the weights per step).
    #[inline(always)]
    pub(crate) fn t_matmul_to<const N: usize>(
        &self,
        rhs: &Matrix<T, R, N>,
        out: &mut Matrix<T, C, N>,
    ) {
        // Large products: the wide kernel of `matmul`, reading A down its
        // columns and overwriting `out` (digits net, 64 x 32 x 64: 5.5 µs in
        // the portable tiles, 3.3 through a transposed copy of A, which was
        // then 8% of the digits training, and no copy now).
        if R * C * N >= crate::simd::MIN_WORK
            && crate::simd::t_matmul_set_wide(&self.data, &rhs.data, &mut out.data)
        {
            return;
        }
        let (a, b, o) = (&self.data, &rhs.data, &mut out.data);
        crate::simd::run_if(
            R * C * N,
            #[inline(always)]
            // The same tiles on every path: larger ones (8 x 8, 4 x 16 f32)
            // measured 8x slower under AVX2 (the tile no longer stays in
            // registers) and 6 x 8 no faster.
            || {
                if N < 8 {
                    narrow_t_set(a, b, o);
                    return;
                }
                *o = [[T::zero(); N]; C];
                // Tiles of 2 rows of Aᵀ when a layer has 2 or 3 inputs: with 4
                // nothing was tiled, and the edge loop made the f32 notebook
                // layer's weight gradient (2 x 5 x 25) 5x slower than f64's.
                if core::mem::size_of::<T>() == 4 && C >= 4 {
                    tiled_t_acc::<T, R, C, N, 4, 8>(a, b, o);
                } else {
                    tiled_t_acc::<T, R, C, N, 2, 8>(a, b, o);
                }
            },
        );
    }

    /// `A Bᵀ` for `A: R x C` and `B: N x C`, without forming `Bᵀ`:
    /// `(A Bᵀ)_ij = Σ_k A_ik B_jk`. This is a dense layer's input gradient `D Wᵀ`.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let a = Matrix::from_array([[1.0f64, 2.0]]);
    /// let b = Matrix::from_array([[3.0f64, 4.0], [5.0, 6.0]]);
    /// assert_eq!(a.matmul_t(&b).into_array(), [[11.0, 17.0]]);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn matmul_t<const N: usize>(&self, rhs: &Matrix<T, N, C>) -> Matrix<T, R, N> {
        let mut out = Matrix::zeros();
        self.matmul_t_into(rhs, &mut out);
        out
    }

    /// [`matmul_t`](Self::matmul_t) written into `out` (overwritten): a dense
    /// layer's input gradient `D Wᵀ`, straight into the caller's buffer.
    #[inline(always)]
    pub(crate) fn matmul_t_into<const N: usize>(
        &self,
        rhs: &Matrix<T, N, C>,
        out: &mut Matrix<T, R, N>,
    ) {
        // Small B, or short rows: transpose it once (N·C moves) and run the
        // register-tiled product (R·N·C multiply-adds); dot products of short
        // rows (a layer with 4 or 10 outputs) do not vectorize (the digits
        // CNN's 512 x 10 layer: 8192 dot products of 10 per batch of 16).
        // Large B with long rows (an MNIST layer's 784 x 128 weights): no
        // transposed copy on the stack, 8-way dot products instead.
        if N * C <= MAX_TRANSPOSED || (C < 32 && N * C <= 4 * MAX_TRANSPOSED) {
            self.matmul_to(&rhs.transpose(), out);
        } else {
            crate::simd::run_if(
                R * C * N,
                #[inline(always)]
                || {
                    for (o, a) in out.data.iter_mut().zip(&self.data) {
                        for (v, b) in o.iter_mut().zip(&rhs.data) {
                            *v = dot(a, b);
                        }
                    }
                },
            );
        }
    }

    /// Element-wise (Hadamard) product `A ⊙ B`.
    #[inline(always)]
    #[must_use]
    pub fn hadamard(&self, other: &Self) -> Self {
        self.zip_map(other, |a, b| a * b)
    }

    /// Every element multiplied by `s`.
    #[inline(always)]
    #[must_use]
    pub fn scale(&self, s: T) -> Self {
        self.map(|a| a * s)
    }

    /// Adds the row vector `b` to every row (broadcast bias): `Y_rc = A_rc + b_c`.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let a = Matrix::<f32, 2, 2>::zeros().add_row(&[1.0, 2.0]);
    /// assert_eq!(a.into_array(), [[1.0, 2.0], [1.0, 2.0]]);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn add_row(&self, b: &[T; C]) -> Self {
        let mut out = *self;
        for row in &mut out.data {
            for (x, &bc) in row.iter_mut().zip(b) {
                *x += bc;
            }
        }
        out
    }

    /// Sum over the rows (the batch): `s_c = Σ_r A_rc`. A dense layer's bias gradient.
    ///
    /// ```
    /// use stackgrad::Matrix;
    /// let a = Matrix::from_array([[1.0f64, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.sum_rows(), [4.0, 6.0]);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn sum_rows(&self) -> [T; C] {
        let mut s = [T::zero(); C];
        for row in &self.data {
            for (s_c, &x) in s.iter_mut().zip(row) {
                *s_c += x;
            }
        }
        s
    }

    /// Sum of all elements.
    #[inline]
    #[must_use]
    pub fn sum(&self) -> T {
        self.as_slice().iter().copied().sum()
    }

    /// Index of the largest element of each row (the predicted class).
    ///
    /// Ties go to the first index. NaN never wins a comparison, so a row that is
    /// all NaN reports index 0; a row that holds a NaN reports the largest of its
    /// other elements.
    #[inline]
    #[must_use]
    pub fn row_argmax(&self) -> [usize; R] {
        self.data.map(|row| argmax(&row))
    }

    /// Frobenius norm `sqrt(Σ A_rc²)`, computed with scaling so that it neither
    /// overflows nor underflows for finite input.
    #[must_use]
    pub fn norm(&self) -> T {
        crate::scalar::norm(self.as_slice())
    }

    /// Largest absolute value (0 for an empty matrix; NaN if any element is NaN).
    #[must_use]
    pub fn max_abs(&self) -> T {
        self.as_slice().iter().fold(T::zero(), |m, &x| {
            if x.is_nan() || m.is_nan() {
                T::nan()
            } else {
                m.max(x.abs())
            }
        })
    }

    /// Whether every element is finite (no NaN, no infinity).
    #[must_use]
    pub fn is_finite(&self) -> bool {
        self.as_slice().iter().all(|x| x.is_finite())
    }

    /// Converts every element to another float type (rounding to nearest).
    #[must_use]
    pub fn cast<U: Scalar>(&self) -> Matrix<U, R, C> {
        self.map(|x| U::from_f64(x.as_f64()))
    }
}

/// The most elements a product copies onto the stack to transpose an operand
/// (32 KiB in f64): `matmul_t` transposes small weights so that the tiled
/// kernels apply, and works in place above it.
const MAX_TRANSPOSED: usize = 4096;

/// `out += a b` with `MR x NR` register tiles; see [`Matrix::matmul_acc`].
#[inline(always)]
fn tiled_acc<
    T: Scalar,
    const R: usize,
    const C: usize,
    const N: usize,
    const MR: usize,
    const NR: usize,
>(
    a: &[[T; C]; R],
    b: &[[T; N]; C],
    out: &mut [[T; N]; R],
) {
    let full_cols = N / NR * NR;
    let mut a_tiles = a.chunks_exact(MR);
    let mut o_tiles = out.chunks_exact_mut(MR);
    for (a_t, o_t) in (&mut a_tiles).zip(&mut o_tiles) {
        for j0 in (0..full_cols).step_by(NR) {
            let mut acc = [[T::zero(); NR]; MR];
            for k in 0..C {
                let Ok(bk) = <&[T; NR]>::try_from(&b[k][j0..j0 + NR]) else {
                    continue;
                };
                for (acc_r, a_r) in acc.iter_mut().zip(a_t) {
                    let a_rk = a_r[k];
                    for (s, &b_kj) in acc_r.iter_mut().zip(bk) {
                        *s += a_rk * b_kj;
                    }
                }
            }
            for (o_r, acc_r) in o_t.iter_mut().zip(&acc) {
                for (o, &s) in o_r[j0..j0 + NR].iter_mut().zip(acc_r) {
                    *o += s;
                }
            }
        }
        // Columns past the last full tile.
        if full_cols < N {
            for (o_r, a_r) in o_t.iter_mut().zip(a_t) {
                row_acc(a_r, b, &mut o_r[full_cols..], full_cols);
            }
        }
    }
    // Rows past the last full tile.
    for (o_r, a_r) in o_tiles.into_remainder().iter_mut().zip(a_tiles.remainder()) {
        row_acc(a_r, b, o_r, 0);
    }
}

/// `o_j += Σ_k a_k b_k(from + j)` for the columns of one output row from
/// `from`, with the sum formed first and added once, the order of every tile,
/// so that an element's value does not depend on which kernel computed it.
#[inline(always)]
fn row_acc<T: Scalar, const C: usize, const N: usize>(
    a_r: &[T; C],
    b: &[[T; N]; C],
    o: &mut [T],
    from: usize,
) {
    let mut acc = [T::zero(); N];
    let acc = &mut acc[from..];
    for (&a_k, b_k) in a_r.iter().zip(b) {
        for (s, &b_kj) in acc.iter_mut().zip(&b_k[from..]) {
            *s += a_k * b_kj;
        }
    }
    for (o, &s) in o.iter_mut().zip(acc.iter()) {
        *o += s;
    }
}

/// `out = aᵀ b` for narrow outputs (a layer with few units): one full row of
/// `out` in registers per `i`, summed over the batch and stored, without
/// zeroing `out` first (`0 + s` is `s`: the bits of adding into zeros).
#[inline(always)]
fn narrow_t_set<T: Scalar, const R: usize, const C: usize, const N: usize>(
    a: &[[T; C]; R],
    b: &[[T; N]; R],
    out: &mut [[T; N]; C],
) {
    for (i, o_i) in out.iter_mut().enumerate() {
        let mut acc = [T::zero(); N];
        for (a_r, b_r) in a.iter().zip(b) {
            let a_ri = a_r[i];
            for (s, &b_rj) in acc.iter_mut().zip(b_r) {
                *s += a_ri * b_rj;
            }
        }
        *o_i = acc;
    }
}

/// `out += aᵀ b` (`a: R x C`, `b: R x N`, `out: C x N`) with `MR x NR` register
/// tiles over `out`, accumulated across the `R` rows; the kernel of
/// [`Matrix::t_matmul`].
#[inline(always)]
fn tiled_t_acc<
    T: Scalar,
    const R: usize,
    const C: usize,
    const N: usize,
    const MR: usize,
    const NR: usize,
>(
    a: &[[T; C]; R],
    b: &[[T; N]; R],
    out: &mut [[T; N]; C],
) {
    let full_rows = C / MR * MR;
    let full_cols = N / NR * NR;
    for i0 in (0..full_rows).step_by(MR) {
        for j0 in (0..full_cols).step_by(NR) {
            let mut acc = [[T::zero(); NR]; MR];
            for (a_r, b_r) in a.iter().zip(b) {
                let (Ok(ar), Ok(br)) = (
                    <&[T; MR]>::try_from(&a_r[i0..i0 + MR]),
                    <&[T; NR]>::try_from(&b_r[j0..j0 + NR]),
                ) else {
                    continue;
                };
                for (acc_i, &a_ri) in acc.iter_mut().zip(ar) {
                    for (s, &b_rj) in acc_i.iter_mut().zip(br) {
                        *s += a_ri * b_rj;
                    }
                }
            }
            for (o_i, acc_i) in out[i0..i0 + MR].iter_mut().zip(&acc) {
                for (o, &s) in o_i[j0..j0 + NR].iter_mut().zip(acc_i) {
                    *o += s;
                }
            }
        }
    }
    // The edges: columns past the last full tile for the tiled rows, then the
    // remaining rows over all columns.
    // Both slice bounds are constants after monomorphization, so each inner
    // loop has a fixed length (one vector operation for a 4-wide row).
    for (a_r, b_r) in a.iter().zip(b) {
        for (i, (o_i, &a_ri)) in out.iter_mut().zip(a_r).enumerate() {
            if full_cols == 0 || i >= full_rows {
                for (o, &b_rj) in o_i.iter_mut().zip(b_r) {
                    *o += a_ri * b_rj;
                }
            } else if full_cols < N {
                for (o, &b_rj) in o_i[full_cols..].iter_mut().zip(&b_r[full_cols..]) {
                    *o += a_ri * b_rj;
                }
            }
        }
    }
}

/// `Σ_k a_k b_k` with eight independent partial sums, so that the loop
/// vectorizes (a single running sum is a serial chain the compiler may not
/// reorder).
#[inline(always)]
fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    const L: usize = 8;
    let mut acc = [T::zero(); L];
    let (ac, bc) = (a.chunks_exact(L), b.chunks_exact(L));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    let mut tail = T::zero();
    for (&x, &y) in ar.iter().zip(br) {
        tail += x * y;
    }
    let [s0, s1, s2, s3, s4, s5, s6, s7] = acc;
    ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)) + tail
}

impl<T: Scalar, const N: usize> Matrix<T, N, N> {
    /// The `N x N` identity matrix.
    #[must_use]
    pub fn identity() -> Self {
        Self::from_fn(|r, c| if r == c { T::one() } else { T::zero() })
    }
}

impl<T: Scalar, const R: usize, const C: usize> Default for Matrix<T, R, C> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<T: Copy, const R: usize, const C: usize> From<[[T; C]; R]> for Matrix<T, R, C> {
    fn from(data: [[T; C]; R]) -> Self {
        Self { data }
    }
}

impl<T, const R: usize, const C: usize> Index<(usize, usize)> for Matrix<T, R, C> {
    type Output = T;
    /// Element `(row, column)`. Panics when out of range, like slice indexing.
    #[inline(always)]
    fn index(&self, (r, c): (usize, usize)) -> &T {
        &self.data[r][c]
    }
}

impl<T, const R: usize, const C: usize> IndexMut<(usize, usize)> for Matrix<T, R, C> {
    #[inline(always)]
    fn index_mut(&mut self, (r, c): (usize, usize)) -> &mut T {
        &mut self.data[r][c]
    }
}

/// `A * B` is the matrix product (inner dimensions must agree).
impl<T: Scalar, const M: usize, const K: usize, const N: usize> Mul<Matrix<T, K, N>>
    for Matrix<T, M, K>
{
    type Output = Matrix<T, M, N>;
    #[inline]
    fn mul(self, rhs: Matrix<T, K, N>) -> Matrix<T, M, N> {
        self.matmul(&rhs)
    }
}

/// `A * s` scales every element.
impl<T: Scalar, const R: usize, const C: usize> Mul<T> for Matrix<T, R, C> {
    type Output = Self;
    #[inline]
    fn mul(self, s: T) -> Self {
        self.scale(s)
    }
}

impl<T: Scalar, const R: usize, const C: usize> Add for Matrix<T, R, C> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        self.zip_map(&rhs, |a, b| a + b)
    }
}

impl<T: Scalar, const R: usize, const C: usize> Sub for Matrix<T, R, C> {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        self.zip_map(&rhs, |a, b| a - b)
    }
}

impl<T: Scalar, const R: usize, const C: usize> Neg for Matrix<T, R, C> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.map(|a| -a)
    }
}

impl<T: Scalar, const R: usize, const C: usize> AddAssign for Matrix<T, R, C> {
    #[inline]
    fn add_assign(&mut self, rhs: Self) {
        for (a, &b) in self.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *a += b;
        }
    }
}

impl<T: Scalar, const R: usize, const C: usize> SubAssign for Matrix<T, R, C> {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        for (a, &b) in self.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *a -= b;
        }
    }
}

/// Prints like numpy: one bracketed row per line, honouring the precision flag
/// (`{:.3}`) and the alternate flag for scientific notation (`{:#}`).
///
/// ```
/// use stackgrad::Matrix;
/// let m = Matrix::from_array([[1.0f64, -2.5], [0.25, 4.0]]);
/// assert_eq!(format!("{m:.2}"), "[[ 1.00, -2.50],\n [ 0.25,  4.00]]");
/// ```
impl<T: Scalar, const R: usize, const C: usize> fmt::Display for Matrix<T, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prec = f.precision().unwrap_or(6);
        let sci = f.alternate();
        // Width of the widest element, so that columns line up (no heap: two passes).
        let mut width = 0;
        for &x in self.as_slice() {
            width = width.max(formatted_len(x, prec, sci));
        }
        f.write_str("[")?;
        for (r, row) in self.data.iter().enumerate() {
            if r > 0 {
                f.write_str(",\n ")?;
            }
            f.write_str("[")?;
            for (c, &x) in row.iter().enumerate() {
                if c > 0 {
                    f.write_str(", ")?;
                }
                if sci {
                    write!(f, "{:>width$.prec$e}", x)?;
                } else {
                    write!(f, "{:>width$.prec$}", x)?;
                }
            }
            f.write_str("]")?;
        }
        f.write_str("]")
    }
}

/// Length of `x` printed with `prec` digits, counted without allocating.
fn formatted_len<T: Scalar>(x: T, prec: usize, sci: bool) -> usize {
    struct Counter(usize);
    impl fmt::Write for Counter {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.chars().count();
            Ok(())
        }
    }
    let mut c = Counter(0);
    let _ = if sci {
        fmt::write(&mut c, format_args!("{:.prec$e}", x))
    } else {
        fmt::write(&mut c, format_args!("{:.prec$}", x))
    };
    c.0
}

/// Shows the shape, then the rows (`{:?}` of each element; `{:.3?}` sets the precision).
impl<T: fmt::Debug, const R: usize, const C: usize> fmt::Debug for Matrix<T, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matrix<{R}, {C}> ")?;
        f.debug_list().entries(self.data.iter()).finish()
    }
}

/// The index of the largest element (the first on ties; NaN loses to any
/// number), as [`Matrix::row_argmax`] takes it per row; 0 for an empty row.
///
/// The largest number first, with selects (NaN never compares greater), then
/// the first position holding it.
#[inline(always)]
pub(crate) fn argmax<T: Scalar>(row: &[T]) -> usize {
    let mut top = T::neg_infinity();
    for &x in row {
        top = if x > top { x } else { top };
    }
    // No match: every element is NaN.
    row.iter().position(|&x| x == top).unwrap_or(0)
}

/// Whether `c` is the [`argmax`] of `row`, without finding the argmax: no
/// element before `c` reaches `row[c]` and none after it exceeds it (NaN
/// compares as neither), or, for a NaN `row[c]`, every element is NaN and `c`
/// is 0. Compares and ANDs with no data-dependent branch: finding the argmax
/// of every digits row to count the correct ones mispredicted its way to
/// about 3% of the training time.
#[inline(always)]
pub(crate) fn is_argmax<T: Scalar>(row: &[T], c: usize) -> bool {
    let Some(&top) = row.get(c) else {
        return false;
    };
    if top.is_nan() {
        return c == 0 && row.iter().all(|x| x.is_nan());
    }
    let mut beaten = false;
    for (j, &x) in row.iter().enumerate() {
        beaten |= if j < c { x >= top } else { x > top };
    }
    !beaten
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A Bᵀ` into a buffer holding garbage: the wide kernel's set mode
    /// (32 x 10 times 64 x 10 transposed, the digits net's `D Wᵀ`, f32 and
    /// f64) and the portable path both overwrite every element.
    #[test]
    fn matmul_t_into_overwrites_its_output() {
        fn check<T: Scalar, const R: usize, const C: usize, const N: usize>() {
            let a =
                Matrix::<T, R, C>::from_fn(|i, k| T::from_f64(((i * C + k) as f64 * 0.37).sin()));
            let b =
                Matrix::<T, N, C>::from_fn(|j, k| T::from_f64(((j * C + k) as f64 * 0.91).cos()));
            let mut out = Matrix::<T, R, N>::splat(T::from_f64(7.0));
            a.matmul_t_into(&b, &mut out);
            assert_eq!(out, a.matmul(&b.transpose()));
            assert!(out.as_slice().iter().all(|v| v.as_f64() != 7.0));
        }
        check::<f32, 32, 10, 64>();
        check::<f64, 32, 10, 64>();
        check::<f64, 3, 2, 4>();
    }

    #[test]
    fn transposed_products_agree_with_explicit_transpose() {
        let a = Matrix::<f64, 3, 2>::from_fn(|r, c| (r * 2 + c) as f64 - 1.5);
        let b = Matrix::<f64, 3, 4>::from_fn(|r, c| (r as f64) * 0.5 - c as f64);
        assert_eq!(a.t_matmul(&b), a.transpose().matmul(&b));
        let d = Matrix::<f64, 4, 2>::from_fn(|r, c| (r + c) as f64 * 0.25);
        assert_eq!(a.matmul_t(&d), a.matmul(&d.transpose()));
    }

    /// Small transposes copy in place, large ones (from `OUT_OF_LINE_MIN`
    /// elements) in a function of their own: both move every element.
    #[test]
    fn transpose_moves_every_element_small_or_large() {
        fn check<const R: usize, const C: usize>() {
            let a = Matrix::<f32, R, C>::from_fn(|r, c| (r * C + c) as f32);
            let t = a.transpose();
            for r in 0..R {
                for c in 0..C {
                    assert_eq!(t[(c, r)], a[(r, c)], "{R}x{C} at ({r}, {c})");
                }
            }
            assert_eq!(t.transpose(), a);
        }
        const { assert!(5 * 4 < crate::simd::OUT_OF_LINE_MIN) };
        const { assert!(64 * 10 >= crate::simd::OUT_OF_LINE_MIN) };
        check::<5, 4>();
        check::<64, 10>();
        check::<16, 16>();
        check::<1, 300>();
    }

    /// Every small-product kernel (narrow outputs with all rows in one tile,
    /// 4-row tiles, row by row; the overwriting narrow `Aᵀ B`) gives each
    /// element the sum `Σ_k a_k b_k` in `k` order from 0, added once: a row
    /// of a batch's product is bit for bit the product of that row alone, and
    /// `Aᵀ B` is bit for bit `(Aᵀ) B`.
    #[test]
    fn small_products_sum_in_order_whatever_the_tile() {
        fn check<const R: usize, const C: usize, const N: usize>() {
            let v = |i: usize| ((i * 7919 % 1000) as f64 / 997.0 - 0.5) * 3.1;
            let a = Matrix::<f64, R, C>::from_fn(|r, c| v(r * C + c));
            let b = Matrix::<f64, C, N>::from_fn(|r, c| v(5000 + r * N + c));
            let ab = a.matmul(&b);
            for r in 0..R {
                let row = Matrix::<f64, 1, C>::from_array([*a.row(r)]);
                let mut want = [0.0; N];
                for (j, w) in want.iter_mut().enumerate() {
                    let mut s = 0.0;
                    for k in 0..C {
                        s += a[(r, k)] * b[(k, j)];
                    }
                    *w = s;
                }
                assert_eq!(*ab.row(r), want, "{R}x{C}x{N} row {r}");
                assert_eq!(*row.matmul(&b).row(0), want, "{R}x{C}x{N} row {r} alone");
            }
            let d = Matrix::<f64, R, N>::from_fn(|r, c| v(9000 + r * N + c));
            assert_eq!(a.t_matmul(&d), a.transpose().matmul(&d), "{R}x{C}x{N} t");
        }
        check::<5, 25, 4>();
        check::<1, 3, 1>();
        check::<8, 9, 7>();
        check::<9, 6, 4>();
        check::<13, 5, 3>();
        check::<5, 2, 25>();
        check::<6, 10, 12>();
    }

    #[test]
    fn display_aligns_columns_and_debug_names_shape() {
        let m = Matrix::from_array([[1.0f32, 10.0]]);
        assert_eq!(format!("{m:.1}"), "[[ 1.0, 10.0]]");
        assert_eq!(format!("{m:?}"), "Matrix<1, 2> [[1.0, 10.0]]");
        assert_eq!(format!("{m:#.1}"), "[[1.0e0, 1.0e1]]");
    }

    /// Every matrix starts on a cache line, and so does every tensor of a
    /// dense layer (its bias follows whole lines of weights): the optimizers'
    /// vector loops depend on it for their speed.
    #[test]
    fn matrices_and_layer_tensors_are_cache_line_aligned() {
        use crate::nn::Dense;
        assert_eq!(core::mem::align_of::<Matrix<f32, 1, 3>>(), 64);
        assert_eq!(core::mem::size_of::<Matrix<f64, 5, 2>>(), 128);
        assert_eq!(core::mem::size_of::<Matrix<f32, 64, 64>>(), 64 * 64 * 4);
        let layers = [Dense::<f32, 3, 5>::zeros(), Dense::zeros()];
        for d in &layers {
            assert_eq!(d.weight.as_slice().as_ptr() as usize % 64, 0);
            assert_eq!(d.bias.as_ptr() as usize % 64, 0);
        }
    }

    /// `is_argmax` agrees with `argmax` on every position of rows with ties,
    /// NaNs, infinities and signed zeros.
    #[test]
    fn is_argmax_agrees_with_argmax() {
        let (n, i) = (f64::NAN, f64::INFINITY);
        let rows: [&[f64]; 10] = [
            &[1.0, 3.0, 3.0],
            &[n, 2.0, 1.0],
            &[n, n, n],
            &[-i, -i],
            &[0.0, -0.0, 0.0],
            &[2.0, n, 2.0, 5.0, n],
            &[i, 1.0, i],
            &[-1.0],
            &[],
            &[n, -i],
        ];
        for row in rows {
            for c in 0..=row.len() {
                let want = !row.is_empty() && argmax(row) == c;
                assert_eq!(is_argmax(row, c), want, "{row:?} at {c}");
            }
        }
    }

    #[test]
    fn argmax_handles_ties_and_nan() {
        let m = Matrix::from_array([
            [1.0f64, 3.0, 3.0],
            [f64::NAN, 2.0, 1.0],
            [f64::NAN, f64::NAN, f64::NAN],
        ]);
        assert_eq!(m.row_argmax(), [1, 1, 0]);
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(Matrix::<f32, 2, 2>::from_slice(&[1.0, 2.0, 3.0]).is_none());
        let m = Matrix::<f32, 2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m[(1, 0)], 3.0);
        assert_eq!(m.get(2, 0), None);
    }

    #[test]
    fn norm_does_not_overflow() {
        let m = Matrix::<f32, 1, 2>::from_array([[3e30, 4e30]]);
        assert!((m.norm() / 5e30 - 1.0).abs() < 1e-6);
    }
}
