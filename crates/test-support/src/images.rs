//! Small image bundles built from layer tars given by a test: what the
//! layer-content tests (trees, findings inside layers, config summaries)
//! need, without a daemon.

use serde_json::{Value, json};

use crate::cases::{append_file, digest_of, gzip, sha256_hex, to_json};

/// A layer given as its uncompressed tar, stored gzip-compressed or not.
pub struct Layer {
    pub tar: Vec<u8>,
    pub gzip: bool,
}

impl Layer {
    pub fn plain(tar: Vec<u8>) -> Self {
        Self { tar, gzip: false }
    }

    pub fn gzip(tar: Vec<u8>) -> Self {
        Self { tar, gzip: true }
    }

    /// The bytes stored in the bundle.
    pub fn stored(&self) -> Vec<u8> {
        if self.gzip {
            gzip(&self.tar)
        } else {
            self.tar.clone()
        }
    }
}

/// A `docker save` style bundle (Docker >= 25 layout: `blobs/sha256/…` named
/// by `manifest.json`) of one image tagged `tag`, whose config has
/// `rootfs.diff_ids` for `layers` and the given `config` section and
/// `history`.
pub fn docker_archive(tag: &str, layers: &[Layer], config: Value, history: Value) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| digest_of(&l.tar)).collect();
    let config_json = to_json(&json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-11-29T00:00:00Z",
        "config": config,
        "history": history,
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    }));
    let mut b = tar::Builder::new(Vec::new());
    let mut layer_paths = Vec::new();
    for layer in layers {
        let stored = layer.stored();
        let path = format!("blobs/sha256/{}", sha256_hex(&stored));
        if !layer_paths.contains(&path) {
            append_file(&mut b, &path, &stored);
        }
        layer_paths.push(path);
    }
    let config_path = format!("blobs/sha256/{}", sha256_hex(&config_json));
    append_file(&mut b, &config_path, &config_json);
    let manifest = to_json(&json!([{
        "Config": config_path,
        "RepoTags": [tag],
        "Layers": layer_paths,
    }]));
    append_file(&mut b, "manifest.json", &manifest);
    b.into_inner().expect("in-memory tar")
}

/// One row of a layer tar: name, type byte, mode, content, link target.
pub type Row<'a> = (&'a str, u8, u32, &'a [u8], &'a str);

/// A layer tar of raw GNU headers (so hostile names survive as written),
/// with its end-of-archive marker.
pub fn layer_tar(rows: &[Row<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, mode, data, link) in rows {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(tar::EntryType::new(*kind));
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        h.set_mtime(crate::cases::MTIME);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}
