//! The host collectors on the real `/proc` captures of `../shared/fixtures/proc`
//! (prometheus/procfs and node_exporter): values must equal the
//! `expected.json` beside each tree.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use vigie::collect::Collector;
use vigie::collect::filesystem::{FilesystemCollector, FilesystemConfig, FsStat};
use vigie::collect::mountinfo::parse_mountinfo;
use vigie::collect::reboot::RebootCollector;
use vigie::collect::swap::{SwapCollector, parse_meminfo, parse_swaps};
use vigie::metrics::Families;
use vigie::paths::Paths;

use crate::common::shared_fixture;

fn expected(tree: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(tree.join("expected.json")).unwrap()).unwrap()
}

fn paths(procfs: &Path) -> Paths {
    Paths {
        procfs: procfs.to_path_buf(),
        rootfs: tempfile::tempdir().unwrap().keep(),
        ..Paths::default()
    }
}

fn u(v: &Value, path: &[&str]) -> u64 {
    let mut v = v;
    for p in path {
        v = &v[p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("{path:?} in expected.json"))
}

/// The two real trees.
fn trees() -> Vec<PathBuf> {
    ["proc/procfs/proc", "proc/node_exporter/proc"]
        .iter()
        .filter_map(|t| shared_fixture(t))
        .collect()
}

#[test]
fn meminfo_swap_values_equal_expected_json() {
    for tree in trees() {
        let exp = expected(&tree);
        let m = parse_meminfo(&std::fs::read_to_string(tree.join("meminfo")).unwrap());
        assert_eq!(
            m.swap_total,
            Some(u(&exp, &["meminfo", "SwapTotal_bytes"])),
            "{}",
            tree.display()
        );
        assert_eq!(
            m.swap_free,
            Some(u(&exp, &["meminfo", "SwapFree_bytes"])),
            "{}",
            tree.display()
        );
        assert_eq!(
            m.mem_total,
            Some(u(&exp, &["meminfo", "MemTotal_kB"]) * 1024)
        );
        // Neither capture has MemAvailable (expected.json says null).
        assert!(exp["meminfo"]["MemAvailable_kB"].is_null());
        assert_eq!(m.mem_available, None);

        // Through the collector, as exported.
        let mut f = Families::new();
        let result = SwapCollector::new(paths(&tree)).refresh(&mut f);
        assert_eq!(
            f.value("vigie_swap_size_bytes", &[]),
            Some(u(&exp, &["meminfo", "SwapTotal_bytes"]) as f64)
        );
        assert_eq!(
            f.value("vigie_swap_free_bytes", &[]),
            Some(u(&exp, &["meminfo", "SwapFree_bytes"]) as f64)
        );
        // The procfs capture has no vmstat: the collector says so, and still
        // exports what it could read.
        if tree.join("vmstat").exists() {
            result.unwrap();
        } else {
            let e = result.unwrap_err().to_string();
            assert!(e.contains("vmstat"), "{e}");
        }
    }
}

#[test]
fn swaps_rows_equal_expected_json() {
    for tree in trees() {
        let exp = expected(&tree);
        let (devs, errors) = parse_swaps(&std::fs::read_to_string(tree.join("swaps")).unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(devs.len() as u64, u(&exp, &["swaps", "entries"]));
        let size: u64 = devs.iter().map(|d| d.size).sum();
        let used: u64 = devs.iter().map(|d| d.used).sum();
        assert_eq!(size, u(&exp, &["swaps", "total_size_kB"]) * 1024);
        assert_eq!(used, u(&exp, &["swaps", "total_used_kB"]) * 1024);
        let names: Vec<&str> = exp["swaps"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(
            devs.iter().map(|d| d.filename.as_str()).collect::<Vec<_>>(),
            names
        );

        let mut f = Families::new();
        let _ = SwapCollector::new(paths(&tree)).refresh(&mut f);
        let d = &devs[0];
        assert_eq!(
            f.value("vigie_swap_device_used_bytes", &[("device", names[0])]),
            Some(d.used as f64)
        );
    }
}

#[test]
fn boot_time_equals_expected_json() {
    for tree in trees() {
        let exp = expected(&tree);
        let mut f = Families::new();
        RebootCollector::new(paths(&tree)).refresh(&mut f).unwrap();
        assert_eq!(
            f.value("vigie_boot_time_seconds", &[]),
            Some(u(&exp, &["stat", "btime"]) as f64)
        );
        // An empty rootfs: no reboot pending.
        assert_eq!(f.value("vigie_reboot_required", &[]), Some(0.0));
    }
}

#[test]
fn real_mountinfo_captures_parse_without_rejected_lines() {
    for rel in [
        "proc/procfs/proc/26231/mountinfo",
        "proc/node_exporter/proc/1/mountinfo",
        "proc/node_exporter/proc/10/mountinfo",
    ] {
        let Some(p) = shared_fixture(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        let (mounts, errors) = parse_mountinfo(&text);
        assert!(errors.is_empty(), "{rel}: {errors:?}");
        assert_eq!(
            mounts.len(),
            text.lines().filter(|l| !l.trim().is_empty()).count(),
            "{rel}"
        );
        assert!(
            mounts.iter().any(|m| m.mountpoint == Path::new("/")),
            "{rel}"
        );
    }
}

fn fake_stat() -> vigie::collect::filesystem::StatFn {
    Arc::new(|_: &Path| {
        Ok(FsStat {
            size: 1000,
            free: 500,
            avail: 400,
            files: 10,
            files_free: 5,
            read_only: false,
        })
    })
}

/// (mountpoint, device, fstype) of every exported filesystem.
fn exported(f: &Families) -> Vec<(String, String, String)> {
    f.get("vigie_filesystem_size_bytes")
        .unwrap()
        .samples
        .iter()
        .map(|s| {
            let l = |k: &str| s.labels.iter().find(|(lk, _)| *lk == k).unwrap().1.clone();
            (l("mountpoint"), l("device"), l("fstype"))
        })
        .collect()
}

fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

/// node_exporter's tree has no `self` link: the collector falls back to
/// `1/mountinfo` and drops the pseudo filesystems.
#[test]
fn filesystem_collector_falls_back_to_pid_1() {
    let Some(tree) = shared_fixture("proc/node_exporter/proc") else {
        return;
    };
    let c = FilesystemCollector::with_stat(paths(&tree), FilesystemConfig::default(), fake_stat());
    let mut f = Families::new();
    c.refresh(&mut f).unwrap();
    assert_eq!(
        exported(&f),
        vec![
            t("/", "/dev/dm-2", "ext4"),
            t("/boot", "/dev/sda3", "ext2"),
            t("/run", "tmpfs", "tmpfs"),
            t("/run/lock", "tmpfs", "tmpfs"),
        ]
    );
}

/// With `self` pointing at node_exporter's process 10: the `rootfs` entry is
/// dropped, and of the two mounts stacked on /mnt/nfs/test-dupe the last
/// (the visible one) wins.
#[test]
fn filesystem_collector_keeps_the_top_of_stacked_mounts() {
    let Some(tree) = shared_fixture("proc/node_exporter/proc") else {
        return;
    };
    let procfs = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(tree.join("10"), procfs.path().join("self")).unwrap();
    let c = FilesystemCollector::with_stat(
        paths(procfs.path()),
        FilesystemConfig::default(),
        fake_stat(),
    );
    let mut f = Families::new();
    c.refresh(&mut f).unwrap();
    assert_eq!(
        exported(&f),
        vec![
            t("/", "/dev/sda1", "ext4"),
            t("/mnt/nfs/test", "192.168.1.1:/srv/test", "nfs4"),
            t("/mnt/nfs/test-dupe", "192.168.1.1:/srv/test", "nfs"),
        ]
    );
}
