//! Helpers shared by the integration tests: fixture locations, a minimal
//! HTTP client, and starting the real `vigie` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `tests/fixtures/NAME` in this repository.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `../shared/fixtures/REL`, the real captures beside the repository. When
/// `../shared` is absent (a user's clone) this prints a notice and returns
/// None so the test can skip; under `CI=true` its absence fails the test.
pub fn shared_fixture(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    absent(
        &p,
        "the shared fixtures must be beside the repository",
        "not beside this clone",
    );
    None
}

/// Something a test needs is absent: a failure under CI=true (`ci_rule`
/// says why), otherwise a printed notice (`why` says why) and a skip.
pub fn absent(p: &Path, ci_rule: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing, and CI=true: {ci_rule}", p.display());
    }
    eprintln!(
        "NOTICE: {} is absent ({why}); skipping this test",
        p.display()
    );
}

/// Copies a fixture tree into a fresh temporary directory, keeping symlinks
/// as symlinks, so a test may change it (mtimes) without touching the repo.
pub fn copy_tree(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(from, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if ft.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The real binary on a copy of the `host` fixture tree (reboot requested
/// since 2026-09-21, two watched paths) with three disks (ATA, NVMe, SCSI)
/// served by the fake smartctl. Returns the two temporary trees, which must
/// live as long as the process.
pub fn vigie_on_fixture_host() -> (tempfile::TempDir, tempfile::TempDir, Vigie) {
    vigie_on_fixture_host_with(&[])
}

/// [`vigie_on_fixture_host`] with more flags.
pub fn vigie_on_fixture_host_with(extra: &[&str]) -> (tempfile::TempDir, tempfile::TempDir, Vigie) {
    let dir = copy_tree(&fixture("host"));
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("root/run/reboot-required"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
        .unwrap();
    let disks = copy_tree(&fixture("smartctl"));
    let p = |sub: &str| dir.path().join(sub).to_string_lossy().into_owned();
    let mut args: Vec<String> = vec![
        format!("--path.procfs={}", p("proc")),
        format!("--path.sysfs={}", p("sys")),
        format!("--path.rootfs={}", p("root")),
        "--collector.filesystem.watch-path=/var/lib/etcd=control-plane".into(),
        "--collector.filesystem.watch-path=/srv/backup disk/borg=backup".into(),
        concat!(
            "--collector.smart.smartctl-path=",
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fake-smartctl"
        )
        .into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = Vigie::start_with_env(
        &args,
        &[("FAKE_SMARTCTL_DIR", disks.path().to_str().unwrap())],
    );
    (dir, disks, v)
}

/// An HTTP response, as read by [`request`].
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole
/// answer (the server must close). Panics after 30 s.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let (status, headers, body) = request_raw(addr, method, path, headers);
    Response {
        status,
        headers,
        body: String::from_utf8(body).expect("a UTF-8 body"),
    }
}

/// [`request`], with the body as bytes (de-chunked, not decoded).
pub fn request_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (status, headers, body)
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&raw[..eol]);
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        let rest = &raw[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        raw = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[])
}

/// The real binary, started with the given flags on a free loopback port.
/// Killed when dropped.
pub struct Vigie {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: mpsc::Receiver<String>,
}

impl Vigie {
    pub fn start(args: &[&str]) -> Vigie {
        Self::start_with_env(args, &[])
    }

    /// As [`start`](Self::start), with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Vigie {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--web.listen-address=127.0.0.1:0")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vigie");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                let _ = child.wait();
                panic!("vigie did not report its listening address within 20 s")
            });
            if let Some(rest) = line.split(" listening on ").nth(1) {
                let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                return Vigie {
                    child,
                    addr,
                    log: rx,
                };
            }
        }
    }

    /// Scrapes until `ready(body)` holds (background collectors have run),
    /// for at most 20 s; returns that body.
    pub fn scrape_until(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let body = get(self.addr, "/metrics").body;
            if ready(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "not ready after 20 s:\n{body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Collects log lines until one satisfies `found` (at most 10 s), and
    /// returns every line read so far. The log travels through a pipe and a
    /// reader thread, so a line can arrive after the scrape that shows its
    /// effect.
    pub fn wait_log(&self, found: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lines = Vec::new();
        while !lines.iter().any(|l: &String| found(l)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(l) => lines.push(l),
                Err(_) => break,
            }
        }
        lines
    }

    /// Scrapes once every collector reports success.
    pub fn scrape_ready(&self) -> String {
        self.scrape_until(|b| {
            b.contains("vigie_collector_success")
                && !b
                    .lines()
                    .any(|l| l.starts_with("vigie_collector_success{") && l.ends_with(" 0"))
        })
    }
}

impl Drop for Vigie {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the first sample line of `body` that starts with `prefix`
/// (metric name and, if wanted, the start of its labels).
pub fn value(body: &str, prefix: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
}

/// Runs `promtool check metrics` on an exposition; returns its output on
/// failure. promtool must be installed (scripts/test installs it).
/// Reads one HTTP/1.1 request from a test receiver's connection: its
/// method, path and body (`Content-Length` bytes). None at the end of the
/// connection or on a read error.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// Runs promtool with `args` in `dir`: its output (stdout then stderr), as
/// Ok when it succeeded.
pub fn promtool(args: &[&str], dir: &Path) -> Result<String, String> {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool must be installed (scripts/test installs Debian's prometheus package)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

pub fn promtool_check_metrics(exposition: &str) -> Result<(), String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (scripts/test installs Debian's prometheus package)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A tmpfs mounted for the test (root only), unmounted when dropped.
pub struct Tmpfs(pub PathBuf);

/// The mount points this test binary's tests mount, each registered before
/// its mount is made and never removed: fixtures of those tests, not this
/// machine's filesystems (the day-one test does not judge their alerts).
static FIXTURE_MOUNTS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Registers `dir` as a fixture mount point; call before mounting on it.
pub fn register_fixture_mount(dir: &Path) {
    FIXTURE_MOUNTS.lock().unwrap().push(dir.to_path_buf());
}

/// Whether `mountpoint` is, or is under, a fixture mount point registered
/// so far.
pub fn is_fixture_mount(mountpoint: &str) -> bool {
    let mp = Path::new(mountpoint);
    FIXTURE_MOUNTS
        .lock()
        .unwrap()
        .iter()
        .any(|d| mp.starts_with(d))
}

impl Tmpfs {
    pub fn mount(dir: PathBuf, size: &str) -> Tmpfs {
        std::fs::create_dir_all(&dir).unwrap();
        register_fixture_mount(&dir);
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "mount tmpfs on {}", dir.display());
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A loopback port free now (for a server the test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
