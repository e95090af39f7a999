//! A registry that refuses cross-repository mounts, as the distribution
//! spec allows (it answers a mount with a plain upload session, 202): an
//! HTTPS proxy in front of the real registry that drops `mount` and `from`
//! from upload requests and passes everything else through unchanged.
//!
//! Each request gets its own connection both ways (`Connection: close`), so
//! the proxy only needs to find where a request ends, never a response.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConnection, StreamOwned};

use super::fake_registry::server_config;
use super::registry::Registry;

pub struct MountRefusing {
    /// `127.0.0.1:PORT`: push here instead of to the registry.
    pub host: String,
    refused: Arc<AtomicUsize>,
}

impl MountRefusing {
    /// Starts the proxy in front of `registry`, with the registry's own
    /// certificate (so the same CA is trusted).
    pub fn start(registry: &Registry) -> Self {
        let dir = registry.storage.parent().expect("the registry's dir");
        let server = server_config(dir);
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&registry.ca).expect("ca.crt") {
            roots.add(cert.expect("ca.crt parses")).expect("a CA");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let host = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let refused = Arc::new(AtomicUsize::new(0));
        let upstream = registry.host();
        let counter = Arc::clone(&refused);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (server, client) = (Arc::clone(&server), Arc::clone(&client));
                let (upstream, counter) = (upstream.clone(), Arc::clone(&counter));
                std::thread::spawn(move || {
                    let Ok(connection) = ServerConnection::new(server) else {
                        return;
                    };
                    let tls = StreamOwned::new(connection, stream);
                    let _ = forward(tls, &upstream, &client, &counter);
                });
            }
        });
        Self { host, refused }
    }

    /// How many mount requests were turned into plain uploads.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// One request from `downstream` to the registry, and its answer back.
fn forward(
    downstream: impl Read + Write,
    upstream: &str,
    client: &Arc<ClientConfig>,
    refused: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(downstream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(());
    };
    let target = match target.split_once('?') {
        Some((path, query)) if method == "POST" && query.contains("mount=") => {
            refused.fetch_add(1, Ordering::SeqCst);
            path.to_owned()
        }
        _ => target.to_owned(),
    };
    let mut head = format!("{method} {target} {version}\r\n");
    let mut length = 0u64;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let name = header
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match name.as_str() {
            "connection" => continue,
            "content-length" => {
                length = header[header.find(':').map_or(0, |i| i + 1)..]
                    .trim()
                    .parse()
                    .map_err(std::io::Error::other)?;
            }
            "transfer-encoding" => {
                return Err(std::io::Error::other("chunked requests are not proxied"));
            }
            _ => {}
        }
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");

    let name = ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
    let connection =
        ClientConnection::new(Arc::clone(client), name).map_err(std::io::Error::other)?;
    let mut up = StreamOwned::new(connection, TcpStream::connect(upstream)?);
    up.write_all(head.as_bytes())?;
    std::io::copy(&mut (&mut reader).take(length), &mut up)?;
    up.flush()?;
    // The registry closes after its answer; a close without TLS's
    // close_notify ends the answer too.
    let mut answer = [0u8; 64 << 10];
    let downstream = reader.get_mut();
    loop {
        let n = match up.read(&mut answer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        };
        downstream.write_all(&answer[..n])?;
    }
    downstream.flush()
}
