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
    bundle(
        &[Image {
            tag,
            layers,
            config,
            history,
        }],
        false,
    )
}

/// One image of a bundle built by [`docker_save`].
pub struct Image<'a> {
    pub tag: &'a str,
    pub layers: &'a [Layer],
    /// The config's `config` section.
    pub config: Value,
    pub history: Value,
}

/// What `docker save` writes since Docker 25: `manifest.json` and, naming
/// the same images, an OCI layout (`oci-layout`, `index.json`, each image's
/// manifest as a blob), so every image has a manifest digest. `tag` is
/// written as given in `manifest.json` and normalized in `index.json`, as
/// Docker writes them (`app:1.0`, `docker.io/library/app:1.0`).
pub fn docker_save(images: &[Image<'_>]) -> Vec<u8> {
    bundle(images, true)
}

fn bundle(images: &[Image<'_>], with_index: bool) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut written: Vec<String> = Vec::new();
    let mut put = |b: &mut tar::Builder<Vec<u8>>, data: &[u8]| {
        let path = format!("blobs/sha256/{}", sha256_hex(data));
        if !written.contains(&path) {
            append_file(b, &path, data);
            written.push(path.clone());
        }
        path
    };
    let mut manifests = Vec::new();
    let mut index = Vec::new();
    for image in images {
        let diff_ids: Vec<String> = image.layers.iter().map(|l| digest_of(&l.tar)).collect();
        let config_json = to_json(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-11-29T00:00:00Z",
            "config": image.config,
            "history": image.history,
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        }));
        let mut layer_paths = Vec::new();
        let mut layer_descriptors = Vec::new();
        for layer in image.layers {
            let stored = layer.stored();
            layer_paths.push(put(&mut b, &stored));
            let media_type = if layer.gzip {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            layer_descriptors.push(json!({
                "mediaType": media_type,
                "digest": digest_of(&stored),
                "size": stored.len(),
            }));
        }
        let config_path = put(&mut b, &config_json);
        manifests.push(json!({
            "Config": config_path,
            "RepoTags": [image.tag],
            "Layers": layer_paths,
        }));
        if with_index {
            let manifest = to_json(&json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": digest_of(&config_json),
                    "size": config_json.len(),
                },
                "layers": layer_descriptors,
            }));
            put(&mut b, &manifest);
            let name = index_name(image.tag);
            let short_tag = image.tag.rsplit_once(':').map_or("latest", |(_, t)| t);
            index.push(json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest_of(&manifest),
                "size": manifest.len(),
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": short_tag,
                },
            }));
        }
    }
    if with_index {
        append_file(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        append_file(
            &mut b,
            "index.json",
            &to_json(&json!({"schemaVersion": 2, "manifests": index})),
        );
    }
    append_file(&mut b, "manifest.json", &to_json(&Value::from(manifests)));
    b.into_inner().expect("in-memory tar")
}

/// `name:tag` as Docker's index.json names it: `docker.io/library/` added
/// to a single-component name, `docker.io/` to a path without a host.
fn index_name(tag: &str) -> String {
    let first = tag.split('/').next().unwrap_or(tag);
    let has_host =
        tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_host {
        tag.to_owned()
    } else if tag.contains('/') {
        format!("docker.io/{tag}")
    } else {
        format!("docker.io/library/{tag}")
    }
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
