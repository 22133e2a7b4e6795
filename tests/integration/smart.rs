//! The SMART collector, driven through the real binary by a fake smartctl
//! (`tests/fake-smartctl`) that replays real captures from
//! `../shared/fixtures/smartctl` and plays the faults a real disk will not
//! produce on demand: a hang, garbage, a sleeping disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{Vigie, get, shared_fixture, value};

const FAKE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-smartctl");

/// A directory of fake answers. Devices are named after files in it.
struct FakeDisks {
    dir: tempfile::TempDir,
}

impl FakeDisks {
    fn new() -> FakeDisks {
        FakeDisks {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }
    /// `/dev/NAME` answers with the shared capture `file`.
    fn disk(&self, name: &str, file: &Path) -> &Self {
        std::fs::copy(file, self.path(&format!("{name}.json"))).unwrap();
        self
    }
    fn behave(&self, name: &str, how: &str, content: &str) -> &Self {
        std::fs::write(self.path(&format!("{name}.{how}")), content).unwrap();
        self
    }
    fn scan(&self, devices: &[(&str, &str)]) -> &Self {
        let list: Vec<String> = devices
            .iter()
            .map(|(d, t)| {
                format!(r#"{{"name":"{d}","info_name":"{d}","type":"{t}","protocol":"ATA"}}"#)
            })
            .collect();
        std::fs::write(
            self.path("scan.json"),
            format!(
                r#"{{"json_format_version":[1,0],"smartctl":{{"exit_status":0}},"devices":[{}]}}"#,
                list.join(",")
            ),
        )
        .unwrap();
        self
    }
    fn calls(&self) -> String {
        std::fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }
    fn start(&self, extra: &[&str]) -> Vigie {
        let mut args = vec![
            "--collector.disable-defaults".to_string(),
            "--collector.smart".into(),
            format!("--collector.smart.smartctl-path={FAKE}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The fake reads its directory from the environment.
        Vigie::start_with_env(
            &args,
            &[("FAKE_SMARTCTL_DIR", self.dir.path().to_str().unwrap())],
        )
    }
}

/// The pid the fake smartctl wrote to `path`, once it is there (the file
/// appears before its content).
fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no pid in {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True while `pid` runs (a zombie waiting for its reaper counts as gone).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// Stops vigie with SIGTERM (it must exit cleanly) and checks that the
/// smartctl `pid` does not outlive it.
fn stop_and_check_smartctl_ends(v: &mut Vigie, pid: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(v.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(v.child.wait().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "smartctl (pid {pid}) outlived vigie"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn capture(name: &str) -> Option<PathBuf> {
    shared_fixture(&format!("smartctl/{name}"))
}

#[test]
fn discovery_and_the_failing_drives_of_the_corpus() {
    let (Some(hgst), Some(nvme), Some(scsi), Some(errlog)) = (
        capture("libblockdev__HGST_HUS726060ALA640.json"),
        capture("smartctl_exporter__nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json"),
        capture("smartctl_exporter__SEAGATE_ST373453LC_26.json"),
        capture("smartctl_exporter__HGST_HUS724020ALE640_28.json"),
    ) else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst)
        .disk("nvme0", &nvme)
        .disk("sdb", &scsi)
        .disk("sdc", &errlog)
        .scan(&[
            ("/dev/sda", "sat"),
            ("/dev/nvme0", "nvme"),
            ("/dev/sdb", "scsi"),
            ("/dev/sdc", "sat"),
        ]);
    let v = f.start(&[]);
    let body = v.scrape_until(|b| {
        value(b, "vigie_smart_devices") == Some(4.0)
            && b.matches("vigie_smart_device_info{").count() == 4
    });
    crate::common::promtool_check_metrics(&body).unwrap();

    // The degraded HGST: 1040 reallocated, 878 pending, 1272 offline uncorrectable.
    let sda = "{device=\"/dev/sda\",type=\"sat\",model=\"HGST HUS726060ALA640\"";
    assert_eq!(
        value(&body, &format!("vigie_smart_reallocated_sectors{sda}")),
        Some(1040.0)
    );
    assert_eq!(
        value(&body, &format!("vigie_smart_pending_sectors{sda}")),
        Some(878.0)
    );
    assert_eq!(
        value(&body, &format!("vigie_smart_offline_uncorrectable{sda}")),
        Some(1272.0)
    );
    assert_eq!(
        value(&body, &format!("vigie_smart_healthy{sda}")),
        Some(1.0)
    );
    assert!(body.contains(
        "vigie_smart_attribute_raw{device=\"/dev/sda\",type=\"sat\",model=\"HGST HUS726060ALA640\""
    ));
    assert!(
        body.contains(",id=\"5\",name=\"Reallocated_Sector_Ct\",prefail=\"1\"} 1040\n"),
        "{body}"
    );

    // The failing NVMe: critical warning 16 = bit 4, the disk says it fails,
    // exit status bit 3.
    let nv = "{device=\"/dev/nvme0\",type=\"nvme\",model=\"SAMSUNG MZWLL3T2HAJQ-00005\"";
    assert_eq!(
        value(&body, &format!("vigie_smart_nvme_critical_warning{nv}")),
        Some(16.0)
    );
    assert!(
        body.contains(",bit=\"4\",meaning=\"volatile_memory_backup_failed\"} 1\n"),
        "{body}"
    );
    assert!(body.contains(",bit=\"0\",meaning=\"spare_below_threshold\"} 0\n"));
    assert_eq!(value(&body, &format!("vigie_smart_healthy{nv}")), Some(0.0));
    assert!(body.contains(",bit=\"3\",meaning=\"disk_failing\"} 1\n"));
    assert_eq!(
        value(
            &body,
            &format!("vigie_smart_nvme_available_spare_ratio{nv}")
        ),
        Some(1.0)
    );

    // The SCSI disk: 260 grown defects, 1 uncorrected read error.
    let sb = "{device=\"/dev/sdb\",type=\"scsi\",model=\"SEAGATE ST373453LC\"";
    assert_eq!(
        value(&body, &format!("vigie_smart_scsi_grown_defects{sb}")),
        Some(260.0)
    );
    assert!(body.contains(",operation=\"read\"} 1\n"), "{body}");

    // 12 logged ATA errors; exit status bit 6 and no other.
    let sc = "{device=\"/dev/sdc\",type=\"sat\",model=\"HGST HUS724020ALE640\"";
    assert_eq!(
        value(&body, &format!("vigie_smart_error_log_entries{sc}")),
        Some(12.0)
    );
    let bits: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with(&format!("vigie_smart_exit_status_bit{sc}")) && l.ends_with(" 1"))
        .collect();
    assert_eq!(bits.len(), 1, "{bits:?}");
    assert!(bits[0].contains("bit=\"6\",meaning=\"error_log\""));

    // One smartctl call per device, with its type and without waking disks.
    let calls = f.calls();
    assert!(
        calls.contains("--json=c --all --nocheck=standby -d sat /dev/sda"),
        "{calls}"
    );
    assert!(calls.contains("-d nvme /dev/nvme0"), "{calls}");
    assert_eq!(
        calls.lines().filter(|l| l.contains("--scan-open")).count(),
        1
    );
}

#[test]
fn explicit_devices_with_a_type_after_the_colon() {
    let Some(ssd) = capture("smartctl_exporter__SAMSUNG_MZ7WD240HAFV-00003_21.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("0", &ssd);
    let v = f.start(&[
        "--collector.smart.device=/dev/bus/0:megaraid,4",
        "--collector.smart.powermode=never",
    ]);
    let body = v.scrape_until(|b| b.contains("vigie_smart_device_info{"));
    assert!(
        body.contains("vigie_smart_device_info{device=\"/dev/bus/0\",type=\"megaraid,4\""),
        "{body}"
    );
    let calls = f.calls();
    assert!(
        calls.contains("--json=c --all --nocheck=never -d megaraid,4 /dev/bus/0"),
        "{calls}"
    );
    assert!(!calls.contains("--scan-open"));
}

#[test]
fn a_sleeping_disk_keeps_its_last_values_and_is_left_asleep() {
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst).scan(&[("/dev/sda", "sat")]);
    let v = f.start(&["--collector.smart.interval=300ms"]);
    let body = v.scrape_until(|b| b.contains("vigie_smart_reallocated_sectors{"));
    assert!(body.contains(
        "vigie_smart_device_standby{device=\"/dev/sda\",type=\"sat\",model=\"HGST HUS726060ALA640\""
    ));
    // The disk goes to sleep.
    f.behave("sda", "standby", "");
    let body = v.scrape_until(|b| value(b, "vigie_smart_device_standby{") == Some(1.0));
    assert_eq!(
        value(&body, "vigie_smart_reallocated_sectors{device=\"/dev/sda\""),
        Some(1040.0)
    );
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sda\""),
        Some(0.0)
    );
    // It wakes up.
    std::fs::remove_file(f.path("sda.standby")).unwrap();
    v.scrape_until(|b| value(b, "vigie_smart_device_standby{") == Some(0.0));
}

#[test]
fn a_hung_smartctl_is_killed_and_scrapes_stay_fast() {
    let (Some(a), Some(b)) = (
        capture("smartctl_exporter__ST3500418AS_12.json"),
        capture("smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json"),
    ) else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &a)
        .disk("sdb", &b)
        .behave("sdc", "hang", "")
        .behave("sdd", "garbage", "Segmentation fault\n{\"smartctl\": {")
        .scan(&[
            ("/dev/sda", "sat"),
            ("/dev/sdb", "sat"),
            ("/dev/sdc", "sat"),
            ("/dev/sdd", "sat"),
        ]);
    let v = f.start(&[
        "--collector.smart.timeout=1s",
        "--collector.smart.parallel=2",
    ]);
    // While sdc hangs, scrapes answer at once and carry the other disks.
    let t0 = Instant::now();
    let mut worst = Duration::ZERO;
    let mut body = String::new();
    while t0.elapsed() < Duration::from_millis(900) {
        let t = Instant::now();
        body = get(v.addr, "/metrics").body;
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(
        worst < Duration::from_millis(250),
        "slowest scrape {worst:?}"
    );
    assert_eq!(
        value(&body, "vigie_smart_reallocated_sectors{device=\"/dev/sda\""),
        Some(304.0),
        "{body}"
    );
    // After the timeout: sdc is an error, and the hung process is gone. The
    // round then ends (in success or not).
    let body = v.scrape_until(|b| {
        value(b, "vigie_smart_device_error{device=\"/dev/sdc\"") == Some(1.0)
            && first_round_ended(b, "smart")
    });
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sdd\""),
        Some(1.0)
    );
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sda\""),
        Some(0.0)
    );
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sdb\""),
        Some(0.0)
    );
    assert_eq!(
        value(&body, "vigie_collector_success{collector=\"smart\"}"),
        Some(1.0)
    );
    let pid = read_pid(&f.path("sdc.pid"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the hung smartctl (pid {pid}) is still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The log says why, once per device.
    let unreadable = |l: &str| l.contains("/dev/sdd") && l.contains("unreadable smartctl output");
    let mut log = v.wait_log(|l| l.contains("/dev/sdc") && l.contains("killed"));
    if !log.iter().any(|l| unreadable(l)) {
        log.extend(v.wait_log(unreadable));
    }
    assert!(
        log.iter()
            .any(|l| l.contains("/dev/sdd") && l.contains("unreadable smartctl output")),
        "{log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.contains("/dev/sdc") && l.contains("killed"))
            .count(),
        1,
        "{log:?}"
    );
}

#[test]
fn a_smartctl_still_running_when_vigie_stops_is_ended_with_it() {
    let f = FakeDisks::new();
    f.behave("sda", "hang", "").scan(&[("/dev/sda", "sat")]);
    let mut v = f.start(&["--collector.smart.timeout=1h"]);
    let pid = read_pid(&f.path("sda.pid"));
    assert!(alive(pid));
    stop_and_check_smartctl_ends(&mut v, pid);
}

#[test]
fn every_informational_exit_bit_is_exported() {
    let Some(disk) = capture("smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json") else {
        return;
    };
    let f = FakeDisks::new();
    // The same capture with exit status 252: bits 2 to 7 set.
    let json = std::fs::read_to_string(disk).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut v = v;
    v["smartctl"]["exit_status"] = serde_json::json!(252);
    std::fs::write(f.path("sda.json"), v.to_string()).unwrap();
    f.scan(&[("/dev/sda", "sat")]);
    let vg = f.start(&[]);
    let body = vg.scrape_until(|b| b.contains("vigie_smart_exit_status_bit{"));
    for (bit, meaning) in [
        (2, "command_failed"),
        (3, "disk_failing"),
        (4, "prefail_below_threshold"),
        (5, "below_threshold_in_past"),
        (6, "error_log"),
        (7, "self_test_log"),
    ] {
        assert!(
            body.contains(&format!(",bit=\"{bit}\",meaning=\"{meaning}\"}} 1\n")),
            "bit {bit}\n{body}"
        );
    }
    // Bits 0 and 1 mean no data: they are a device error, not a series.
    assert!(!body.contains("meaning=\"device_open\""));
}

#[test]
fn missing_smartctl_is_a_collector_error_that_says_what_to_do() {
    let v = Vigie::start(&[
        "--collector.disable-defaults",
        "--collector.smart",
        "--collector.smart.smartctl-path=/nonexistent/smartctl",
    ]);
    let body =
        v.scrape_until(|b| value(b, "vigie_collector_success{collector=\"smart\"}") == Some(0.0));
    assert_eq!(value(&body, "vigie_smart_devices"), Some(0.0));
    let log = v.wait_log(|l| l.contains("install smartmontools"));
    assert!(
        log.iter().any(|l| l.contains("install smartmontools")),
        "{log:?}"
    );
}

#[test]
fn real_smartctl_on_this_machine() {
    // Whatever disks this machine has (a VM's virtio disk has no SMART),
    // vigie must answer and say how many disks it reads.
    let Ok(out) = std::process::Command::new("smartctl")
        .arg("--version")
        .output()
    else {
        panic!("smartctl must be installed (scripts/test installs smartmontools)");
    };
    assert!(out.status.success());
    let v = Vigie::start(&["--collector.disable-defaults", "--collector.smart"]);
    // Once the first round has ended, in success or not.
    let body =
        v.scrape_until(|b| b.contains("vigie_smart_devices ") && first_round_ended(b, "smart"));
    assert_eq!(
        value(&body, "vigie_collector_success{collector=\"smart\"}"),
        Some(1.0),
        "{body}"
    );
    eprintln!(
        "real smartctl here: {} device(s); {}",
        value(&body, "vigie_smart_devices").unwrap(),
        body.lines()
            .filter(|l| l.starts_with("vigie_smart_device_error"))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

#[test]
fn disks_behind_one_raid_controller_are_told_apart() {
    // The fake answers by path, so both disks give the same capture; the
    // type label tells them apart.
    let Some(a) = capture("smartctl_exporter__ST3500418AS_11.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("0", &a)
        .scan(&[("/dev/bus/0", "megaraid,0"), ("/dev/bus/0", "megaraid,1")]);
    let v = f.start(&[]);
    let body = v.scrape_until(|b| b.matches("vigie_smart_device_info{").count() == 2);
    assert_eq!(value(&body, "vigie_smart_devices"), Some(2.0));
    assert!(
        body.contains("vigie_smart_device_info{device=\"/dev/bus/0\",type=\"megaraid,0\""),
        "{body}"
    );
    assert!(
        body.contains("vigie_smart_device_info{device=\"/dev/bus/0\",type=\"megaraid,1\""),
        "{body}"
    );
    let calls = f.calls();
    assert!(
        calls.contains("-d megaraid,0 /dev/bus/0") && calls.contains("-d megaraid,1 /dev/bus/0"),
        "{calls}"
    );
}

#[test]
fn a_disk_that_vanishes_is_flagged_not_forgotten() {
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst).scan(&[("/dev/sda", "sat")]);
    let v = f.start(&["--collector.smart.interval=300ms"]);
    v.scrape_until(|b| {
        value(b, "vigie_smart_reallocated_sectors{device=\"/dev/sda\"") == Some(1040.0)
    });
    // The disk dies: the scan no longer lists it.
    f.scan(&[]);
    let body =
        v.scrape_until(|b| value(b, "vigie_smart_device_error{device=\"/dev/sda\"") == Some(1.0));
    assert_eq!(
        value(&body, "vigie_smart_reallocated_sectors{device=\"/dev/sda\""),
        Some(1040.0)
    );
    assert_eq!(value(&body, "vigie_smart_devices"), Some(1.0));
    let log = v.wait_log(|l| l.contains("/dev/sda") && l.contains("no longer found"));
    assert!(
        log.iter()
            .any(|l| l.contains("/dev/sda") && l.contains("no longer found")),
        "{log:?}"
    );
}

/// True once the first refresh of collector `name` has ended, in success
/// or not.
pub fn first_round_ended(body: &str, name: &str) -> bool {
    self_metrics(body, name).0 == Some(1.0)
        || value(
            body,
            &format!("vigie_collector_errors_total{{collector=\"{name}\"}}"),
        )
        .is_some_and(|e| e > 0.0)
}

/// `vigie_collector_*{collector="NAME"}` of a scrape: (success, last
/// success timestamp, refresh interval).
pub fn self_metrics(body: &str, name: &str) -> (Option<f64>, Option<f64>, Option<f64>) {
    let l = format!("{{collector=\"{name}\"}}");
    (
        value(body, &format!("vigie_collector_success{l}")),
        value(
            body,
            &format!("vigie_collector_last_success_timestamp_seconds{l}"),
        ),
        value(
            body,
            &format!("vigie_collector_refresh_interval_seconds{l}"),
        ),
    )
}

#[test]
fn smart_self_metrics_report_the_real_interval_and_the_last_round() {
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst).scan(&[("/dev/sda", "sat")]);
    // The default interval: one round at start, the next in 5 minutes.
    let v = f.start(&[]);
    let body = v.scrape_until(|b| {
        b.contains("vigie_smart_device_info{") && self_metrics(b, "smart").1.unwrap_or(0.0) > 0.0
    });
    let (success, round, interval) = self_metrics(&body, "smart");
    assert_eq!(success, Some(1.0), "{body}");
    assert_eq!(interval, Some(300.0), "{body}");
    // The last success is the round's, which read the disk: not later than
    // the disk's own last read by more than the round's end.
    let disk = value(&body, "vigie_smart_last_success_timestamp_seconds{").unwrap();
    let round = round.unwrap();
    assert!(
        round >= disk && round - disk < 2.0,
        "round {round}, disk {disk}"
    );
    // Later scrapes do not move it: no round ran since.
    std::thread::sleep(Duration::from_millis(1200));
    let later = get(v.addr, "/metrics").body;
    assert_eq!(self_metrics(&later, "smart").1, Some(round), "{later}");
    assert_eq!(
        f.calls()
            .lines()
            .filter(|l| l.ends_with("/dev/sda"))
            .count(),
        1
    );
}

#[test]
fn a_stuck_smart_round_turns_the_collector_to_failure() {
    // The disk never answers and the per-run timeout is far away: the round
    // stops making progress. It must show as a failing collector within
    // one interval plus the round's timeout (which is the interval).
    let f = FakeDisks::new();
    f.behave("sda", "hang", "").scan(&[("/dev/sda", "sat")]);
    let interval = Duration::from_secs(2);
    let t0 = Instant::now();
    let mut v = f.start(&[
        "--collector.smart.interval=2s",
        "--collector.smart.timeout=1h",
    ]);
    let pid = read_pid(&f.path("sda.pid"));
    let body = v.scrape_until(|b| self_metrics(b, "smart").0 == Some(0.0));
    let took = t0.elapsed();
    assert!(
        took < interval * 2 + Duration::from_millis(1500),
        "success turned 0 after {took:?}"
    );
    assert_eq!(self_metrics(&body, "smart").2, Some(2.0), "{body}");
    let log = v.wait_log(|l| l.contains("collector smart") && l.contains("timed out"));
    assert!(
        log.iter()
            .any(|l| l.contains("collector smart") && l.contains("timed out")),
        "{log:?}"
    );
    // The stuck smartctl is ended when vigie stops.
    assert!(alive(pid));
    stop_and_check_smartctl_ends(&mut v, pid);
}

#[test]
fn a_wrapper_leaving_a_child_on_stdout_is_a_device_error_not_a_wedge() {
    // A wrapper script given as smartctl-path prints the disk's data, exits,
    // and leaves a background process holding stdout. The run must still
    // end within the timeout, as a device error; the next rounds read the
    // disks again.
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst)
        .disk("sdb", &hgst)
        .behave("sda", "wrapper", "")
        .scan(&[("/dev/sda", "sat"), ("/dev/sdb", "sat")]);
    let v = f.start(&[
        "--collector.smart.timeout=1s",
        "--collector.smart.interval=2s",
        "--collector.smart.parallel=1",
    ]);
    let body =
        v.scrape_until(|b| value(b, "vigie_smart_device_error{device=\"/dev/sda\"") == Some(1.0));
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sdb\""),
        Some(0.0),
        "{body}"
    );
    let log = v.wait_log(|l| l.contains("/dev/sda") && l.contains("still held"));
    assert!(
        log.iter()
            .any(|l| l.contains("/dev/sda") && l.contains("still held")),
        "{log:?}"
    );
    // The background child went with the run's process group.
    let pid = read_pid(&f.path("sda.pid"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the wrapper's child {pid} lives on"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Later rounds still read every disk.
    let deadline = Instant::now() + Duration::from_secs(15);
    while f
        .calls()
        .lines()
        .filter(|l| l.ends_with("/dev/sdb"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no second round: {}", f.calls());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_wrapper_leaving_a_child_on_scan_open_fails_the_round_not_the_collector_forever() {
    let f = FakeDisks::new();
    f.scan(&[("/dev/sda", "sat")]).behave("scan", "wrapper", "");
    let v = f.start(&[
        "--collector.smart.timeout=500ms",
        "--collector.smart.interval=2s",
    ]);
    v.scrape_until(|b| self_metrics(b, "smart").0 == Some(0.0) && first_round_ended(b, "smart"));
    let log = v.wait_log(|l| l.contains("--scan-open") && l.contains("still held"));
    assert!(
        log.iter()
            .any(|l| l.contains("--scan-open") && l.contains("still held")),
        "{log:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while f
        .calls()
        .lines()
        .filter(|l| l.contains("--scan-open"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no second scan: {}", f.calls());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn output_beyond_the_cap_is_a_device_error() {
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sdb", &hgst)
        .behave("sda", "flood", "6\n")
        .scan(&[("/dev/sda", "sat"), ("/dev/sdb", "sat")]);
    let v = f.start(&["--collector.smart.timeout=10s"]);
    let body = v.scrape_until(|b| {
        value(b, "vigie_smart_device_error{device=\"/dev/sda\"") == Some(1.0)
            && value(b, "vigie_smart_device_error{device=\"/dev/sdb\"") == Some(0.0)
    });
    assert_eq!(value(&body, "vigie_smart_devices"), Some(2.0));
    let log = v.wait_log(|l| l.contains("/dev/sda") && l.contains("more than"));
    assert!(
        log.iter()
            .any(|l| l.contains("/dev/sda") && l.contains("more than")),
        "{log:?}"
    );
}

#[test]
fn values_out_of_physical_range_are_dropped_and_counted() {
    let Some(disk) = capture("smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json") else {
        return;
    };
    let f = FakeDisks::new();
    let json = std::fs::read_to_string(disk).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["temperature"]["current"] = serde_json::json!(30000);
    v["power_on_time"]["hours"] = serde_json::json!(1_000_000_000_000u64);
    std::fs::write(f.path("sda.json"), v.to_string()).unwrap();
    f.scan(&[("/dev/sda", "sat")]);
    let vg = f.start(&[]);
    let body = vg.scrape_until(|b| b.contains("vigie_smart_device_info{"));
    assert_eq!(
        value(&body, "vigie_smart_out_of_range_values{device=\"/dev/sda\""),
        Some(2.0),
        "{body}"
    );
    assert!(!body.contains("vigie_smart_temperature_celsius{"), "{body}");
    assert!(!body.contains("vigie_smart_power_on_seconds{"), "{body}");
    assert_eq!(
        value(&body, "vigie_smart_device_error{device=\"/dev/sda\""),
        Some(0.0)
    );
    let log = vg.wait_log(|l| l.contains("/dev/sda") && l.contains("out of range"));
    assert!(
        log.iter()
            .any(|l| l.contains("/dev/sda") && l.contains("out of range")),
        "{log:?}"
    );
}

/// `--collector.smart.attributes=named` drops the attribute table and keeps
/// every named pre-fail counter the alerts read, with the same values.
#[test]
fn named_attributes_keep_the_prefail_counters_and_drop_the_table() {
    let Some(hgst) = capture("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    let f = FakeDisks::new();
    f.disk("sda", &hgst).scan(&[("/dev/sda", "sat")]);
    let series = |body: &str| -> Vec<String> {
        body.lines()
            .filter(|l| l.starts_with("vigie_smart_") && l.contains("device=\"/dev/sda\""))
            .map(str::to_string)
            .collect()
    };
    let all = series(
        &f.start(&[])
            .scrape_until(|b| b.contains("vigie_smart_device_info{")),
    );
    let named = series(
        &f.start(&["--collector.smart.attributes=named"])
            .scrape_until(|b| b.contains("vigie_smart_device_info{")),
    );
    let table = |l: &&String| l.starts_with("vigie_smart_attribute_");
    assert!(all.iter().filter(table).count() > 40, "{all:#?}");
    assert_eq!(named.iter().filter(table).count(), 0, "{named:#?}");
    // Everything else is the same series with the same values (run
    // durations and timestamps aside).
    let rest = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|l| !table(l))
            .filter(|l| !l.starts_with("vigie_smart_run_duration_seconds"))
            .filter(|l| !l.starts_with("vigie_smart_last_success_timestamp_seconds"))
            .cloned()
            .collect()
    };
    assert_eq!(rest(&all), rest(&named));
    assert!(
        named
            .iter()
            .any(|l| l.starts_with("vigie_smart_reallocated_sectors{") && l.ends_with(" 1040"))
    );
    println!(
        "series for one ATA disk (HGST HUS726060ALA640): attributes=all {}, attributes=named {}",
        all.len(),
        named.len()
    );
}
