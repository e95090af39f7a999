//! ECDSA P-256 keys in the files `cosign generate-key-pair` writes.
//!
//! The private key file is PEM labelled `ENCRYPTED SIGSTORE PRIVATE KEY`
//! (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) around a JSON object, as
//! go-securesystemslib's `encrypted` package writes it:
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<base64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},
//!  "ciphertext":"<base64>"}
//! ```
//!
//! The box key is scrypt(passphrase, salt, N, r, p, 32 bytes); the
//! ciphertext is NaCl secretbox (XSalsa20-Poly1305, tag first) of the
//! key's PKCS#8 DER. The public key file is PEM `PUBLIC KEY`
//! (SubjectPublicKeyInfo). A key's id is the SHA-256 of that DER, in hex.

use std::fmt;

use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::base64_json;

/// The PEM label cosign writes today.
pub const ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign releases wrote; read, never written.
pub const LEGACY_ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The PEM label of a public key file.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// scrypt's cost as written: N = 2^15, r = 8, p = 1 (go-securesystemslib's
/// "legacy" strength, which every cosign release reads; it keeps the
/// page's worker within 32 MiB).
const WRITE_LOG_N: u8 = 15;
/// The (N, r, p) sets go-securesystemslib accepts when reading, and so do
/// we: anything else is refused before scrypt runs, so a hostile file
/// cannot ask for gigabytes of memory.
const ACCEPTED_SCRYPT: [(u64, u32, u32); 3] = [(1 << 15, 8, 1), (1 << 16, 8, 1), (1 << 17, 8, 1)];
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const BOX_KEY_LEN: usize = 32;
/// Larger than any key file: the JSON of a P-256 key is about 400 bytes.
const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// Why a key file could not be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not PEM, or PEM with another label than the one expected.
    #[error("not a PEM file labelled {expected}: {detail}")]
    NotPem {
        /// The label(s) that would have been read.
        expected: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The PEM body of an encrypted key is not the JSON cosign writes.
    #[error("the encrypted key's JSON is malformed: {0}")]
    Json(String),
    /// A key derivation function other than scrypt.
    #[error("the key is encrypted with kdf `{0}`; only scrypt is read")]
    UnknownKdf(String),
    /// scrypt parameters other than the three cosign uses.
    #[error(
        "scrypt parameters N={n} r={r} p={p} are not one of the sets cosign writes (N=32768/65536/131072, r=8, p=1)"
    )]
    ScryptParams {
        /// N as written.
        n: u64,
        /// r as written.
        r: u32,
        /// p as written.
        p: u32,
    },
    /// A cipher other than NaCl secretbox.
    #[error("the key is encrypted with cipher `{0}`; only nacl/secretbox is read")]
    UnknownCipher(String),
    /// Salt or nonce of the wrong length.
    #[error("the {what} is {found} bytes; {expected} expected")]
    Length {
        /// `salt` or `nonce`.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The secretbox did not open: the passphrase is wrong (or the
    /// ciphertext was changed).
    #[error("wrong passphrase (or the key file was altered): the encrypted key does not open")]
    WrongPassphrase,
    /// The decrypted (or given) DER is not a P-256 key.
    #[error("not an ECDSA P-256 key: {0}")]
    NotP256(String),
    /// Larger than any key file.
    #[error("{0} bytes is larger than any key file")]
    TooLarge(usize),
    /// The system's random number source failed.
    #[error("no randomness: {0}")]
    Random(String),
}

/// A key's identity: SHA-256 of its SubjectPublicKeyInfo DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// The id of the SubjectPublicKeyInfo `der`.
    pub fn of_spki_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<Self> {
        verify_core::Sha256::from_hex(hex)
            .ok()
            .map(|s| Self(*s.as_bytes()))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        verify_core::Sha256::from_bytes(self.0).to_hex()
    }

    /// The first 12 hex digits, for file names and short displays.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(12);
        hex
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A P-256 public key that signatures are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` PEM file (SubjectPublicKeyInfo of a P-256 key),
    /// as `cosign generate-key-pair` and `airlock keygen` write it.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if pem.len() > MAX_KEY_FILE_LEN {
            return Err(KeyError::TooLarge(pem.len()));
        }
        let (label, der) = decode_pem(pem.trim(), PUBLIC_KEY_LABEL)?;
        if label != PUBLIC_KEY_LABEL {
            return Err(KeyError::NotPem {
                expected: PUBLIC_KEY_LABEL,
                detail: format!("the label is `{label}`"),
            });
        }
        Self::from_spki_der(&der)
    }

    /// Reads SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = p256::PublicKey::from_public_key_der(der)
            .map_err(|e| KeyError::NotP256(e.to_string()))?;
        Ok(Self::from_p256(key))
    }

    fn from_p256(key: p256::PublicKey) -> Self {
        let key = VerifyingKey::from(key);
        let id = KeyId::of_spki_der(&spki_der(&key));
        Self { key, id }
    }

    /// SubjectPublicKeyInfo DER (uncompressed point, named curve).
    pub fn spki_der(&self) -> Vec<u8> {
        spki_der(&self.key)
    }

    /// The `PUBLIC KEY` PEM file's text.
    pub fn to_pem(&self) -> String {
        // Encoding a valid key into a growable string cannot fail.
        p256::PublicKey::from(&self.key)
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// SHA-256 of [`spki_der`](Self::spki_der).
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Whether `signature` (ASN.1 DER, as cosign writes, or the fixed
    /// 64-byte r‖s form) is this key's ECDSA-SHA256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let parsed = Signature::from_der(signature).or_else(|_| Signature::from_slice(signature));
        match parsed {
            // Go and OpenSSL do not normalise s; accept either half.
            Ok(sig) => {
                self.key.verify(message, &sig).is_ok()
                    || sig
                        .normalize_s()
                        .is_some_and(|low| self.key.verify(message, &low).is_ok())
            }
            Err(_) => false,
        }
    }
}

fn spki_der(key: &VerifyingKey) -> Vec<u8> {
    p256::PublicKey::from(key)
        .to_public_key_der()
        .map(|d| d.into_vec())
        .unwrap_or_default()
}

/// A P-256 signing key, decrypted. Its scalar is wiped when dropped.
pub struct PrivateKey {
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// A new random key from the system's (or browser's) random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            OsRng
                .try_fill_bytes(bytes.as_mut())
                .map_err(|e| KeyError::Random(e.to_string()))?;
            // All but a 2^-32 sliver of 32-byte strings are valid scalars.
            if let Ok(key) = SigningKey::from_slice(bytes.as_ref()) {
                return Ok(Self::from_signing_key(key));
            }
        }
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let public = PublicKey::from_p256(p256::PublicKey::from(key.verifying_key()));
        Self { key, public }
    }

    /// Reads PKCS#8 DER of a P-256 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let secret =
            p256::SecretKey::from_pkcs8_der(der).map_err(|e| KeyError::NotP256(e.to_string()))?;
        Ok(Self::from_signing_key(SigningKey::from(secret)))
    }

    /// PKCS#8 DER of the key, wiped when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let secret = p256::SecretKey::from(&self.key);
        let doc = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::NotP256(e.to_string()))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Decrypts an encrypted key file (cosign's format, either label).
    pub fn decrypt(pem: &str, passphrase: &[u8]) -> Result<Self, KeyError> {
        if pem.len() > MAX_KEY_FILE_LEN {
            return Err(KeyError::TooLarge(pem.len()));
        }
        const EXPECTED: &str = "ENCRYPTED SIGSTORE PRIVATE KEY (or ENCRYPTED COSIGN PRIVATE KEY)";
        let (label, body) = decode_pem(pem.trim(), EXPECTED)?;
        if label != ENCRYPTED_KEY_LABEL && label != LEGACY_ENCRYPTED_KEY_LABEL {
            return Err(KeyError::NotPem {
                expected: EXPECTED,
                detail: format!("the label is `{label}`"),
            });
        }
        let sealed: SealedKey =
            serde_json::from_slice(&body).map_err(|e| KeyError::Json(e.to_string()))?;
        if sealed.kdf.name != "scrypt" {
            return Err(KeyError::UnknownKdf(sealed.kdf.name));
        }
        if sealed.cipher.name != "nacl/secretbox" {
            return Err(KeyError::UnknownCipher(sealed.cipher.name));
        }
        let ScryptParams { n, r, p } = sealed.kdf.params;
        if !ACCEPTED_SCRYPT.contains(&(n, r, p)) {
            return Err(KeyError::ScryptParams { n, r, p });
        }
        let nonce: [u8; NONCE_LEN] =
            sealed
                .cipher
                .nonce
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::Length {
                    what: "nonce",
                    expected: NONCE_LEN,
                    found: sealed.cipher.nonce.len(),
                })?;
        let log_n = n.trailing_zeros() as u8;
        let box_key = box_key(passphrase, &sealed.kdf.salt, log_n, r, p)?;
        let cipher = XSalsa20Poly1305::new(box_key.as_ref().into());
        let der = cipher
            .decrypt(&nonce.into(), sealed.ciphertext.as_slice())
            .map(Zeroizing::new)
            .map_err(|_| KeyError::WrongPassphrase)?;
        Self::from_pkcs8_der(&der)
    }

    /// The encrypted key file's text, as `cosign generate-key-pair` writes
    /// it (label `ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt N=32768 r=8 p=1).
    pub fn encrypt(&self, passphrase: &[u8]) -> Result<String, KeyError> {
        let mut salt = vec![0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut salt)
            .and_then(|()| OsRng.try_fill_bytes(&mut nonce))
            .map_err(|e| KeyError::Random(e.to_string()))?;
        let box_key = box_key(passphrase, &salt, WRITE_LOG_N, 8, 1)?;
        let cipher = XSalsa20Poly1305::new(box_key.as_ref().into());
        let der = self.to_pkcs8_der()?;
        let ciphertext = cipher
            .encrypt(&nonce.into(), der.as_slice())
            .map_err(|_| KeyError::Json("secretbox refused to seal".into()))?;
        let sealed = SealedKey {
            kdf: Kdf {
                name: "scrypt".into(),
                params: ScryptParams {
                    n: 1 << WRITE_LOG_N,
                    r: 8,
                    p: 1,
                },
                salt,
            },
            cipher: CipherSpec {
                name: "nacl/secretbox".into(),
                nonce: nonce.to_vec(),
            },
            ciphertext,
        };
        let json = serde_json::to_vec(&sealed).map_err(|e| KeyError::Json(e.to_string()))?;
        p256::pkcs8::der::pem::encode_string(ENCRYPTED_KEY_LABEL, LineEnding::LF, &json)
            .map_err(|e| KeyError::Json(e.to_string()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// ECDSA-SHA256 signature of `message`, ASN.1 DER as cosign writes it.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.key.sign(message);
        signature.to_der().as_bytes().to_vec()
    }
}

fn box_key(
    passphrase: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; BOX_KEY_LEN]>, KeyError> {
    if salt.is_empty() {
        return Err(KeyError::Length {
            what: "salt",
            expected: SALT_LEN,
            found: 0,
        });
    }
    let params =
        scrypt::Params::new(log_n, r, p, BOX_KEY_LEN).map_err(|_| KeyError::ScryptParams {
            n: 1 << log_n,
            r,
            p,
        })?;
    let mut key = Zeroizing::new([0u8; BOX_KEY_LEN]);
    scrypt::scrypt(passphrase, salt, &params, key.as_mut()).map_err(|_| {
        KeyError::ScryptParams {
            n: 1 << log_n,
            r,
            p,
        }
    })?;
    Ok(key)
}

fn decode_pem(text: &str, expected: &'static str) -> Result<(String, Vec<u8>), KeyError> {
    // Windows editors save CRLF; the PEM decoder wants one line ending.
    let text = text.replace("\r\n", "\n");
    p256::pkcs8::der::pem::decode_vec(text.as_bytes())
        .map(|(label, der)| (label.to_owned(), der))
        .map_err(|e| KeyError::NotPem {
            expected,
            detail: e.to_string(),
        })
}

#[derive(Serialize, Deserialize)]
struct SealedKey {
    kdf: Kdf,
    cipher: CipherSpec,
    #[serde(with = "base64_json")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "base64_json")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct CipherSpec {
    name: String,
    #[serde(with = "base64_json")]
    nonce: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_encrypts_and_decrypts_with_its_passphrase_only() {
        let key = PrivateKey::generate().expect("random key");
        let pem = key.encrypt(b"correct horse").expect("encrypts");
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = PrivateKey::decrypt(&pem, b"correct horse").expect("decrypts");
        assert_eq!(back.public_key(), key.public_key());
        let wrong = PrivateKey::decrypt(&pem, b"battery staple").expect_err("wrong passphrase");
        assert!(matches!(wrong, KeyError::WrongPassphrase), "{wrong:?}");
    }

    #[test]
    fn the_legacy_label_is_read() {
        let key = PrivateKey::generate().expect("random key");
        let pem = key
            .encrypt(b"")
            .expect("encrypts")
            .replace(ENCRYPTED_KEY_LABEL, LEGACY_ENCRYPTED_KEY_LABEL);
        let back = PrivateKey::decrypt(&pem, b"").expect("decrypts");
        assert_eq!(back.public_key().key_id(), key.public_key().key_id());
    }

    #[test]
    fn costly_scrypt_parameters_are_refused_before_running() {
        let key = PrivateKey::generate().expect("random key");
        let pem = key.encrypt(b"pw").expect("encrypts");
        let (_, body) = decode_pem(&pem, "test").expect("pem");
        let json = String::from_utf8(body)
            .expect("utf-8")
            .replace("\"N\":32768", "\"N\":1073741824");
        let pem = p256::pkcs8::der::pem::encode_string(
            ENCRYPTED_KEY_LABEL,
            LineEnding::LF,
            json.as_bytes(),
        )
        .expect("pem");
        let err = PrivateKey::decrypt(&pem, b"pw").expect_err("refused");
        assert!(
            matches!(err, KeyError::ScryptParams { n: 1073741824, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn public_key_pem_round_trips_and_names_its_id() {
        let key = PrivateKey::generate().expect("random key");
        let pem = key.public_key().to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        let back = PublicKey::from_pem(&pem).expect("reads");
        assert_eq!(&back, key.public_key());
        let der = back.spki_der();
        assert_eq!(back.key_id(), KeyId::of_spki_der(&der));
        assert_eq!(
            back.key_id().to_hex(),
            verify_core::Sha256::of(&der).to_hex()
        );
        assert_eq!(
            KeyId::from_hex(&back.key_id().to_hex()),
            Some(back.key_id())
        );
        let err = PublicKey::from_pem(&key.encrypt(b"x").expect("encrypts")).expect_err("label");
        assert!(matches!(err, KeyError::NotPem { .. }), "{err:?}");
    }

    #[test]
    fn signatures_verify_with_their_key_only() {
        let key = PrivateKey::generate().expect("random key");
        let other = PrivateKey::generate().expect("random key");
        let sig = key.sign(b"message");
        assert!(key.public_key().verifies(b"message", &sig));
        assert!(!key.public_key().verifies(b"massage", &sig));
        assert!(!other.public_key().verifies(b"message", &sig));
        assert!(!key.public_key().verifies(b"message", b"garbage"));
    }
}
