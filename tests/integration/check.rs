//! `vigie check`: the real binary on fixture trees (one test per signal
//! family and level, `--only`, exit codes), a hung smartctl and a dead
//! resolver, the `--state` forecast over several runs on a tmpfs the test
//! fills, the Monitoring Plugins' `check_disk` as a peer on the same tmpfs
//! filesystems, a strict parser of the guidelines' perfdata grammar, the
//! evaluator against promtool on the same samples, and snapshots of the
//! table (English, French) and of the JSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vigie::check::eval::{Data, Labels, Sample, eval};
use vigie::check::{Level, evaluate, output};
use vigie::generate::alerts::ALERTS;
use vigie::promql::signals;
use vigie::thresholds::Thresholds;

use crate::common::{Tmpfs, copy_tree, fixture};

const DAY: f64 = 86400.0;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

fn vigie_check(args: &[&str], env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("check")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// A copy of the fixture host, and the flags that point vigie at it.
fn host() -> (tempfile::TempDir, Vec<String>) {
    let dir = copy_tree(&fixture("host"));
    let p = |s: &str| dir.path().join(s).to_string_lossy().into_owned();
    let args = vec![
        format!("--path.procfs={}", p("proc")),
        format!("--path.sysfs={}", p("sys")),
        format!("--path.rootfs={}", p("root")),
        "--instance=fixture".to_string(),
    ];
    (dir, args)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Rows of a JSON report as (signal, where, level).
fn rows(j: &serde_json::Value) -> Vec<(String, String, String)> {
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["signal"].as_str().unwrap().to_string(),
                r["where"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn level_of(j: &serde_json::Value, signal: &str, at: &str) -> String {
    rows(j)
        .into_iter()
        .find(|(s, w, _)| s == signal && w == at)
        .unwrap_or_else(|| panic!("no row {signal} at {at:?}: {j:#}"))
        .2
}

fn code_of(level: &str) -> i32 {
    match level {
        "OK" => 0,
        "WARNING" => 1,
        "CRITICAL" => 2,
        _ => 3,
    }
}

fn set_line(path: &Path, prefix: &str, line: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(prefix) {
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

#[test]
fn check_swap_one_test_per_level() {
    // SwapTotal is 2097148 kB in the fixture.
    for (free_kb, level) in [(1048574, "OK"), (314572, "WARNING"), (10236, "CRITICAL")] {
        let (dir, mut args) = host();
        set_line(
            &dir.path().join("proc/meminfo"),
            "SwapFree:",
            &format!("SwapFree:       {free_kb} kB"),
        );
        args.extend(["--only=swap".into(), "--format=json".into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = vigie_check(&a, &[]);
        let j = r.json();
        assert_eq!(level_of(&j, "swap.used_percent", ""), level, "{j:#}");
        assert_eq!(r.code, code_of(level), "{}", r.stdout);
        assert_eq!(j["exit_code"], code_of(level));
        assert!(
            rows(&j).iter().all(|(s, _, _)| s.starts_with("swap.")),
            "--only swap: {j:#}"
        );
    }
}

#[test]
fn check_reboot_one_test_per_level() {
    for (days, level) in [(10.0, "OK"), (100.0, "WARNING"), (200.0, "CRITICAL")] {
        let (dir, mut args) = host();
        set_line(
            &dir.path().join("proc/stat"),
            "btime",
            &format!("btime {}", (now() - days * DAY) as u64),
        );
        // Reboot required for 10 days: a warning of its own.
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("root/run/reboot-required"))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(10 * 86400))
            .unwrap();
        args.extend(["--only=reboot".into(), "--format=json".into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = vigie_check(&a, &[]);
        let j = r.json();
        assert_eq!(level_of(&j, "reboot.days_since", ""), level, "{j:#}");
        assert_eq!(level_of(&j, "reboot.required_days", ""), "WARNING");
        let worst = if level == "CRITICAL" { 2 } else { 1 };
        assert_eq!(r.code, worst);
    }
}

#[test]
fn check_filesystems_roles_readonly_and_only() {
    let (_dir, mut args) = host();
    args.extend([
        "--collector.filesystem.watch-path=/var/lib/etcd=control-plane".into(),
        "--only=filesystem".into(),
        "--format=json".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = vigie_check(&a, &[]);
    let j = r.json();
    // /data's superblock is read-only under a rw mount in the fixture (read-only
    // against its mount options): critical.
    assert_eq!(level_of(&j, "filesystem.readonly", "/data"), "CRITICAL");
    assert_eq!(level_of(&j, "filesystem.readonly", "/"), "OK");
    assert_eq!(r.code, 2);
    // /var/lib/etcd is a symlink to /data/etcd: /data has the role's rows
    // instead of the default ones.
    let role_rows: Vec<_> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "control-plane")
        .collect();
    assert!(!role_rows.is_empty(), "{j:#}");
    assert!(
        role_rows
            .iter()
            .all(|r| r["where"] == "/var/lib/etcd (/data)")
    );
    assert!(
        role_rows
            .iter()
            .any(|r| r["alert"] == "VigieControlPlaneFilesystemAlmostFull" && r["warning"] == 30.0)
    );
    assert!(
        !rows(&j)
            .iter()
            .any(|(s, w, _)| s == "filesystem.free_percent" && w == "/data"),
        "the default row of a role's filesystem is replaced"
    );
    assert!(
        rows(&j)
            .iter()
            .all(|(s, _, _)| s.starts_with("filesystem."))
    );
    // Without history the forecast says so and stays OK.
    let forecast = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["signal"] == "filesystem.full_in" && r["where"] == "/")
        .unwrap();
    assert_eq!(forecast["level"], "OK");
    assert!(forecast["note"].as_str().unwrap().contains("--state"));

    // A free space level every filesystem of the fixture host fails.
    let t = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        t.path(),
        "filesystems:\n  free_percent: {warning: 100, critical: 0}\n  readonly: {enabled: false}\n",
    )
    .unwrap();
    let (_dir, mut args) = host();
    args.extend([
        format!("--thresholds={}", t.path().display()),
        "--only=filesystem".into(),
        "--format=json".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = vigie_check(&a, &[]);
    assert_eq!(
        level_of(&r.json(), "filesystem.free_percent", "/"),
        "WARNING"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn check_smart_levels_and_a_hung_smartctl_gives_unknown_without_hanging() {
    let (_dir, mut args) = host();
    let disks = copy_tree(&fixture("smartctl"));
    args.extend([
        concat!(
            "--collector.smart.smartctl-path=",
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fake-smartctl"
        )
        .to_string(),
        "--only=smart".into(),
        "--format=json".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("FAKE_SMARTCTL_DIR", disks.path().to_str().unwrap())];
    let r = vigie_check(&a, &env);
    let j = r.json();
    assert_eq!(level_of(&j, "smart.failing", "VTS0001"), "OK");
    assert_eq!(
        level_of(&j, "smart.reallocated_sectors", "VT4000A1"),
        "WARNING"
    );
    assert_eq!(
        level_of(&j, "smart.nvme_media_errors", "VTN0001"),
        "CRITICAL"
    );
    assert_eq!(r.code, 2);

    // Every disk's smartctl hangs: the check ends after its timeout with
    // UNKNOWN, and the smartctl processes are ended.
    for d in ["sda", "sdb", "nvme0"] {
        std::fs::write(disks.path().join(format!("{d}.hang")), "").unwrap();
    }
    let mut a = a.clone();
    a.push("--collector.smart.timeout=2s");
    let r = vigie_check(&a, &env);
    assert!(r.took < Duration::from_secs(15), "took {:?}", r.took);
    let j = r.json();
    assert_eq!(r.code, 3, "{j:#}");
    // With no data, a disk is named by its device.
    for dev in ["/dev/sda", "/dev/sdb", "/dev/nvme0"] {
        assert_eq!(level_of(&j, "smart.not_reporting", dev), "UNKNOWN", "{j:#}");
    }
    std::thread::sleep(Duration::from_millis(300));
    for d in ["sda", "sdb", "nvme0"] {
        if let Ok(pid) = std::fs::read_to_string(disks.path().join(format!("{d}.pid"))) {
            let alive = Path::new(&format!("/proc/{}", pid.trim())).exists()
                && !std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                    .unwrap_or_default()
                    .contains(") Z ");
            assert!(!alive, "smartctl for {d} is still running");
        }
    }
}

#[test]
fn check_dns_dead_resolver_is_critical_at_once() {
    // The fixture's only resolver is a closed loopback port.
    let (_dir, mut args) = host();
    args.extend(["--only=dns".into(), "--format=nagios".into()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = vigie_check(&a, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("VIGIE CRITICAL - CRITICAL dns.all_resolvers_failing"),
        "{}",
        r.stdout
    );
    parse_perfdata_line(&r.stdout).unwrap();
    assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
}

#[test]
fn check_usage_errors_and_a_bad_thresholds_file_are_unknown() {
    let r = vigie_check(&["--only=disks"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let r = vigie_check(&["--no-such-flag"], &[]);
    assert_eq!(r.code, 3);
    let t = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(t.path(), "swap: {used_percent: {warning: 140}}\n").unwrap();
    let r = vigie_check(
        &[
            &format!("--thresholds={}", t.path().display()),
            "--format=nagios",
        ],
        &[],
    );
    assert_eq!(r.code, 3);
    assert!(r.stdout.starts_with("VIGIE UNKNOWN - "), "{}", r.stdout);
    assert!(r.stderr.contains(":1:"), "file, line: {}", r.stderr);
}

#[test]
fn check_args_from_an_environment_file() {
    let (dir, args) = host();
    let env = dir.path().join("default-vigie");
    std::fs::write(
        &env,
        "# /etc/default/vigie\nVIGIE_ARGS=\"--web.listen-address=:9999 --collector.filesystem.watch-path=/var/lib/etcd=control-plane\"\n",
    )
    .unwrap();
    let mut a: Vec<String> = args;
    a.extend([
        format!("--args-from={}", env.display()),
        "--only=filesystem".into(),
        "--format=json".into(),
    ]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let j = vigie_check(&a, &[]).json();
    assert!(
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "control-plane"),
        "{j:#}"
    );
}

// ---- Real filesystems: the forecast and check_disk ---------------------------

fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI runs as root: this test must run"
    );
    eprintln!("NOTICE: not root, cannot mount tmpfs; skipping");
    false
}

fn regex_of(paths: &[&Path]) -> String {
    let alts: Vec<String> = paths
        .iter()
        .map(|p| vigie::promql::regex_literal(&p.to_string_lossy()))
        .collect();
    format!("^({})$", alts.join("|"))
}

#[test]
fn check_state_forecast_over_several_runs() {
    if !is_root() {
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-check-")
        .tempdir()
        .unwrap();
    let fs = Tmpfs::mount(base.path().join("filling"), "16m");
    let state = base.path().join("state.json");
    let t = base.path().join("t.yaml");
    std::fs::write(
        &t,
        "filesystems:\n  free_percent: {enabled: false}\n  inodes_free_percent: {enabled: false}\n  readonly: {enabled: false}\n",
    )
    .unwrap();
    let args = [
        format!("--thresholds={}", t.display()),
        format!("--state={}", state.display()),
        format!(
            "--collector.filesystem.mount-points-include={}",
            regex_of(&[&fs.0])
        ),
        "--only=filesystem".into(),
        "--format=json".into(),
    ];
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let at = fs.0.to_string_lossy().into_owned();
    let forecast = |j: &serde_json::Value| -> serde_json::Value {
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["signal"] == "filesystem.full_in" && r["where"] == at.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{j:#}"))
    };
    // First run: no history yet, OK.
    let r = vigie_check(&a, &[]);
    let f = forecast(&r.json());
    assert_eq!(f["level"], "OK");
    assert!(f["value"].is_null());
    assert_eq!(r.code, 0);
    // The forecast reads days of history (the day's low over the fall of
    // the day's high over `full_in_window`): give the state file four days
    // of a disk losing its current free space every 12 hours, one point
    // per 30 minutes, as cron runs would have left it.
    let seed = |falling: bool| {
        let mut s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        let series = s["series"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|x| {
                x["labels"]["mountpoint"] == at.as_str()
                    && x["labels"]["__name__"] == "vigie_filesystem_avail_bytes"
            })
            .unwrap_or_else(|| panic!("no free-bytes history kept for {at}"));
        let last = series["points"].as_array().unwrap().last().unwrap().clone();
        let (now, avail) = (last[0].as_f64().unwrap(), last[1].as_f64().unwrap());
        let points: Vec<serde_json::Value> = (1..=192)
            .rev()
            .map(|k| {
                let ago = k as f64 * 1800.0;
                let v = if falling {
                    avail * (1.0 + ago / 43200.0)
                } else {
                    avail
                };
                serde_json::json!([now - ago, v])
            })
            .chain([last])
            .collect();
        series["points"] = serde_json::Value::Array(points);
        std::fs::write(&state, serde_json::to_string(&s).unwrap()).unwrap();
    };
    seed(true);
    let r = vigie_check(&a, &[]);
    let f = forecast(&r.json());
    let days = f["value"].as_f64().unwrap_or_else(|| panic!("{f:#}"));
    assert!((0.3..0.7).contains(&days), "{days}");
    assert_eq!(f["level"], "CRITICAL");
    assert_eq!(r.code, 2);
    // The run kept that history and added its own point, all within the
    // horizon the expressions read (three days plus a day).
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let points = s["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["labels"]["mountpoint"] == at.as_str()
                && x["labels"]["__name__"] == "vigie_filesystem_avail_bytes"
        })
        .unwrap()["points"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(points, 194);
    // A disk that stays level: no forecast, OK.
    seed(false);
    let r = vigie_check(&a, &[]);
    let f = forecast(&r.json());
    assert!(f["value"].is_null() && f["level"] == "OK", "{f:#}");
    assert_eq!(r.code, 0);
    drop(fs);
}

/// `check_disk` and `vigie check` on the same tmpfs filesystems with the
/// same percentages: the same verdict and exit code, each filesystem
/// alone and all together.
#[test]
fn check_disk_is_a_peer() {
    if !is_root() {
        return;
    }
    let check_disk = Path::new("/usr/lib/nagios/plugins/check_disk");
    if !check_disk.exists() {
        crate::common::absent(
            check_disk,
            "scripts/test installs monitoring-plugins-basic",
            "install monitoring-plugins-basic",
        );
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-check-disk-")
        .tempdir()
        .unwrap();
    // 10 MiB each; fill to 50%, 90% and 98% used.
    let fss: Vec<(Tmpfs, &str)> = [
        ("half", 5usize, "OK"),
        ("tight", 9, "WARNING"),
        ("full", 9, "CRITICAL"),
    ]
    .into_iter()
    .map(|(name, mib, level)| {
        let fs = Tmpfs::mount(base.path().join(name), "10m");
        let mut bytes = mib << 20;
        if level == "CRITICAL" {
            bytes += 820 << 10;
        }
        std::fs::write(fs.0.join("fill"), vec![0x5au8; bytes]).unwrap();
        (fs, level)
    })
    .collect();
    let t = base.path().join("t.yaml");
    std::fs::write(
        &t,
        "filesystems:\n  free_percent: {warning: 15, critical: 5}\n  inodes_free_percent: {enabled: false}\n  full_in: {enabled: false}\n  readonly: {enabled: false}\n",
    )
    .unwrap();
    let run_both = |paths: &[&Path]| {
        let args = [
            format!("--thresholds={}", t.display()),
            format!(
                "--collector.filesystem.mount-points-include={}",
                regex_of(paths)
            ),
            "--only=filesystem".into(),
            "--format=nagios".into(),
        ];
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = vigie_check(&a, &[]);
        let mut cmd = Command::new(check_disk);
        cmd.args(["-w", "15%", "-c", "5%"]);
        for p in paths {
            cmd.arg("-p").arg(p);
        }
        let out = cmd.output().unwrap();
        let peer = String::from_utf8_lossy(&out.stdout).into_owned();
        (v, out.status.code().unwrap(), peer)
    };
    let verdict = |line: &str, prefix: &str| -> String {
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line}"))
            .split([' ', ':'])
            .next()
            .unwrap()
            .to_string()
    };
    for (fs, level) in &fss {
        let (v, code, peer) = run_both(&[&fs.0]);
        assert_eq!(
            v.code,
            code,
            "{}: vigie {} / check_disk {}",
            fs.0.display(),
            v.stdout,
            peer
        );
        assert_eq!(v.code, code_of(level));
        assert_eq!(verdict(&v.stdout, "VIGIE "), *level);
        assert_eq!(verdict(&peer, "DISK "), *level, "{peer}");
        parse_perfdata_line(&v.stdout).unwrap();
        parse_perfdata_line(&peer).unwrap();
    }
    let all: Vec<&Path> = fss.iter().map(|(f, _)| f.0.as_path()).collect();
    let (v, code, peer) = run_both(&all);
    assert_eq!((v.code, code), (2, 2), "{} / {peer}", v.stdout);
    assert_eq!(parse_perfdata_line(&v.stdout).unwrap().len(), 3);
    drop(fss);
}

// ---- The guidelines' perfdata grammar ----------------------------------------

/// One performance data item.
#[derive(Debug, PartialEq)]
struct Perf {
    label: String,
    value: String,
    uom: String,
}

/// Parses the part after `|` of a plugin's first line, strictly by the
/// Monitoring Plugins development guidelines:
/// `'label'=value[UOM];[warn];[crit];[min];[max]`, space-separated; a label
/// quoted when it holds spaces or `=` or `'`, with `''` for a quote; value
/// `[-0-9.]` or `U`; UOM one of none, s ms us %, B KB MB TB, c; warn and
/// crit in the range format `[@][start:][end]` (start may be `~`); min and
/// max plain numbers.
fn parse_perfdata_line(output: &str) -> Result<Vec<Perf>, String> {
    let first = output.lines().next().ok_or("no output")?;
    let Some((_, perf)) = first.split_once('|') else {
        return Ok(Vec::new());
    };
    let mut items = Vec::new();
    let mut rest = perf.trim();
    let num = |s: &str| -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && s.parse::<f64>().is_ok()
    };
    let range = |s: &str| -> bool {
        if s.is_empty() {
            return true;
        }
        let s = s.strip_prefix('@').unwrap_or(s);
        match s.split_once(':') {
            Some((a, b)) => (a == "~" || a.is_empty() || num(a)) && (b.is_empty() || num(b)),
            None => num(s),
        }
    };
    while !rest.is_empty() {
        let (label, after) = if let Some(q) = rest.strip_prefix('\'') {
            let mut label = String::new();
            let mut chars = q.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '\'')) => {
                        if q[i + 1..].starts_with('\'') {
                            label.push('\'');
                            chars.next();
                        } else {
                            break i + 1;
                        }
                    }
                    Some((_, c)) => label.push(c),
                    None => return Err(format!("unclosed quote in {rest:?}")),
                }
            };
            (label, &q[end..])
        } else {
            let end = rest.find('=').ok_or(format!("no = in {rest:?}"))?;
            let label = &rest[..end];
            if label.contains([' ', '\'']) {
                return Err(format!("label {label:?} must be quoted"));
            }
            (label.to_string(), &rest[end..])
        };
        if label.is_empty() {
            return Err("empty label".into());
        }
        let after = after
            .strip_prefix('=')
            .ok_or(format!("no = after {label:?}"))?;
        let end = after.find(' ').unwrap_or(after.len());
        let fields: Vec<&str> = after[..end].split(';').collect();
        rest = after[end..].trim_start();
        if fields.len() > 5 {
            return Err(format!("{label}: more than 5 fields"));
        }
        let v = fields[0];
        let split = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(v.len());
        let (value, uom) = v.split_at(split);
        if !(value.is_empty() && uom == "U" || num(value)) {
            return Err(format!("{label}: bad value {v:?}"));
        }
        let uom = if value.is_empty() { "" } else { uom };
        if !["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom) {
            return Err(format!("{label}: bad unit {uom:?}"));
        }
        for (i, f) in fields.iter().enumerate().skip(1) {
            let ok = if i <= 2 {
                range(f)
            } else {
                f.is_empty() || num(f)
            };
            if !ok {
                return Err(format!("{label}: bad field {i} {f:?}"));
            }
        }
        items.push(Perf {
            label,
            value: value.to_string(),
            uom: uom.to_string(),
        });
    }
    Ok(items)
}

#[test]
fn check_perfdata_parser_is_strict() {
    let good = "X OK - fine | a=1;2;3;0;100 'b c'=2.5%;15:;@5:;0;100 'it''s'=U;;;; d=-1s e=3c";
    let p = parse_perfdata_line(good).unwrap();
    assert_eq!(p.len(), 5);
    assert_eq!(p[1].label, "b c");
    assert_eq!(p[2].label, "it's");
    assert_eq!(p[1].uom, "%");
    for bad in [
        "X | b c=1",
        "X | a=1x",
        "X | a=1;2;3;4;5;6",
        "X | a=1;abc",
        "X | 'a=1",
        "X | a=1e5",
        "X | a=1;;;x",
        "X | =1",
    ] {
        assert!(parse_perfdata_line(bad).is_err(), "{bad}");
    }
}

// ---- In process: a synthetic host, its snapshots, and promtool -----------------

const NOW: f64 = 1_790_000_000.0;

fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
    let mut l: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("__name__".into(), name.into());
    l.insert("instance".into(), "host1:7361".into());
    Sample { labels: l, value }
}

/// A host with something at every level: `/` holds etcd's data at 25%
/// free (a control-plane warning), `/srv` filling fast at 4% free,
/// `/backup` near full under an override, swap at 85%, a boot 100 days
/// ago, a disk with reallocated sectors, one resolver of two failing.
/// History: one point a minute for the last 30 minutes.
fn synthetic() -> Data {
    synthetic_at(NOW)
}

/// [`synthetic`] evaluated at `now` (every timestamp relative to it).
fn synthetic_at(now: f64) -> Data {
    use signals::metric::*;
    let mut d = Data {
        now,
        ..Data::default()
    };
    let fs = |m: &str, dev: &str| {
        vec![
            ("mountpoint", m.to_string()),
            ("device", dev.to_string()),
            ("fstype", "ext4".to_string()),
        ]
    };
    let mut add = |name: &str, labels: &[(&str, String)], value: f64, per_min: Option<f64>| {
        let l: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let s = sample(name, &l, value);
        if let Some(step) = per_min {
            let pts = (1..=30)
                .rev()
                .map(|i| (now - 60.0 * i as f64, value - step * i as f64))
                .collect();
            d.history.insert(s.labels.clone(), pts);
        }
        d.current.push(s);
    };
    for (m, dev, size, avail, step) in [
        ("/", "/dev/sda1", 4_000_000.0, 1_000_000.0, Some(0.0)),
        ("/srv", "/dev/sdb1", 10_000_000.0, 400_000.0, Some(-6000.0)),
        ("/backup", "/dev/sdc1", 1_000_000.0, 20_000.0, None),
    ] {
        let l = fs(m, dev);
        add(FS_SIZE, &l, size, None);
        add(FS_AVAIL, &l, avail, step);
        add(FS_FILES, &l, 1000.0, None);
        add(FS_FILES_FREE, &l, 900.0, None);
        add(FS_READONLY, &l, 0.0, None);
    }
    let mut info = fs("/", "/dev/sda1");
    info.extend([
        ("path", "/var/lib/etcd".to_string()),
        ("role", "control-plane".to_string()),
    ]);
    add(PATH_INFO, &info, 1.0, None);
    add(SWAP_SIZE, &[], 1000.0, None);
    add(SWAP_FREE, &[], 150.0, None);
    add(SWAP_IN, &[], 18000.0, Some(60.0));
    add(BOOT_TIME, &[], now - 100.0 * DAY, None);
    add(REBOOT_REQUIRED_SINCE, &[], now - 3.0 * DAY, None);
    let disk = |dev: &str, ty: &str, model: &str, serial: &str| {
        vec![
            ("device", dev.to_string()),
            ("type", ty.to_string()),
            ("model", model.to_string()),
            ("serial", serial.to_string()),
            ("wwn", String::new()),
        ]
    };
    let sda = disk("/dev/sda", "sat", "HDD 4TB", "S4A1");
    add(SMART_HEALTHY, &sda, 1.0, None);
    add(SMART_REALLOCATED, &sda, 3.0, Some(0.0));
    // Pending sectors grew by one a minute: a growing counter.
    add(SMART_PENDING, &sda, 30.0, Some(1.0));
    add(SMART_TEMPERATURE, &sda, 38.0, None);
    add(SMART_DEVICE_ERROR, &sda, 0.0, None);
    let nvme = disk("/dev/nvme0", "nvme", "NVME 1TB", "N1");
    add(SMART_HEALTHY, &nvme, 1.0, None);
    add(NVME_MEDIA_ERRORS, &nvme, 0.0, Some(0.0));
    add(NVME_WEAR, &nvme, 0.5, None);
    add(NVME_SPARE, &nvme, 1.0, None);
    add(NVME_SPARE_THRESHOLD, &nvme, 0.1, None);
    add(NVME_CRITICAL_WARNING, &nvme, 0.0, None);
    add(SMART_DEVICE_ERROR, &nvme, 0.0, None);
    add(DNS_RESOLVERS, &[], 2.0, None);
    add(DNS_RESOLVERS_FAILING, &[], 1.0, None);
    for (r, ok, secs) in [("10.0.0.53", 1.0, 0.02), ("10.0.0.54", 0.0, 2.0)] {
        let l = vec![
            ("resolver", r.to_string()),
            ("source", "resolv.conf".to_string()),
            ("query", "example.com".to_string()),
            ("type", "A".to_string()),
        ];
        // 30 minutes of probes alike: the per-resolver warning reads them
        // over its `for:` and at the probe before (an instant offset).
        add(DNS_SUCCESS, &l, ok, Some(0.0));
        add(DNS_DURATION, &l, secs, None);
    }
    d
}

fn thresholds(lang: &str) -> Thresholds {
    let text = format!(
        "language: {lang}\nselector: 'job=~\"vigie|node\"'\n\
         overrides:\n\
         - match: {{instance: 'host1:7361', mountpoint: /backup}}\n  reason: backup volume sits near full\n  filesystems: {{free_percent: {{warning: 3, critical: 1}}}}\n\
         - match: {{job: node}}\n  reason: the job label, which the selector does not fix\n  swap: {{used_percent: {{warning: 90, critical: 99}}}}\n\
         filesystems:\n  roles:\n    control-plane: {{}}\n"
    );
    Thresholds::parse(&text, Path::new("t.yaml"), 20_000).unwrap()
}

fn synthetic_report(lang: &str) -> vigie::check::Report {
    let t = thresholds(lang);
    let sections = vigie::check::SECTIONS;
    let r = evaluate(&t, &synthetic(), sections, "host1:7361", true).unwrap();
    // As `run` does: the overall status.
    let mut r = r;
    r.status = r
        .rows
        .iter()
        .map(|x| x.level)
        .max_by_key(|l| match l {
            Level::Ok => 0,
            Level::Unknown => 1,
            Level::Warning => 2,
            Level::Critical => 3,
        })
        .unwrap();
    r
}

#[test]
fn check_snapshots_of_the_table_and_json() {
    let en = synthetic_report("en");
    insta::assert_snapshot!("check_table_en", output::table(&en, false));
    insta::assert_snapshot!(
        "check_table_fr",
        output::table(&synthetic_report("fr"), false)
    );
    insta::assert_snapshot!("check_json", output::json(&en));
    insta::assert_snapshot!("check_nagios", output::nagios(&en));
    parse_perfdata_line(&output::nagios(&en)).unwrap();
    let levels: BTreeMap<(String, String), Level> = en
        .rows
        .iter()
        .map(|r| ((r.alert.clone(), r.where_.clone()), r.level))
        .collect();
    let at = |a: &str, w: &str| levels[&(a.to_string(), w.to_string())];
    assert_eq!(
        at("VigieControlPlaneFilesystemAlmostFull", "/var/lib/etcd (/)"),
        Level::Warning
    );
    assert_eq!(at("VigieFilesystemAlmostFull", "/srv"), Level::Critical);
    assert_eq!(
        at("VigieFilesystemAlmostFull", "/backup"),
        Level::Warning,
        "override"
    );
    // The forecast reads days of history (the day's low over the fall of
    // the day's high over three days); this host has 30 minutes of it, so
    // no forecast yet (check_state_forecast_over_several_runs has one).
    assert_eq!(at("VigieFilesystemFillingUp", "/srv"), Level::Ok);
    assert_eq!(at("VigieSwapAlmostFull", ""), Level::Warning);
    assert_eq!(
        at("VigieDnsResolverFailing", "10.0.0.54 example.com/A"),
        Level::Warning
    );
    assert_eq!(en.overrides_not_applicable.len(), 1);
    // With colour, levels are painted; without, no escape at all.
    assert!(output::table(&en, true).contains("\x1b[1;31mCRITICAL\x1b[0m"));
    assert!(!output::table(&en, false).contains('\x1b'));
}

/// Every value expression of the rules (with the role variants), evaluated
/// by vigie's evaluator and by promtool on the same samples: the same
/// series and values.
#[test]
fn check_evaluator_agrees_with_promtool() {
    // promtool's evaluation starts at the epoch: "now" is 30m.
    const AT: f64 = 1800.0;
    let d = synthetic_at(AT);
    let t = thresholds("en");
    // As the check evaluates them: without the fleet's selector.
    let scope = vigie::promql::Scope {
        sel: vigie::promql::Selector::default(),
        ..t.scope()
    };
    let roles: Vec<&str> = t.roles.keys().map(String::as_str).collect();
    let mut exprs: Vec<String> = Vec::new();
    for spec in ALERTS {
        let v = (spec.value)(&scope);
        exprs.push(v.to_string());
        if spec.sig().by_role {
            exprs.push(signals::outside_roles(v.clone(), &scope, &roles).to_string());
            exprs.push(signals::in_role(v, &scope, "control-plane").to_string());
        }
    }
    // The range functions' raw values too (the signals compare some of
    // them with 0 only).
    for raw in [
        "delta(vigie_smart_pending_sectors{}[1d])",
        "delta(vigie_smart_pending_sectors{}[10m])",
        "deriv(vigie_filesystem_avail_bytes{}[6h])",
        "deriv(vigie_filesystem_avail_bytes{}[7m])",
        "rate(vigie_swap_in_bytes_total{}[5m])",
        "rate(vigie_swap_in_bytes_total{}[1h])",
        "vigie_dns_probe_success{} offset 5m",
        "vigie_dns_probe_success{} offset 29m30s",
        "vigie_dns_probe_success{} offset 40m",
    ] {
        exprs.push(raw.to_string());
    }
    exprs.sort();
    exprs.dedup();
    // Input series: one point a minute, the current value at 30m.
    let mut input = String::new();
    for s in &d.current {
        let mut vals: Vec<String> = vec!["_".into(); 31];
        if let Some(h) = d.history.get(&s.labels) {
            for (ts, v) in h {
                vals[30 - ((AT - ts) / 60.0).round() as usize] = format!("{v}");
            }
        }
        vals[30] = format!("{}", s.value);
        input.push_str(&format!(
            "      - series: '{}'\n        values: '{}'\n",
            series_text(&s.labels),
            vals.join(" ")
        ));
    }
    let mut tests = String::new();
    let mut checked = 0;
    for e in &exprs {
        let got = eval(e, &d).unwrap_or_else(|err| panic!("{e}: {err}"));
        if got.iter().any(|s| !s.value.is_finite()) {
            continue;
        }
        checked += 1;
        tests.push_str(&format!(
            "      - expr: '{}'\n        eval_time: 30m\n        exp_samples:\n",
            e.replace('\'', "''")
        ));
        for s in &got {
            tests.push_str(&format!(
                "          - labels: '{}'\n            value: {}\n",
                series_text(&s.labels).replace('\'', "''"),
                s.value
            ));
        }
        if got.is_empty() {
            tests.push_str("          []\n");
            tests = tests.replace("exp_samples:\n          []\n", "exp_samples: []\n");
        }
    }
    assert!(checked >= 20, "{checked}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.yaml"), "groups: []\n").unwrap();
    let file = format!(
        "rule_files: [empty.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n{tests}"
    );
    std::fs::write(dir.path().join("t.yaml"), &file).unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules", "t.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("promtool (Debian's prometheus package) runs");
    assert!(
        out.status.success(),
        "promtool disagrees:\n{}\n{}\n{file}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn series_text(l: &Labels) -> String {
    let name = l.get("__name__").cloned().unwrap_or_default();
    let inner: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", vigie::promql::string_literal(v)))
        .collect();
    format!("{name}{{{}}}", inner.join(", "))
}

// ---- Timing: a hung mount, a silent resolver ----------------------------------

/// A filesystem collector on the fixture host whose statfs never returns
/// on `/mnt/nfs` (a hard NFS mount whose server is gone).
#[test]
fn check_a_hung_mount_is_unknown_and_does_not_hang_the_check() {
    use vigie::collect::filesystem::{FilesystemCollector, FilesystemConfig, FsStat};
    use vigie::collect::{Refresh, Registration};
    let root = fixture("host");
    let paths = vigie::paths::Paths {
        procfs: root.join("proc"),
        sysfs: root.join("sys"),
        rootfs: root.join("root"),
    };
    let stat = std::sync::Arc::new(|p: &Path| {
        if p.ends_with("mnt/nfs") {
            loop {
                std::thread::park();
            }
        }
        Ok(FsStat {
            size: 100 << 30,
            free: 40 << 30,
            avail: 35 << 30,
            files: 1000,
            files_free: 900,
            read_only: false,
        })
    });
    let timeout = Duration::from_millis(500);
    let c = FilesystemCollector::with_stat(
        paths,
        FilesystemConfig {
            stat_timeout: timeout,
            ..FilesystemConfig::default()
        },
        stat,
    );
    let start = Instant::now();
    let (samples, failed) = vigie::check::collect_from(vec![Registration {
        collector: std::sync::Arc::new(c),
        refresh: Refresh::Every(Duration::from_secs(15)),
        timeout: timeout + Duration::from_secs(5),
    }])
    .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        failed.is_empty(),
        "a stuck mount is the mount's problem: {failed:?}"
    );
    let t = Thresholds::parse("", Path::new("t.yaml"), 20_000).unwrap();
    let mut current = samples;
    for s in &mut current {
        s.labels.insert("instance".into(), "h".into());
    }
    let d = Data {
        now: now(),
        current,
        ..Data::default()
    };
    let r = evaluate(&t, &d, &["filesystem"], "h", false).unwrap();
    let nfs: Vec<_> = r.rows.iter().filter(|x| x.where_ == "/mnt/nfs").collect();
    assert_eq!(nfs.len(), 1, "{nfs:#?}");
    assert_eq!(nfs[0].level, Level::Unknown);
    assert!(nfs[0].note.as_deref().unwrap().contains("statfs"));
    assert!(
        r.rows.iter().any(|x| x.where_ == "/"
            && x.signal == "filesystem.free_percent"
            && x.level == Level::Ok)
    );
}

/// A resolver that receives and never answers: CRITICAL after the DNS
/// timeout, not a hang.
#[test]
fn check_a_silent_resolver_is_critical_after_its_timeout() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let (_dir, mut args) = host();
    args.extend([
        "--collector.dns.resolver-from-resolv-conf=false".into(),
        format!("--collector.dns.resolver={addr}"),
        "--collector.dns.timeout=1s".into(),
        "--only=dns".into(),
        "--format=json".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = vigie_check(&a, &[]);
    assert!(r.took < Duration::from_secs(6), "took {:?}", r.took);
    assert_eq!(
        level_of(&r.json(), "dns.all_resolvers_failing", ""),
        "CRITICAL"
    );
    assert_eq!(r.code, 2);
    drop(silent);
}

/// On a terminal (a pseudo-terminal from util-linux' `script`) the levels
/// are coloured, unless NO_COLOR is set; piped, never.
#[test]
fn check_colour_on_a_terminal_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("NOTICE: no script(1); skipping the terminal test");
        return;
    }
    let (_dir, args) = host();
    let cmd = format!(
        "{} check {} --only=swap",
        env!("CARGO_BIN_EXE_vigie"),
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let on_tty = |no_color: Option<&str>| {
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]);
        c.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(
        on_tty(None).contains("\x1b[1;31mCRITICAL"),
        "{:?}",
        on_tty(None)
    );
    assert!(!on_tty(Some("1")).contains('\x1b'));
    // NO_COLOR set but empty does not count.
    assert!(on_tty(Some("")).contains('\x1b'));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(!vigie_check(&a, &[]).stdout.contains('\x1b'));
}

/// `vigie check` joins the two halves; neither imports it.
#[test]
fn check_neither_half_imports_the_check_module() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut checked = 0;
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("check/") || rel == "lib.rs" || rel == "main.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("crate::check") && !text.contains("vigie::check"),
            "{rel} imports the check module"
        );
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
}
