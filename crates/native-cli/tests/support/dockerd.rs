//! A private `dockerd` on a unix socket, as `../shared/corpus/daemons.sh`
//! starts it: no iptables, no bridge, vfs storage, its own data and exec
//! roots. Stopped (that process only) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Dockerd {
    child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    /// The data root is a tmpfs of its own, unmounted when dropped.
    small: bool,
}

impl Dockerd {
    pub fn start(name: &str) -> Self {
        Self::start_with(name, None)
    }

    /// A daemon whose data root is a tmpfs of `size` (`mount -o size=`):
    /// a disk that fills. The tests run as root.
    pub fn start_small(name: &str, size: &str) -> Self {
        Self::start_with(name, Some(size))
    }

    fn start_with(name: &str, data_size: Option<&str>) -> Self {
        assert!(
            Path::new("/usr/sbin/dockerd").is_file(),
            "dockerd is not installed; `cargo xtask test` installs it (apt: docker.io)"
        );
        // Unix socket paths are limited to 108 bytes: keep this one short.
        let dir = std::env::temp_dir().join(format!("airlock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("daemon dir");
        let socket = dir.join("docker.sock");
        if let Some(size) = data_size {
            super::mount_tmpfs(&dir.join("data"), size);
        }
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("log file");
        let child = Command::new("/usr/sbin/dockerd")
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .args(["--storage-driver=vfs", "--data-root"])
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let daemon = Self {
            child,
            dir,
            socket,
            small: data_size.is_some(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !daemon.docker(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "dockerd did not come up: {}",
                std::fs::read_to_string(daemon.dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        daemon
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("the docker CLI runs")
    }

    /// Every image and every layer Docker holds: what a refused load must
    /// leave as it was.
    pub fn state(&self) -> (Vec<String>, Vec<(PathBuf, u64)>) {
        let images = self.docker(&[
            "images",
            "-a",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
        ]);
        let mut images: Vec<String> = String::from_utf8_lossy(&images.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        images.sort();
        let layers = super::tree(&self.dir.join("data/image"));
        (images, layers)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        super::stop_daemon(&mut self.child, Duration::from_secs(20), &self.dir);
        if self.small {
            super::unmount(&self.dir.join("data"));
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
