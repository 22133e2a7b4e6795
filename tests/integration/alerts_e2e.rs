//! End to end: real filesystems (three small tmpfs the test mounts), the real
//! binary, real Prometheus evaluating the rules `gen-rules` writes. One
//! filesystem fills at a steady rate, one holds a watched control-plane path
//! and is nearly full, one is steady: the first two alert, the third not.
//!
//! Mounting needs root (CI runs as root); elsewhere the test says so and
//! skips, and under `CI=true` not being root is a failure.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use vigie::generate::{Format, RULES_FILE, generate};
use vigie::thresholds::Thresholds;

use crate::common::{Tmpfs, Vigie};
use crate::prometheus::Prometheus;

fn fill(path: &Path, bytes: usize) {
    std::fs::write(path, vec![0x5au8; bytes]).unwrap();
}

/// Firing alerts: (alertname, severity, mountpoint).
fn firing(prom: &Prometheus) -> Vec<(String, String, String)> {
    prom.firing(&["alertname", "severity", "mountpoint"])
        .into_iter()
        .map(|l| (l[0].clone(), l[1].clone(), l[2].clone()))
        .collect()
}

#[test]
fn filling_and_control_plane_filesystems_alert_and_the_steady_one_does_not() {
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI runs as root: this test must run"
        );
        eprintln!("NOTICE: not root, cannot mount tmpfs; skipping the end-to-end alert test");
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-e2e-")
        .tempdir()
        .unwrap();
    let root = base.path().to_path_buf();
    let filling = Tmpfs::mount(root.join("filling"), "8m");
    let cp = Tmpfs::mount(root.join("cp"), "8m");
    let steady = Tmpfs::mount(root.join("steady"), "8m");
    std::fs::create_dir_all(cp.0.join("etcd")).unwrap();
    // Control-plane filesystem about 80% used: under its 30% free warning,
    // above the 15% critical and the generic 15%.
    fill(&cp.0.join("etcd/db"), 6_600_000);
    // Steady: a quarter used, not moving.
    fill(&steady.0.join("data"), 2_000_000);

    // Rules from a thresholds file with short delays so the test takes seconds.
    let thresholds = "filesystems:\n  free_percent: {for: 0s}\n  full_in: {warning: 7d, critical: 1d, for: 0s}\n  full_in_window: 1m\n";
    let t = Thresholds::parse(thresholds, Path::new("e2e.yaml"), 20_778).unwrap();
    vigie::generate::write(&generate(&t, Format::Plain).unwrap(), &root, None, false).unwrap();

    let v = Vigie::start(&[
        "--collector.disable-defaults",
        "--collector.filesystem",
        "--collector.filesystem.interval=1s",
        &format!(
            "--collector.filesystem.mount-points-include=^{}/",
            root.display()
        ),
        &format!(
            "--collector.filesystem.watch-path={}/etcd=control-plane",
            cp.0.display()
        ),
    ]);
    let prom = Prometheus::start(&[v.addr], &[&root.join(RULES_FILE)]);

    // Write 100 kB every 250 ms (about 400 kB/s) into the filling filesystem.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), filling.0.join("growing"));
        std::thread::spawn(move || {
            let mut f = std::fs::File::create(path).unwrap();
            let chunk = vec![0xa5u8; 100_000];
            while !stop.load(Ordering::Relaxed) {
                if f.write_all(&chunk).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };

    let mp = |t: &Tmpfs| t.0.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    let alerts = loop {
        let a = firing(&prom);
        let filling_up = a
            .iter()
            .any(|(n, _, m)| n == "VigieFilesystemFillingUp" && *m == mp(&filling));
        let cp_full = a.iter().any(|(n, s, m)| {
            n == "VigieControlPlaneFilesystemAlmostFull" && s == "warning" && *m == mp(&cp)
        });
        if filling_up && cp_full {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "expected alerts not firing after 90 s: {a:?}"
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // The steady filesystem raises nothing; the control-plane one only its
    // role's alert (the generic one is for other filesystems).
    assert!(
        !alerts.iter().any(|(_, _, m)| *m == mp(&steady)),
        "{alerts:?}"
    );
    assert!(
        !alerts
            .iter()
            .any(|(n, _, m)| n == "VigieFilesystemAlmostFull" && *m == mp(&cp)),
        "{alerts:?}"
    );
    assert!(
        !alerts
            .iter()
            .any(|(n, s, m)| n == "VigieControlPlaneFilesystemAlmostFull"
                && s == "critical"
                && *m == mp(&cp))
    );
    eprintln!("firing: {alerts:?}");
    drop(prom);
    drop(v);
    drop((filling, cp, steady));
}
