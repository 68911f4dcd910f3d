//! Weights in and out (safetensors): the round trip gives the same outputs bit
//! for bit, and every malformed file is an `Error` naming the problem, with the
//! network left unchanged.

use stackgrad::io::{self, File};
use stackgrad::nn::{Dense, Net, Relu, Sigmoid};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Error, Matrix};

type Net64 = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
type Net32 = Net<(Dense<f32, 2, 25>, Sigmoid, Dense<f32, 25, 4>)>;
type Small = Net<(Dense<f64, 2, 25>, Sigmoid)>;

fn net64(seed: u64) -> Net64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut n = Net::new((
        Dense::xavier_uniform(&mut rng),
        Sigmoid,
        Dense::xavier_uniform(&mut rng),
    ));
    n.layers.0.bias = core::array::from_fn(|i| i as f64 * 0.01 - 0.1);
    n
}

fn net32(seed: u64) -> Net32 {
    let mut rng = StdRng::seed_from_u64(seed);
    Net::new((
        Dense::xavier_uniform(&mut rng),
        Sigmoid,
        Dense::xavier_uniform(&mut rng),
    ))
}

fn zeros64() -> Net64 {
    Net::new((Dense::zeros(), Sigmoid, Dense::zeros()))
}

/// `bytes` without the recorded architecture (blanked out of the header with
/// spaces), as a file written by another tool: the tensor-by-tensor checks
/// below are then the ones that speak.
fn anonymous(mut bytes: Vec<u8>) -> Vec<u8> {
    let key = br#""stackgrad.architecture":""#;
    let start = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("recorded");
    let end = start
        + key.len()
        + bytes[start + key.len()..]
            .iter()
            .position(|&b| b == b'"')
            .unwrap();
    bytes[start..=end].fill(b' ');
    bytes
}

fn expect_err(bytes: &[u8]) -> Error {
    let mut n = zeros64();
    let e = io::from_bytes(&mut n, bytes, "w.safetensors").unwrap_err();
    assert_eq!(
        n,
        zeros64(),
        "a failed load must leave the network unchanged"
    );
    e
}

#[test]
fn round_trip_gives_the_same_outputs_f64_and_f32() {
    let dir = std::env::temp_dir().join(format!("stackgrad-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = Matrix::<f64, 5, 2>::from_fn(|b, j| (b as f64 - 2.0) * 1.7 + j as f64 * 10.0);

    let net = net64(1);
    let path = dir.join("net64.safetensors");
    io::save(&net, &path, &[("layers", "dense,sigmoid,dense")]).unwrap();
    let mut back = zeros64();
    io::load(&mut back, &path).unwrap();
    assert_eq!(back, net);
    assert_eq!(back.infer(&x).as_slice(), net.infer(&x).as_slice());

    let net = net32(2);
    let path = dir.join("net32.safetensors");
    io::save(&net, &path, &[]).unwrap();
    let mut back: Net32 = Net::new((Dense::zeros(), Sigmoid, Dense::zeros()));
    io::load(&mut back, &path).unwrap();
    assert_eq!(back, net);
    let x32 = x.cast::<f32>();
    assert_eq!(back.infer(&x32).as_slice(), net.infer(&x32).as_slice());
}

/// The header names every tensor by the parameter visitor, with its shape,
/// dtype and metadata; the data is the parameters' bytes in order.
#[test]
fn header_matches_the_parameter_visitor() {
    let net = net64(3);
    let bytes = io::to_bytes(&net, &[("layers", "dense,sigmoid,dense")]).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(header_len % 8, 0);
    let file = File::parse(&bytes, "mem").unwrap();
    assert_eq!(
        file.names().collect::<Vec<_>>(),
        ["0.bias", "0.weight", "2.bias", "2.weight"]
    );
    assert_eq!(file.metadata()["layers"], "dense,sigmoid,dense");
    let (dt, shape, raw) = file.raw("0.weight").unwrap();
    assert_eq!((dt, shape), ("F64", &[2usize, 25][..]));
    assert_eq!(&raw[..8], &net.layers.0.weight[(0, 0)].to_le_bytes());
    assert_eq!(&raw[8..16], &net.layers.0.weight[(0, 1)].to_le_bytes());
    assert_eq!(file.raw("2.bias").unwrap().1, &[4]);
}

#[test]
fn missing_tensor_is_an_error() {
    let small: Small = Net::new((Dense::zeros(), Sigmoid));
    let bytes = anonymous(io::to_bytes(&small, &[]).unwrap());
    let e = expect_err(&bytes);
    assert!(
        matches!(&e, Error::MissingTensor { name, .. } if name == "2.weight"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        r#"w.safetensors: no tensor named "2.weight" (the network has one)"#
    );
}

#[test]
fn unexpected_tensor_is_an_error() {
    let bytes = anonymous(io::to_bytes(&net64(0), &[]).unwrap());
    let mut small: Small = Net::new((Dense::zeros(), Sigmoid));
    let e = io::from_bytes(&mut small, &bytes, "w.safetensors").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"w.safetensors: tensor "2.bias" is not a parameter of the network"#
    );
    assert_eq!(small, Net::new((Dense::zeros(), Sigmoid)));
}

#[test]
fn wrong_shape_is_an_error() {
    let other: Net<(Dense<f64, 2, 25>, Relu, Dense<f64, 25, 3>)> =
        Net::new((Dense::zeros(), Relu, Dense::zeros()));
    let e = expect_err(&anonymous(io::to_bytes(&other, &[]).unwrap()));
    assert!(
        matches!(&e, Error::TensorShape { name, expected, found, .. }
            if name == "2.weight" && expected == &[25, 4] && found == &[25, 3]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        r#"w.safetensors: tensor "2.weight" has shape [25, 3] but the network expects [25, 4]"#
    );
}

#[test]
fn wrong_dtype_is_an_error() {
    let e = expect_err(&io::to_bytes(&net32(0), &[]).unwrap());
    assert_eq!(
        e.to_string(),
        r#"w.safetensors: tensor "0.weight" has dtype F32 but the network expects F64 (io::Options::new().convert() converts it)"#
    );
    assert!(matches!(
        e,
        Error::TensorDtype {
            expected: "F64",
            ..
        }
    ));
}

/// Every proper prefix of a valid file (0 bytes, inside the length, inside the
/// header, inside the data) is reported as truncated.
#[test]
fn every_truncation_is_an_error() {
    let bytes = io::to_bytes(&net64(4), &[]).unwrap();
    for len in 0..bytes.len() {
        let e = expect_err(&bytes[..len]);
        assert!(
            matches!(e, Error::Truncated { .. }),
            "prefix of {len} bytes: {e:?}"
        );
    }
    assert_eq!(
        expect_err(&bytes[..5]).to_string(),
        "w.safetensors is truncated: 5 bytes, but a safetensors file starts with an 8-byte header length"
    );
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(
        expect_err(&bytes[..20]).to_string(),
        format!(
            "w.safetensors is truncated: the header length is {header_len} bytes but only 12 bytes follow"
        )
    );
    let e = expect_err(&bytes[..bytes.len() - 1]).to_string();
    assert!(
        e.contains("ends at data byte") && e.contains("data bytes follow the header"),
        "{e}"
    );
}

fn with_header(header: &str, data_len: usize) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data_len, 0);
    out
}

#[test]
fn malformed_headers_are_errors() {
    let cases = [
        ("not json", "the header is not valid JSON"),
        ("[1, 2]", "the header is not a JSON object"),
        (
            r#"{"0.weight": {"shape": [2, 25], "data_offsets": [0, 400]}}"#,
            "no \"dtype\" string",
        ),
        (
            r#"{"0.weight": {"dtype": "F64", "shape": [2, -1], "data_offsets": [0, 400]}}"#,
            "no \"shape\" list",
        ),
        (
            r#"{"0.weight": {"dtype": "F64", "shape": [2, 25], "data_offsets": [400, 0]}}"#,
            "begin <= end",
        ),
        (
            r#"{"0.weight": {"dtype": "F64", "shape": [2, 25], "data_offsets": [0, 399]}}"#,
            "needs 400 bytes but data_offsets span 399",
        ),
        (
            r#"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}"#,
            "overlaps or leaves a gap",
        ),
        (
            r#"{"__metadata__": {"k": 1}}"#,
            "__metadata__ value \"k\" is not a string",
        ),
    ];
    for (header, want) in cases {
        let e = expect_err(&with_header(header, 400));
        assert!(matches!(e, Error::Format { .. }), "{header}: {e:?}");
        assert!(e.to_string().contains(want), "{header}: {e}");
    }
    // Bytes after the last tensor.
    let e = expect_err(&with_header(
        r#"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}"#,
        6,
    ));
    assert_eq!(
        e.to_string(),
        "w.safetensors: 2 bytes follow the last tensor's data"
    );
    // An absurd header length is truncation, not an allocation.
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert!(matches!(expect_err(&huge), Error::Truncated { .. }));
}

#[test]
fn missing_file_is_an_io_error() {
    let mut n = zeros64();
    let e = io::load(&mut n, "/nonexistent/w.safetensors").unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
}

/// The file records the network's architecture and refuses another one with
/// the same tensors (a ReLU where the file had a sigmoid), naming the first
/// difference; wrappers (`Net`, `Box`) and the element type do not count.
#[test]
fn another_architecture_is_an_error_naming_the_first_difference() {
    let same_tensors: Net<(Dense<f64, 2, 25>, Relu, Dense<f64, 25, 4>)> =
        Net::new((Dense::zeros(), Relu, Dense::zeros()));
    let e = expect_err(&io::to_bytes(&same_tensors, &[]).unwrap());
    assert_eq!(
        e.to_string(),
        "w.safetensors was saved from another network: layer 1 is Relu in the file but Sigmoid in the network"
    );
    let fewer: Small = Net::new((Dense::zeros(), Sigmoid));
    let e = expect_err(&io::to_bytes(&fewer, &[]).unwrap());
    assert!(
        e.to_string()
            .contains("the file's network has 2 layers, this one 3"),
        "{e}"
    );
    // The same layers as a bare tuple load.
    let tuple = (net64(1).layers.0, Sigmoid, net64(1).layers.2);
    let mut n = zeros64();
    io::from_bytes(&mut n, &io::to_bytes(&tuple, &[]).unwrap(), "t").unwrap();
    assert_eq!(n, net64(1));
    // A file without the record (another tool's) loads by names and shapes.
    let mut n = zeros64();
    io::from_bytes(
        &mut n,
        &anonymous(io::to_bytes(&net64(2), &[]).unwrap()),
        "t",
    )
    .unwrap();
    assert_eq!(n, net64(2));
}

#[test]
fn a_tensor_name_written_twice_is_an_error() {
    let header = r#"{"0.weight": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}, "0.weight": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]}}"#;
    let e = expect_err(&with_header(header, 16));
    assert_eq!(
        e.to_string(),
        r#"w.safetensors: tensor name "0.weight" appears twice in the header"#
    );
}
