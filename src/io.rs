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
//! `[inputs, outputs]`, the `Y = X W + b` layout); the dtype is `F32` or `F64`.
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
//! shape, a wrong dtype (no silent conversion), a truncated file or a
//! malformed header. Any other safetensors
//! reader (numpy with a few lines, see `scripts/check_safetensors.py`; the
//! `safetensors` packages) reads the files written here.
//!
//! ```
//! use stackgrad::io;
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
//! # Ok::<(), stackgrad::Error>(())
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{Map, Value};

use crate::nn::Params;
use crate::{Error, Scalar};

/// The safetensors dtype of `T`: `"F32"` or `"F64"`.
#[must_use]
pub fn dtype<T: Scalar>() -> &'static str {
    if T::NAME == "f32" { "F32" } else { "F64" }
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
    let size = core::mem::size_of::<T>();
    let mut header = Map::new();
    let mut offset = 0usize;
    for &(name, shape, data) in tensors {
        if shape.iter().product::<usize>() != data.len() {
            return Err(format_err(
                "(encoding)",
                std::format!(
                    "tensor {name:?} has {} values but shape {shape:?}",
                    data.len()
                ),
            ));
        }
        if name == "__metadata__" || header.contains_key(name) {
            return Err(format_err(
                "(encoding)",
                std::format!("tensor name {name:?} is used twice or reserved"),
            ));
        }
        let end = offset + core::mem::size_of_val(data);
        let mut entry = Map::new();
        entry.insert("dtype".into(), dtype::<T>().into());
        entry.insert("shape".into(), shape.to_vec().into());
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
    for &(_, _, data) in tensors {
        for &x in data {
            if size == 4 {
                out.extend_from_slice(&(x.as_f64() as f32).to_le_bytes());
            } else {
                out.extend_from_slice(&x.as_f64().to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// Encodes every parameter tensor of `net`, named by the parameter visitor,
/// with string `metadata` (for instance the layer kinds, for other readers).
///
/// # Errors
/// None for the crate's layers; [`Error::Format`] if a user-defined layer
/// reports a tensor whose length differs from its shape or a name twice.
pub fn to_bytes<T: Scalar, P: Params<T>>(
    net: &P,
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, Error> {
    let mut names = Vec::with_capacity(P::TENSORS + P::BUFFERS);
    let mut tensors = Vec::with_capacity(P::TENSORS + P::BUFFERS);
    for t in (0..P::TENSORS + P::BUFFERS).filter_map(|k| net.state(k)) {
        names.push(t.name.to_string());
        tensors.push((t.shape, t.data));
    }
    let list: Vec<(&str, &[usize], &[T])> = names
        .iter()
        .zip(&tensors)
        .map(|(n, (s, d))| (n.as_str(), s.dims(), *d))
        .collect();
    let architecture = architecture::<P>();
    let mut meta: Vec<(&str, &str)> = std::vec![(ARCHITECTURE_KEY, architecture.as_str())];
    meta.extend(metadata.iter().filter(|(k, _)| *k != ARCHITECTURE_KEY));
    encode(&list, &meta)
}

/// The metadata key under which [`to_bytes`] records the network's type.
pub const ARCHITECTURE_KEY: &str = "stackgrad.architecture";

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
    let path = path.as_ref();
    let bytes = to_bytes(net, metadata)?;
    std::fs::write(path, bytes).map_err(|e| Error::Io {
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
/// [`Error::MissingTensor`], [`Error::TensorDtype`], [`Error::TensorShape`]
/// for the first network tensor that the file lacks or stores differently;
/// [`Error::UnexpectedTensor`] for a file tensor the network does not have.
pub fn from_bytes<T: Scalar, P: Params<T>>(
    net: &mut P,
    bytes: &[u8],
    source: &str,
) -> Result<(), Error> {
    let file = File::parse(bytes, source)?;
    if let Some(recorded) = file.metadata().get(ARCHITECTURE_KEY)
        && let Some(difference) = first_difference(recorded, &architecture::<P>())
    {
        return Err(Error::Architecture {
            path: source.to_string(),
            difference,
        });
    }
    let mut names = BTreeSet::new();
    for k in 0..P::TENSORS + P::BUFFERS {
        let Some(t) = net.state(k) else { continue };
        let name = t.name.to_string();
        let Some((dt, shape, _)) = file.raw(&name) else {
            return Err(Error::MissingTensor {
                path: source.to_string(),
                name,
            });
        };
        if dt != dtype::<T>() {
            return Err(Error::TensorDtype {
                path: source.to_string(),
                name,
                expected: dtype::<T>(),
                found: dt.to_string(),
            });
        }
        if shape != t.shape.dims() {
            return Err(Error::TensorShape {
                path: source.to_string(),
                name,
                expected: t.shape.dims().to_vec(),
                found: shape.to_vec(),
            });
        }
        names.insert(name);
    }
    if let Some(extra) = file.names().find(|n| !names.contains(*n)) {
        return Err(Error::UnexpectedTensor {
            path: source.to_string(),
            name: extra.to_string(),
        });
    }
    for k in 0..P::TENSORS + P::BUFFERS {
        let Some(t) = net.state_mut(k) else { continue };
        let Some((_, _, raw)) = file.raw(&t.name.to_string()) else {
            continue; // checked above
        };
        let size = core::mem::size_of::<T>();
        for (x, chunk) in t.data.iter_mut().zip(raw.chunks_exact(size)) {
            *x = if let Ok(b) = <[u8; 4]>::try_from(chunk) {
                T::from_f64(f64::from(f32::from_le_bytes(b)))
            } else if let Ok(b) = <[u8; 8]>::try_from(chunk) {
                T::from_f64(f64::from_le_bytes(b))
            } else {
                *x
            };
        }
    }
    Ok(())
}

/// Loads `net`'s parameters from the file at `path` (see [`from_bytes`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and those of [`from_bytes`].
pub fn load<T: Scalar, P: Params<T>>(net: &mut P, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    from_bytes(net, &bytes, &name)
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
