//! Digesting one tar entry's bytes as they stream past.
//!
//! Tar order is arbitrary, so when a file's bytes arrive we may not yet know
//! whether it is a layer, a config or junk. Every regular file is therefore
//! hashed; compressed ones (by magic) are also decompressed and hashed, which
//! is the `diff_id` should it turn out to be a layer; and small files that
//! look like JSON are kept so they can be parsed once the archive is read.
//! Nothing else is kept: a 10 GiB layer leaves 32 bytes of digest behind.

use sha2::{Digest as _, Sha256 as Sha256Hasher};

use crate::decompress::{Decoder, Output, Stop, sniff};
use crate::digest::Sha256;
use crate::layers::reader::{LayerBudget, LayerRead, LayerReader};
use crate::limits::Limits;
use crate::report::Compression;

/// Bytes needed to recognize gzip or zstd.
const SNIFF_LEN: usize = 4;

/// What became of a file's JSON, if it looked like JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Json {
    /// It did not start like a JSON document.
    Other,
    /// The whole document.
    Kept(Vec<u8>),
    /// It would have exceeded the per-document or total JSON limit.
    TooLarge,
}

/// Why a compressed file's uncompressed digest is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unpacked {
    /// Decompressed in full: SHA-256 and size of the output.
    Done { sha256: Sha256, size: u64 },
    /// The compressed stream is corrupt or incomplete.
    Corrupt(String),
    /// Decompression stopped at a limit: the [`crate::Limits`] field, if
    /// it is one (the zstd window is not), and why.
    Limit {
        limit: Option<crate::limits::LimitName>,
        why: String,
    },
}

impl From<Stop> for Unpacked {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Corrupt(why) => Self::Corrupt(why),
            Stop::Limit { limit, why } => Self::Limit { limit, why },
        }
    }
}

/// What remains of a regular file once its bytes have gone by.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub sha256: Sha256,
    pub size: u64,
    pub compression: Compression,
    /// For uncompressed files, the same as `sha256`/`size`.
    pub unpacked: Unpacked,
    pub json: Json,
    /// The (decompressed) bytes read as a layer tar; `None` when they did
    /// not start like a tar, or cannot be a layer.
    /// Boxed: most files are not layers, and every file's record is kept
    /// until the end (a bundle may have 100 000 of them).
    pub layer: Option<Box<LayerRead>>,
}

/// Hashes and counts decompressed bytes, refusing bombs.
struct UnpackSink {
    hasher: Sha256Hasher,
    size: u64,
    /// Output allowed: the ratio limit applied to the entry's declared size,
    /// so the cut-off does not depend on how input was chunked.
    ratio_cap: u64,
    max_ratio: u64,
    max_size: u64,
    /// The decompressed bytes go on to the layer reader, in the same pass;
    /// taken out when the entry ends.
    layer: Option<LayerReader>,
}

impl Output for UnpackSink {
    fn accept(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.size += bytes.len() as u64;
        if self.size > self.max_size {
            return Err(Stop::Limit {
                limit: Some(crate::limits::LimitName::MaxLayerUncompressedBytes),
                why: format!(
                    "the layer expands beyond {} bytes; decompression stopped",
                    self.max_size
                ),
            });
        }
        if self.size > self.ratio_cap {
            return Err(Stop::Limit {
                limit: Some(crate::limits::LimitName::MaxExpansionRatio),
                why: format!(
                    "the layer expands more than {}-fold (beyond {} bytes); decompression \
                     stopped, so its diff_id was not checked",
                    self.max_ratio, self.ratio_cap
                ),
            });
        }
        self.hasher.update(bytes);
        if let Some(layer) = &mut self.layer {
            layer.update(bytes);
        }
        Ok(())
    }
}

/// The digest of one entry in progress.
pub(crate) struct EntryDigest {
    hasher: Sha256Hasher,
    size: u64,
    head: [u8; SNIFF_LEN],
    head_len: usize,
    sniffed: bool,
    compression: Compression,
    decoder: Option<Decoder<UnpackSink>>,
    /// Why decompression stopped early; the decoder is fed nothing more.
    stopped: Option<Stop>,
    json_budget: Option<u64>,
    json: Option<Vec<u8>>,
    json_too_large: bool,
    declared_size: u64,
    limits: Limits,
    /// For uncompressed content; compressed content's reader is in the
    /// decoder's sink.
    layer: Option<LayerReader>,
    /// `None` when the entry cannot be a layer (not read as a tar), else
    /// what its layer reader may keep.
    layer_budget: Option<LayerBudget>,
}

impl EntryDigest {
    /// Starts on an entry of `declared_size` bytes. `json_budget` is how many
    /// bytes of JSON may still be kept, `None` when this entry's JSON is not wanted.
    /// `layer_budget`: see the field; `None` for files no image uses.
    pub fn new(
        declared_size: u64,
        json_budget: Option<u64>,
        layer_budget: Option<LayerBudget>,
        limits: &Limits,
    ) -> Self {
        let json_too_large = json_budget.is_some_and(|b| declared_size > b);
        Self {
            hasher: Sha256Hasher::new(),
            size: 0,
            head: [0; SNIFF_LEN],
            head_len: 0,
            sniffed: false,
            compression: Compression::None,
            decoder: None,
            stopped: None,
            json_budget: json_budget.filter(|_| !json_too_large),
            json: None,
            json_too_large,
            declared_size,
            limits: limits.clone(),
            layer: None,
            layer_budget,
        }
    }

    /// Feeds the next bytes of the entry.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        if self.sniffed {
            self.consume(bytes);
            return;
        }
        let take = (SNIFF_LEN - self.head_len).min(bytes.len());
        self.head[self.head_len..self.head_len + take].copy_from_slice(&bytes[..take]);
        self.head_len += take;
        if self.head_len == SNIFF_LEN {
            self.start();
            let head = self.head;
            self.consume(&head);
            self.consume(&bytes[take..]);
        }
    }

    /// Decides what the content is from its first bytes.
    fn start(&mut self) {
        self.sniffed = true;
        let head = &self.head[..self.head_len];
        self.compression = sniff(head);
        let sink = UnpackSink {
            hasher: Sha256Hasher::new(),
            size: 0,
            ratio_cap: self
                .declared_size
                .saturating_mul(self.limits.max_expansion_ratio)
                .max(self.limits.ratio_floor_bytes),
            max_ratio: self.limits.max_expansion_ratio,
            max_size: self.limits.max_layer_uncompressed_bytes,
            layer: self
                .layer_budget
                .map(|budget| LayerReader::new(self.declared_size, &self.limits, budget)),
        };
        self.decoder = match Decoder::new(self.compression, sink) {
            Ok(decoder) => Some(decoder),
            // Not compressed: the layer reader reads the bytes as they are.
            Err(sink) => {
                self.layer = sink.layer;
                None
            }
        };
        let looks_like_json = head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{' || b == b'[');
        if looks_like_json {
            if self.json_budget.is_some() {
                self.json = Some(Vec::new());
            }
        } else {
            self.json_too_large = false;
        }
    }

    fn consume(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(json) = &mut self.json {
            json.extend_from_slice(bytes);
        }
        if let Some(layer) = &mut self.layer {
            layer.update(bytes);
        }
        if self.stopped.is_some() {
            return;
        }
        if let Some(decoder) = &mut self.decoder
            && let Err(stop) = decoder.write(bytes)
        {
            self.stopped = Some(stop);
        }
    }

    /// Ends the entry and returns what is kept of it.
    pub fn finish(mut self) -> Content {
        if !self.sniffed {
            self.start();
            let head = self.head;
            let len = self.head_len;
            self.consume(&head[..len]);
        }
        let sha256 = Sha256::from_bytes(std::mem::take(&mut self.hasher).finalize().into());
        let mut layer = self
            .layer
            .take()
            .and_then(LayerReader::finish)
            .map(Box::new);
        let unpacked = match self.decoder.take() {
            None => Unpacked::Done {
                sha256,
                size: self.size,
            },
            Some(mut decoder) => {
                let stopped = match self.stopped {
                    Some(stop) => Err(stop),
                    None => decoder.finish(),
                };
                // A layer that could not be decompressed to its end has no
                // tree to show; the decompression finding says why.
                let reader = decoder.get_mut().layer.take();
                layer = reader
                    .and_then(LayerReader::finish)
                    .filter(|_| stopped.is_ok())
                    .map(Box::new);
                match stopped {
                    Err(stop) => stop.into(),
                    Ok(()) => {
                        let sink = decoder.get_ref();
                        Unpacked::Done {
                            sha256: Sha256::from_bytes(sink.hasher.clone().finalize().into()),
                            size: sink.size,
                        }
                    }
                }
            }
        };
        let json = match (self.json, self.json_too_large) {
            (_, true) => Json::TooLarge,
            (Some(bytes), false) => Json::Kept(bytes),
            (None, false) => Json::Other,
        };
        Content {
            sha256,
            size: self.size,
            compression: self.compression,
            unpacked,
            json,
            layer,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn digest(data: &[u8], chunk: usize, json_budget: Option<u64>, limits: &Limits) -> Content {
        let mut d = EntryDigest::new(
            data.len() as u64,
            json_budget,
            Some(LayerBudget::of(limits)),
            limits,
        );
        for piece in data.chunks(chunk.max(1)) {
            d.update(piece);
        }
        d.finish()
    }

    #[test]
    fn plain_gzip_json_and_tiny() {
        let limits = Limits::default();
        let raw = vec![b'x'; 10_000];
        let plain = digest(&raw, 3, Some(1 << 20), &limits);
        assert_eq!(plain.sha256, Sha256::of(&raw));
        assert_eq!(
            plain.unpacked,
            Unpacked::Done {
                sha256: Sha256::of(&raw),
                size: 10_000
            }
        );
        assert_eq!(plain.json, Json::Other);

        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&raw).expect("in-memory");
        let gz = enc.finish().expect("in-memory");
        for chunk in [1, 2, 5, gz.len()] {
            let c = digest(&gz, chunk, None, &limits);
            assert_eq!(c.sha256, Sha256::of(&gz));
            assert_eq!(c.compression, Compression::Gzip);
            assert_eq!(
                c.unpacked,
                Unpacked::Done {
                    sha256: Sha256::of(&raw),
                    size: 10_000
                }
            );
        }
        let bad = digest(&gz[..gz.len() - 3], 100, None, &limits);
        assert!(matches!(bad.unpacked, Unpacked::Corrupt(_)));

        let doc = br#" {"a": 1}"#;
        assert_eq!(
            digest(doc, 1, Some(100), &limits).json,
            Json::Kept(doc.to_vec())
        );
        assert_eq!(digest(doc, 1, Some(4), &limits).json, Json::TooLarge);
        assert_eq!(digest(doc, 1, None, &limits).json, Json::Other);
        assert_eq!(
            digest(b"{", 1, Some(4), &limits).json,
            Json::Kept(b"{".to_vec())
        );
        assert_eq!(
            digest(b"", 1, Some(4), &limits).unpacked,
            Unpacked::Done {
                sha256: Sha256::of(b""),
                size: 0
            }
        );
    }

    #[test]
    fn bombs_stop_at_the_ratio() {
        let limits = Limits {
            ratio_floor_bytes: 1 << 20,
            max_expansion_ratio: 50,
            ..Limits::default()
        };
        let zeros = vec![0u8; 8 << 20];
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&zeros).expect("in-memory");
        let gz = enc.finish().expect("in-memory");
        let c = digest(&gz, 4096, None, &limits);
        assert!(
            matches!(c.unpacked, Unpacked::Limit { .. }),
            "{:?}",
            c.unpacked
        );
        assert_eq!(
            c.sha256,
            Sha256::of(&gz),
            "the blob digest is still computed"
        );
    }
}
