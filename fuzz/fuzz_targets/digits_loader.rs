//! Fuzz the digits CSV parser: any bytes give digits or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackgrad::data::digits;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = digits::parse(data, "fuzz") {
        assert_eq!(d.pixels.len(), d.labels.len());
        assert!(d.labels.iter().all(|&l| l < digits::CLASSES));
        assert!(d.pixels.iter().flatten().all(|&p| p <= digits::MAX_PIXEL));
    }
});
