//! A fake registry for the credential tests: a listener on a loopback
//! address, HTTPS (with the harness's CA) or plain HTTP, that answers each
//! request with what the test's handler says and logs what came to it:
//! method, path, `Host` and `Authorization`. Several of them on different
//! addresses and ports play the registry, its token service and the storage
//! an upload is sent to.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub host: Option<String>,
    pub authorization: Option<String>,
}

/// What the handler answers.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Server {
    /// `127.0.0.1:PORT`, as a URL's authority.
    pub authority: String,
    tls: bool,
    log: Arc<Mutex<Vec<Seen>>>,
}

/// The server side of the harness's certificates (valid for 127.0.0.1,
/// 127.0.0.2 and localhost), made in `dir`; the CA is `dir/ca.crt`.
pub fn tls_config(dir: &Path) -> Arc<ServerConfig> {
    super::registry::make_certificates(dir);
    server_config(dir)
}

/// The server side of certificates made in `dir` already (a registry's).
pub fn server_config(dir: &Path) -> Arc<ServerConfig> {
    let certs = CertificateDer::pem_file_iter(dir.join("server.crt"))
        .expect("server.crt")
        .collect::<Result<Vec<_>, _>>()
        .expect("server.crt parses");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    Arc::new(config)
}

impl Server {
    /// An HTTPS server on `ip` (a free port), answering with `handler`.
    pub fn https(
        ip: &str,
        tls: &Arc<ServerConfig>,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start(ip, Some(Arc::clone(tls)), Arc::new(handler))
    }

    /// A plain-HTTP server on `ip`: what a password must never reach.
    pub fn http(ip: &str, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(ip, None, Arc::new(handler))
    }

    fn start(ip: &str, tls: Option<Arc<ServerConfig>>, handler: Arc<Handler>) -> Self {
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("local addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let server = Self {
            authority: format!("{ip}:{port}"),
            tls: tls.is_some(),
            log: Arc::clone(&log),
        };
        // The accept loop lives as long as the test process: the servers
        // are small and each test has its own ports.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (tls, handler, log) = (tls.clone(), Arc::clone(&handler), Arc::clone(&log));
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        let Ok(connection) = ServerConnection::new(config) else {
                            return;
                        };
                        serve(StreamOwned::new(connection, stream), &*handler, &log);
                    }
                    None => serve(stream, &*handler, &log),
                });
            }
        });
        server
    }

    /// `https://127.0.0.1:PORT` (or `http://` for a plain server).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().expect("log").clone()
    }
}

/// Answers requests on one connection until the client closes it (or
/// sends something this harness does not read: then it drops it).
fn serve<S: Read + Write>(stream: S, handler: &Handler, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    while let Some(seen) = read_request(&mut reader) {
        log.lock().expect("log").push(seen.clone());
        let reply = handler(&seen);
        let mut head = format!("HTTP/1.1 {} Fake\r\n", reply.status);
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        let stream = reader.get_mut();
        let mut written = stream.write_all(head.as_bytes());
        if seen.method != "HEAD" {
            written = written.and_then(|()| stream.write_all(reply.body.as_bytes()));
        }
        if written.and_then(|()| stream.flush()).is_err() {
            return;
        }
    }
}

/// One request's head, with its body read and dropped; `None` at the end
/// of the connection or on anything malformed.
fn read_request(reader: &mut impl BufRead) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut host, mut authorization, mut length, mut chunked) = (None, None, 0u64, false);
    loop {
        line.clear();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "host" => host = Some(value),
            "authorization" => authorization = Some(value),
            "content-length" => length = value.parse().ok()?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = u64::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            // The chunk and its CRLF; the last (empty) chunk ends with one.
            std::io::copy(&mut reader.take(size + 2), &mut std::io::sink()).ok()?;
            if size == 0 {
                break;
            }
        }
    } else {
        let copied = std::io::copy(&mut reader.take(length), &mut std::io::sink()).ok()?;
        (copied == length).then_some(())?;
    }
    Some(Seen {
        method,
        path,
        host,
        authorization,
    })
}
