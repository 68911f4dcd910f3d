//! Weights in and out, in the [safetensors] format (feature `std`).
//!
//! A file is an 8-byte little-endian header length `n`, `n` bytes of JSON
//! (`{"0.weight": {"dtype": "F32", "shape": [2, 25], "data_offsets": [0, 200]}, ...}`
//! plus an optional `"__metadata__"` object of strings), then the tensors' raw
//! little-endian data. Tensor names are the parameter visitor's
//! ([`Params::state`]: the parameters, then the buffers such as a batch
//! norm's running statistics): `"0.weight"`, `"0.bias"`, `"1.running_mean"`,
//! ...; shapes are
//! the parameters' [`Shape`](crate::nn::Shape)s (a dense weight is
//! `[inputs, outputs]`, the `Y = X W + b` layout). That is stackgrad's
//! layout ([`save`], [`load`]); [`torch`] reads and writes PyTorch's
//! (`state_dict` names, dense weights `[outputs, inputs]`).
//!
//! Element types ([`Dtype`]): a file may hold `F16`, `BF16`, `F32` or
//! `F64`. Saving writes the network's own type unless [`Options::dtype`]
//! asks for another; loading takes only the network's own type unless
//! [`Options::convert`] allows a conversion:
//!
//! | conversion | rounding |
//! |---|---|
//! | F16, BF16, F32 into an `f32` network; any into an `f64` network | none: exact |
//! | F64 into an `f32` network; saving an `f64` network as F32 | to nearest, ties to even |
//! | saving as F16 or BF16 | to nearest, ties to even, through `f32` as PyTorch does ([`half`](crate::half)) |
//!
//! A finite value that the target type cannot hold (it would become
//! infinite) is an error ([`Error::ValueRange`]), never an infinity.
//!
//! [`to_bytes`] records the network's type ([`architecture`]: the layers in
//! order, with their sizes) in the metadata under [`ARCHITECTURE_KEY`];
//! loading refuses a file that records another architecture, naming the
//! first difference (two networks can have the same tensors and compute
//! different things: a ReLU where the file had a sigmoid). `Net` and `Box`
//! wrappers and the element type do not count. A file without the record
//! (written by another tool) is checked tensor by tensor only.
//!
//! Loading checks the whole file against the network's type before changing
//! anything, and reports each problem as an [`Error`] (never a panic): a
//! tensor name written twice, a missing tensor, an unexpected one, a wrong
//! shape, a wrong dtype (no silent conversion), a value out of range, a
//! truncated file, a malformed header, a file in the other layout. Any
//! other safetensors reader (numpy with a few lines, see
//! `scripts/check_safetensors.py`; the `safetensors` packages) reads the
//! files written here.
//!
//! ```
//! use stackgrad::io::{self, Dtype, Options};
//! use stackgrad::nn::{Dense, Net, Sigmoid};
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::Matrix;
//!
//! type Classifier = Net<(Dense<f32, 2, 25>, Sigmoid, Dense<f32, 25, 4>)>;
//! let mut rng = StdRng::seed_from_u64(0);
//! let net: Classifier = Net::new((Dense::xavier_uniform(&mut rng), Sigmoid, Dense::xavier_uniform(&mut rng)));
//! let bytes = io::to_bytes(&net, &[("layers", "dense,sigmoid,dense")])?;
//!
//! let mut loaded: Classifier = Net::new((Dense::zeros(), Sigmoid, Dense::zeros()));
//! io::from_bytes(&mut loaded, &bytes, "in memory")?;
//! assert_eq!(loaded, net);
//!
//! let mut wrong = Net::new((Dense::<f32, 2, 24>::zeros(), Sigmoid, Dense::<f32, 24, 4>::zeros()));
//! let err = io::from_bytes(&mut wrong, &bytes, "in memory").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "in memory was saved from another network: \
//!      layer 0 is Dense<f32, 2, 25> in the file but Dense<f32, 2, 24> in the network"
//! );
//!
//! // Half the bytes in BF16; loading it back into f32 converts exactly, when asked.
//! let small = io::to_bytes_with(&net, &[], Options::new().dtype(Dtype::BF16))?;
//! assert!(io::from_bytes(&mut loaded, &small, "bf16").is_err());
//! io::from_bytes_with(&mut loaded, &small, "bf16", Options::new().convert())?;
//! let w = loaded.layers.0.weight[(0, 0)];
//! assert_eq!(w, stackgrad::half::bf16_to_f32(stackgrad::half::f32_to_bf16(net.layers.0.weight[(0, 0)])));
//! # Ok::<(), stackgrad::Error>(())
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

pub mod torch;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{Map, Value};

use crate::half::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16};
use crate::nn::{ParamName, Params};
use crate::{Error, Scalar};

/// The safetensors dtype of `T`: `"F32"` or `"F64"`.
#[must_use]
pub fn dtype<T: Scalar>() -> &'static str {
    Dtype::of::<T>().name()
}

/// A floating-point element type of a safetensors file that networks load
/// from and save to (see the [module](self) for the conversions).
///
/// ```
/// use stackgrad::io::Dtype;
/// assert_eq!(Dtype::of::<f32>(), Dtype::F32);
/// assert_eq!(Dtype::parse("BF16"), Some(Dtype::BF16));
/// assert_eq!(Dtype::BF16.size(), 2);
/// assert_eq!(Dtype::parse("I64"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE 754 half precision (`torch.float16`), 2 bytes.
    F16,
    /// bfloat16 (`torch.bfloat16`), 2 bytes.
    BF16,
    /// `f32` (`torch.float32`), 4 bytes.
    F32,
    /// `f64` (`torch.float64`), 8 bytes.
    F64,
}

impl Dtype {
    /// The name in a file's header: `"F16"`, `"BF16"`, `"F32"` or `"F64"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
        }
    }

    /// `T`'s own: `F32` for `f32`, `F64` for `f64`.
    #[must_use]
    pub fn of<T: Scalar>() -> Self {
        if T::NAME == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }

    /// Bytes per element.
    #[must_use]
    pub const fn size(self) -> usize {
        match self {
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The dtype a header names, if it is one of these four.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Dtype::F16, Dtype::BF16, Dtype::F32, Dtype::F64]
            .into_iter()
            .find(|d| d.name() == name)
    }

    /// One little-endian element as an `f64` (exact: `f64` holds every
    /// value of the four types). `bytes` holds [`size`](Dtype::size) bytes.
    fn read(self, bytes: &[u8]) -> f64 {
        let two = || bytes.first_chunk::<2>().map(|b| u16::from_le_bytes(*b));
        match self {
            Dtype::F16 => two().map_or(f64::NAN, |h| f64::from(f16_to_f32(h))),
            Dtype::BF16 => two().map_or(f64::NAN, |h| f64::from(bf16_to_f32(h))),
            Dtype::F32 => bytes
                .first_chunk::<4>()
                .map_or(f64::NAN, |b| f64::from(f32::from_le_bytes(*b))),
            Dtype::F64 => bytes
                .first_chunk::<8>()
                .map_or(f64::NAN, |b| f64::from_le_bytes(*b)),
        }
    }

    /// Appends `x` rounded to this type; `false` (nothing written) when a
    /// finite `x` would become infinite.
    fn write(self, x: f64, out: &mut Vec<u8>) -> bool {
        let single = x as f32;
        let fits = |y: f64| y.is_finite() || !x.is_finite();
        match self {
            Dtype::F64 => out.extend_from_slice(&x.to_le_bytes()),
            Dtype::F32 if fits(f64::from(single)) => out.extend_from_slice(&single.to_le_bytes()),
            Dtype::F16 if fits(f64::from(single)) => {
                let h = f32_to_f16(single);
                if !fits(f64::from(f16_to_f32(h))) {
                    return false;
                }
                out.extend_from_slice(&h.to_le_bytes());
            }
            Dtype::BF16 if fits(f64::from(single)) => {
                let h = f32_to_bf16(single);
                if !fits(f64::from(bf16_to_f32(h))) {
                    return false;
                }
                out.extend_from_slice(&h.to_le_bytes());
            }
            _ => return false,
        }
        true
    }
}

/// How to save and load: the element type to write, and whether loading may
/// convert a file's element type to the network's. The default writes the
/// network's own type and loads only that.
///
/// ```
/// use stackgrad::io::{Dtype, Options};
/// let save_small = Options::new().dtype(Dtype::F16);
/// let load_any = Options::new().convert();
/// assert_ne!(save_small, load_any);
/// assert_eq!(Options::new(), Options::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    dtype: Option<Dtype>,
    convert: bool,
}

impl Options {
    /// The network's own element type, no conversion.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            dtype: None,
            convert: false,
        }
    }

    /// Saving: write every tensor as `dtype` (rounding as the
    /// [module](self) documents; a finite value beyond `dtype`'s range is an
    /// error). Loading ignores it.
    #[must_use]
    pub const fn dtype(self, dtype: Dtype) -> Self {
        Self {
            dtype: Some(dtype),
            ..self
        }
    }

    /// Loading: accept tensors of any [`Dtype`] and convert them to the
    /// network's element type (exact from F16, BF16 and F32 into `f32`;
    /// F64 into `f32` rounds to nearest). Saving ignores it.
    #[must_use]
    pub const fn convert(self) -> Self {
        Self {
            convert: true,
            ..self
        }
    }
}

fn element_size(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "U16" | "I16" | "F16" | "BF16" => 2,
        "U32" | "I32" | "F32" => 4,
        "U64" | "I64" | "F64" => 8,
        _ => return None,
    })
}

fn format_err(path: &str, message: String) -> Error {
    Error::Format {
        path: path.to_string(),
        message,
    }
}

/// Encodes named tensors (name, shape, values in row-major order) and string
/// metadata as a safetensors file. Tensors are stored in the order given.
///
/// ```
/// let x = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let bytes = stackgrad::io::encode(&[("x", &[2, 3], &x)], &[])?;
/// let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
/// assert_eq!(bytes.len(), 8 + header_len + 6 * 8);
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// # Errors
/// [`Error::Format`] when a tensor's length differs from its shape's product
/// or two tensors share a name.
pub fn encode<T: Scalar>(
    tensors: &[(&str, &[usize], &[T])],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, Error> {
    let list: Vec<Stored> = tensors
        .iter()
        .map(|&(name, shape, data)| Stored {
            name: name.to_string(),
            dims: shape.to_vec(),
            values: data.iter().map(|x| x.as_f64()).collect(),
        })
        .collect();
    write_file(&list, metadata, Dtype::of::<T>())
}

/// One tensor as a file stores it: its name, its shape in the file and its
/// values in the file's row-major order.
struct Stored {
    name: String,
    dims: Vec<usize>,
    values: Vec<f64>,
}

/// The safetensors bytes of `tensors` as `dtype`.
fn write_file(
    tensors: &[Stored],
    metadata: &[(&str, &str)],
    dtype: Dtype,
) -> Result<Vec<u8>, Error> {
    let mut header = Map::new();
    let mut offset = 0usize;
    for t in tensors {
        let name = t.name.as_str();
        if t.dims.iter().product::<usize>() != t.values.len() {
            return Err(format_err(
                "(encoding)",
                std::format!(
                    "tensor {name:?} has {} values but shape {:?}",
                    t.values.len(),
                    t.dims
                ),
            ));
        }
        if name == "__metadata__" || header.contains_key(name) {
            return Err(format_err(
                "(encoding)",
                std::format!("tensor name {name:?} is used twice or reserved"),
            ));
        }
        let end = offset + t.values.len() * dtype.size();
        let mut entry = Map::new();
        entry.insert("dtype".into(), dtype.name().into());
        entry.insert("shape".into(), t.dims.clone().into());
        entry.insert("data_offsets".into(), std::vec![offset, end].into());
        header.insert(name.to_string(), Value::Object(entry));
        offset = end;
    }
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|&(k, v)| (k.to_string(), Value::from(v)))
            .collect();
        header.insert("__metadata__".into(), Value::Object(meta));
    }
    let mut json = Value::Object(header).to_string().into_bytes();
    // Pad with spaces to a multiple of 8, as the reference writer does, so the
    // data is 8-byte aligned.
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for t in tensors {
        for (index, &x) in t.values.iter().enumerate() {
            if !dtype.write(x, &mut out) {
                return Err(Error::ValueRange {
                    path: "(encoding)".to_string(),
                    name: t.name.clone(),
                    index,
                    value: x,
                    dtype: dtype.name(),
                });
            }
        }
    }
    Ok(out)
}

/// `net`'s state (parameters, then buffers) as a file stores it; the
/// tensors for which `transposed` holds (2-D ones) written transposed.
fn stored_state<T: Scalar, P: Params<T>>(
    net: &P,
    transposed: &dyn Fn(&ParamName) -> bool,
) -> Vec<Stored> {
    (0..P::TENSORS + P::BUFFERS)
        .filter_map(|k| net.state(k))
        .map(|t| {
            let values: Vec<f64> = t.data.iter().map(|x| x.as_f64()).collect();
            match *t.shape.dims() {
                [rows, cols] if transposed(&t.name) => Stored {
                    name: t.name.to_string(),
                    dims: std::vec![cols, rows],
                    values: (0..rows * cols)
                        .map(|k| values[(k % rows) * cols + k / rows])
                        .collect(),
                },
                _ => Stored {
                    name: t.name.to_string(),
                    dims: t.shape.dims().to_vec(),
                    values,
                },
            }
        })
        .collect()
}

/// Encodes every parameter tensor of `net`, named by the parameter visitor,
/// with string `metadata` (for instance the layer kinds, for other readers),
/// in the network's element type (see [`to_bytes_with`]).
///
/// # Errors
/// None for the crate's layers; [`Error::Format`] if a user-defined layer
/// reports a tensor whose length differs from its shape or a name twice.
pub fn to_bytes<T: Scalar, P: Params<T>>(
    net: &P,
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, Error> {
    to_bytes_with(net, metadata, Options::new())
}

/// [`to_bytes`], in the element type that `options` asks for.
///
/// ```
/// use stackgrad::io::{self, Dtype, File, Options};
/// use stackgrad::nn::Dense;
/// let layer = Dense::<f32, 2, 3>::zeros();
/// let bytes = io::to_bytes_with(&layer, &[], Options::new().dtype(Dtype::F16))?;
/// let file = File::parse(&bytes, "in memory")?;
/// assert_eq!(file.raw("weight").unwrap().0, "F16");
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// # Errors
/// Those of [`to_bytes`]; [`Error::ValueRange`] for a finite value that
/// the chosen type cannot hold (`1e5` as F16).
pub fn to_bytes_with<T: Scalar, P: Params<T>>(
    net: &P,
    metadata: &[(&str, &str)],
    options: Options,
) -> Result<Vec<u8>, Error> {
    let architecture = architecture::<P>();
    let mut meta: Vec<(&str, &str)> = std::vec![(ARCHITECTURE_KEY, architecture.as_str())];
    meta.extend(
        metadata
            .iter()
            .filter(|(k, _)| *k != ARCHITECTURE_KEY && *k != LAYOUT_KEY),
    );
    let dtype = options.dtype.unwrap_or(Dtype::of::<T>());
    write_file(&stored_state(net, &|_| false), &meta, dtype)
}

/// The metadata key under which [`to_bytes`] records the network's type.
pub const ARCHITECTURE_KEY: &str = "stackgrad.architecture";

/// The metadata key under which [`torch::to_bytes`] records that a file
/// holds PyTorch's layout (value `"torch"`). A file that records an
/// architecture without it holds stackgrad's layout.
pub const LAYOUT_KEY: &str = "stackgrad.layout";

/// The network's type as [`to_bytes`] records it: the layers, in order,
/// with every size their types fix, without module paths
/// (`Net<(Dense<f32, 2, 25>, Sigmoid, Dense<f32, 25, 4>)>`).
///
/// ```
/// use stackgrad::nn::{Dense, Net, Relu};
/// type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
/// assert_eq!(stackgrad::io::architecture::<Mlp>(), "Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>");
/// ```
#[must_use]
pub fn architecture<P>() -> String {
    let full = core::any::type_name::<P>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(&word));
    out
}

/// The first difference between two recorded architectures, in words:
/// `"layer 1 is Sigmoid in the file but Relu in the network"`. The element
/// type is left out (a dtype mismatch has an error of its own).
fn first_difference(file: &str, net: &str) -> Option<String> {
    let scalar_free = |s: &str| s.replace("f32", "T").replace("f64", "T");
    let (file, net) = (&unwrapped(file), &unwrapped(net));
    if scalar_free(file) == scalar_free(net) {
        return None;
    }
    let (a, b) = (layers(file), layers(net));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if scalar_free(x) != scalar_free(y) {
            return Some(std::format!(
                "layer {i} is {x} in the file but {y} in the network"
            ));
        }
    }
    Some(if a.len() == b.len() {
        std::format!("the file holds {file} but the network is {net}")
    } else {
        std::format!(
            "the file's network has {} layers, this one {} ({file} against {net})",
            a.len(),
            b.len()
        )
    })
}

/// `arch` without the wrappers that do not change what a network computes:
/// `Net<L>` is `L`, `Box<L>` is `L`.
fn unwrapped(arch: &str) -> String {
    let bytes = arch.as_bytes();
    let mut out = String::with_capacity(arch.len());
    // For each open `<`, whether its wrapper was dropped.
    let mut dropped = Vec::new();
    let mut i = 0;
    while i < arch.len() {
        let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if at_word && (arch[i..].starts_with("Net<") || arch[i..].starts_with("Box<")) {
            dropped.push(true);
            i += 4;
            continue;
        }
        let c = arch[i..].chars().next().unwrap_or(' ');
        match c {
            '<' => dropped.push(false),
            '>' if dropped.pop() == Some(true) => {
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The top-level layers of a recorded `(A, B, ..)` (or the whole name).
fn layers(arch: &str) -> Vec<&str> {
    let Some(inner) = arch.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
        return std::vec![arch];
    };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// The first key that a JSON object holds twice, if any.
struct FirstDuplicate(Option<String>);

impl<'de> serde_core::Deserialize<'de> for FirstDuplicate {
    fn deserialize<D: serde_core::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde_core::de::Visitor<'de> for Keys {
            type Value = FirstDuplicate;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde_core::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FirstDuplicate, A::Error> {
                let mut seen = BTreeSet::new();
                let mut first = None;
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde_core::de::IgnoredAny>()?;
                    if first.is_none() && seen.contains(&key) {
                        first = Some(key);
                    } else {
                        seen.insert(key);
                    }
                }
                Ok(FirstDuplicate(first))
            }
        }
        d.deserialize_map(Keys)
    }
}

/// Writes `net`'s parameters to `path` (see [`to_bytes`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn save<T: Scalar, P: Params<T>>(
    net: &P,
    path: impl AsRef<Path>,
    metadata: &[(&str, &str)],
) -> Result<(), Error> {
    save_with(net, path, metadata, Options::new())
}

/// [`save`], in the element type that `options` asks for (see [`to_bytes_with`]).
///
/// # Errors
/// Those of [`to_bytes_with`]; [`Error::Io`] when the file cannot be written.
pub fn save_with<T: Scalar, P: Params<T>>(
    net: &P,
    path: impl AsRef<Path>,
    metadata: &[(&str, &str)],
    options: Options,
) -> Result<(), Error> {
    write_to(path.as_ref(), to_bytes_with(net, metadata, options)?)
}

fn write_to(path: &Path, bytes: Vec<u8>) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn read_from(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// One tensor's header entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

/// A parsed, validated safetensors file: every entry's offsets lie inside the
/// data, agree with its shape and dtype, and the entries tile the data exactly.
#[derive(Debug)]
pub struct File<'a> {
    entries: BTreeMap<String, Entry>,
    metadata: BTreeMap<String, String>,
    data: &'a [u8],
}

fn as_usize(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|n| usize::try_from(n).ok())
}

impl<'a> File<'a> {
    /// Parses and validates a whole file; `source` names it in errors.
    ///
    /// # Errors
    /// [`Error::Truncated`] when the bytes end before the header or the data
    /// the header announces; [`Error::Format`] for a header that is not JSON,
    /// an entry without a dtype, shape or offsets, offsets that disagree with
    /// the shape or overlap, or bytes after the last tensor.
    pub fn parse(bytes: &'a [u8], source: &str) -> Result<Self, Error> {
        let truncated = |message: String| Error::Truncated {
            path: source.to_string(),
            message,
        };
        let fmt = |message: String| format_err(source, message);
        let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(truncated(std::format!(
                "{} bytes, but a safetensors file starts with an 8-byte header length",
                bytes.len()
            )));
        };
        let n = u64::from_le_bytes(*len_bytes);
        let Some(n) = usize::try_from(n).ok().filter(|&n| n <= rest.len()) else {
            return Err(truncated(std::format!(
                "the header length is {n} bytes but only {} bytes follow",
                rest.len()
            )));
        };
        let (header, data) = rest.split_at(n);
        let value: Value = serde_json::from_slice(header)
            .map_err(|e| fmt(std::format!("the header is not valid JSON: {e}")))?;
        // serde_json keeps one of two equal keys; a name written twice names
        // two tensors, so it is an error.
        if let Ok(FirstDuplicate(Some(name))) = serde_json::from_slice(header) {
            return Err(fmt(std::format!(
                "tensor name {name:?} appears twice in the header"
            )));
        }
        let Value::Object(obj) = value else {
            return Err(fmt("the header is not a JSON object".into()));
        };
        let mut entries = BTreeMap::new();
        let mut metadata = BTreeMap::new();
        for (name, v) in obj {
            if name == "__metadata__" {
                let Value::Object(m) = v else {
                    return Err(fmt("__metadata__ is not an object".into()));
                };
                for (k, v) in m {
                    let Value::String(s) = v else {
                        return Err(fmt(std::format!(
                            "__metadata__ value {k:?} is not a string"
                        )));
                    };
                    metadata.insert(k, s);
                }
                continue;
            }
            let bad = |what: &str| fmt(std::format!("tensor {name:?}: {what}"));
            let dtype = v
                .get("dtype")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no \"dtype\" string"))?
                .to_string();
            let shape = v
                .get("shape")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(as_usize).collect::<Option<Vec<_>>>())
                .ok_or_else(|| bad("no \"shape\" list of sizes"))?;
            let offsets = v
                .get("data_offsets")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(as_usize).collect::<Option<Vec<_>>>())
                .filter(|o| o.len() == 2 && o[0] <= o[1])
                .ok_or_else(|| bad("no \"data_offsets\" [begin, end] with begin <= end"))?;
            let (begin, end) = (offsets[0], offsets[1]);
            if let Some(size) = element_size(&dtype) {
                let want = shape
                    .iter()
                    .try_fold(size, |acc, &d| acc.checked_mul(d))
                    .ok_or_else(|| bad("shape overflows"))?;
                if want != end - begin {
                    return Err(bad(&std::format!(
                        "shape {shape:?} of {dtype} needs {want} bytes but data_offsets span {}",
                        end - begin
                    )));
                }
            }
            entries.insert(
                name,
                Entry {
                    dtype,
                    shape,
                    begin,
                    end,
                },
            );
        }
        if let Some((name, e)) = entries.iter().max_by_key(|(_, e)| e.end)
            && e.end > data.len()
        {
            return Err(truncated(std::format!(
                "tensor {name:?} ends at data byte {} but only {} data bytes follow the header",
                e.end,
                data.len()
            )));
        }
        let mut spans: Vec<(usize, usize)> = entries.values().map(|e| (e.begin, e.end)).collect();
        spans.sort_unstable();
        let mut at = 0;
        for (b, e) in spans {
            if b != at {
                return Err(fmt(std::format!(
                    "tensor data overlaps or leaves a gap at data byte {}",
                    at.min(b)
                )));
            }
            at = e;
        }
        if at != data.len() {
            return Err(fmt(std::format!(
                "{} bytes follow the last tensor's data",
                data.len() - at
            )));
        }
        Ok(Self {
            entries,
            metadata,
            data,
        })
    }

    /// The tensors' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The `__metadata__` strings.
    #[must_use]
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The shape and values of tensor `name`, when it is one of the four
    /// [`Dtype`]s (exact: `f64` holds every value of each).
    ///
    /// ```
    /// let bytes = stackgrad::io::encode(&[("x", &[2], &[0.5f32, -1.0])], &[])?;
    /// let file = stackgrad::io::File::parse(&bytes, "in memory")?;
    /// assert_eq!(file.values("x"), Some((&[2usize][..], vec![0.5, -1.0])));
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    #[must_use]
    pub fn values(&self, name: &str) -> Option<(&[usize], Vec<f64>)> {
        let (dtype, shape, raw) = self.raw(name)?;
        let dtype = Dtype::parse(dtype)?;
        Some((
            shape,
            raw.chunks_exact(dtype.size())
                .map(|b| dtype.read(b))
                .collect(),
        ))
    }

    /// The dtype, shape and raw bytes of tensor `name`.
    #[must_use]
    pub fn raw(&self, name: &str) -> Option<(&str, &[usize], &'a [u8])> {
        let e = self.entries.get(name)?;
        Some((&e.dtype, &e.shape, self.data.get(e.begin..e.end)?))
    }
}

/// Loads parameters saved by [`to_bytes`] (or any safetensors writer) into
/// `net`, whose type fixes the expected names, shapes and dtype. `net` is
/// changed only when the whole file fits it.
///
/// # Errors
/// [`Error::Truncated`], [`Error::Format`] (see [`File::parse`]);
/// [`Error::Architecture`] when the file records another network;
/// [`Error::Layout`] when it was saved in PyTorch's layout;
/// [`Error::MissingTensor`], [`Error::TensorDtype`], [`Error::TensorShape`]
/// for the first network tensor that the file lacks or stores differently;
/// [`Error::UnexpectedTensor`] for a file tensor the network does not have.
pub fn from_bytes<T: Scalar, P: Params<T>>(
    net: &mut P,
    bytes: &[u8],
    source: &str,
) -> Result<(), Error> {
    from_bytes_with(net, bytes, source, Options::new())
}

/// [`from_bytes`], converting the file's element type to the network's when
/// `options` allow it ([`Options::convert`]).
///
/// ```
/// use stackgrad::io::{self, Dtype, Options};
/// use stackgrad::nn::Dense;
/// let layer = Dense::<f64, 1, 2>::new(stackgrad::Matrix::from_array([[0.1, 1e300]]), [0.0; 2]);
/// let bytes = io::to_bytes(&layer, &[])?;
/// let mut single = Dense::<f32, 1, 2>::zeros();
/// let err = io::from_bytes_with(&mut single, &bytes, "w", Options::new().convert()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"w: tensor "weight" holds 1e300 at element 1, beyond the range of F32"#
/// );
/// assert_eq!(single, Dense::zeros()); // nothing loaded
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// # Errors
/// Those of [`from_bytes`]; [`Error::ValueRange`] when an F64 value is
/// finite but beyond an `f32` network's range.
pub fn from_bytes_with<T: Scalar, P: Params<T>>(
    net: &mut P,
    bytes: &[u8],
    source: &str,
    options: Options,
) -> Result<(), Error> {
    load_state(net, bytes, source, options, None)
}

/// Loads `bytes` into `net`: in stackgrad's layout when `torch` is `None`,
/// else in PyTorch's, with the tensors for which `torch` holds (2-D ones)
/// stored transposed. Every check comes before the first write.
pub(crate) fn load_state<T: Scalar, P: Params<T>>(
    net: &mut P,
    bytes: &[u8],
    source: &str,
    options: Options,
    torch: Option<&dyn Fn(&ParamName) -> bool>,
) -> Result<(), Error> {
    let file = File::parse(bytes, source)?;
    let meta = file.metadata();
    let torch_file = meta.get(LAYOUT_KEY).is_some_and(|v| v == "torch");
    let stackgrad_file = meta.contains_key(ARCHITECTURE_KEY) && !torch_file;
    if torch.is_none() && torch_file {
        return Err(Error::Layout {
            path: source.to_string(),
            file: "PyTorch's",
            loader: "io::torch::load",
        });
    }
    if torch.is_some() && stackgrad_file {
        return Err(Error::Layout {
            path: source.to_string(),
            file: "stackgrad's",
            loader: "io::load",
        });
    }
    if let Some(recorded) = meta.get(ARCHITECTURE_KEY)
        && let Some(difference) = first_difference(recorded, &architecture::<P>())
    {
        return Err(Error::Architecture {
            path: source.to_string(),
            difference,
        });
    }
    let own = Dtype::of::<T>();
    let mut names = BTreeSet::new();
    let mut staged = Vec::with_capacity(P::TENSORS + P::BUFFERS);
    for k in 0..P::TENSORS + P::BUFFERS {
        let Some(t) = net.state(k) else { continue };
        let name = t.name.to_string();
        let dims = t.shape.dims();
        let transposed = dims.len() == 2 && torch.is_some_and(|f| f(&t.name));
        let want: Vec<usize> = if transposed {
            dims.iter().rev().copied().collect()
        } else {
            dims.to_vec()
        };
        let Some((found, shape, raw)) = file.raw(&name) else {
            return Err(Error::MissingTensor {
                path: source.to_string(),
                name,
            });
        };
        let Some(dtype) = Dtype::parse(found).filter(|&d| options.convert || d == own) else {
            return Err(Error::TensorDtype {
                path: source.to_string(),
                name,
                expected: if options.convert {
                    "F16, BF16, F32 or F64"
                } else {
                    own.name()
                },
                found: found.to_string(),
            });
        };
        if shape != want.as_slice() {
            return Err(if torch.is_some() {
                Error::TorchShape {
                    path: source.to_string(),
                    name,
                    found: shape.to_vec(),
                    torch: want,
                    stackgrad: dims.to_vec(),
                }
            } else {
                Error::TensorShape {
                    path: source.to_string(),
                    name,
                    expected: want,
                    found: shape.to_vec(),
                }
            });
        }
        let mut values = std::vec![T::zero(); t.data.len()];
        let cols = if transposed { dims[1] } else { 1 };
        let rows = if transposed { dims[0] } else { t.data.len() };
        for (index, chunk) in raw.chunks_exact(dtype.size()).enumerate() {
            let v = dtype.read(chunk);
            let x = T::from_f64(v);
            if v.is_finite() && !x.is_finite() {
                return Err(Error::ValueRange {
                    path: source.to_string(),
                    name,
                    index,
                    value: v,
                    dtype: own.name(),
                });
            }
            // File element (o, i) of an `O x I` transposed tensor is the
            // network's (i, o); otherwise the orders agree (cols = 1).
            let at = if transposed {
                (index % rows) * cols + index / rows
            } else {
                index
            };
            if let Some(slot) = values.get_mut(at) {
                *slot = x;
            }
        }
        staged.push((k, values));
        names.insert(name);
    }
    for name in file.names() {
        if names.contains(name) {
            continue;
        }
        if torch.is_some()
            && let Some(prefix) = name.strip_suffix("num_batches_tracked")
            && names.contains(&std::format!("{prefix}running_mean"))
        {
            check_batches_tracked(&file, name, source)?;
            continue;
        }
        return Err(Error::UnexpectedTensor {
            path: source.to_string(),
            name: name.to_string(),
        });
    }
    for (k, values) in staged {
        if let Some(t) = net.state_mut(k) {
            t.data.copy_from_slice(&values);
        }
    }
    Ok(())
}

/// A batch norm's `num_batches_tracked`, as PyTorch writes it: one `I64`.
/// Its value is not used (stackgrad's running statistics move with a fixed
/// momentum, as PyTorch's do unless `momentum=None`).
fn check_batches_tracked(file: &File<'_>, name: &str, source: &str) -> Result<(), Error> {
    let Some((dtype, shape, _)) = file.raw(name) else {
        return Ok(());
    };
    if dtype != "I64" {
        return Err(Error::TensorDtype {
            path: source.to_string(),
            name: name.to_string(),
            expected: "I64",
            found: dtype.to_string(),
        });
    }
    if !shape.is_empty() {
        return Err(Error::TensorShape {
            path: source.to_string(),
            name: name.to_string(),
            expected: Vec::new(),
            found: shape.to_vec(),
        });
    }
    Ok(())
}

/// Loads `net`'s parameters from the file at `path` (see [`from_bytes`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and those of [`from_bytes`].
pub fn load<T: Scalar, P: Params<T>>(net: &mut P, path: impl AsRef<Path>) -> Result<(), Error> {
    load_with(net, path, Options::new())
}

/// [`load`], converting the file's element type when `options` allow it
/// (see [`from_bytes_with`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and those of [`from_bytes_with`].
pub fn load_with<T: Scalar, P: Params<T>>(
    net: &mut P,
    path: impl AsRef<Path>,
    options: Options,
) -> Result<(), Error> {
    let path = path.as_ref();
    from_bytes_with(net, &read_from(path)?, &path.display().to_string(), options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_do_not_count_and_the_first_difference_is_named() {
        assert_eq!(
            unwrapped("Net<(Box<Dense<f32, 2, 3>>, Relu)>"),
            "(Dense<f32, 2, 3>, Relu)"
        );
        assert_eq!(
            first_difference("Net<(Dense<f32, 2, 3>, Relu)>", "(Dense<f64, 2, 3>, Relu)"),
            None
        );
        assert_eq!(
            first_difference(
                "Net<(Dense<f32, 2, 3>, Sigmoid, Dense<f32, 3, 1>)>",
                "Net<(Dense<f32, 2, 3>, Relu, Dense<f32, 3, 1>)>"
            )
            .unwrap(),
            "layer 1 is Sigmoid in the file but Relu in the network"
        );
        assert!(
            first_difference(
                "Net<(Dense<f32, 2, 3>, Relu)>",
                "Net<(Dense<f32, 2, 3>, Relu, Relu)>"
            )
            .unwrap()
            .starts_with("the file's network has 2 layers, this one 3")
        );
    }
}
