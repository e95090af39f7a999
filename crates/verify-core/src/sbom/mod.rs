//! Software bills of materials for one image: SPDX 2.3 JSON and CycloneDX
//! 1.6 JSON, written from the OS and packages the core found in its layers.
//!
//! The writers are pure: the caller supplies the creation time (the core
//! has no clock) and the tool version. The same input gives the same bytes;
//! the SPDX document namespace and the CycloneDX serial number are derived
//! from the image's digests, not drawn at random.

mod cyclonedx;
mod spdx;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::Digest;
use crate::contents::{OsInfo, Package};
use crate::plan::{PlanError, plan_image};
use crate::report::ImageReport;

/// Which document to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SbomFormat {
    /// SPDX 2.3, JSON serialization (`spdx-json`).
    SpdxJson,
    /// CycloneDX 1.6, JSON serialization (`cyclonedx-json`).
    CycloneDxJson,
}

impl SbomFormat {
    /// The name used on the command line (`spdx-json`, `cyclonedx-json`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::SpdxJson => "spdx-json",
            Self::CycloneDxJson => "cyclonedx-json",
        }
    }

    /// The document for `input`, as pretty-printed JSON.
    pub fn write(self, input: &SbomInput<'_>) -> String {
        match self {
            Self::SpdxJson => spdx::write(input),
            Self::CycloneDxJson => cyclonedx::write(input),
        }
    }
}

/// A format name that is not `spdx-json` or `cyclonedx-json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SBOM format {0:?}: expected spdx-json or cyclonedx-json")]
pub struct UnknownSbomFormat(pub String);

impl FromStr for SbomFormat {
    type Err = UnknownSbomFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "spdx-json" => Ok(Self::SpdxJson),
            "cyclonedx-json" => Ok(Self::CycloneDxJson),
            _ => Err(UnknownSbomFormat(s.to_owned())),
        }
    }
}

/// The image a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbomImage<'a> {
    /// Its name, fully qualified (`docker.io/library/debian:12`), if the
    /// bundle names it.
    pub reference: Option<&'a str>,
    /// The digest of its manifest.
    pub manifest_digest: Digest,
    /// The digest of its config (the image ID).
    pub config_digest: Digest,
}

/// Everything a document is written from.
#[derive(Debug, Clone, Copy)]
pub struct SbomInput<'a> {
    /// The image.
    pub image: SbomImage<'a>,
    /// Its operating system, if its os-release was read.
    pub os: Option<&'a OsInfo>,
    /// Its packages, in the order to list them.
    pub packages: &'a [Package],
    /// When the document is created.
    pub created: Timestamp,
    /// The version of Airlock writing it (`0.1.0`).
    pub tool_version: &'a str,
}

/// Why an image of a report cannot be described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoSbom {
    /// The image's packages were not read: some layer could not be read,
    /// and a list of part of the image would pass for all of it.
    #[error("the image's packages were not read (a layer could not be read)")]
    PackagesNotRead,
    /// The report lacks a digest or size the image's identity needs.
    #[error("the image has no {0} in the report")]
    Incomplete(&'static str),
}

impl<'a> SbomInput<'a> {
    /// The input for one image of a report: its first name, the manifest
    /// digest it will have once imported (for a `manifest.json`-only image,
    /// that of the manifest the [import plan](crate::ImportPlan) writes),
    /// its config digest, OS and packages. Every face that writes an SBOM
    /// from a report goes through here, so they describe an image alike.
    pub fn from_image(
        image: &'a ImageReport,
        created: Timestamp,
        tool_version: &'a str,
    ) -> Result<Self, NoSbom> {
        let packages = image.packages.as_deref().ok_or(NoSbom::PackagesNotRead)?;
        let planned = plan_image(0, image).map_err(|e| match e {
            PlanError::Incomplete { what, .. } => NoSbom::Incomplete(what),
            // plan_image reports nothing else; a name clash needs two images.
            _ => NoSbom::Incomplete("manifest"),
        })?;
        Ok(Self {
            image: SbomImage {
                reference: image.repo_tags.first().map(String::as_str),
                manifest_digest: Digest::from(planned.manifest.blob.digest),
                config_digest: Digest::from(planned.config.digest),
            },
            os: image.os.as_ref(),
            packages,
            created,
            tool_version,
        })
    }
}

impl SbomInput<'_> {
    /// The image's display name: its reference, else its manifest digest.
    fn image_name(&self) -> String {
        self.image
            .reference
            .map_or_else(|| self.image.manifest_digest.to_string(), str::to_owned)
    }

    /// A stable 32-byte identity for the document: the same image, named
    /// the same way, described by the same tool version and format, gets
    /// the same identity.
    fn identity(&self, format: SbomFormat) -> [u8; 32] {
        let mut h = Sha256::new();
        for part in [
            format.name(),
            self.tool_version,
            &self.image.manifest_digest.to_string(),
            &self.image.config_digest.to_string(),
            self.image.reference.unwrap_or(""),
        ] {
            // Length-prefixed, so no two part lists hash alike.
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    /// The image's package URL (`pkg:oci/debian@sha256%3A...?repository_url=...&tag=12`).
    fn image_purl(&self) -> Option<String> {
        let reference = self.image.reference?;
        // A normalized reference: `host/path/name[:tag][@digest]`.
        let without_digest = reference.split('@').next().unwrap_or(reference);
        let (repository, tag) = match without_digest.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (without_digest, None),
        };
        let name = repository.rsplit('/').next()?.to_ascii_lowercase();
        let digest = self.image.manifest_digest.to_string();
        let mut purl = packageurl::PackageUrl::new("oci", name).ok()?;
        purl.with_version(digest).ok()?;
        purl.add_qualifier("repository_url", repository).ok()?;
        if let Some(tag) = tag {
            purl.add_qualifier("tag", tag).ok()?;
        }
        Some(purl.to_string())
    }
}

/// A UTC time to the second, as both formats want it
/// (`2024-05-01T12:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

/// Why a string is not a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("{0:?} is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ")]
    Shape(String),
    /// A field out of range (month 13, 25 o'clock, February 30).
    #[error("{0:?} is not a valid date and time")]
    Range(String),
    /// Seconds since 1970 past the year 9999.
    #[error("{0} seconds since 1970 is past the year 9999")]
    TooLate(u64),
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SSZ`, the one form SPDX allows.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let shape = || TimestampError::Shape(s.to_owned());
        let b = s.as_bytes();
        let fixed_ok = b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z';
        if !fixed_ok {
            return Err(shape());
        }
        let num = |from: usize, to: usize| -> Result<u16, TimestampError> {
            let digits = &b[from..to];
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(shape());
            }
            Ok(digits
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
        };
        let small = |from, to| num(from, to).map(|v| v as u8);
        let t = Self {
            year: num(0, 4)?,
            month: small(5, 7)?,
            day: small(8, 10)?,
            hour: small(11, 13)?,
            minute: small(14, 16)?,
            second: small(17, 19)?,
        };
        let valid = (1..=12).contains(&t.month)
            && t.day >= 1
            && t.day <= days_in_month(t.year, t.month)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60;
        if valid {
            Ok(t)
        } else {
            Err(TimestampError::Range(s.to_owned()))
        }
    }

    /// The time `seconds` after 1970-01-01T00:00:00Z (what a caller's
    /// clock or `SOURCE_DATE_EPOCH` gives).
    pub fn from_unix_seconds(seconds: u64) -> Result<Self, TimestampError> {
        let days = seconds / 86_400;
        let rest = seconds % 86_400;
        // Howard Hinnant's civil_from_days, for days since 1970-01-01.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        if year > 9999 {
            return Err(TimestampError::TooLate(seconds));
        }
        Ok(Self {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: (rest / 3600) as u8,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
        })
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests;
