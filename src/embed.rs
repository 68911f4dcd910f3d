//! Weights compiled into the program: `const fn`s that read tensors out of
//! a safetensors file's bytes (`include_bytes!`) at compile time, so that a
//! network trained elsewhere (PyTorch, or stackgrad's [`io`](crate::io))
//! becomes a `static` in read-only memory, run with `core` alone and no
//! heap. `core` only; no `std` needed.
//!
//! | function | file tensor | result |
//! |---|---|---|
//! | [`vector::<N>`](vector) | `[N]` | `[f32; N]` (a bias, a batch norm's statistics) |
//! | [`matrix::<R, C>`](matrix) | `[R, C]` | `[[f32; C]; R]` (a weight in stackgrad's layout) |
//! | [`transposed::<R, C>`](transposed) | `[C, R]` | `[[f32; C]; R]` (a PyTorch `nn.Linear` weight, `out x in`, as stackgrad's `in x out`) |
//!
//! Elements may be `F32`, `F16` or `BF16` (each exactly an `f32`); `F64`
//! would need rounding and is refused. A missing tensor, another shape or
//! dtype, or a malformed file is an [`EmbedError`]; [`unwrap`] turns it into
//! a compile error that says which when it runs in a `static`:
//!
//! ```text
//! error[E0080]: evaluation panicked: the file has no tensor of this name
//!    |
//!    |     embed::unwrap(embed::vector::<32>(FILE, "0.bais")),
//!    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ evaluation of `NET` failed inside this call
//! ```
//!
//! The header is scanned, not fully parsed: this reads the files that
//! safetensors writers produce (a JSON object of entries with `"dtype"`,
//! `"shape"` and `"data_offsets"`), and checks each value it uses against
//! the file's size; to check a file completely, load it with
//! [`io`](crate::io) in a test. Cost: one pass over the header per tensor,
//! at compile time.
//!
//! ```
//! use stackgrad::embed;
//! use stackgrad::nn::{Dense, Net, Relu};
//! use stackgrad::Matrix;
//!
//! // The digits MLP that PyTorch trained (scripts/reference/torch_fixtures.py).
//! const FILE: &[u8] = include_bytes!(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/tests/fixtures/torch/digits_mlp_f32.safetensors"
//! ));
//! static NET: Net<(Dense<f32, 64, 32>, Relu, Dense<f32, 32, 10>)> = Net::new((
//!     Dense::new(
//!         Matrix::from_array(embed::unwrap(embed::transposed(FILE, "0.weight"))),
//!         embed::unwrap(embed::vector(FILE, "0.bias")),
//!     ),
//!     Relu,
//!     Dense::new(
//!         Matrix::from_array(embed::unwrap(embed::transposed(FILE, "2.weight"))),
//!         embed::unwrap(embed::vector(FILE, "2.bias")),
//!     ),
//! ));
//! // The same network as io::torch loads it at run time.
//! let mut loaded: Net<(Dense<f32, 64, 32>, Relu, Dense<f32, 32, 10>)> =
//!     Net::new((Dense::zeros(), Relu, Dense::zeros()));
//! stackgrad::io::torch::from_bytes(&mut loaded, FILE, "mlp", Default::default())?;
//! assert_eq!(NET, loaded);
//! # Ok::<(), stackgrad::Error>(())
//! ```

/// Why a tensor could not be read from a file at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbedError {
    /// The bytes are not a safetensors file this module reads (a short
    /// file, a header that is not an object of tensor entries, offsets
    /// outside the data).
    Malformed,
    /// No tensor has the name.
    NotFound,
    /// The tensor is not `F32`, `F16` or `BF16`.
    Dtype,
    /// The tensor's shape is not the one asked for.
    Shape,
}

impl EmbedError {
    /// The error in words.
    ///
    /// ```
    /// assert_eq!(stackgrad::embed::EmbedError::Shape.message(), "the tensor has another shape");
    /// ```
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            EmbedError::Malformed => "the bytes are not a safetensors file",
            EmbedError::NotFound => "the file has no tensor of this name",
            EmbedError::Dtype => "the tensor is not F32, F16 or BF16",
            EmbedError::Shape => "the tensor has another shape",
        }
    }
}

/// The value, or (in a `const` or `static`) a compile error with the
/// error's [`message`](EmbedError::message). At run time it panics: use a
/// `match` there instead.
///
/// ```
/// let bias: [f32; 2] = stackgrad::embed::unwrap(Ok([0.5, 1.0]));
/// assert_eq!(bias, [0.5, 1.0]);
/// ```
///
/// # Panics
/// On an error (at compile time, when evaluated in a constant).
#[must_use]
pub const fn unwrap<V: Copy>(result: Result<V, EmbedError>) -> V {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{}", e.message()),
    }
}

/// Tensor `name` of shape `[N]`, as `f32`s.
///
/// ```
/// use stackgrad::embed::{self, EmbedError};
/// const FILE: &[u8] = include_bytes!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/tests/fixtures/torch/digits_mlp_bf16.safetensors"
/// ));
/// const B: Result<[f32; 10], EmbedError> = embed::vector(FILE, "2.bias");
/// assert!(B.is_ok());
/// assert_eq!(embed::vector::<9>(FILE, "2.bias"), Err(EmbedError::Shape));
/// assert_eq!(embed::vector::<10>(FILE, "3.bias"), Err(EmbedError::NotFound));
/// ```
///
/// # Errors
/// See [`EmbedError`].
pub const fn vector<const N: usize>(file: &[u8], name: &str) -> Result<[f32; N], EmbedError> {
    let t = match find(file, name.as_bytes()) {
        Ok(t) => t,
        Err(e) => return Err(e),
    };
    if t.rank != 1 || t.dims[0] != N || t.end - t.begin != N * t.size {
        return Err(EmbedError::Shape);
    }
    let mut out = [0f32; N];
    let mut i = 0;
    while i < N {
        out[i] = element(file, &t, i);
        i += 1;
    }
    Ok(out)
}

/// Tensor `name` of shape `[R, C]`, as rows of `f32`s (stackgrad's layout
/// of a dense weight, `in x out`).
///
/// # Errors
/// See [`EmbedError`].
pub const fn matrix<const R: usize, const C: usize>(
    file: &[u8],
    name: &str,
) -> Result<[[f32; C]; R], EmbedError> {
    read_2d(file, name, false)
}

/// Tensor `name` of shape `[C, R]`, transposed into `R` rows of `C`:
/// PyTorch's `nn.Linear` weight (`out x in`) as stackgrad's dense weight
/// (`in x out`), `w[i][o] = file[o][i]`.
///
/// # Errors
/// See [`EmbedError`].
pub const fn transposed<const R: usize, const C: usize>(
    file: &[u8],
    name: &str,
) -> Result<[[f32; C]; R], EmbedError> {
    read_2d(file, name, true)
}

const fn read_2d<const R: usize, const C: usize>(
    file: &[u8],
    name: &str,
    transposed: bool,
) -> Result<[[f32; C]; R], EmbedError> {
    let t = match find(file, name.as_bytes()) {
        Ok(t) => t,
        Err(e) => return Err(e),
    };
    let (rows, cols) = if transposed { (C, R) } else { (R, C) };
    if t.rank != 2 || t.dims[0] != rows || t.dims[1] != cols || t.end - t.begin != R * C * t.size {
        return Err(EmbedError::Shape);
    }
    let mut out = [[0f32; C]; R];
    let mut r = 0;
    while r < R {
        let mut c = 0;
        while c < C {
            let at = if transposed { c * R + r } else { r * C + c };
            out[r][c] = element(file, &t, at);
            c += 1;
        }
        r += 1;
    }
    Ok(out)
}

/// A located tensor: its element size and kind, shape, and its bytes'
/// absolute span in the file (checked to lie inside it).
struct Found {
    size: usize,
    kind: u8, // b'f': F32, b'h': F16, b'b': BF16
    dims: [usize; 4],
    rank: usize,
    begin: usize,
    end: usize,
}

/// Element `i` of `t` (within its span, which [`find`] checked).
const fn element(file: &[u8], t: &Found, i: usize) -> f32 {
    let at = t.begin + i * t.size;
    match t.kind {
        b'f' => f32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]),
        b'h' => crate::half::f16_to_f32(u16::from_le_bytes([file[at], file[at + 1]])),
        _ => crate::half::bf16_to_f32(u16::from_le_bytes([file[at], file[at + 1]])),
    }
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

const fn skip_space(h: &[u8], mut i: usize) -> usize {
    while i < h.len() && is_space(h[i]) {
        i += 1;
    }
    i
}

/// The end (one past the closing quote) of the string starting at `i`.
const fn string_end(h: &[u8], mut i: usize) -> Result<usize, EmbedError> {
    if i >= h.len() || h[i] != b'"' {
        return Err(EmbedError::Malformed);
    }
    i += 1;
    while i < h.len() {
        match h[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(EmbedError::Malformed)
}

/// Whether the string at `start..end` (quotes included) is exactly `text`.
const fn string_is(h: &[u8], start: usize, end: usize, text: &[u8]) -> bool {
    if end - start != text.len() + 2 {
        return false;
    }
    let mut k = 0;
    while k < text.len() {
        if h[start + 1 + k] != text[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// The end of the JSON value starting at `i` (strings, nested objects and
/// arrays, and bare numbers or words).
const fn value_end(h: &[u8], i: usize) -> Result<usize, EmbedError> {
    if i >= h.len() {
        return Err(EmbedError::Malformed);
    }
    if h[i] == b'"' {
        return string_end(h, i);
    }
    let mut depth = 0usize;
    let mut j = i;
    while j < h.len() {
        match h[j] {
            b'"' => match string_end(h, j) {
                Ok(e) => {
                    j = e;
                    continue;
                }
                Err(e) => return Err(e),
            },
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Ok(j);
                }
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            b',' if depth == 0 => return Ok(j),
            _ => {}
        }
        j += 1;
    }
    Err(EmbedError::Malformed)
}

/// The numbers of the JSON array of non-negative integers at `i` (at most
/// 4), their count, and the array's end.
const fn numbers(h: &[u8], mut i: usize) -> Result<([usize; 4], usize, usize), EmbedError> {
    let mut out = [0usize; 4];
    let mut n = 0;
    if i >= h.len() || h[i] != b'[' {
        return Err(EmbedError::Malformed);
    }
    i = skip_space(h, i + 1);
    if i < h.len() && h[i] == b']' {
        return Ok((out, 0, i + 1));
    }
    while i < h.len() {
        if n == 4 || !h[i].is_ascii_digit() {
            return Err(EmbedError::Malformed);
        }
        let mut v = 0usize;
        while i < h.len() && h[i].is_ascii_digit() {
            v = match v.checked_mul(10) {
                Some(x) => match x.checked_add((h[i] - b'0') as usize) {
                    Some(y) => y,
                    None => return Err(EmbedError::Malformed),
                },
                None => return Err(EmbedError::Malformed),
            };
            i += 1;
        }
        out[n] = v;
        n += 1;
        i = skip_space(h, i);
        if i < h.len() && h[i] == b']' {
            return Ok((out, n, i + 1));
        }
        if i >= h.len() || h[i] != b',' {
            return Err(EmbedError::Malformed);
        }
        i = skip_space(h, i + 1);
    }
    Err(EmbedError::Malformed)
}

/// Locates tensor `name`: scans the header's top-level keys, then the
/// matching entry's `dtype`, `shape` and `data_offsets`.
const fn find(file: &[u8], name: &[u8]) -> Result<Found, EmbedError> {
    if file.len() < 8 {
        return Err(EmbedError::Malformed);
    }
    let n = u64::from_le_bytes([
        file[0], file[1], file[2], file[3], file[4], file[5], file[6], file[7],
    ]);
    if n > (file.len() - 8) as u64 {
        return Err(EmbedError::Malformed);
    }
    let data = 8 + n as usize;
    let (_, rest) = file.split_at(8);
    let (h, _) = rest.split_at(n as usize);
    let mut i = skip_space(h, 0);
    if i >= h.len() || h[i] != b'{' {
        return Err(EmbedError::Malformed);
    }
    i = skip_space(h, i + 1);
    while i < h.len() && h[i] != b'}' {
        let key_end = match string_end(h, i) {
            Ok(e) => e,
            Err(e) => return Err(e),
        };
        let matched = string_is(h, i, key_end, name);
        i = skip_space(h, key_end);
        if i >= h.len() || h[i] != b':' {
            return Err(EmbedError::Malformed);
        }
        i = skip_space(h, i + 1);
        if matched {
            return entry(h, i, data, file.len());
        }
        i = match value_end(h, i) {
            Ok(e) => skip_space(h, e),
            Err(e) => return Err(e),
        };
        if i < h.len() && h[i] == b',' {
            i = skip_space(h, i + 1);
        }
    }
    Err(EmbedError::NotFound)
}

/// Reads the entry object at `i`; `data` is where the data starts, `len`
/// the file's length.
const fn entry(h: &[u8], mut i: usize, data: usize, len: usize) -> Result<Found, EmbedError> {
    if i >= h.len() || h[i] != b'{' {
        return Err(EmbedError::Malformed);
    }
    let mut t = Found {
        size: 0,
        kind: 0,
        dims: [0; 4],
        rank: usize::MAX,
        begin: 0,
        end: usize::MAX,
    };
    i = skip_space(h, i + 1);
    while i < h.len() && h[i] != b'}' {
        let key = i;
        let key_end = match string_end(h, i) {
            Ok(e) => e,
            Err(e) => return Err(e),
        };
        i = skip_space(h, key_end);
        if i >= h.len() || h[i] != b':' {
            return Err(EmbedError::Malformed);
        }
        i = skip_space(h, i + 1);
        let end = if string_is(h, key, key_end, b"dtype") {
            let e = match string_end(h, i) {
                Ok(e) => e,
                Err(e) => return Err(e),
            };
            (t.size, t.kind) = if string_is(h, i, e, b"F32") {
                (4, b'f')
            } else if string_is(h, i, e, b"F16") {
                (2, b'h')
            } else if string_is(h, i, e, b"BF16") {
                (2, b'b')
            } else {
                return Err(EmbedError::Dtype);
            };
            e
        } else if string_is(h, key, key_end, b"shape") {
            match numbers(h, i) {
                Ok((dims, rank, e)) => {
                    t.dims = dims;
                    t.rank = rank;
                    e
                }
                Err(e) => return Err(e),
            }
        } else if string_is(h, key, key_end, b"data_offsets") {
            match numbers(h, i) {
                Ok((o, 2, e)) => {
                    t.begin = o[0];
                    t.end = o[1];
                    e
                }
                Ok(_) => return Err(EmbedError::Malformed),
                Err(e) => return Err(e),
            }
        } else {
            match value_end(h, i) {
                Ok(e) => e,
                Err(e) => return Err(e),
            }
        };
        i = skip_space(h, end);
        if i < h.len() && h[i] == b',' {
            i = skip_space(h, i + 1);
        }
    }
    if t.size == 0 || t.rank == usize::MAX || t.end == usize::MAX || t.begin > t.end {
        return Err(EmbedError::Malformed);
    }
    if t.end > len - data {
        return Err(EmbedError::Malformed);
    }
    t.begin += data;
    t.end += data;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with `header` and `data`.
    fn raw(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    /// A file with the tensors (name, dtype, shape, data) and a metadata
    /// object that mentions a tensor's name.
    fn file(tensors: &[(&str, &str, &str, &[u8])]) -> Vec<u8> {
        let mut header = String::from(r#"{"__metadata__":{"note":"\"w\": {}, [x]"},"#);
        let mut at = 0;
        let mut data = Vec::new();
        for (k, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
            if k > 0 {
                header.push(',');
            }
            header += &format!(
                r#" "{name}" : {{"shape":{shape}, "dtype":"{dtype}","data_offsets":[{at},{}]}}"#,
                at + bytes.len()
            );
            at += bytes.len();
            data.extend_from_slice(bytes);
        }
        header.push('}');
        raw(&header, &data)
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_vectors_matrices_and_transposes() {
        let w = f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let half: Vec<u8> = [0x3C00u16, 0xC000]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let bf: Vec<u8> = [0x3F80u16, 0x4049]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let f = file(&[
            ("w", "F32", "[2, 3]", &w),
            ("h", "F16", "[2]", &half),
            ("b", "BF16", "[2]", &bf),
            ("d", "F64", "[1]", &[0; 8]),
        ]);
        assert_eq!(
            matrix::<2, 3>(&f, "w"),
            Ok([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        );
        assert_eq!(
            transposed::<3, 2>(&f, "w"),
            Ok([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
        );
        assert_eq!(vector::<2>(&f, "h"), Ok([1.0, -2.0]));
        assert_eq!(vector::<2>(&f, "b"), Ok([1.0, 3.140625]));
        assert_eq!(vector::<1>(&f, "d"), Err(EmbedError::Dtype));
        assert_eq!(matrix::<3, 2>(&f, "w"), Err(EmbedError::Shape));
        assert_eq!(vector::<6>(&f, "w"), Err(EmbedError::Shape));
        assert_eq!(vector::<2>(&f, "x"), Err(EmbedError::NotFound));
        assert_eq!(vector::<2>(&f, "note"), Err(EmbedError::NotFound));
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let good = file(&[("v", "F32", "[2]", &f32s(&[1.0, 2.0]))]);
        assert_eq!(vector::<2>(&good, "v"), Ok([1.0, 2.0]));
        // Every truncation, and every single-byte corruption of the header.
        for cut in 0..good.len() {
            let r = vector::<2>(&good[..cut], "v");
            assert!(r.is_err(), "cut at {cut}");
        }
        for at in 8..good.len() {
            for b in [b'"', b'{', b'}', b'[', b',', b'9', b' ', b'\\', 0xFF] {
                let mut bad = good.clone();
                bad[at] = b;
                let _ = vector::<2>(&bad, "v"); // any result, no panic
            }
        }
        let data = f32s(&[1.0, 2.0]);
        let entry = |offsets: &str| {
            format!(r#"{{"v":{{"dtype":"F32","shape":[2],"data_offsets":{offsets}}}}}"#)
        };
        assert_eq!(
            vector::<2>(&raw(&entry("[0,8]"), &data), "v"),
            Ok([1.0, 2.0])
        );
        for offsets in [
            "[0,9]",
            "[1,8]",
            "[8,0]",
            "[0]",
            "[99999999999999999999999,8]",
            "[0,8,8]",
        ] {
            let r = vector::<2>(&raw(&entry(offsets), &data), "v");
            assert!(r.is_err(), "{offsets}: {r:?}");
        }
    }
}
