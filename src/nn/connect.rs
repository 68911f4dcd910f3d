//! The [`Connect`](super::Connect) impls shared by layers of one kind: a
//! layer that takes rows of a fixed width and has a scalar type (dense,
//! linear, the row normalizations). Each layer's own file invokes them.

/// `Connect` for a layer `$Name<T, ..>` that takes rows of `$in` values and
/// produces rows of `$out`, checking the width with the rule `$Rule` (a
/// trait of [`shape`](crate::shape) whose message prints the numbers) and
/// the scalar type with `SameScalar`; images get the "put a `Flatten`
/// before it" sentence.
macro_rules! rows_layer_connect {
    ($Name:ident<T $(, $c:ident)*>, $Rule:ident, $in:ident, $out:ident) => {
        impl<T: $crate::Scalar, U, const P: usize, const M: usize $(, const $c: usize)*>
            $crate::nn::Connect<$crate::shape::Rows<U, M>, $crate::shape::At<P>> for $Name<T $(, $c)*>
        where
            $crate::shape::Then<T, $crate::shape::Shapes>:
                $crate::shape::SameScalar<Self, P, U, T> + $crate::shape::$Rule<Self, P, M, $in>,
        {
            type Out = <$crate::shape::Then<T, $crate::shape::Shapes> as $crate::shape::$Rule<Self, P, M, $in>>::Same<
                <$crate::shape::Then<T, $crate::shape::Shapes> as $crate::shape::SameScalar<Self, P, U, T>>::Same<
                    $crate::shape::Rows<T, $out>,
                >,
            >;
        }

        impl<T: $crate::Scalar, const P: usize $(, const $c: usize)*>
            $crate::nn::Connect<$crate::shape::Unknown, $crate::shape::At<P>> for $Name<T $(, $c)*>
        {
            type Out = $crate::shape::Rows<T, $out>;
        }

        impl<
            T: $crate::Scalar,
            U,
            const P: usize,
            const C: usize,
            const H: usize,
            const W: usize
            $(, const $c: usize)*
        > $crate::nn::Connect<$crate::shape::Image<U, C, H, W>, $crate::shape::At<P>> for $Name<T $(, $c)*>
        where
            $crate::shape::Then<T, $crate::shape::Shapes>: $crate::shape::TakesRows<Self, P, C, H, W>,
        {
            type Out = <$crate::shape::Then<T, $crate::shape::Shapes> as $crate::shape::TakesRows<Self, P, C, H, W>>::Same<
                $crate::shape::Unknown,
            >;
        }

        impl<T: $crate::Scalar, U, const P: usize, const C: usize $(, const $c: usize)*>
            $crate::nn::Connect<$crate::shape::Channels<U, C>, $crate::shape::At<P>> for $Name<T $(, $c)*>
        where
            $crate::shape::Then<T, $crate::shape::Shapes>: $crate::shape::TakesRowsNotMaps<Self, P, C>,
        {
            type Out = <$crate::shape::Then<T, $crate::shape::Shapes> as $crate::shape::TakesRowsNotMaps<Self, P, C>>::Same<
                $crate::shape::Unknown,
            >;
        }
    };
}

/// `Connect` for a layer without parameters that keeps its input's shape
/// (activations, dropout).
macro_rules! same_shape_connect {
    ($($ty:ty),*) => {$(
        impl<S, A> $crate::nn::Connect<S, A> for $ty {
            type Out = S;
        }
    )*};
}
