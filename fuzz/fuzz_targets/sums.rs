//! Arbitrary bytes as a sums file (sha256sum, BSD, certutil, UTF-16): the
//! parser must not panic, and what it accepts must name 64-hex digests.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sums) = verify_core::sums::parse(data) {
        for sum in &sums {
            assert_eq!(sum.sha256.to_hex().len(), 64);
        }
    }
});
