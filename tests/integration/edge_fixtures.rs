//! Edge cases on fixture trees written for vigie (`tests/fixtures/`):
//! `host` (escaped spaces in mountinfo, pseudo and kubelet mounts, a
//! read-only data disk, symlinked etcd dir, a pending reboot, PSI) and `bare`
//! (no swap, no PSI, no `btime`).

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use vigie::collect::Collector;
use vigie::collect::filesystem::{FilesystemCollector, FilesystemConfig, WatchPath};
use vigie::collect::reboot::RebootCollector;
use vigie::collect::swap::{SwapCollector, page_size};
use vigie::metrics::Families;
use vigie::paths::Paths;

use crate::common::{copy_tree, fixture};

fn tree_paths(root: &Path) -> Paths {
    Paths {
        procfs: root.join("proc"),
        sysfs: root.join("sys"),
        rootfs: root.join("root"),
    }
}

fn mountpoints(f: &Families, name: &str) -> Vec<String> {
    f.get(name)
        .map(|fam| {
            fam.samples
                .iter()
                .map(|s| {
                    s.labels
                        .iter()
                        .find(|(k, _)| *k == "mountpoint")
                        .unwrap()
                        .1
                        .clone()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn filesystem_on_host_tree() {
    let host = fixture("host");
    let config = FilesystemConfig {
        watch_paths: vec![
            "/var/lib/etcd=control-plane".parse::<WatchPath>().unwrap(),
            "/srv/backup disk/borg=backup".parse().unwrap(),
            "/var/lib/not-yet".parse().unwrap(),
        ],
        ..FilesystemConfig::default()
    };
    let c = FilesystemCollector::new(tree_paths(&host), config);
    let mut f = Families::new();
    c.refresh(&mut f).unwrap();

    // Pseudo filesystems, kubelet volumes and snaps are skipped; the escaped
    // space is decoded.
    assert_eq!(
        mountpoints(&f, "vigie_filesystem_size_bytes"),
        ["/", "/data", "/mnt/nfs", "/run", "/srv/backup disk"]
    );
    // statvfs really ran on the fixture directories (they are on the disk
    // holding this repository, so the size is not zero).
    assert!(
        f.value(
            "vigie_filesystem_size_bytes",
            &[("mountpoint", "/srv/backup disk")]
        )
        .unwrap()
            > 0.0
    );
    assert_eq!(
        f.value("vigie_filesystem_stat_error", &[("mountpoint", "/mnt/nfs")]),
        Some(0.0)
    );
    assert_eq!(
        f.value(
            "vigie_filesystem_size_bytes",
            &[
                ("mountpoint", "/mnt/nfs"),
                ("fstype", "nfs4"),
                ("device", "nas.example.org:/export")
            ]
        ),
        f.value("vigie_filesystem_size_bytes", &[("mountpoint", "/")]),
    );
    // /data's superblock is `ro` under a `rw` mount in mountinfo (the
    // state ext4 errors=remount-ro leaves after an error).
    assert_eq!(
        f.value("vigie_filesystem_readonly", &[("mountpoint", "/data")]),
        Some(1.0)
    );
    assert_eq!(
        f.value(
            "vigie_filesystem_superblock_readonly",
            &[("mountpoint", "/data")]
        ),
        Some(1.0)
    );
    assert_eq!(
        f.value(
            "vigie_filesystem_mount_readonly",
            &[("mountpoint", "/data")]
        ),
        Some(0.0)
    );
    // Read-only from vigie's first look: not a turn.
    assert_eq!(
        f.value(
            "vigie_filesystem_turned_readonly",
            &[("mountpoint", "/data")]
        ),
        Some(0.0)
    );
    assert_eq!(
        f.value("vigie_filesystem_readonly", &[("mountpoint", "/")]),
        Some(0.0)
    );

    // /var/lib/etcd -> ../../data/etcd: held by /data.
    assert_eq!(
        f.value(
            "vigie_path_filesystem_info",
            &[
                ("path", "/var/lib/etcd"),
                ("role", "control-plane"),
                ("mountpoint", "/data"),
                ("fstype", "xfs")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        f.value("vigie_path_exists", &[("path", "/var/lib/etcd")]),
        Some(1.0)
    );
    // A path below a mount point with a space, not created yet.
    assert_eq!(
        f.value(
            "vigie_path_filesystem_info",
            &[
                ("path", "/srv/backup disk/borg"),
                ("mountpoint", "/srv/backup disk")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        f.value("vigie_path_exists", &[("path", "/srv/backup disk/borg")]),
        Some(0.0)
    );
    // A missing path is held by / (where it would be created).
    assert_eq!(
        f.value(
            "vigie_path_filesystem_info",
            &[
                ("path", "/var/lib/not-yet"),
                ("role", "watched"),
                ("mountpoint", "/")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        f.value("vigie_path_resolve_error", &[("path", "/var/lib/not-yet")]),
        Some(0.0)
    );
}

#[test]
fn watched_path_forces_its_filesystem_even_when_filtered_out() {
    let host = fixture("host");
    let config = FilesystemConfig {
        fs_types_exclude: regex::Regex::new("^(xfs|proc|sysfs|cgroup2|devtmpfs|squashfs)$")
            .unwrap(),
        watch_paths: vec!["/var/lib/etcd=control-plane".parse().unwrap()],
        ..FilesystemConfig::default()
    };
    let mut f = Families::new();
    FilesystemCollector::new(tree_paths(&host), config)
        .refresh(&mut f)
        .unwrap();
    assert!(mountpoints(&f, "vigie_filesystem_avail_bytes").contains(&"/data".to_string()));
}

#[test]
fn swap_on_host_tree() {
    let host = fixture("host");
    let mut f = Families::new();
    SwapCollector::new(tree_paths(&host))
        .refresh(&mut f)
        .unwrap();
    assert_eq!(
        f.value("vigie_swap_size_bytes", &[]),
        Some(2097148.0 * 1024.0)
    );
    assert_eq!(
        f.value("vigie_swap_free_bytes", &[]),
        Some(10236.0 * 1024.0)
    );
    assert_eq!(
        f.value("vigie_swap_cached_bytes", &[]),
        Some(81920.0 * 1024.0)
    );
    assert_eq!(
        f.value("vigie_memory_available_bytes", &[]),
        Some(812332.0 * 1024.0)
    );
    let page = page_size() as f64;
    assert_eq!(f.value("vigie_swap_in_bytes", &[]), Some(5242880.0 * page));
    assert_eq!(f.value("vigie_swap_out_bytes", &[]), Some(7340032.0 * page));
    assert_eq!(
        f.value(
            "vigie_swap_device_used_bytes",
            &[("device", "/swap file"), ("type", "file")]
        ),
        Some(1040000.0 * 1024.0)
    );
    assert_eq!(
        f.value("vigie_swap_device_priority", &[("device", "/dev/sda2")]),
        Some(-2.0)
    );
    assert_eq!(
        f.value("vigie_pressure_memory_waiting_seconds", &[]),
        Some(4123.456789)
    );
    assert_eq!(
        f.value("vigie_pressure_memory_stalled_seconds", &[]),
        Some(987.654321)
    );
}

#[test]
fn no_swap_and_no_psi_is_not_an_error() {
    let bare = fixture("bare");
    let mut f = Families::new();
    SwapCollector::new(tree_paths(&bare))
        .refresh(&mut f)
        .unwrap();
    assert_eq!(f.value("vigie_swap_size_bytes", &[]), Some(0.0));
    assert_eq!(f.value("vigie_swap_free_bytes", &[]), Some(0.0));
    assert!(
        f.get("vigie_swap_device_size_bytes")
            .is_none_or(|fam| fam.samples.is_empty())
    );
    assert!(f.get("vigie_pressure_memory_waiting_seconds").is_none());
    assert!(f.get("vigie_pressure_memory_stalled_seconds").is_none());
}

#[test]
fn missing_btime_fails_the_collector_but_keeps_the_rest() {
    let bare = fixture("bare");
    let mut f = Families::new();
    let err = RebootCollector::new(tree_paths(&bare))
        .refresh(&mut f)
        .unwrap_err();
    assert!(err.to_string().contains("no btime line"), "{err}");
    assert!(f.get("vigie_boot_time_seconds").is_none());
    assert_eq!(f.value("vigie_reboot_required", &[]), Some(0.0));
    assert_eq!(f.value("vigie_reboot_required_packages", &[]), Some(0.0));
}

#[test]
fn reboot_required_through_var_run_symlink() {
    // A copy, so the flag's mtime can be set.
    let dir = copy_tree(&fixture("host"));
    let since = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("root/run/reboot-required"))
        .unwrap()
        .set_modified(since)
        .unwrap();
    let mut f = Families::new();
    RebootCollector::new(tree_paths(dir.path()))
        .refresh(&mut f)
        .unwrap();
    assert_eq!(f.value("vigie_reboot_required", &[]), Some(1.0));
    assert_eq!(
        f.value("vigie_reboot_required_since_timestamp_seconds", &[]),
        Some(1_790_000_000.0)
    );
    // Two distinct packages (libc6 is listed twice).
    assert_eq!(f.value("vigie_reboot_required_packages", &[]), Some(2.0));
    assert_eq!(
        f.value("vigie_boot_time_seconds", &[]),
        Some(1_776_153_600.0)
    );

    // Once the flag is gone, so is the timestamp.
    std::fs::remove_file(dir.path().join("root/run/reboot-required")).unwrap();
    std::fs::remove_file(dir.path().join("root/run/reboot-required.pkgs")).unwrap();
    let mut f = Families::new();
    RebootCollector::new(tree_paths(dir.path()))
        .refresh(&mut f)
        .unwrap();
    assert_eq!(f.value("vigie_reboot_required", &[]), Some(0.0));
    assert!(
        f.get("vigie_reboot_required_since_timestamp_seconds")
            .is_none()
    );
}

#[test]
fn byte_counts_that_overflow_are_errors_never_a_wrapped_zero() {
    // `overflow`: SwapFree of 2^54 kB and pswpin of 2^52 pages are exactly
    // 2^64 bytes, which u64 arithmetic wraps to 0; SwapTotal and one
    // /proc/swaps row overflow too.
    let tree = fixture("overflow");
    let mut f = Families::new();
    let err = SwapCollector::new(tree_paths(&tree))
        .refresh(&mut f)
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("overflow"), "{err}");
    for name in [
        "vigie_swap_size_bytes",
        "vigie_swap_free_bytes",
        "vigie_swap_in_bytes",
    ] {
        assert_eq!(f.value(name, &[]), None, "{name}");
    }
    assert_eq!(
        f.value(
            "vigie_swap_device_size_bytes",
            &[("device", "/dev/sda2"), ("type", "partition")]
        ),
        None
    );
    // The values that fit are still there.
    assert_eq!(
        f.value("vigie_memory_total_bytes", &[]),
        Some(1012264.0 * 1024.0)
    );
    assert_eq!(
        f.value("vigie_swap_out_bytes", &[]),
        Some(20.0 * page_size() as f64)
    );
    assert_eq!(
        f.value(
            "vigie_swap_device_size_bytes",
            &[("device", "/swapfile"), ("type", "file")]
        ),
        Some(1024.0 * 1024.0)
    );
}

#[test]
fn unparseable_mount_table_lines_are_counted() {
    let tree = copy_tree(&fixture("host"));
    let mountinfo = tree.path().join("proc/self/mountinfo");
    let mut text = std::fs::read_to_string(&mountinfo).unwrap();
    text.push_str("garbage line\n99 1 8:9 / /srv/no-separator rw ext4 /dev/sdz1 rw\n");
    std::fs::write(&mountinfo, text).unwrap();
    let c = FilesystemCollector::new(tree_paths(tree.path()), FilesystemConfig::default());
    let mut f = Families::new();
    c.refresh(&mut f).unwrap();
    assert_eq!(
        f.value("vigie_filesystem_mount_table_unparsed_lines", &[]),
        Some(2.0)
    );
    assert!(mountpoints(&f, "vigie_filesystem_avail_bytes").contains(&"/".to_string()));
    // The clean table says 0, not nothing.
    let c = FilesystemCollector::new(tree_paths(&fixture("host")), FilesystemConfig::default());
    let mut f = Families::new();
    c.refresh(&mut f).unwrap();
    assert_eq!(
        f.value("vigie_filesystem_mount_table_unparsed_lines", &[]),
        Some(0.0)
    );
}

/// A serving runner keeps background collectors' states compact (only
/// compressed); its scrapes carry exactly the series a runner that keeps
/// the families gives, plain and gzip, in both formats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compact_runner_serves_the_same_series() {
    use std::io::Read;
    use std::sync::Arc;
    use vigie::collect::{Refresh, Registration, Runner};
    use vigie::expo::{Format, body};
    let host = fixture("host");
    let regs = || {
        vec![
            Registration {
                collector: Arc::new(FilesystemCollector::new(
                    tree_paths(&host),
                    FilesystemConfig::default(),
                )),
                refresh: Refresh::Every(Duration::from_secs(3600)),
                timeout: Duration::from_secs(10),
            },
            Registration {
                collector: Arc::new(SwapCollector::new(tree_paths(&host))),
                refresh: Refresh::Inline,
                timeout: Duration::from_secs(10),
            },
        ]
    };
    let full = Runner::new(regs());
    let compact = Runner::new(regs()).compact_chunks();
    full.refresh_background_now().await;
    compact.refresh_background_now().await;
    // vigie's own series carry run times, and the fixture's filesystems are
    // statted for real (their free space moves with the build machine's):
    // compare swap's series whole and the filesystems' without values.
    let series = |text: &[u8]| -> Vec<String> {
        String::from_utf8(text.to_vec())
            .unwrap()
            .lines()
            .filter_map(|l| {
                if l.starts_with("vigie_swap_") {
                    Some(l.to_string())
                } else if l.starts_with("vigie_filesystem_") {
                    l.rsplit_once(' ').map(|(k, _)| k.to_string())
                } else {
                    None
                }
            })
            .collect()
    };
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let want = series(&body(
            &full.gather(Duration::from_secs(5)).await,
            format,
            false,
        ));
        assert!(
            want.iter()
                .any(|l| l.starts_with("vigie_filesystem_avail_bytes"))
        );
        let snap = compact.gather(Duration::from_secs(5)).await;
        let plain = body(&snap, format, false);
        assert_eq!(series(&plain), want, "{format:?}");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&body(&snap, format, true)[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, plain.to_vec(), "{format:?} gzip");
    }
}
