//! Bounds that keep memory flat and time short on hostile input.
//!
//! Every limit ends in a `limit-exceeded` finding that names it, never in an
//! allocation failure or a hang. The defaults are far above what real
//! bundles need (a manifest or config is a few KiB) and low enough that the
//! verifier stays within a few tens of MiB on any input.

/// The limits one verification runs under.
///
/// Every value is valid, so the fields are public; the struct is
/// `#[non_exhaustive]` so that a new limit is not a breaking change: start
/// from [`Limits::default`] and set the fields you want.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest JSON document read: `manifest.json`, `index.json`, manifests,
    /// configs. containerd uses 20 MiB for its import; skopeo 4 MiB for configs.
    /// Default 16 MiB.
    pub max_json_bytes: u64,
    /// All JSON kept until the end of the stream, summed. Default 64 MiB.
    pub max_json_total_bytes: u64,
    /// Tar entries in the bundle. Default 100 000 (a 1 000-layer bundle has
    /// about 3 000). Each entry's name and digests are kept until the end,
    /// about 450 bytes apiece: 100 000 entries peak near 55 MiB of RSS.
    pub max_entries: u64,
    /// Length of a PAX extended header or a GNU long name. Default 1 MiB.
    pub max_tar_metadata_bytes: u64,
    /// A layer may expand to at most this many times its stored size (or to
    /// `ratio_floor_bytes`, whichever is more). gzip cannot exceed about 1032:1;
    /// real layers stay under 20:1. Default 100.
    pub max_expansion_ratio: u64,
    /// Output below which the ratio is not enforced (small, sparse layers
    /// legitimately compress very well). Default 64 MiB.
    pub ratio_floor_bytes: u64,
    /// Largest uncompressed layer. Default 256 GiB.
    pub max_layer_uncompressed_bytes: u64,
    /// How deep indexes may nest inside indexes. Default 8.
    pub max_index_depth: u32,
    /// Manifests and indexes followed from index.json in all. Default 10 000.
    pub max_descriptors: u64,
    /// Longest entry name, in bytes. Default 4 096 (Linux's PATH_MAX).
    pub max_name_bytes: usize,
    /// Entry names and their parent directories kept, in bytes. Default 64 MiB.
    pub max_names_total_bytes: u64,
    /// Entries in one layer's own tar. Default 1 000 000 (a full Debian
    /// system has about 20 000 files).
    pub max_layer_entries: u64,
    /// Paths and link targets kept from all layers of the bundle for the
    /// file trees, in bytes: one budget the layers share, so many layers
    /// cannot each take all of it. Default 256 MiB: a million files of
    /// 100-byte paths use a tenth of it.
    pub max_layer_names_total_bytes: u64,
    /// Bytes of package databases and manifests (dpkg status, apk
    /// installed, METADATA, package.json, os-release) kept from all layers
    /// for the package list. Default 64 MiB; a file past it is noted as not
    /// read, never skipped silently.
    pub max_captured_bytes: u64,
}

/// A name that is not one of [`Limits::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no limit is called `{0}`")]
#[non_exhaustive]
pub struct UnknownLimit(String);

impl UnknownLimit {
    /// The name as it was given.
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// The integer types limits are kept in, read and set as `u64` by name.
trait LimitValue: Copy {
    fn widen(self) -> u64;
    /// A value too large for the field saturates at its maximum.
    fn narrow(value: u64) -> Self;
}

impl LimitValue for u64 {
    fn widen(self) -> u64 {
        self
    }
    fn narrow(value: u64) -> Self {
        value
    }
}

impl LimitValue for u32 {
    fn widen(self) -> u64 {
        u64::from(self)
    }
    fn narrow(value: u64) -> Self {
        u32::try_from(value).unwrap_or(u32::MAX)
    }
}

impl LimitValue for usize {
    fn widen(self) -> u64 {
        self as u64
    }
    fn narrow(value: u64) -> Self {
        usize::try_from(value).unwrap_or(usize::MAX)
    }
}

/// [`LimitName`], `NAMES`, `get` and `set` from one list of the fields, so
/// that they cannot drift apart. Each field is paired with its variant's name
/// because `macro_rules` cannot change an identifier's case.
macro_rules! by_name {
    ($($field:ident => $variant:ident),+ $(,)?) => {
        /// A field of [`Limits`], by name: what a `limit-exceeded` finding
        /// names ([`Finding::limit`](crate::Finding::limit)). Serialized as
        /// the field's name (`"max_entries"`), as the CLI's
        /// `--limit NAME=VALUE` spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum LimitName {
            $(
                #[doc = concat!("[`Limits::", stringify!($field), "`]")]
                $variant,
            )+
        }

        impl LimitName {
            /// Every limit, in the order of [`Limits`]' fields.
            pub const ALL: [LimitName; [$(stringify!($field)),+].len()] =
                [$(Self::$variant),+];

            /// The field's name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($field),)+
                }
            }
        }

        impl std::str::FromStr for LimitName {
            type Err = UnknownLimit;
            fn from_str(name: &str) -> Result<Self, UnknownLimit> {
                match name {
                    $(stringify!($field) => Ok(Self::$variant),)+
                    _ => Err(UnknownLimit(name.to_owned())),
                }
            }
        }

        impl Limits {
            /// Every limit's name: the field's name, as `limit-exceeded`
            /// findings and the CLI's `--limit NAME=VALUE` spell it.
            pub const NAMES: [&'static str; [$(stringify!($field)),+].len()] =
                [$(stringify!($field)),+];

            /// The limit `name`, widened to `u64`.
            pub fn value(&self, name: LimitName) -> u64 {
                match name {
                    $(LimitName::$variant => LimitValue::widen(self.$field),)+
                }
            }

            /// Sets the limit `name`; values too large for a narrower field
            /// saturate at its maximum.
            pub fn set_value(&mut self, name: LimitName, value: u64) {
                match name {
                    $(LimitName::$variant => self.$field = LimitValue::narrow(value),)+
                }
            }
        }
    };
}

by_name!(
    max_json_bytes => MaxJsonBytes,
    max_json_total_bytes => MaxJsonTotalBytes,
    max_entries => MaxEntries,
    max_tar_metadata_bytes => MaxTarMetadataBytes,
    max_expansion_ratio => MaxExpansionRatio,
    ratio_floor_bytes => RatioFloorBytes,
    max_layer_uncompressed_bytes => MaxLayerUncompressedBytes,
    max_index_depth => MaxIndexDepth,
    max_descriptors => MaxDescriptors,
    max_name_bytes => MaxNameBytes,
    max_names_total_bytes => MaxNamesTotalBytes,
    max_layer_entries => MaxLayerEntries,
    max_layer_names_total_bytes => MaxLayerNamesTotalBytes,
    max_captured_bytes => MaxCapturedBytes,
);

impl Limits {
    /// The field called `name`, widened to `u64`.
    pub fn get(&self, name: &str) -> Result<u64, UnknownLimit> {
        Ok(self.value(name.parse()?))
    }

    /// Sets the field called `name`; values too large for a narrower field
    /// saturate at its maximum.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), UnknownLimit> {
        self.set_value(name.parse()?, value);
        Ok(())
    }
}

impl std::fmt::Display for LimitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LimitName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LimitName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_json_bytes: 16 << 20,
            max_json_total_bytes: 64 << 20,
            max_entries: 100_000,
            max_tar_metadata_bytes: 1 << 20,
            max_expansion_ratio: 100,
            ratio_floor_bytes: 64 << 20,
            max_layer_uncompressed_bytes: 256 << 30,
            max_index_depth: 8,
            max_descriptors: 10_000,
            max_name_bytes: 4096,
            max_names_total_bytes: 64 << 20,
            max_layer_entries: 1_000_000,
            max_layer_names_total_bytes: 256 << 20,
            max_captured_bytes: 64 << 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_and_writes_its_field() {
        let mut limits = Limits::default();
        for (i, name) in Limits::NAMES.iter().enumerate() {
            limits.set(name, 1000 + i as u64).expect("a known name");
        }
        for (i, name) in Limits::NAMES.iter().enumerate() {
            assert_eq!(limits.get(name), Ok(1000 + i as u64), "{name}");
        }
        assert_eq!(
            limits.set("max_everything", 1),
            Err(UnknownLimit("max_everything".into()))
        );
    }

    /// The typed names and the string names are one list, and each
    /// serializes as the string the JSON has always carried.
    #[test]
    fn limit_names_are_the_field_names() {
        assert_eq!(LimitName::ALL.len(), Limits::NAMES.len());
        for (limit, name) in LimitName::ALL.iter().zip(Limits::NAMES) {
            assert_eq!(limit.as_str(), name);
            assert_eq!(name.parse::<LimitName>(), Ok(*limit));
            let json = serde_json::to_string(limit).expect("a name serializes");
            assert_eq!(json, format!("\"{name}\""));
            let back: LimitName = serde_json::from_str(&json).expect("and reads back");
            assert_eq!(back, *limit);
        }
        assert!(serde_json::from_str::<LimitName>("\"max_everything\"").is_err());
    }
}
