//! Compile-fail tests: each shape rule the types enforce, with the exact error
//! users see pinned in a `.stderr` file. The messages are blessed with the
//! toolchain in `rust-toolchain.toml`; regenerate with
//! `TRYBUILD=overwrite cargo test --test ui` on that toolchain, then read them:
//! `pinned_errors_are_one_plain_sentence` below fails on a pinned message
//! that shows the shape arithmetic's internals or holds more than one error.

use std::path::Path;

#[test]
fn shape_errors_read_in_plain_numbers() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // A passing case makes trybuild build (not only type-check) the crate, and
    // proves the correct version of each failing program compiles.
    t.pass("tests/ui-pass/*.rs");
}

/// Names from the compile-time shape arithmetic (typenum's integers and bits,
/// and the bridge in `src/shape.rs`) that no error a user meets may show.
const INTERNALS: [&str; 8] = [
    "UInt", "UTerm", "B0", "B1", "ToDim", "Check", "FlatSize", "Dim<",
];

/// The internal names `text` shows, as whole words (`GradCheck` and
/// `Checked` are not `Check`; `Dim<` is matched as written).
fn internals(text: &str) -> Vec<&'static str> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    INTERNALS
        .into_iter()
        .filter(|name| {
            text.match_indices(name).any(|(i, _)| {
                let before = text[..i].chars().next_back().is_none_or(|c| !word(c));
                let after = text[i + name.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !word(c));
                before && (after || name.ends_with('<'))
            })
        })
        .collect()
}

/// Lines that start an error: `error[E0277]: ...` or `error: ...`.
fn headlines(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("error:"))
        .count()
}

#[test]
fn pinned_errors_are_one_plain_sentence() {
    let mut problems = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(Path::new("tests/ui")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "stderr") {
            continue;
        }
        cases += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = internals(&text);
        if !shown.is_empty() {
            problems.push(format!("{}: shows {shown:?}", path.display()));
        }
        let n = headlines(&text);
        if n != 1 {
            problems.push(format!("{}: {n} errors, not one", path.display()));
        }
    }
    assert!(cases >= 40, "found only {cases} pinned cases");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks above can fail: they catch each internal name and a second error.
#[test]
fn the_checks_catch_what_they_look_for() {
    assert_eq!(
        internals("the trait `SizeMatches<25, 24>` is not implemented for `Check`"),
        ["Check"]
    );
    assert_eq!(
        internals("UInt<UInt<UTerm, B1>, B0> as ToDim"),
        ["UInt", "UTerm", "B0", "B1", "ToDim"]
    );
    assert_eq!(
        internals("<Check as FlatSize<1, 28, 28>>::Out == Dim<748>"),
        ["Check", "FlatSize", "Dim<"]
    );
    assert!(internals("GradCheck::new().check(..); Checked; Dimensions; NB1").is_empty());
    assert_eq!(headlines("error[E0277]: a\n  |\nerror[E0308]: b\n"), 2);
    assert_eq!(headlines("error: a\nnote: b\n"), 1);
}
