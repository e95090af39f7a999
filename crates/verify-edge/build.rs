//! Embeds the approver page (`dist/airlock.html`, built by `cargo xtask
//! page`) so `GET /` can serve it. Without a built page a short notice is
//! served instead, so the crate still builds (and is checked) on its own.

use std::path::Path;

fn main() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/airlock.html");
    println!("cargo:rerun-if-changed={}", page.display());
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("page.html");
    let html = std::fs::read_to_string(&page).unwrap_or_else(|_| {
        "<!doctype html><meta charset=utf-8><title>Airlock</title>\
         <p>The approver page was not built into this verifier (run <code>cargo xtask page</code> \
         before building it). <code>POST /verify</code> works regardless.</p>"
            .to_owned()
    });
    std::fs::write(out, html).expect("OUT_DIR is writable");
}
