//! Layer by layer: each layer's backward against central differences of
//! its own forward, at the input it receives in the network (see the
//! section "Layer by layer" of the module docs of `gradcheck`).
//!
//! Cost: two forward passes of a layer per element of its parameters and
//! its input, plus one forward pass of each layer and network to feed the
//! next; a block is checked as a whole and then path by path, twice its
//! paths' cost. No heap (a boxed layer's f64 copy is boxed); the stack holds
//! four copies of one layer at a time (its gradients, its f64 copy, the f64
//! gradients both ways) and a report of 64 tensors.

use core::any::type_name;
use core::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{
    Coord, Error, GradCheck, Judge, Objective, Padded, Point, TensorReport, Verdict, batch_of,
    compare, ensure_deterministic, fnv, numerical_input, numerical_params, reject_vacuous,
    write_tensor_row,
};
use crate::init::standard_normal;
use crate::nn::{Layer, LayerName, ParamName, Params, Path, Pattern, Recast, Shape, Visitor, Walk};
use crate::{Elements, Scalar};

/// How many layers (and blocks) a [`LayerReport`] holds.
pub const MAX_LAYERS: usize = 32;

/// How many tensors (over all layers: each layer's parameters and its input)
/// a [`LayerReport`] holds.
pub const MAX_LAYER_TENSORS: usize = 64;

type Recast64<A> = <A as Recast<f64>>::Output;

/// A layer the checker can check on its own, fed `In` over `T`: a [`Layer`]
/// with [`Params`], an output of `T` values, and an f64 copy ([`Recast`])
/// that takes the f64 copy of the input.
///
/// Implemented for every type that fits (every layer of the library, every
/// network of them, a [`Custom`](crate::nn::Custom) layer generic over its
/// float type, a [`params!`](crate::params) layer); users never implement
/// it, and [`Walk`] asks for it.
pub trait CheckLayer<In, T: Scalar>: Layer<In, Output: Elements<Elem = T>> + Params<T> {
    /// The f64 copy of the input.
    type X64: Elements<Elem = f64>;
    /// The f64 copy of the layer.
    type Reference: Layer<Self::X64, Output: Elements<Elem = f64>> + Params<f64>;
    /// The input's dimensions (the first is the batch).
    const INPUT_DIMS: &'static [usize];

    /// The f64 copy of the layer.
    fn reference(&self) -> Self::Reference;
    /// The f64 copy of an input.
    fn input64(x: &In) -> Self::X64;
    /// An input's elements.
    fn input(x: &In) -> &[T];
}

impl<L, In, T> CheckLayer<In, T> for L
where
    T: Scalar,
    In: Elements<Elem = T> + Recast<f64, Output: Elements<Elem = f64>>,
    L: Layer<In, Output: Elements<Elem = T>>
        + Params<T>
        + Recast<f64, Output: Layer<Recast64<In>, Output: Elements<Elem = f64>> + Params<f64>>,
{
    type X64 = Recast64<In>;
    type Reference = Recast64<L>;
    const INPUT_DIMS: &'static [usize] = In::DIMS;

    fn reference(&self) -> Self::Reference {
        self.recast()
    }
    fn input64(x: &In) -> Self::X64 {
        x.recast()
    }
    fn input(x: &In) -> &[T] {
        x.elems()
    }
}

/// The result for one layer (or block) of a layer-by-layer check; its
/// tensors are [`LayerReport::tensors`] (or the slice handed to
/// [`check_layers_each`](GradCheck::check_layers_each)'s closure): the
/// layer's parameters in order, then `"input"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerResult {
    /// Where the layer is and what it is: `layer 2 (Relu)`.
    pub name: LayerName,
    /// Whether it is a block checked as a whole (its paths follow as layers
    /// of their own).
    pub block: bool,
    /// [`Verdict::Fail`] when one of its tensors fails, [`Verdict::Unused`]
    /// when every tensor was zero both ways, else [`Verdict::Pass`].
    pub verdict: Verdict,
    /// Kinks over its tensors.
    pub kinks: usize,
    first: usize,
    len: usize,
}

impl LayerResult {
    /// Whether the layer passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.verdict != Verdict::Fail
    }
}

/// The result of [`GradCheck::check_layers`]: one [`LayerResult`] per layer
/// and block in forward order (a block before its paths), each with its
/// tensors, stored inline. `Display` prints a table and the
/// [`conclusion`](LayerReport::conclusion).
#[derive(Debug, Clone, Copy)]
pub struct LayerReport {
    layers: [LayerResult; MAX_LAYERS],
    len: usize,
    tensors: [TensorReport; MAX_LAYER_TENSORS],
    tensors_len: usize,
    /// The network's float type (`"f32"`, `"f64"`).
    pub precision: &'static str,
    /// The tolerance applied.
    pub tolerance: f64,
    /// The seed of the upstream gradients.
    pub seed: u64,
}

impl LayerReport {
    fn new(precision: &'static str, tolerance: f64, seed: u64) -> Self {
        let name = LayerName::new(&Path::default(), "");
        Self {
            layers: [LayerResult {
                name,
                block: false,
                verdict: Verdict::Pass,
                kinks: 0,
                first: 0,
                len: 0,
            }; MAX_LAYERS],
            len: 0,
            tensors: [TensorReport::empty(); MAX_LAYER_TENSORS],
            tensors_len: 0,
            precision,
            tolerance,
            seed,
        }
    }

    fn push(&mut self, layer: &LayerResult, tensors: &[TensorReport]) {
        let first = self.tensors_len;
        let (Some(slot), Some(room)) = (
            self.layers.get_mut(self.len),
            self.tensors.get_mut(first..first + tensors.len()),
        ) else {
            return; // the capacity was checked before the walk
        };
        room.copy_from_slice(tensors);
        *slot = LayerResult {
            first,
            len: tensors.len(),
            ..*layer
        };
        self.len += 1;
        self.tensors_len += tensors.len();
    }

    /// Every layer's result, in forward order (a block before its paths).
    #[must_use]
    pub fn layers(&self) -> &[LayerResult] {
        &self.layers[..self.len]
    }

    /// The tensors of `layer` (one of [`layers`](Self::layers)): its
    /// parameters, then `"input"`.
    #[must_use]
    pub fn tensors(&self, layer: &LayerResult) -> &[TensorReport] {
        self.tensors
            .get(layer.first..layer.first + layer.len)
            .unwrap_or(&[])
    }

    /// The layer at `path` (`&[2]`, or `&[1, 0, 2]` inside a block).
    #[must_use]
    pub fn layer(&self, path: &[u16]) -> Option<&LayerResult> {
        self.layers().iter().find(|l| l.name.path.indices() == path)
    }

    /// Whether every layer passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.layers().iter().all(LayerResult::passed)
    }

    /// The faulty layers, in forward order: those that fail while no layer
    /// inside them fails (a failing block whose paths pass combines them
    /// wrongly; a block that fails because one of its layers does is not
    /// faulty itself).
    pub fn faulty(&self) -> impl Iterator<Item = &LayerResult> {
        let layers = self.layers();
        layers.iter().filter(move |l| {
            !l.passed()
                && !layers
                    .iter()
                    .any(|m| !m.passed() && m.name.path.is_inside(&l.name.path))
        })
    }

    /// The first faulty layer, if any.
    #[must_use]
    pub fn first_faulty(&self) -> Option<&LayerResult> {
        self.faulty().next()
    }

    /// Kinks over all layers.
    #[must_use]
    pub fn kinks(&self) -> usize {
        self.layers().iter().map(|l| l.kinks).sum()
    }

    /// The one-line verdict: `the backward of layer 2 (Relu) is wrong: its
    /// input gradient disagrees with its forward; layers 0, 1, 3 are
    /// consistent`, or that every layer is consistent.
    #[must_use]
    pub fn conclusion(&self) -> Conclusion<'_> {
        Conclusion(self)
    }
}

/// [`LayerReport::conclusion`], displayed.
#[derive(Debug, Clone, Copy)]
pub struct Conclusion<'a>(&'a LayerReport);

impl fmt::Display for Conclusion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let mut faulty = r.faulty().peekable();
        if faulty.peek().is_none() {
            f.write_str("every layer's backward agrees with its forward")?;
        }
        for (k, layer) in faulty.enumerate() {
            if k == 0 {
                write!(f, "the backward of {} is wrong: ", layer.name)?;
            } else {
                write!(f, "; so is the backward of {}: ", layer.name)?;
            }
            write_failing(f, r.tensors(layer))?;
        }
        let consistent = || r.layers().iter().filter(|l| l.passed());
        match consistent().count() {
            0 => Ok(()),
            1 => write!(f, "; layer {} is consistent", Paths(consistent())),
            _ => write!(f, "; layers {} are consistent", Paths(consistent())),
        }
    }
}

/// `its input gradient disagrees with its forward`, `its weight and bias
/// gradients disagree ...`, and the first hint.
fn write_failing(f: &mut fmt::Formatter<'_>, tensors: &[TensorReport]) -> fmt::Result {
    let failing = || tensors.iter().filter(|t| !t.passed());
    let count = failing().count();
    f.write_str("its ")?;
    for (k, t) in failing().enumerate() {
        if k > 0 {
            f.write_str(if k + 1 == count { " and " } else { ", " })?;
        }
        write!(f, "{}", t.name)?;
    }
    f.write_str(if count == 1 {
        " gradient disagrees"
    } else {
        " gradients disagree"
    })?;
    f.write_str(" with its forward")?;
    if let Some((t, h)) = failing().find_map(|t| t.hint.map(|h| (t, h))) {
        write!(f, " ({}: {h})", t.name)?;
    }
    Ok(())
}

/// Layer paths separated by commas: `0, 1, 3` (`-` for a lone layer).
struct Paths<I>(I);

impl<'a, I: Iterator<Item = &'a LayerResult> + Clone> fmt::Display for Paths<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, l) in self.0.clone().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            if l.name.path.indices().is_empty() {
                f.write_str(l.name.short_kind())?;
            } else {
                write!(f, "{}", l.name.path)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for LayerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "layer by layer: {} network, each layer's backward against central differences \
             of its forward (f64) at the input it receives, random upstream gradient (seed {}), \
             fail above {:.0e}",
            self.precision, self.seed, self.tolerance
        )?;
        let kinds = self
            .layers()
            .iter()
            .map(|l| l.name.short_kind().chars().count());
        let width = kinds.fold(4, usize::max);
        writeln!(
            f,
            "{:7} {:width$} {:12} {:13} {:>10}  {:8} {:>13} {:>13} {:>6}  verdict",
            "layer", "type", "tensor", "shape", "error", "worst", "analytic", "numerical", "kinks"
        )?;
        for layer in self.layers() {
            for (k, t) in self.tensors(layer).iter().enumerate() {
                if k == 0 {
                    let path = LayerPath(&layer.name);
                    let kind = layer.name.short_kind();
                    write!(f, "{} {} ", Padded(&path, 7), Padded(&kind, width))?;
                } else {
                    write!(f, "{:w$}", "", w = width + 9)?;
                }
                write_tensor_row(f, t, 13, width + 9)?;
                writeln!(f)?;
            }
        }
        write!(f, "{}", self.conclusion())
    }
}

/// A layer's path in the table (`-` for a layer checked on its own).
struct LayerPath<'a>(&'a LayerName);

impl fmt::Display for LayerPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.path.indices().is_empty() {
            f.write_str("-")
        } else {
            write!(f, "{}", self.0.path)
        }
    }
}

impl GradCheck {
    /// Checks each layer of `net` on its own, at the input it receives when
    /// `net` is fed `x` (see [the module docs](crate::gradcheck#layer-by-layer)):
    /// its input gradient and each of
    /// its parameter gradients, for a random upstream gradient, against
    /// central differences of its forward pass. The report names each layer
    /// by path and type and the first faulty one:
    ///
    /// ```
    /// use stackgrad::gradcheck::GradCheck;
    /// use stackgrad::nn::{Dense, Layer, Net, Relu};
    /// use stackgrad::rand::{SeedableRng, rngs::StdRng};
    /// use stackgrad::Matrix;
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let net = Net::new((
    ///     Dense::<f64, 3, 4>::xavier_uniform(&mut rng),
    ///     Relu,
    ///     Dense::<f64, 4, 2>::xavier_uniform(&mut rng),
    /// ));
    /// let x = Matrix::from_array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]);
    /// let report = GradCheck::new().check_layers(&net, &x)?;
    /// assert!(report.passed());
    /// assert_eq!(report.layers().len(), 3);
    /// assert_eq!(report.layer(&[1]).unwrap().name.to_string(), "layer 1 (Relu)");
    /// assert_eq!(
    ///     report.conclusion().to_string(),
    ///     "every layer's backward agrees with its forward; layers 0, 1, 2 are consistent"
    /// );
    /// println!("{report}"); // a table: layer, type, tensor, error, worst element, kinks, verdict
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NondeterministicForward`] (naming the layer) when a layer's
    /// forward pass gives two results at the same point, before any
    /// difference is taken; [`Error::NothingToCheck`] when every gradient of
    /// every layer is zero both ways; [`Error::VacuousGradient`] as in
    /// [`check`](Self::check) (the tensor named by its path, `"2.input"`);
    /// [`Error::TooManyLayers`] or [`Error::TooManyTensors`] beyond
    /// [`MAX_LAYERS`] layers or [`MAX_LAYER_TENSORS`] tensors (use
    /// [`check_layers_each`](Self::check_layers_each)).
    pub fn check_layers<N, X>(&self, net: &N, x: &X) -> Result<LayerReport, Error>
    where
        X: Elements,
        N: Walk<X, X::Elem>,
    {
        let mut count = Count::default();
        let Ok(()) = net.walk(&mut Path::default(), &(), &mut count);
        if count.layers > MAX_LAYERS {
            return Err(Error::TooManyLayers {
                layers: count.layers,
                capacity: MAX_LAYERS,
            });
        }
        if count.tensors > MAX_LAYER_TENSORS {
            return Err(Error::TooManyTensors {
                tensors: count.tensors,
                capacity: MAX_LAYER_TENSORS,
            });
        }
        let tolerance = self.tolerance_for::<X::Elem>();
        let mut report = LayerReport::new(X::Elem::NAME, tolerance, self.seed);
        self.check_layers_each(net, x, |layer, tensors| report.push(layer, tensors))?;
        Ok(report)
    }

    /// Like [`check_layers`](Self::check_layers), but hands each layer's
    /// result and tensors to `f` as it is computed, for networks of any size.
    ///
    /// # Errors
    /// As [`check_layers`](Self::check_layers), but for the capacity.
    pub fn check_layers_each<N, X>(
        &self,
        net: &N,
        x: &X,
        f: impl FnMut(&LayerResult, &[TensorReport]),
    ) -> Result<(), Error>
    where
        X: Elements,
        N: Walk<X, X::Elem>,
    {
        let mut visitor = Checker::new(self, f);
        net.walk(&mut Path::default(), x, &mut visitor)?;
        if visitor.compared_any {
            Ok(())
        } else {
            Err(Error::NothingToCheck)
        }
    }

    /// Checks one layer on its own at the input `x` (the single-layer case of
    /// [`check_layers`](Self::check_layers), for any layer that has the f64
    /// copy the checker needs, whether or not it implements [`Walk`]). An
    /// input on a kink of the layer, or within the step of one, is a kink
    /// (reported, not failed), read from the layer's [`Pattern`]:
    ///
    /// ```
    /// use stackgrad::gradcheck::GradCheck;
    /// use stackgrad::nn::LeakyRelu;
    /// use stackgrad::Matrix;
    /// // 0.0 sits exactly on the kink.
    /// let x = Matrix::from_array([[0.0f64, 1.5, -2.0], [0.7, -0.1, 3.0]]);
    /// let report = GradCheck::new().check_layer(&LeakyRelu::default(), &x)?;
    /// assert!(report.passed());
    /// let input = report.tensors(&report.layers()[0])[0];
    /// assert_eq!((input.kinks, input.first_kink), (1, Some(0)));
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`check_layers`](Self::check_layers).
    pub fn check_layer<L, X>(&self, layer: &L, x: &X) -> Result<LayerReport, Error>
    where
        X: Elements,
        L: CheckLayer<X, X::Elem>,
    {
        if L::TENSORS + 1 > MAX_LAYER_TENSORS {
            return Err(Error::TooManyTensors {
                tensors: L::TENSORS + 1,
                capacity: MAX_LAYER_TENSORS,
            });
        }
        let tolerance = self.tolerance_for::<X::Elem>();
        let mut report = LayerReport::new(X::Elem::NAME, tolerance, self.seed);
        let mut visitor = Checker::new(self, |l: &LayerResult, t: &[TensorReport]| {
            report.push(l, t);
        });
        let name = LayerName::new(&Path::default(), crate::nn::short(type_name::<L>()));
        visitor.visit(name, false, layer, x)?;
        if !visitor.compared_any {
            return Err(Error::NothingToCheck);
        }
        Ok(report)
    }
}

/// Counts the layers and tensors a walk visits (no input, no checking).
#[derive(Default)]
struct Count {
    layers: usize,
    tensors: usize,
}

impl<T: Scalar> Visitor<T> for Count {
    type Error = core::convert::Infallible;
    type Value<X> = ();

    fn leaf<In, L: CheckLayer<In, T>>(
        &mut self,
        _: LayerName,
        _: &L,
        (): &(),
    ) -> Result<(), Self::Error> {
        self.layers += 1;
        self.tensors += L::TENSORS + 1;
        Ok(())
    }

    fn block<In, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        layer: &L,
        x: &(),
    ) -> Result<(), Self::Error> {
        self.leaf(name, layer, x)
    }

    fn forward<In, L: Layer<In>>(&mut self, _: &L, (): &()) {}
}

/// The visitor that checks each layer it is given and hands the result to `f`.
struct Checker<'a, F> {
    check: &'a GradCheck,
    /// Layers checked so far (each gets its own upstream-gradient seed).
    index: u64,
    compared_any: bool,
    tensors: [TensorReport; MAX_LAYER_TENSORS],
    f: F,
}

impl<'a, F: FnMut(&LayerResult, &[TensorReport])> Checker<'a, F> {
    fn new(check: &'a GradCheck, f: F) -> Self {
        Self {
            check,
            index: 0,
            compared_any: false,
            tensors: [TensorReport::empty(); MAX_LAYER_TENSORS],
            f,
        }
    }

    fn visit<In, T: Scalar, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        block: bool,
        layer: &L,
        x: &In,
    ) -> Result<(), Error> {
        // A different, reproducible upstream gradient for each layer.
        let seed = fnv(fnv(0xcbf2_9ce4_8422_2325, self.check.seed), self.index);
        self.index += 1;
        let len = check_one(self.check, name, layer, x, seed, &mut self.tensors)?;
        let tensors = &self.tensors[..len];
        self.compared_any |= tensors.iter().any(|t| t.verdict != Verdict::Unused);
        let verdict = if tensors.iter().any(|t| !t.passed()) {
            Verdict::Fail
        } else if tensors.iter().all(|t| t.verdict == Verdict::Unused) {
            Verdict::Unused
        } else {
            Verdict::Pass
        };
        let result = LayerResult {
            name,
            block,
            verdict,
            kinks: tensors.iter().map(|t| t.kinks).sum(),
            first: 0,
            len,
        };
        (self.f)(&result, tensors);
        Ok(())
    }
}

impl<T: Scalar, F: FnMut(&LayerResult, &[TensorReport])> Visitor<T> for Checker<'_, F> {
    type Error = Error;
    /// The tensors themselves: each layer is checked at its input.
    type Value<X> = X;

    fn leaf<In, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        layer: &L,
        x: &In,
    ) -> Result<L::Output, Error> {
        self.visit(name, false, layer, x)?;
        Ok(layer.forward(x).0)
    }

    fn block<In, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        layer: &L,
        x: &In,
    ) -> Result<(), Error> {
        self.visit(name, true, layer, x)
    }

    fn forward<In, L: Layer<In>>(&mut self, layer: &L, x: &In) -> L::Output {
        layer.forward(x).0
    }
}

/// `J_L = Σ L(θ, x) ⊙ dy` on the f64 copies of a layer and its input.
struct LayerObjective<R: Layer<X>, X> {
    layer: R,
    x: X,
    dy: R::Output,
}

impl<R, X> Objective for LayerObjective<R, X>
where
    X: Elements<Elem = f64>,
    R: Layer<X, Output: Elements<Elem = f64>> + Params<f64>,
{
    fn eval(&self) -> Point {
        let (y, cache) = self.layer.forward(&self.x);
        let mut pattern = Pattern::new();
        self.layer.pattern(&self.x, &y, &cache, &mut pattern);
        let pairs = y.elems().iter().zip(self.dy.elems());
        (pairs.map(|(&y, &d)| y * d).sum(), pattern)
    }

    fn fingerprint(&self) -> u64 {
        let (y, cache) = self.layer.forward(&self.x);
        let mut pattern = Pattern::new();
        self.layer.pattern(&self.x, &y, &cache, &mut pattern);
        let hash = y
            .elems()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325, |h, v| fnv(h, v.to_bits()));
        fnv(hash, pattern.value())
    }

    fn slot(&mut self, c: Coord) -> Option<&mut f64> {
        match c {
            Coord::Param(k, i) => self.layer.tensor_mut(k).and_then(|t| t.data.get_mut(i)),
            Coord::Input(i) => self.x.elems_mut().get_mut(i),
        }
    }
}

/// Checks `layer` at `x` for the upstream gradient drawn from `seed`; writes
/// its parameters' reports, then the input's, into `out` and returns how many.
fn check_one<In, T: Scalar, L: CheckLayer<In, T>>(
    check: &GradCheck,
    name: LayerName,
    layer: &L,
    x: &In,
    seed: u64,
    out: &mut [TensorReport; MAX_LAYER_TENSORS],
) -> Result<usize, Error> {
    let len = L::TENSORS + 1;
    if len > MAX_LAYER_TENSORS {
        return Err(Error::TooManyTensors {
            tensors: len,
            capacity: MAX_LAYER_TENSORS,
        });
    }
    // The f64 side first: a random forward pass stops the check here.
    let reference = layer.reference();
    let x64 = L::input64(x);
    let (mut dy64, _) = reference.forward(&x64);
    let mut objective = LayerObjective {
        layer: reference,
        x: x64,
        dy: dy64,
    };
    ensure_deterministic(&objective, Some(name))?;

    // The analytic side, in T, for a standard normal upstream gradient
    // (rounded to T, and the same values in f64).
    let (y, cache) = layer.forward(x);
    let mut dy = y;
    let mut rng = StdRng::seed_from_u64(seed);
    for (d, d64) in dy.elems_mut().iter_mut().zip(dy64.elems_mut()) {
        *d = T::from_f64(standard_normal(&mut rng));
        *d64 = d.as_f64();
    }
    objective.dy = dy64;
    let mut grads = layer.zeros_like();
    let dx = layer.backward(x, &y, &cache, &dy, &mut grads);

    // The same backward in f64, whose difference from the analytic one is
    // the rounding of T; `J`'s own rounding scales with `Σ |y ⊙ dy|`.
    let obj = &objective;
    let (y64, cache64) = obj.layer.forward(&obj.x);
    let mut grads64 = obj.layer.zeros_like();
    let dx64 = obj
        .layer
        .backward(&obj.x, &y64, &cache64, &obj.dy, &mut grads64);
    let pairs = y64.elems().iter().zip(obj.dy.elems());
    let size: f64 = pairs.map(|(y, d)| (y * d).abs()).sum();
    let judge =
        Judge::new(check.tolerance_for::<T>(), size, check.step).batch(batch_of(L::INPUT_DIMS));

    let base = objective.eval();
    let mut numerical = objective.layer.zeros_like();
    numerical_params(&mut objective, &mut numerical, check.step, base);
    let mut numerical_x = objective.x;
    numerical_input(&mut objective, &mut numerical_x, check.step, base);

    let mut n = 0;
    for k in 0..L::TENSORS {
        let (Some(a), Some(num), Some(r)) =
            (grads.tensor(k), numerical.tensor(k), grads64.tensor(k))
        else {
            continue;
        };
        let report = compare(a.name, a.shape, a.data, num.data, r.data, judge);
        let full = name.path.name(a.name);
        let coord = |i| Coord::Param(k, i);
        reject_vacuous(&mut objective, &report, full, coord, check.step, base)?;
        out[n] = report;
        n += 1;
    }
    let input = ParamName::leaf("input");
    let (a, num, r) = (L::input(&dx), numerical_x.elems(), dx64.elems());
    let report = compare(input, Shape::new(L::INPUT_DIMS), a, num, r, judge);
    let full = name.path.name(input);
    reject_vacuous(
        &mut objective,
        &report,
        full,
        Coord::Input,
        check.step,
        base,
    )?;
    out[n] = report;
    Ok(n + 1)
}
