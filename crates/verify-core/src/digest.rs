//! Content digests: parsed once at the boundary, carried as values afterwards.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256 as Sha256Hasher};

/// A SHA-256 value. The only algorithm Airlock verifies; other algorithms are
/// reported as unsupported rather than silently trusted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Hashes a whole slice at once; meant for small inputs and tests.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256Hasher::digest(data).into())
    }

    /// Parses exactly 64 hex digits. Upper case is accepted here because
    /// `certutil` prints upper case on some Windows versions; OCI digests go
    /// through [`Digest::parse`], which is strict.
    pub fn from_hex(hex: &str) -> Result<Self, DigestError> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(DigestError::BadLength {
                found: bytes.len(),
                expected: 64,
            });
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(DigestError::NotHex)?;
            let lo = hex_val(pair[1]).ok_or(DigestError::NotHex)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }

    /// The digest a path of the form `blobs/sha256/<64 hex>` names, i.e. the
    /// one its content must have; `None` for any other path. The hex is read
    /// as [`Sha256::from_hex`] reads it, so a blob named in upper case is
    /// still held to the digest it names.
    pub fn from_blob_path(path: &str) -> Option<Self> {
        Self::from_hex(path.strip_prefix(BLOB_DIR)?).ok()
    }

    /// Lower-case hex, as `sha256sum` prints it.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where an OCI image layout keeps SHA-256 blobs: a blob's file name there is
/// its digest. [`Digest::blob_path`] writes such paths and
/// [`Sha256::from_blob_path`] reads them, so both agree on the shape.
const BLOB_DIR: &str = "blobs/sha256/";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(d)?;
        Self::from_hex(&hex).map_err(serde::de::Error::custom)
    }
}

/// An OCI content digest (`sha256:<64 lower-case hex>`).
///
/// Only `sha256` is representable: a manifest that names another algorithm
/// fails to parse with [`DigestError::UnsupportedAlgorithm`], which the
/// verifier reports instead of skipping the blob.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(Sha256);

impl Digest {
    /// Parses the strict OCI form: `sha256:` and 64 lower-case hex digits.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let (algorithm, encoded) = s.split_once(':').ok_or(DigestError::NoAlgorithm)?;
        if algorithm != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm(algorithm.to_owned()));
        }
        if encoded.bytes().any(|c| c.is_ascii_uppercase()) {
            return Err(DigestError::UpperCase);
        }
        Sha256::from_hex(encoded).map(Self)
    }

    /// The digest value.
    pub const fn sha256(&self) -> Sha256 {
        self.0
    }

    /// The path of this blob inside an OCI image layout.
    pub fn blob_path(&self) -> String {
        format!("{BLOB_DIR}{}", self.0)
    }
}

impl From<Sha256> for Digest {
    fn from(value: Sha256) -> Self {
        Self(value)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a string is not a digest Airlock can check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// No `:` separates an algorithm from the value.
    #[error("digest has no `algorithm:` prefix")]
    NoAlgorithm,
    /// An algorithm other than `sha256`, named as written.
    #[error("digest algorithm `{0}` is not supported (only sha256)")]
    UnsupportedAlgorithm(String),
    /// The hex value is not 64 digits long.
    #[error("digest is {found} hex digits long, expected {expected}")]
    BadLength {
        /// Digits present.
        found: usize,
        /// Digits SHA-256 needs (64).
        expected: usize,
    },
    /// A character outside `0-9a-fA-F`.
    #[error("digest contains a character that is not a hex digit")]
    NotHex,
    /// Upper-case hex in an OCI digest (the OCI spec's grammar allows only
    /// lower case).
    #[error("digest uses upper-case hex, which OCI forbids")]
    UpperCase,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let hex = "fca1059301ef5da8dcce17a4d38b90a8ffeaf3616cf4fe1ec7ff72376dd3fefa";
        let d = Digest::parse(&format!("sha256:{hex}")).expect("valid digest");
        assert_eq!(d.to_string(), format!("sha256:{hex}"));
        assert_eq!(d.blob_path(), format!("blobs/sha256/{hex}"));
        assert_eq!(Sha256::from_blob_path(&d.blob_path()), Some(d.sha256()));
        assert_eq!(
            Sha256::from_blob_path(&format!("blobs/sha256/{}", hex.to_uppercase())),
            Some(d.sha256())
        );
        for other in [
            format!("sha256/{hex}"),
            format!("blobs/sha512/{hex}"),
            format!("blobs/sha256/{hex}/x"),
            format!("./blobs/sha256/{hex}"),
            "blobs/sha256/abc".to_owned(),
        ] {
            assert_eq!(Sha256::from_blob_path(&other), None, "{other}");
        }
        assert_eq!(
            Digest::parse("sha512:00"),
            Err(DigestError::UnsupportedAlgorithm("sha512".into()))
        );
        assert_eq!(
            Digest::parse(&format!("sha256:{}", hex.to_uppercase())),
            Err(DigestError::UpperCase)
        );
        assert!(matches!(
            Digest::parse("sha256:abc"),
            Err(DigestError::BadLength { found: 3, .. })
        ));
        assert_eq!(
            Sha256::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn json_reads_back_what_it_wrote_and_nothing_looser() {
        let d = Digest::from(Sha256::of(b"x"));
        let json = serde_json::to_string(&d).expect("serializes");
        assert_eq!(serde_json::from_str::<Digest>(&json).ok(), Some(d));
        let hex = serde_json::to_string(&d.sha256()).expect("serializes");
        assert_eq!(hex, format!("\"{}\"", d.sha256().to_hex()));
        assert_eq!(serde_json::from_str::<Sha256>(&hex).ok(), Some(d.sha256()));
        let upper = format!("\"sha256:{}\"", d.sha256().to_hex().to_uppercase());
        assert!(serde_json::from_str::<Digest>(&upper).is_err());
        assert!(serde_json::from_str::<Sha256>("\"abc\"").is_err());
    }
}
