//! `--image REF`: which of a bundle's images a command is about.
//!
//! A user names an image the way they would name it to docker (`app:1.0`,
//! `docker.io/library/app:1.0`) or by the start of a digest `docker images`
//! or the report shows (`3f2a…`, `sha256:3f2a…`), of its manifest or its
//! config (the image ID).

use verify_core::ImageReport;
use verify_core::reference::normalize;

use crate::error::CliError;
use crate::untrusted::Untrusted;

/// The images `reference` names: the ones tagged with it, else those whose
/// manifest or config digest starts with it. An unknown or ambiguous name is
/// a usage error that lists the bundle's images.
pub fn named<'r>(images: &'r [ImageReport], reference: &str) -> Result<&'r ImageReport, CliError> {
    let normalized = normalize(reference).ok();
    let tagged: Vec<&ImageReport> = images
        .iter()
        .filter(|i| {
            i.repo_tags
                .iter()
                .any(|t| t == reference || Some(t) == normalized.as_ref())
        })
        .collect();
    let found = if tagged.is_empty() {
        images
            .iter()
            .filter(|i| digest_prefix(i, reference))
            .collect()
    } else {
        tagged
    };
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::Usage(format!(
            "no image in the bundle is called `{reference}`; {}",
            listing(images)
        ))),
        _ => Err(CliError::Usage(format!(
            "`{reference}` names more than one image; {}",
            listing(images)
        ))),
    }
}

/// The one image of the bundle, or, without `--image` among several, a
/// usage error that lists them.
pub fn only(images: &[ImageReport]) -> Result<&ImageReport, CliError> {
    match images {
        [one] => Ok(one),
        [] => Err(CliError::Usage("the bundle holds no image".to_owned())),
        _ => Err(CliError::Usage(format!(
            "the bundle holds {} images: choose one with --image; {}",
            images.len(),
            listing(images)
        ))),
    }
}

/// `sha256:` is optional; at least four hex digits, so `a` does not pick
/// an image by luck.
fn digest_prefix(image: &ImageReport, reference: &str) -> bool {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let hex = hex.to_ascii_lowercase();
    [image.manifest_digest, image.config_digest]
        .iter()
        .flatten()
        .any(|d| {
            d.to_string()
                .strip_prefix("sha256:")
                .is_some_and(|encoded| encoded.starts_with(&hex))
        })
}

/// One line (errors are shown on one line): each image's names and its
/// config digest, as `inspect` shows them.
fn listing(images: &[ImageReport]) -> String {
    let each: Vec<String> = images
        .iter()
        .map(|i| {
            let id = i
                .config_digest
                .map(|d| {
                    let text = d.to_string();
                    let hex = text.strip_prefix("sha256:").unwrap_or(&text);
                    hex.get(..12).unwrap_or(hex).to_owned()
                })
                .unwrap_or_else(|| "?".to_owned());
            if i.repo_tags.is_empty() {
                format!("<untagged> ({id})")
            } else {
                // Names passed the reference grammar, but they are the
                // bundle's words on a terminal all the same.
                format!("{} ({id})", Untrusted(&i.repo_tags.join(", ")))
            }
        })
        .collect();
    format!("the bundle holds: {}", each.join("; "))
}
