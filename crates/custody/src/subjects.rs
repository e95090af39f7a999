//! What a seal or approval must be about: the bundle file's SHA-256 and
//! every image the bundle loads, as (reference, manifest digest). Signer
//! and verifier both derive the list from a verified bundle's
//! [`ImportPlan`], so a CLI seal and a page check agree by construction.

use verify_core::{Digest, ImportPlan, NamedManifest, Sha256};

use crate::statement::Subject;

/// One image subject: a normalized reference (or, for an image no name
/// points at, its manifest digest as `sha256:<hex>`) and the manifest's
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageSubject {
    /// `docker.io/library/app:1.0`, or `sha256:…` for a nameless image.
    pub reference: String,
    /// The manifest's digest (for a docker-archive image, of the manifest
    /// its import writes).
    pub digest: Sha256,
}

impl From<&ImageSubject> for Subject {
    fn from(i: &ImageSubject) -> Self {
        Subject {
            name: i.reference.clone(),
            sha256: i.digest,
        }
    }
}

/// What a statement must name: the first subject is the bundle file (its
/// SHA-256 is bound, its name is not, so a renamed copy still matches);
/// the others are exactly [`images`](Self::images), in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// SHA-256 of the whole bundle file.
    pub bundle_sha256: Sha256,
    /// Every image, each (reference, digest) once, in the plan's order.
    pub images: Vec<ImageSubject>,
}

impl Expected {
    /// What a statement about the bundle with hash `bundle_sha256` and
    /// import plan `plan` names.
    pub fn from_plan(bundle_sha256: Sha256, plan: &ImportPlan) -> Self {
        Self::from_images(
            bundle_sha256,
            plan.images()
                .iter()
                .map(|i| (&i.names[..], i.manifest.blob.digest)),
        )
    }

    /// The same from the images [`verify_core::named_manifests`] gives for
    /// a report read back from JSON (the page's custody module gets the
    /// report that way from the verifier's).
    pub fn from_named(bundle_sha256: Sha256, named: &[NamedManifest]) -> Self {
        Self::from_images(
            bundle_sha256,
            named.iter().map(|n| (&n.names[..], n.digest)),
        )
    }

    /// Each image's names (or, when it has none, its digest as its name)
    /// with its manifest digest, each pair once, in order.
    fn from_images<'a>(
        bundle_sha256: Sha256,
        images_in: impl Iterator<Item = (&'a [String], Sha256)>,
    ) -> Self {
        let mut images: Vec<ImageSubject> = Vec::new();
        for (names, digest) in images_in {
            let nameless = [Digest::from(digest).to_string()];
            let names = if names.is_empty() {
                &nameless[..]
            } else {
                names
            };
            for reference in names {
                let subject = ImageSubject {
                    reference: reference.clone(),
                    digest,
                };
                if !images.contains(&subject) {
                    images.push(subject);
                }
            }
        }
        Self {
            bundle_sha256,
            images,
        }
    }

    /// The subjects to sign: the bundle as `bundle_name`, then the images.
    pub fn subjects(&self, bundle_name: &str) -> Vec<Subject> {
        std::iter::once(Subject {
            name: bundle_name.to_owned(),
            sha256: self.bundle_sha256,
        })
        .chain(self.images.iter().map(Subject::from))
        .collect()
    }
}
