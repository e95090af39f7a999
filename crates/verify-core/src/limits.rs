//! Bounds that keep memory flat and time short on hostile input.
//!
//! Every limit ends in a `limit-exceeded` finding that names it, never in an
//! allocation failure or a hang. The defaults are far above what real
//! bundles need (a manifest or config is a few KiB) and low enough that the
//! verifier stays within a few tens of MiB on any input.

/// The limits one verification runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON document read: `manifest.json`, `index.json`, manifests,
    /// configs. containerd uses 20 MiB for its import; skopeo 4 MiB for configs.
    /// Default 16 MiB.
    pub max_json_bytes: u64,
    /// All JSON kept until the end of the stream, summed. Default 64 MiB.
    pub max_json_total_bytes: u64,
    /// Tar entries in the bundle. Default 200 000 (a 1 000-layer bundle has
    /// about 3 000).
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_json_bytes: 16 << 20,
            max_json_total_bytes: 64 << 20,
            max_entries: 200_000,
            max_tar_metadata_bytes: 1 << 20,
            max_expansion_ratio: 100,
            ratio_floor_bytes: 64 << 20,
            max_layer_uncompressed_bytes: 256 << 30,
            max_index_depth: 8,
            max_descriptors: 10_000,
            max_name_bytes: 4096,
            max_names_total_bytes: 64 << 20,
        }
    }
}
