//! The edge verifier: verify-core behind a Workers `fetch` handler.
//!
//! - `POST /verify` streams the request body through the verifier and
//!   answers the same JSON report as `airlock verify --json` (200 when the
//!   verdict is ok, 422 when it fails; 400/405/413 for bad requests). The
//!   recorded hash comes from `?sha256=` or `X-Expected-SHA256`.
//! - `GET /` serves the approver page.
//!
//! Memory stays flat whatever the body size: the body is read with a BYOB
//! reader into one reused buffer (workerd's `readAtLeast` fills it, where
//! the plain reader delivers 4 KiB pieces) and fed to the core piece by piece.
#![forbid(unsafe_code)]

mod body;
mod routes;
