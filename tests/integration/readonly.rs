//! Read-only filesystems on real mounts (tmpfs the test mounts, as root):
//! one mounted read-only from the start never alerts; one remounted
//! read-only after vigie saw it writable alerts; the same remount under a
//! per-mount override does not; a mount whose superblock is read-only
//! while the mount itself is rw (the state ext4 `errors=remount-ro` leaves)
//! alerts without any history, in `vigie check` too. Evaluated by real
//! Prometheus with the rules `gen-rules` writes, and by `vigie check`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vigie::generate::{Format, RULES_FILE, generate};
use vigie::thresholds::Thresholds;

use crate::common::{Tmpfs, Vigie, get};
use crate::prometheus::Prometheus;

/// Skips (with a notice) when not root; under CI=true not being root fails.
pub(crate) fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI runs as root: this test must run"
    );
    eprintln!("NOTICE: not root, cannot mount tmpfs; skipping the read-only test");
    false
}

/// Runs `mount` with `args`, whose last one is the mount point (registered
/// first as a fixture mount).
pub(crate) fn mount(args: &[&str]) {
    crate::common::register_fixture_mount(Path::new(args[args.len() - 1]));
    let st = Command::new("mount").args(args).status().unwrap();
    assert!(st.success(), "mount {args:?}");
}

/// A tmpfs mounted read-only from the start.
fn tmpfs_ro(dir: &Path) -> Tmpfs {
    std::fs::create_dir_all(dir).unwrap();
    mount(&[
        "-t",
        "tmpfs",
        "-o",
        "ro,size=1m",
        "tmpfs",
        &dir.to_string_lossy(),
    ]);
    Tmpfs(dir.to_path_buf())
}

/// A bind mount of the read-only tmpfs `src` at `dir`, made rw itself: its
/// superblock stays read-only under a rw mount, as ext4's after an error.
fn rw_bind_of_ro(src: &Path, dir: &Path) -> Tmpfs {
    std::fs::create_dir_all(dir).unwrap();
    let d = dir.to_string_lossy();
    mount(&["--bind", &src.to_string_lossy(), &d]);
    mount(&["-o", "remount,bind,rw", &d]);
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mi
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some(d.as_ref()))
        .unwrap();
    assert!(
        line.split(' ').nth(5).unwrap().starts_with("rw")
            && line
                .rsplit(' ')
                .next()
                .unwrap()
                .split(',')
                .any(|o| o == "ro"),
        "expected a rw mount of a ro superblock: {line}"
    );
    Tmpfs(dir.to_path_buf())
}

/// Firing alerts: (alertname, mountpoint).
fn firing(prom: &Prometheus) -> Vec<(String, String)> {
    prom.firing(&["alertname", "mountpoint"])
        .into_iter()
        .map(|l| (l[0].clone(), l[1].clone()))
        .collect()
}

#[test]
fn read_only_alerts_only_when_a_filesystem_went_read_only() {
    if !root_or_skip() {
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-ro-")
        .tempdir()
        .unwrap();
    let root = base.path().to_path_buf();
    let ro_from_start = tmpfs_ro(&root.join("ro-from-start"));
    let remounted = Tmpfs::mount(root.join("remounted"), "1m");
    let acknowledged = Tmpfs::mount(root.join("acknowledged"), "1m");
    let writable = Tmpfs::mount(root.join("writable"), "1m");
    let errored = rw_bind_of_ro(&ro_from_start.0, &root.join("errored"));
    let mp = |t: &Tmpfs| t.0.display().to_string();

    let thresholds = format!(
        "filesystems:\n  free_percent: {{enabled: false}}\n  inodes_free_percent: {{enabled: false}}\n  full_in: {{enabled: false}}\n  readonly: {{for: 0s}}\n\
         overrides:\n  - match: {{mountpoint: '{}'}}\n    reason: frozen on purpose by its owner\n    filesystems: {{readonly: {{enabled: false}}}}\n",
        mp(&acknowledged)
    );
    let t = Thresholds::parse(&thresholds, Path::new("ro.yaml"), 20_778).unwrap();
    vigie::generate::write(&generate(&t, Format::Plain).unwrap(), &root, None, false).unwrap();

    let v = Vigie::start(&[
        "--collector.disable-defaults",
        "--collector.filesystem",
        "--collector.filesystem.interval=1s",
        &format!(
            "--collector.filesystem.mount-points-include=^{}/",
            root.display()
        ),
    ]);
    let prom = Prometheus::start(&[v.addr], &[&root.join(RULES_FILE)]);
    // Prometheus has seen both filesystems writable, so vigie has too.
    for t in [&remounted, &acknowledged] {
        prom.wait_for(
            &format!("vigie_filesystem_readonly{{mountpoint='{}'}} == 0", mp(t)),
            |r| !r.is_empty(),
        );
    }
    for t in [&remounted, &acknowledged] {
        mount(&["-o", "remount,ro", &mp(t)]);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let alerts = loop {
        let a = firing(&prom);
        let has = |t: &Tmpfs| {
            a.iter()
                .any(|(n, m)| n == "VigieFilesystemReadOnly" && *m == mp(t))
        };
        if has(&remounted) && has(&errored) {
            break a;
        }
        assert!(Instant::now() < deadline, "not firing after 60 s: {a:?}");
        std::thread::sleep(Duration::from_millis(500));
    };
    // A few more rounds: the quiet ones stay quiet.
    std::thread::sleep(Duration::from_secs(4));
    let alerts = [alerts, firing(&prom)].concat();
    for quiet in [&ro_from_start, &acknowledged, &writable] {
        assert!(
            !alerts.iter().any(|(_, m)| *m == mp(quiet)),
            "{} must not alert: {alerts:?}",
            mp(quiet)
        );
    }
    // The exporter's own view of each.
    let body = get(v.addr, "/metrics").body;
    let line = |metric: &str, t: &Tmpfs| {
        body.lines()
            .find(|l| l.starts_with(metric) && l.contains(&format!("mountpoint=\"{}\"", mp(t))))
            .unwrap_or_else(|| panic!("{metric} {}", mp(t)))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(line("vigie_filesystem_turned_readonly{", &remounted), "1");
    assert_eq!(
        line("vigie_filesystem_turned_readonly{", &ro_from_start),
        "0"
    );
    assert_eq!(line("vigie_filesystem_superblock_readonly{", &errored), "1");
    assert_eq!(line("vigie_filesystem_mount_readonly{", &errored), "0");
    assert_eq!(
        line("vigie_filesystem_mount_readonly{", &ro_from_start),
        "1"
    );
    assert_eq!(line("vigie_filesystem_readonly{", &ro_from_start), "1");

    // Writable again: the alert resolves.
    mount(&["-o", "remount,rw", &mp(&remounted)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while firing(&prom).iter().any(|(_, m)| *m == mp(&remounted)) {
        assert!(Instant::now() < deadline, "still firing once writable");
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(prom);
    drop(v);
    drop((errored, remounted, acknowledged, writable));
    drop(ro_from_start);
}

/// `vigie check`, one shot, no history: read-only from the start is OK, a
/// read-only superblock under a rw mount is CRITICAL.
#[test]
fn check_says_critical_only_for_read_only_against_mount_options() {
    if !root_or_skip() {
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-ro-check-")
        .tempdir()
        .unwrap();
    let root = base.path().to_path_buf();
    let ro = tmpfs_ro(&root.join("ro"));
    let t = root.join("t.yaml");
    std::fs::write(
        &t,
        "filesystems:\n  free_percent: {enabled: false}\n  inodes_free_percent: {enabled: false}\n",
    )
    .unwrap();
    let run = |include: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("check")
            .arg(format!("--thresholds={}", t.display()))
            .arg(format!(
                "--collector.filesystem.mount-points-include={include}"
            ))
            .args(["--only=filesystem", "--format=json"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run(&format!("^{}$", ro.0.display()));
    assert_eq!(code, Some(0), "read-only from the start: {out}");
    let errored = rw_bind_of_ro(&ro.0, &root.join("errored"));
    let (code, out) = run(&format!("^{}$", errored.0.display()));
    assert_eq!(code, Some(2), "superblock ro under a rw mount: {out}");
    assert!(out.contains("filesystem.readonly"), "{out}");
    drop(errored);
    drop(ro);
}
