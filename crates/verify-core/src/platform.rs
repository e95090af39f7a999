//! The platform an image is built for, as its config (or its index entry)
//! states it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `os/architecture[/variant]`, e.g. `linux/arm64/v8`.
///
/// Reports carry it as that one string: it serializes as
/// [`Display`](fmt::Display) writes it and deserializes with
/// [`FromStr`]. The parts come from a bundle's config and may hold any text,
/// a `/` included; such a platform reads back as different parts that write
/// the same string, so the JSON is unchanged by a round trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v7`, `v8`, …; never empty (an empty variant is none).
    pub variant: Option<String>,
}

impl Platform {
    /// A platform from its parts; an empty `variant` counts as none, as
    /// the OCI spec's `variant` is optional and tools write `""` for it.
    pub fn new(
        os: impl Into<String>,
        architecture: impl Into<String>,
        variant: Option<impl Into<String>>,
    ) -> Self {
        Self {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.map(Into::into).filter(|v| !v.is_empty()),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match self.variant.as_deref() {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

/// A string that is not `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a platform (`os/architecture[/variant]`)")]
#[non_exhaustive]
pub struct InvalidPlatform(String);

impl FromStr for Platform {
    type Err = InvalidPlatform;

    /// Splits at the first two `/`: whatever follows the second is the
    /// variant, so every string [`Display`](fmt::Display) writes reads back
    /// to one that writes it again.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(os), Some(architecture), variant) => Ok(Self::new(os, architecture, variant)),
            _ => Err(InvalidPlatform(s.to_owned())),
        }
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_the_one_string_form() {
        for (platform, text) in [
            (
                Platform::new("linux", "amd64", None::<String>),
                "linux/amd64",
            ),
            (
                Platform::new("linux", "arm64", Some("v8")),
                "linux/arm64/v8",
            ),
            (Platform::new("linux", "arm", Some("")), "linux/arm"),
        ] {
            assert_eq!(platform.to_string(), text);
            let json = serde_json::to_string(&platform).expect("serializes");
            assert_eq!(json, format!("\"{text}\""));
            let back: Platform = serde_json::from_str(&json).expect("reads back");
            assert_eq!(back, platform);
        }
        // Hostile parts holding `/` read back as other parts, same string.
        let odd = Platform::new("a/b", "c", Some("d/e"));
        let back: Platform = odd.to_string().parse().expect("reads back");
        assert_eq!(back.to_string(), "a/b/c/d/e");
        assert_eq!(back.variant.as_deref(), Some("c/d/e"));
        assert!("linux".parse::<Platform>().is_err());
    }
}
