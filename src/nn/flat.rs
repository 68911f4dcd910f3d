//! [`FlatParams`]: every parameter of a network in one array whose length, the
//! network's parameter count, is computed at compile time (notebook 004's
//! `params_to_vector` and `vector_to_dict`).
//!
//! Const generics cannot add or multiply in a type on stable Rust, so the length
//! is a typenum number (`I·O + O` for a [`Dense`], the sum over a network's
//! layers) and the array a [`GenericArray`]. Users name it through the alias
//! [`Flat<T, N>`](Flat) and never write typenum:
//!
//! ```
//! use stackgrad::nn::{Dense, Flat, FlatParams, Net, Sigmoid};
//! type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
//! let net: Classifier = Net::new((Dense::zeros(), Sigmoid, Dense::zeros()));
//! let v: Flat<f64, Classifier> = net.to_flat();
//! assert_eq!(v.len(), 179); // 2·25 + 25 + 25·4 + 4
//! ```
//!
//! The order is [`Params`]' order: tensor by tensor (a layer's weight, row-major
//! `I x O`, then its bias), layers in network order. A new layer with parameters
//! implements `FlatParams` next to its `Params` impl; a layer without implements
//! it with `type Len = U0`.

use core::ops::{Add, Mul};

use generic_array::{ArrayLength, GenericArray};
use typenum::{Const, Prod, Sum, ToUInt, U, U0, Unsigned};

use super::{
    Dense, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Linear, Net, Params, Relu, Sigmoid, Silu,
    Softmax, Softplus, Tanh,
};
use crate::Scalar;

/// All parameters of a network `N` over `T` as one array, `N::PARAMS` long.
pub type Flat<T, N> = GenericArray<T, <N as FlatParams<T>>::Len>;

/// A layer or network whose parameters flatten into one statically sized array
/// and back; see the module docs.
///
/// ```
/// use stackgrad::nn::{Dense, FlatParams, Relu};
/// use stackgrad::Matrix;
/// let net = (Dense::<f64, 2, 1>::new(Matrix::from_array([[1.0], [2.0]]), [3.0]), Relu);
/// let v = net.to_flat();
/// assert_eq!(v.as_slice(), &[1.0, 2.0, 3.0]);
/// let mut other = (Dense::<f64, 2, 1>::zeros(), Relu);
/// other.set_flat(&v);
/// assert_eq!(other, net);
/// ```
pub trait FlatParams<T: Scalar>: Params<T> {
    /// The parameter count as a type-level number; equal to [`Params::PARAMS`].
    type Len: ArrayLength;

    /// Every parameter, tensor by tensor in [`Params`] order.
    #[must_use]
    fn to_flat(&self) -> Flat<T, Self>
    where
        Self: Sized,
    {
        const { assert!(Self::Len::USIZE == Self::PARAMS) };
        let mut out = GenericArray::<T, Self::Len>::default();
        let mut rest = out.as_mut_slice();
        self.for_each_tensor(|t| {
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(t.data.len());
            head.copy_from_slice(t.data);
            rest = tail;
        });
        out
    }

    /// Overwrites every parameter from `flat` (the inverse of
    /// [`to_flat`](FlatParams::to_flat): the round trip is exact).
    fn set_flat(&mut self, flat: &Flat<T, Self>)
    where
        Self: Sized,
    {
        const { assert!(Self::Len::USIZE == Self::PARAMS) };
        let mut rest = flat.as_slice();
        for k in 0..Self::TENSORS {
            if let Some(t) = self.tensor_mut(k) {
                let (head, tail) = rest.split_at(t.data.len());
                t.data.copy_from_slice(head);
                rest = tail;
            }
        }
    }
}

impl<T: Scalar, const I: usize, const O: usize> FlatParams<T> for Dense<T, I, O>
where
    Const<I>: ToUInt,
    Const<O>: ToUInt,
    U<I>: Mul<U<O>, Output: Add<U<O>, Output: ArrayLength>>,
{
    type Len = Sum<Prod<U<I>, U<O>>, U<O>>;
}

impl<T: Scalar, const I: usize, const O: usize> FlatParams<T> for Linear<T, I, O>
where
    Const<I>: ToUInt,
    Const<O>: ToUInt,
    U<I>: Mul<U<O>, Output: ArrayLength>,
{
    type Len = Prod<U<I>, U<O>>;
}

macro_rules! no_flat_params {
    ($($ty:ty),*) => {$(
        impl<T: Scalar> FlatParams<T> for $ty {
            type Len = U0;
        }
    )*};
}
no_flat_params!(
    Identity, Sigmoid, Tanh, Relu, LeakyRelu, Elu, Gelu, GeluTanh, Silu, Softplus, Softmax
);

impl<T: Scalar, L: FlatParams<T>> FlatParams<T> for Net<L> {
    type Len = L::Len;
}

impl<T: Scalar, A: FlatParams<T>> FlatParams<T> for (A,) {
    type Len = A::Len;
}

/// A tuple's length is its first layer's plus the rest's (a tuple one shorter).
macro_rules! flat_tuple {
    ($A:ident, $($R:ident),+) => {
        impl<T: Scalar, $A: FlatParams<T>, $($R: Params<T>),+> FlatParams<T> for ($A, $($R),+)
        where
            ($($R,)+): FlatParams<T>,
            $A::Len: Add<<($($R,)+) as FlatParams<T>>::Len, Output: ArrayLength>,
        {
            type Len = Sum<$A::Len, <($($R,)+) as FlatParams<T>>::Len>;
        }
    };
}
flat_tuple!(A, B);
flat_tuple!(A, B, C);
flat_tuple!(A, B, C, D);
flat_tuple!(A, B, C, D, E);
flat_tuple!(A, B, C, D, E, F);
flat_tuple!(A, B, C, D, E, F, G);
flat_tuple!(A, B, C, D, E, F, G, H);
flat_tuple!(A, B, C, D, E, F, G, H, I);
flat_tuple!(A, B, C, D, E, F, G, H, I, J);
flat_tuple!(A, B, C, D, E, F, G, H, I, J, K);
flat_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;

    fn len<T: Scalar, N: FlatParams<T>>() -> (usize, usize) {
        (N::Len::USIZE, N::PARAMS)
    }

    /// The type-level length equals the `PARAMS` constant for every layer kind
    /// and for networks: notebook 001's 179, notebook 004's 47 (its
    /// `params_to_vector` returns 47 values), notebook 000's 9.
    #[test]
    fn type_level_length_equals_params() {
        assert_eq!(len::<f64, Dense<f64, 2, 25>>(), (75, 75));
        assert_eq!(len::<f32, Linear<f32, 7, 5>>(), (35, 35));
        assert_eq!(len::<f64, Relu>(), (0, 0));
        assert_eq!(
            len::<f64, Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>>(),
            (179, 179)
        );
        type Net004 = Net<(
            Dense<f64, 4, 5>,
            Relu,
            Dense<f64, 5, 3>,
            Relu,
            Dense<f64, 3, 1>,
            Sigmoid,
        )>;
        assert_eq!(len::<f64, Net004>(), (47, 47));
        type Net000 = Net<(Linear<f64, 2, 3>, Sigmoid, Linear<f64, 3, 1>, Sigmoid)>;
        assert_eq!(len::<f64, Net000>(), (9, 9));
        type Deep = (
            Dense<f32, 1, 2>,
            Tanh,
            Dense<f32, 2, 3>,
            Tanh,
            Dense<f32, 3, 4>,
            Tanh,
            Dense<f32, 4, 5>,
            Tanh,
            Dense<f32, 5, 6>,
            Tanh,
            Dense<f32, 6, 7>,
            Softmax,
        );
        assert_eq!(len::<f32, Deep>(), (4 + 9 + 16 + 25 + 36 + 49, 139));
    }

    /// `set_flat(to_flat)` reproduces every bit, including -0.0, subnormals and NaN payloads.
    #[test]
    fn round_trip_is_exact() {
        let weird = [
            -0.0f64,
            5e-324,
            f64::from_bits(0x7ff8_0000_dead_beef),
            1e308,
        ];
        let mut k = 0;
        let mut next = || {
            k += 1;
            weird[k % 4] * if k % 3 == 0 { 1.0 } else { (k as f64).sin() }
        };
        let net = Net::new((
            Dense::<f64, 3, 2>::new(Matrix::from_fn(|_, _| next()), [next(), next()]),
            Relu,
            Linear::<f64, 2, 2>::new(Matrix::from_fn(|_, _| next())),
        ));
        let v = net.to_flat();
        let mut back = net.zeros_like();
        back.set_flat(&v);
        let bits = |n: &Net<(Dense<f64, 3, 2>, Relu, Linear<f64, 2, 2>)>| {
            let mut out = [0u64; 12];
            for (o, x) in out.iter_mut().zip(n.to_flat().iter()) {
                *o = x.to_bits();
            }
            out
        };
        assert_eq!(bits(&back), bits(&net));
        assert_eq!(v[0].to_bits(), net.layers.0.weight[(0, 0)].to_bits());
        assert_eq!(v[6], net.layers.0.bias[0]);
        assert_eq!(v[8].to_bits(), net.layers.2.weight[(0, 0)].to_bits());
    }
}
