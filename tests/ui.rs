//! Compile-fail tests: each shape rule the types enforce, with the exact error
//! users see pinned in a `.stderr` file. The messages are blessed with the
//! toolchain in `rust-toolchain.toml`; regenerate with
//! `TRYBUILD=overwrite cargo test --test ui` on that toolchain.

#[test]
fn shape_errors_read_in_plain_numbers() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // A passing case makes trybuild build (not only type-check) the crate, and
    // proves the correct version of each failing program compiles.
    t.pass("tests/ui-pass/*.rs");
}
