//! A real registry for the push tests: Debian's `docker-registry`
//! (distribution 2.8) on loopback, with TLS from a CA made here and htpasswd
//! (bcrypt) authentication, killed when the handle drops.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, RootCerts, TlsConfig};

pub const USER: &str = "airlock";
pub const PASSWORD: &str = "s3cret-pass";

/// The programs the harness needs; `cargo xtask test` installs them.
const TOOLS: &[(&str, &str)] = &[
    ("docker-registry", "docker-registry"),
    ("openssl", "openssl"),
    ("htpasswd", "apache2-utils"),
    ("skopeo", "skopeo"),
];

pub struct Registry {
    child: Child,
    pub port: u16,
    /// The registry's storage root: compare its tree before and after.
    pub storage: PathBuf,
    /// The CA certificate (PEM) that signed the server's.
    pub ca: PathBuf,
    /// A directory holding only `ca.crt`, for skopeo's `--cert-dir`.
    pub cert_dir: PathBuf,
    agent: ureq::Agent,
    authorization: String,
}

/// Fails (never skips) when a tool is missing, saying how to get it.
pub fn require_tools() {
    for (program, package) in TOOLS {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "`{program}` (Debian package {package}) is needed for the registry tests; \
             run `cargo xtask test`, which installs it"
        );
    }
}

fn run(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not start: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A CA (`ca.crt`), and a server certificate (`server.crt`, `server.key`)
/// for 127.0.0.1, 127.0.0.2 and localhost signed by it.
pub fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=airlock test CA"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(dir, "openssl", &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    run(dir, "openssl", &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("server.ext");
    run(
        dir,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Registry {
    /// Starts a registry with its own certificates and storage under
    /// `CARGO_TARGET_TMPDIR/name`, and waits until it answers over HTTPS.
    pub fn start(name: &str) -> Self {
        require_tools();
        let dir = super::scratch(name);
        make_certificates(&dir);
        let cert_dir = dir.join("certs");
        std::fs::create_dir(&cert_dir).expect("certs dir");
        std::fs::copy(dir.join("ca.crt"), cert_dir.join("ca.crt")).expect("ca.crt");
        let htpasswd = run(&dir, "htpasswd", &["-Bbn", USER, PASSWORD]);
        std::fs::write(dir.join("htpasswd"), htpasswd).expect("htpasswd");
        let storage = dir.join("storage");
        std::fs::create_dir(&storage).expect("storage");
        let port = free_port();
        let config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: airlock-test-secret\n\
             \x20 tls:\n    certificate: {dir}/server.crt\n    key: {dir}/server.key\n\
             auth:\n  htpasswd:\n    realm: airlock-test\n    path: {dir}/htpasswd\n",
            storage = storage.display(),
            dir = dir.display(),
        );
        std::fs::write(dir.join("config.yml"), config).expect("config.yml");
        let log = std::fs::File::create(dir.join("registry.log")).expect("registry.log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let ca = dir.join("ca.crt");
        let pem = std::fs::read(&ca).expect("ca.crt");
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&[
                Certificate::from_pem(&pem).expect("ca pem")
            ]))
            .build();
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .tls_config(tls)
                .http_status_as_error(false)
                .build(),
        );
        let registry = Self {
            child,
            port,
            storage,
            ca,
            cert_dir,
            agent,
            authorization: basic(USER, PASSWORD),
        };
        registry.wait_until_up(&dir);
        registry
    }

    fn wait_until_up(&self, dir: &Path) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if self.get("/v2/", "*/*").0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "docker-registry did not answer on port {} within 30 s; its log:\n{}",
            self.port,
            std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
        );
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// An authenticated GET: status, `Docker-Content-Digest`, body.
    pub fn get(&self, path: &str, accept: &str) -> (u16, Option<String>, Vec<u8>) {
        let url = format!("https://127.0.0.1:{}{path}", self.port);
        let Ok(mut response) = self
            .agent
            .get(&url)
            .header("Accept", accept)
            .header("Authorization", &self.authorization)
            .call()
        else {
            return (0, None, Vec::new());
        };
        let digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_default();
        (response.status().as_u16(), digest, body)
    }

    /// The repositories `/v2/_catalog` lists.
    pub fn catalog(&self) -> Vec<String> {
        let (status, _, body) = self.get("/v2/_catalog?n=1000", "application/json");
        assert_eq!(status, 200, "catalog: {}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("catalog json");
        v["repositories"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Pushed layers take gigabytes in bench runs.
        if let Some(dir) = self.storage.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The manifest media types a registry may answer with.
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

pub fn basic(user: &str, password: &str) -> String {
    let out = Command::new("sh")
        .args([
            "-c",
            "printf %s \"$1\" | base64 -w0",
            "sh",
            &format!("{user}:{password}"),
        ])
        .output()
        .expect("base64");
    format!("Basic {}", String::from_utf8_lossy(&out.stdout))
}
