//! Which certificate authorities a registry's certificate may chain to.
//!
//! Internal registries are usually signed by a company CA that no public
//! list holds, so `--ca-cert` adds one (or a PEM bundle of several) to the
//! roots; the system's bundle and Mozilla's list stay trusted beside it.

use std::path::Path;
use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, parse_pem};

use super::RegistryError;

/// Where the system keeps its CA bundle, by distribution.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

pub struct TlsRoots {
    certs: Vec<Certificate<'static>>,
}

impl TlsRoots {
    /// Mozilla's roots, the system bundle when there is one, and `ca_cert`.
    pub fn load(ca_cert: Option<&Path>) -> Result<Self, RegistryError> {
        let mut certs: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()))
            .collect();
        let system = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from));
        if let Some(bundle) = system.filter_map(|p| std::fs::read(p).ok()).next() {
            // A damaged system bundle should not stop a push to a registry
            // whose CA was given explicitly: unreadable entries are skipped.
            certs.extend(pem_certificates(&bundle).into_iter().flatten());
        }
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path).map_err(|e| RegistryError::CaCert {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
            let found = pem_certificates(&pem).map_err(|detail| RegistryError::CaCert {
                path: path.to_owned(),
                detail,
            })?;
            if found.is_empty() {
                return Err(RegistryError::CaCert {
                    path: path.to_owned(),
                    detail: "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
                });
            }
            certs.extend(found);
        }
        Ok(Self { certs })
    }

    pub fn config(&self) -> TlsConfig {
        TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(self.certs.clone())))
            .build()
    }
}

fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut out = Vec::new();
    for item in parse_pem(pem) {
        if let PemItem::Certificate(c) = item.map_err(|e| e.to_string())? {
            out.push(c);
        }
    }
    Ok(out)
}
