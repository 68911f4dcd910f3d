//! Data sets: the bundled handwritten digits and the train/test split.
//!
//! Data sets live on the heap (`Vec`s of fixed-size rows); the networks that
//! train on them stay on the stack.
//!
//! | item | what |
//! |---|---|
//! | [`digits::bundled`] | the UCI digits (1797 rows of 8x8 pixel counts `0..=16` and a label `0..=9`), embedded in the library |
//! | [`digits::load`] | the same format from a file |
//! | [`digits::Digits::features`] | pixels scaled to `[0, 1]` (`count / 16`) |
//! | [`digits::Digits::split`] | train and test rows: row `i` is a test row when `i % 5 == 4` |

#[cfg(feature = "std")]
pub mod digits {
    //! The UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin,
    //! C. Kaynak, 1998, CC BY 4.0), in the copy scikit-learn packages, shipped
    //! with the crate as `data/digits.csv.gz`.
    //!
    //! Each line is 64 pixel counts (integers `0..=16`, an 8x8 image row by row)
    //! followed by the class label (`0..=9`), separated by commas, no header.
    //!
    //! The data set is embedded in the library ([`bundled`], 57 KB of gzip),
    //! so it needs no path; [`load`] reads a file of the same format.
    //!
    //! ```
    //! use stackgrad::data::digits;
    //! let all = digits::bundled()?;
    //! assert_eq!(all.len(), 1797);
    //! let (train, test) = all.split();
    //! assert_eq!((train.len(), test.len()), (1438, 359));
    //! let x: Vec<[f32; 64]> = test.features();
    //! assert!(x.iter().flatten().all(|&p| (0.0..=1.0).contains(&p)));
    //! # Ok::<(), stackgrad::Error>(())
    //! ```

    use std::io::Read;
    use std::path::Path;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use crate::{Error, Scalar};

    /// Pixels per image (8 x 8).
    pub const PIXELS: usize = 64;
    /// Number of classes (the digits 0 to 9).
    pub const CLASSES: usize = 10;
    /// The largest pixel count (a pixel counts set bits in a 4x4 block).
    pub const MAX_PIXEL: u8 = 16;

    /// Digit images and their labels, row `i` of each belonging together.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Digits {
        /// Pixel counts `0..=16`, 8 rows of 8, row-major.
        pub pixels: Vec<[u8; PIXELS]>,
        /// Class labels `0..=9`.
        pub labels: Vec<usize>,
    }

    /// The most bytes [`load`] decompresses a gzip file to: 16 MiB.
    ///
    /// The bundled file decompresses to 264,712 bytes (57,523 compressed); a
    /// line is at most 195 bytes (64 pixels `16,` and a label), so the bound
    /// holds over 86,000 images. Gzip reaches ratios of 1000:1 (a "bomb"
    /// inflates a few kilobytes to gigabytes): the decoder streams into a
    /// buffer that never grows past the bound and stops at the first byte
    /// beyond it, with an [`Error::Format`] naming the bound.
    pub const MAX_DECOMPRESSED_BYTES: usize = 16 << 20;

    /// Reads the gzip-compressed CSV at `path` (or an uncompressed one: gzip is
    /// recognized by its magic bytes). Gzip data is decompressed to at most
    /// [`MAX_DECOMPRESSED_BYTES`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Format`] when it is
    /// not valid gzip, decompresses to more than [`MAX_DECOMPRESSED_BYTES`] or
    /// holds no rows; [`Error::Parse`] naming the line and
    /// column of a wrong column count, a value that is not an integer, a pixel
    /// outside `0..=16` or a label outside `0..=9`.
    pub fn load(path: impl AsRef<Path>) -> Result<Digits, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let raw = std::fs::read(path).map_err(|e| Error::Io {
            path: name.clone(),
            message: e.to_string(),
        })?;
        from_bytes(&raw, &name)
    }

    /// The data set shipped with the crate (`data/digits.csv.gz`, embedded in
    /// the library): 1797 images, the same rows as [`load`] of that file.
    /// Decompressing and parsing it takes about a millisecond in a release
    /// build; the 57 KB are linked only into programs that call it.
    ///
    /// ```
    /// use stackgrad::data::digits;
    /// let (train, test) = digits::bundled()?.split();
    /// assert_eq!((train.len(), test.len()), (1438, 359));
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    ///
    /// # Errors
    /// None in practice (the embedded file is valid; a test parses it); the
    /// `Result` is [`from_bytes`]'s.
    pub fn bundled() -> Result<Digits, Error> {
        from_bytes(BUNDLED, "the bundled digits")
    }

    /// The bytes of `data/digits.csv.gz`.
    const BUNDLED: &[u8] = include_bytes!("../data/digits.csv.gz");

    /// Parses gzip-compressed CSV bytes, or uncompressed CSV text (gzip is
    /// recognized by its magic bytes); `source` names them in errors.
    ///
    /// # Errors
    /// As [`load`], without the I/O case.
    pub fn from_bytes(raw: &[u8], source: &str) -> Result<Digits, Error> {
        if raw.starts_with(&[0x1f, 0x8b]) {
            let out =
                inflate_bounded(raw, MAX_DECOMPRESSED_BYTES).map_err(|message| Error::Format {
                    path: source.to_string(),
                    message,
                })?;
            parse(&out, source)
        } else {
            parse(raw, source)
        }
    }

    /// Decompresses gzip `raw` (one member or several) to at most `limit`
    /// bytes, in chunks: the output never holds, nor reserves, more than
    /// `limit` bytes. The error says what is wrong: invalid gzip, or output
    /// beyond `limit` (named; stops at the first byte past it).
    fn inflate_bounded(raw: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        let mut decoder = flate2::read::MultiGzDecoder::new(raw);
        let mut out = Vec::new();
        let mut chunk = [0u8; 16 << 10];
        loop {
            let n = match decoder.read(&mut chunk) {
                Ok(0) => return Ok(out),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(std::format!("not valid gzip data: {e}")),
            };
            if n > limit - out.len() {
                return Err(std::format!(
                    "gzip data decompresses to more than {limit} bytes, the limit \
                     (digits::MAX_DECOMPRESSED_BYTES)"
                ));
            }
            // Doubling growth, capped at the limit.
            if out.capacity() - out.len() < n {
                let want = (2 * out.capacity()).max(out.len() + n).min(limit);
                out.reserve_exact(want - out.len());
            }
            out.extend_from_slice(&chunk[..n]);
        }
    }

    /// Parses the uncompressed CSV text; `source` names it in errors.
    ///
    /// Lines holding only whitespace are skipped; `\r\n` line ends are accepted.
    ///
    /// ```
    /// use stackgrad::data::digits;
    /// let line = format!("{}7\n", "16,".repeat(64));
    /// let d = digits::parse(line.as_bytes(), "inline")?;
    /// assert_eq!((d.pixels[0][63], d.labels[0]), (16, 7));
    /// let bad = format!("{}10\n", "0,".repeat(64));
    /// assert_eq!(
    ///     digits::parse(bad.as_bytes(), "inline").unwrap_err().to_string(),
    ///     "inline, line 1, column 65: label 10 is outside 0..=9"
    /// );
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`load`], without the I/O and gzip cases.
    pub fn parse(text: &[u8], source: &str) -> Result<Digits, Error> {
        let mut digits = Digits::default();
        let err = |line: usize, column: usize, message: String| Error::Parse {
            path: source.to_string(),
            line,
            column,
            message,
        };
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let line_no = i + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let fields = line.split(|&b| b == b',').count();
            if fields != PIXELS + 1 {
                return Err(err(
                    line_no,
                    if fields < PIXELS + 1 {
                        fields + 1
                    } else {
                        PIXELS + 2
                    },
                    std::format!(
                        "expected {} comma-separated values (64 pixels and a label), found {fields}",
                        PIXELS + 1
                    ),
                ));
            }
            let mut pixels = [0u8; PIXELS];
            let mut label = 0;
            for (j, field) in line.split(|&b| b == b',').enumerate() {
                let column = j + 1;
                let text = String::from_utf8_lossy(field);
                let value: u64 = text.trim().parse().map_err(|_| {
                    err(
                        line_no,
                        column,
                        std::format!("expected a non-negative integer, found {:?}", text.trim()),
                    )
                })?;
                if j < PIXELS {
                    pixels[j] = u8::try_from(value)
                        .ok()
                        .filter(|&p| p <= MAX_PIXEL)
                        .ok_or_else(|| {
                            err(
                                line_no,
                                column,
                                std::format!("pixel {value} is outside 0..={MAX_PIXEL}"),
                            )
                        })?;
                } else {
                    label = usize::try_from(value)
                        .ok()
                        .filter(|&l| l < CLASSES)
                        .ok_or_else(|| {
                            err(
                                line_no,
                                column,
                                std::format!("label {value} is outside 0..={}", CLASSES - 1),
                            )
                        })?;
                }
            }
            digits.pixels.push(pixels);
            digits.labels.push(label);
        }
        if digits.is_empty() {
            return Err(Error::Format {
                path: source.to_string(),
                message: "the file holds no rows".to_string(),
            });
        }
        Ok(digits)
    }

    /// Whether row `i` belongs to the test set: every fifth row, `i % 5 == 4`
    /// (an 80/20 split that keeps the file's class balance).
    #[must_use]
    pub const fn is_test_row(i: usize) -> bool {
        i % 5 == 4
    }

    impl Digits {
        /// Number of images.
        #[must_use]
        pub fn len(&self) -> usize {
            self.labels.len()
        }

        /// Whether there are no images.
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.labels.is_empty()
        }

        /// The pixels as features in `[0, 1]`: `count / 16`, row-major.
        #[must_use]
        pub fn features<T: Scalar>(&self) -> Vec<[T; PIXELS]> {
            let scale = T::one() / T::from_f64(f64::from(MAX_PIXEL));
            self.pixels
                .iter()
                .map(|row| row.map(|p| T::from_f64(f64::from(p)) * scale))
                .collect()
        }

        /// `(train, test)`: row `i` goes to the test set when
        /// [`is_test_row(i)`](is_test_row) (`i % 5 == 4`), otherwise to the
        /// training set; order is kept.
        #[must_use]
        pub fn split(&self) -> (Digits, Digits) {
            let mut train = Digits::default();
            let mut test = Digits::default();
            for (i, (p, &l)) in self.pixels.iter().zip(&self.labels).enumerate() {
                let part = if is_test_row(i) {
                    &mut test
                } else {
                    &mut train
                };
                part.pixels.push(*p);
                part.labels.push(l);
            }
            (train, test)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::io::Write;

        fn file() -> String {
            std::format!("{}/data/digits.csv.gz", env!("CARGO_MANIFEST_DIR"))
        }

        fn row(pixel: &str, label: &str) -> String {
            let mut cells: Vec<&str> = std::vec!["0"; PIXELS];
            cells[5] = pixel;
            cells.push(label);
            cells.join(",")
        }

        fn parse_err(text: &str) -> String {
            parse(text.as_bytes(), "t.csv").unwrap_err().to_string()
        }

        fn gzip(bytes: &[u8]) -> Vec<u8> {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(bytes).unwrap();
            enc.finish().unwrap()
        }

        fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
            let dir =
                std::env::temp_dir().join(std::format!("stackgrad-data-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }

        /// Figures from the data set's description (UCI, scikit-learn's
        /// `load_digits`): 1797 images, 178 of class 0 ... 180 of class 9.
        #[test]
        fn bundled_file_loads_with_known_class_counts() {
            let d = load(file()).unwrap();
            assert_eq!(d.len(), 1797);
            let mut counts = [0; CLASSES];
            for &l in &d.labels {
                counts[l] += 1;
            }
            assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
            // First image of the file (sklearn's digits.images[0], a zero).
            assert_eq!(&d.pixels[0][..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
            assert_eq!(d.labels[0], 0);
        }

        #[test]
        fn embedded_copy_is_the_file() {
            assert_eq!(bundled().unwrap(), load(file()).unwrap());
        }

        #[test]
        fn split_puts_every_fifth_row_in_test_and_keeps_order() {
            let d = load(file()).unwrap();
            let (train, test) = d.split();
            assert_eq!(train.len() + test.len(), d.len());
            assert_eq!(test.pixels[0], d.pixels[4]);
            assert_eq!(test.labels[1], d.labels[9]);
            assert_eq!(train.pixels[4], d.pixels[5]);
        }

        #[test]
        fn features_are_counts_over_16() {
            let d = parse(row("8", "3").as_bytes(), "t").unwrap();
            let f: Vec<[f64; PIXELS]> = d.features();
            assert_eq!(f[0][5], 0.5);
            assert_eq!(f[0][0], 0.0);
        }

        #[test]
        fn wrong_column_count_names_line_and_column() {
            let text = std::format!("{}\n0,1,2\n", row("1", "1"));
            assert_eq!(
                parse_err(&text),
                "t.csv, line 2, column 4: expected 65 comma-separated values (64 pixels and a label), found 3"
            );
            let long = std::format!("{},4\n", row("1", "1"));
            assert_eq!(
                parse_err(&long),
                "t.csv, line 1, column 66: expected 65 comma-separated values (64 pixels and a label), found 66"
            );
        }

        #[test]
        fn non_numeric_value_names_line_and_column() {
            let text = std::format!("{}\n\n{}\n", row("1", "1"), row("x7", "1"));
            assert_eq!(
                parse_err(&text),
                "t.csv, line 3, column 6: expected a non-negative integer, found \"x7\""
            );
            assert!(parse_err(&row("-1", "1")).starts_with("t.csv, line 1, column 6: expected"));
            assert!(parse_err(&row("1.5", "1")).contains("found \"1.5\""));
        }

        #[test]
        fn pixel_out_of_range_names_line_and_column() {
            assert_eq!(
                parse_err(&row("17", "1")),
                "t.csv, line 1, column 6: pixel 17 is outside 0..=16"
            );
            assert!(parse_err(&row("99999999999", "1")).contains("pixel 99999999999 is outside"));
        }

        #[test]
        fn label_out_of_range_names_line_and_column() {
            assert_eq!(
                parse_err(&row("1", "10")),
                "t.csv, line 1, column 65: label 10 is outside 0..=9"
            );
        }

        #[test]
        fn empty_input_is_an_error() {
            assert_eq!(parse_err(""), "t.csv: the file holds no rows");
            assert_eq!(parse_err(" \n\r\n"), "t.csv: the file holds no rows");
            // An empty gzip stream and an empty file.
            let gz = temp("empty.csv.gz", &gzip(b""));
            let e = load(&gz).unwrap_err().to_string();
            assert!(e.ends_with("empty.csv.gz: the file holds no rows"), "{e}");
            let empty = temp("empty.csv", b"");
            let e = load(&empty).unwrap_err().to_string();
            assert!(e.ends_with("empty.csv: the file holds no rows"), "{e}");
        }

        #[test]
        fn bad_gzip_is_an_error() {
            let mut bytes = gzip(row("1", "2").as_bytes());
            let n = bytes.len();
            bytes[n / 2] ^= 0xff; // corrupt the deflate stream
            bytes.truncate(n - 3); // and cut the trailer
            let e = load(temp("bad.csv.gz", &bytes)).unwrap_err();
            assert!(matches!(e, Error::Format { .. }), "{e:?}");
            assert!(e.to_string().contains("not valid gzip data"), "{e}");
        }

        /// A gzip bomb made here: 1 GiB of zeros as 1024 gzip members of
        /// 1 MiB each (about 1 MB of gzip). The loader stops at the bound.
        #[test]
        fn gzip_bomb_is_refused_at_the_bound() {
            let member = gzip(&std::vec![b'0'; 1 << 20]);
            let bomb = member.repeat(1024);
            assert!(bomb.len() < (2 << 20), "{} bytes", bomb.len());
            let path = temp("bomb.csv.gz", &bomb);
            let e = load(&path).unwrap_err();
            assert!(matches!(e, Error::Format { .. }), "{e:?}");
            assert_eq!(
                e.to_string(),
                std::format!(
                    "{}: gzip data decompresses to more than 16777216 bytes, the limit \
                     (digits::MAX_DECOMPRESSED_BYTES)",
                    path.display()
                )
            );
            assert_eq!(MAX_DECOMPRESSED_BYTES, 16 * 1024 * 1024);
        }

        /// The bound is exact (`limit` bytes are returned, `limit + 1`
        /// refused), the buffer never reserves beyond it, and the bundled
        /// file is far within it.
        #[test]
        fn inflate_bound_is_exact_and_never_reserved_beyond() {
            let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
            let gz = gzip(&data);
            let out = inflate_bounded(&gz, data.len()).unwrap();
            assert_eq!(out, data);
            assert!(out.capacity() <= data.len(), "{}", out.capacity());
            let e = inflate_bounded(&gz, data.len() - 1).unwrap_err();
            assert_eq!(
                e,
                "gzip data decompresses to more than 99999 bytes, the limit \
                 (digits::MAX_DECOMPRESSED_BYTES)"
            );
            assert_eq!(inflate_bounded(&gzip(b""), 0).unwrap(), b"");
            let real =
                inflate_bounded(&std::fs::read(file()).unwrap(), MAX_DECOMPRESSED_BYTES).unwrap();
            assert_eq!(real.len(), 264_712);
            assert!(real.len() * 60 < MAX_DECOMPRESSED_BYTES);
        }

        #[test]
        fn missing_file_is_an_io_error() {
            let e = load("/nonexistent/digits.csv.gz").unwrap_err();
            assert!(matches!(e, Error::Io { .. }), "{e:?}");
            assert!(
                e.to_string()
                    .starts_with("cannot read /nonexistent/digits.csv.gz: ")
            );
        }

        #[test]
        fn crlf_and_spaces_are_accepted() {
            let text = std::format!("{}\r\n", row(" 3 ", "4"));
            let d = parse(text.as_bytes(), "t").unwrap();
            assert_eq!((d.pixels[0][5], d.labels[0]), (3, 4));
        }
    }
}
