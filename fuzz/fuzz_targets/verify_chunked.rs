//! Arbitrary bytes as a bundle, fed whole and in pieces whose sizes come
//! from the input: the verifier must not panic, and the report must not
//! depend on how the bytes were cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify_core::{Options, Verifier};

fn report(pieces: &mut dyn Iterator<Item = &[u8]>) -> String {
    let mut v = Verifier::new(Options::default());
    for piece in pieces {
        // Fed to the end: the whole file's report must not depend on cuts.
        let _ = v.update(piece);
    }
    serde_json::to_string(&v.finish()).expect("a report serializes")
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, bundle)) = data.split_first() else {
        return;
    };
    let whole = report(&mut std::iter::once(bundle));
    let size = 1 + usize::from(seed) * 17;
    let cut = report(&mut bundle.chunks(size));
    assert_eq!(whole, cut, "the report changed with {size}-byte pieces");
});
