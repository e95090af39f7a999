//! A private containerd for one test: its own root, state and socket under
//! the target dir, CRI disabled, stopped (that process only) on drop. Set up
//! as `shared/corpus/daemons.sh` does.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Containerd {
    child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    /// The root is a tmpfs of its own, unmounted when dropped.
    small: bool,
}

impl Containerd {
    /// Starts containerd in a fresh scratch directory called `name`.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, None)
    }

    /// A containerd whose root (and so its content store) is a tmpfs of
    /// `size`: a disk that fills. The tests run as root.
    pub fn start_small(name: &str, size: &str) -> Self {
        Self::start_with(name, Some(size))
    }

    fn start_with(name: &str, root_size: Option<&str>) -> Self {
        let installed = Command::new("containerd")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            installed,
            "containerd is not installed: run `cargo xtask test`, which installs it \
             (Debian package containerd)"
        );
        let dir = super::scratch(name);
        let socket = dir.join("ctrd.sock");
        if let Some(size) = root_size {
            super::mount_tmpfs(&dir.join("root"), size);
        }
        let config = dir.join("ctrd.toml");
        std::fs::write(
            &config,
            format!(
                r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"#,
                root = dir.join("root").display(),
                state = dir.join("state").display(),
                sock = socket.display(),
            ),
        )
        .expect("write containerd config");
        let log = std::fs::File::create(dir.join("containerd.log")).expect("log file");
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let daemon = Self {
            child,
            dir,
            socket,
            small: root_size.is_some(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !daemon.ctr_status("default", &["version"]) {
            assert!(
                Instant::now() < deadline,
                "containerd did not come up; see {}",
                daemon.dir.join("containerd.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        daemon
    }

    pub fn address(&self) -> &str {
        self.socket.to_str().expect("socket path is UTF-8")
    }

    fn ctr_command(&self, namespace: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ctr");
        command
            .args(["-a", self.address(), "-n", namespace])
            .args(args);
        command
    }

    fn ctr_status(&self, namespace: &str, args: &[&str]) -> bool {
        self.ctr_command(namespace, args)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `ctr -a SOCK -n NAMESPACE ARGS…` and returns its stdout.
    pub fn ctr(&self, namespace: &str, args: &[&str]) -> String {
        let out = self
            .ctr_command(namespace, args)
            .output()
            .expect("ctr runs");
        assert!(
            out.status.success(),
            "ctr {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ctr images ls -q`, `content ls -q` and `snapshots ls`, sorted: what
    /// a refused import must leave exactly as it was.
    pub fn listing(&self, namespace: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for args in [
            &["images", "ls"][..],
            &["content", "ls", "-q"],
            &["snapshots", "ls"],
        ] {
            let out = self.ctr(namespace, args);
            let mut part: Vec<String> = out.lines().map(|l| format!("{args:?} {l}")).collect();
            part.sort();
            lines.extend(part);
        }
        lines
    }

    /// Image name → manifest digest, from `ctr images ls`.
    pub fn images(&self, namespace: &str) -> Vec<(String, String)> {
        self.ctr(namespace, &["images", "ls"])
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                Some((cols.first()?.to_string(), cols.get(2)?.to_string()))
            })
            .collect()
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("containerd.log")
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        super::stop_daemon(&mut self.child, Duration::from_secs(10), &self.dir);
        if self.small {
            super::unmount(&self.dir.join("root"));
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
