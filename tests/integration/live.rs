//! The real binary on this machine: its root filesystem figures against
//! statvfs(3) and df(1), its boot time against /proc/stat, SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::{Vigie, promtool_check_metrics, value};

/// The live machine's resolv.conf names a resolver off this machine: tests
/// send no traffic there, so the DNS collector only watches loopback.
const LOOPBACK_DNS: [&str; 2] = [
    "--collector.dns.resolver-from-resolv-conf=false",
    "--collector.dns.resolver=127.0.0.1:1",
];

const ROOT: &str = "{mountpoint=\"/\"";

#[test]
fn root_filesystem_matches_statvfs_and_df() {
    let v = Vigie::start(&LOOPBACK_DNS);
    let body = v.scrape_ready();
    let size = value(&body, &format!("vigie_filesystem_size_bytes{ROOT}")).expect("root size");
    let avail = value(&body, &format!("vigie_filesystem_avail_bytes{ROOT}")).expect("root avail");
    let free = value(&body, &format!("vigie_filesystem_free_bytes{ROOT}")).expect("root free");
    let files = value(&body, &format!("vigie_filesystem_files{ROOT}")).expect("root files");

    let s = nix::sys::statvfs::statvfs("/").unwrap();
    let frag = s.fragment_size() as f64;
    // Size and inode count do not move; free space may, a little, between
    // vigie's refresh and this call.
    assert_eq!(size, s.blocks() as f64 * frag);
    assert_eq!(files, s.files() as f64);
    let tolerance = 256.0 * 1024.0 * 1024.0;
    assert!(
        (avail - s.blocks_available() as f64 * frag).abs() < tolerance,
        "avail {avail}"
    );
    assert!(
        (free - s.blocks_free() as f64 * frag).abs() < tolerance,
        "free {free}"
    );

    // df reports the same figures in 1-byte blocks.
    let df = Command::new("df")
        .args(["-B1", "--output=size,avail", "/"])
        .output()
        .unwrap();
    let df = String::from_utf8(df.stdout).unwrap();
    let nums: Vec<f64> = df
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(nums[0], size, "df size");
    assert!(
        (nums[1] - avail).abs() < tolerance,
        "df avail {} vs {avail}",
        nums[1]
    );

    promtool_check_metrics(&body).unwrap();
}

#[test]
fn boot_time_matches_proc_stat() {
    let v = Vigie::start(&["--collector.disable-defaults", "--collector.reboot"]);
    let body = v.scrape_ready();
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The kernel derives btime from the clock minus the uptime: two reads a
    // moment apart may differ by a second.
    let got = value(&body, "vigie_boot_time_seconds").expect("boot time exported");
    assert!(
        (got - btime).abs() <= 1.0,
        "vigie {got}, /proc/stat {btime}"
    );
    // Only the collector asked for runs.
    assert!(!body.contains("vigie_filesystem_"));
    assert!(!body.contains("collector=\"swap\""));
}

#[test]
fn sigterm_stops_the_process_cleanly() {
    let mut v = Vigie::start(&LOOPBACK_DNS);
    v.scrape_ready();
    kill(Pid::from_raw(v.child.id() as i32), Signal::SIGTERM).unwrap();
    let t = Instant::now();
    loop {
        if let Some(status) = v.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = v.wait_log(|l| l.contains("SIGTERM received"));
    assert!(
        log.iter().any(|l| l.contains("SIGTERM received")),
        "{log:?}"
    );
}

#[test]
fn port_in_use_is_a_clear_error() {
    let v = Vigie::start(&LOOPBACK_DNS);
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg(format!("--web.listen-address={}", v.addr))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("vigie: cannot listen on {}", v.addr)),
        "{err}"
    );
    assert!(err.contains("in use"), "{err}");
}
