//! The gaps of issue 11 closed on the generator side, through promtool on
//! the generated rules and real Alertmanager on the generated inhibition
//! rules: a target gone from service discovery, the hand-over from
//! VigieDown to VigieTargetMissing, a watched path that stops resolving, a
//! stuck mount, the ATA error log on the real smartctl captures, role
//! alerts that honour overrides and keep their inode alert, and the
//! inhibition fragment (amtool, Alertmanager, deploy/alertmanager.yml).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vigie::collect::smart_json::parse;
use vigie::generate::{Format, INHIBIT_FILE, RULES_FILE, generate};
use vigie::thresholds::Thresholds;

use crate::common::{get, shared_fixture};
use crate::recipe_e2e::{Alertmanager, Webhook};

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The rules generated from `thresholds` (a file's text) and a promtool
/// test file of `tests` (YAML of the `tests:` list) run against them.
fn promtool_test(thresholds: &str, interval: &str, tests: &str) -> Result<String, String> {
    let t = Thresholds::parse(thresholds, Path::new("t.yaml"), 20_786).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    let dir = tempfile::tempdir().unwrap();
    vigie::generate::write(&files, dir.path(), None, false).unwrap();
    let test =
        format!("rule_files: [{RULES_FILE}]\nevaluation_interval: {interval}\ntests:\n{tests}");
    std::fs::write(dir.path().join("gaps.test.yaml"), test).unwrap();
    crate::common::promtool(&["test", "rules", "gaps.test.yaml"], dir.path())
}

/// A `promql_expr_test` that `expr` gives exactly `samples` (series, value)
/// at `at`.
fn expect(at: &str, expr: &str, samples: &[(&str, f64)]) -> String {
    let mut s = format!("      - expr: '{expr}'\n        eval_time: {at}\n        exp_samples:");
    if samples.is_empty() {
        s.push_str(" []\n");
    }
    for (labels, v) in samples {
        s.push_str(&format!(
            "\n          - labels: '{labels}'\n            value: {v}"
        ));
    }
    s.push('\n');
    s
}

fn series(name: &str, values: &str) -> String {
    format!("      - series: '{name}'\n        values: '{values}'\n")
}

/// A down target dropped from discovery: VigieDown fires until
/// VigieTargetMissing does, with exactly one of them firing every minute
/// (no gap, no overlap); a target dropped while up alerts after 5 minutes
/// and the alert ends after the missing window (1 day, read through the
/// records, which extend it by up to 40 minutes); a target that stays is
/// quiet throughout.
#[test]
fn a_target_gone_from_discovery_alerts_and_hands_over_from_vigie_down() {
    let mut checks = String::new();
    let q = r#"ALERTS{alertstate="firing",alertname=~"VigieDown|VigieTargetMissing|VigieAbsent"}"#;
    for m in 6..=30 {
        let mut firing = Vec::new();
        let down = r#"ALERTS{alertname="VigieDown",alertstate="firing",instance="a",job="vigie",severity="critical"}"#;
        let missing_a = r#"ALERTS{alertname="VigieTargetMissing",alertstate="firing",instance="a",job="vigie",severity="critical"}"#;
        let missing_b = r#"ALERTS{alertname="VigieTargetMissing",alertstate="firing",instance="b",job="vigie",severity="critical"}"#;
        // a: down from the start (VigieDown at 5m), gone at 10m.
        firing.push((if m < 15 { down } else { missing_a }, 1.0));
        // b: up, gone at 10m: missing from 15m.
        if m >= 15 {
            firing.push((missing_b, 1.0));
        }
        checks.push_str(&expect(&format!("{m}m"), q, &firing));
    }
    let tests = format!(
        "  - interval: 1m\n    input_series:\n{}{}{}    promql_expr_test:\n{checks}{}",
        series(r#"up{job="vigie",instance="a"}"#, "0x9 stale"),
        series(r#"up{job="vigie",instance="b"}"#, "1x9 stale"),
        series(r#"up{job="vigie",instance="c"}"#, "1+0x1600"),
        // A day and 45 minutes after they left, neither is missing any
        // more.
        expect("1d55m", q, &[]),
    );
    promtool_test("{}", "1m", &tests).unwrap();
}

/// A watched path that existed and is gone, or that cannot be resolved,
/// alerts (after 10 minutes); the etcd path absent from a worker from the
/// start never does.
#[test]
fn a_watched_path_that_stops_resolving_alerts_one_never_there_does_not() {
    let l = |i: &str| {
        format!(r#"{{job="vigie",instance="{i}",path="/var/lib/etcd",role="control-plane"}}"#)
    };
    let alert = |i: &str| {
        format!(
            r#"ALERTS{{alertname="VigiePathUnresolved",alertstate="firing",instance="{i}",job="vigie",path="/var/lib/etcd",role="control-plane",severity="warning"}}"#
        )
    };
    let q = r#"ALERTS{alertstate="firing",alertname="VigiePathUnresolved"}"#;
    let (cp, broken) = (alert("cp1"), alert("broken"));
    let tests = format!(
        "  - interval: 1m\n    input_series:\n{}{}{}{}{}    promql_expr_test:\n{}{}{}",
        series(&format!("vigie_path_exists{}", l("cp1")), "1x30 0x60"),
        series(&format!("vigie_path_resolve_error{}", l("cp1")), "0x90"),
        series(&format!("vigie_path_exists{}", l("worker")), "0x90"),
        series(&format!("vigie_path_resolve_error{}", l("worker")), "0x90"),
        series(&format!("vigie_path_resolve_error{}", l("broken")), "1x90"),
        expect("35m", q, &[(&broken, 1.0)]),
        expect("45m", q, &[(&broken, 1.0), (&cp, 1.0)]),
        expect("90m", q, &[(&broken, 1.0), (&cp, 1.0)]),
    );
    promtool_test("{}", "1m", &tests).unwrap();
}

/// A mount whose statfs hangs is critical after 10 minutes, one that
/// answers again resolves.
#[test]
fn a_stuck_mount_is_critical() {
    let l =
        r#"{job="vigie",instance="h",mountpoint="/mnt/nfs",device="srv:/export",fstype="nfs4"}"#;
    let a = r#"ALERTS{alertname="VigieFilesystemStatFailing",alertstate="firing",instance="h",job="vigie",mountpoint="/mnt/nfs",device="srv:/export",fstype="nfs4",severity="critical"}"#;
    let q = r#"ALERTS{alertstate="firing",alertname="VigieFilesystemStatFailing"}"#;
    let tests = format!(
        "  - interval: 1m\n    input_series:\n{}    promql_expr_test:\n{}{}{}",
        series(&format!("vigie_filesystem_stat_error{l}"), "0x5 1x20 0x10"),
        expect("14m", q, &[]),
        expect("20m", q, &[(a, 1.0)]),
        expect("30m", q, &[]),
    );
    promtool_test("{}", "1m", &tests).unwrap();
}

/// The ATA error log counts of the real captures (12, 98, 9, 2, 1 on
/// disks whose SMART status passes), held steady for 8 days: no alert.
/// The same counts growing by one entry: a warning, per disk.
#[test]
fn the_error_log_of_real_captures_stays_quiet_until_it_grows() {
    let Some(dir) = shared_fixture("smartctl") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut input = String::new();
    let mut grown = Vec::new();
    let mut nonzero = 0;
    for (i, f) in files.iter().enumerate() {
        let r = parse(&std::fs::read_to_string(f).unwrap()).unwrap();
        let Some(count) = r.ata_error_count else {
            continue;
        };
        if count > 0 {
            nonzero += 1;
        }
        let serial = r.serial.clone().unwrap_or_else(|| format!("none{i}"));
        let labels = |s: &str| {
            format!(r#"{{job="vigie",instance="h",device="/dev/sd{i}",type="sat",serial="{s}"}}"#)
        };
        // 8 days every 10 minutes: steady; or one more entry on day 7.
        input.push_str(&series(
            &format!("vigie_smart_error_log_entries{}", labels(&serial)),
            &format!("{count}+0x1152"),
        ));
        let g = format!("{serial}-grows");
        input.push_str(&series(
            &format!("vigie_smart_error_log_entries{}", labels(&g)),
            &format!("{count}+0x1000 {}+0x151", count + 1),
        ));
        grown.push(format!(
            r#"ALERTS{{alertname="VigieDiskErrorLogGrowing",alertstate="firing",device="/dev/sd{i}",instance="h",job="vigie",serial="{g}",severity="warning",type="sat"}}"#
        ));
    }
    assert!(
        nonzero >= 5,
        "captures with a non-zero ATA error log: {nonzero}"
    );
    let samples: Vec<(&str, f64)> = grown.iter().map(|s| (s.as_str(), 1.0)).collect();
    let q = r#"ALERTS{alertstate="firing",alertname=~"VigieDisk.*|VigieNvme.*"}"#;
    let tests = format!(
        "  - interval: 10m\n    input_series:\n{input}    promql_expr_test:\n{}{}",
        expect("6d", q, &[]),
        expect("8d", q, &samples),
    );
    promtool_test("{}", "10m", &tests).unwrap();
}

/// An override for one control-plane node's `/` applies to its role
/// alerts (cp1 quiet, cp2 critical at 10% free); and a filesystem that
/// holds the control-plane path still gets the generic inode alert (the
/// role sets no inode levels).
#[test]
fn role_alerts_honour_overrides_and_keep_the_inode_alert() {
    let thresholds = "overrides:\n  - match: {instance: cp1, mountpoint: /}\n    reason: small root expected to sit near full\n    filesystems: {free_percent: {warning: 3, critical: 1}}\n";
    let mut input = String::new();
    for i in ["cp1", "cp2"] {
        let fs = format!(
            r#"{{job="vigie",instance="{i}",mountpoint="/",device="/dev/vda1",fstype="ext4"}}"#
        );
        input.push_str(&series(
            &format!("vigie_filesystem_size_bytes{fs}"),
            "1000+0x40",
        ));
        input.push_str(&series(
            &format!("vigie_filesystem_avail_bytes{fs}"),
            "100+0x40",
        ));
        input.push_str(&series(&format!("vigie_filesystem_files{fs}"), "1000+0x40"));
        input.push_str(&series(
            &format!("vigie_filesystem_files_free{fs}"),
            "20+0x40",
        ));
        input.push_str(&series(
            &format!(
                r#"vigie_path_filesystem_info{{job="vigie",instance="{i}",path="/var/lib/etcd",role="control-plane",mountpoint="/",device="/dev/vda1",fstype="ext4"}}"#
            ),
            "1+0x40",
        ));
    }
    let q = r#"count by(alertname, instance, severity) (ALERTS{alertstate="firing",alertname=~"Vigie.*Filesystem.*"})"#;
    let s = |a: &str, i: &str, sev: &str| {
        format!(r#"{{alertname="{a}",instance="{i}",severity="{sev}"}}"#)
    };
    let expected = [
        s("VigieControlPlaneFilesystemAlmostFull", "cp2", "critical"),
        s("VigieControlPlaneFilesystemAlmostFull", "cp2", "warning"),
        s("VigieFilesystemInodesRunningOut", "cp1", "critical"),
        s("VigieFilesystemInodesRunningOut", "cp1", "warning"),
        s("VigieFilesystemInodesRunningOut", "cp2", "critical"),
        s("VigieFilesystemInodesRunningOut", "cp2", "warning"),
    ];
    let samples: Vec<(&str, f64)> = expected.iter().map(|e| (e.as_str(), 1.0)).collect();
    let tests = format!(
        "  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n{}",
        expect("30m", q, &samples)
    );
    promtool_test(thresholds, "1m", &tests).unwrap();
}

/// The inhibition fragment: what `gen-rules` writes for the shipped file
/// is what deploy/alertmanager.yml carries, and amtool accepts it.
#[test]
fn the_inhibition_fragment_is_shipped_and_valid() {
    let t = Thresholds::load(&repo("rules/thresholds.yaml")).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    let (_, fragment) = files.iter().find(|(n, _)| n == INHIBIT_FILE).unwrap();
    let body = &fragment[fragment.find("inhibit_rules:\n").unwrap()..];
    let shipped = std::fs::read_to_string(repo("deploy/alertmanager.yml")).unwrap();
    assert!(
        shipped.ends_with(body),
        "deploy/alertmanager.yml must end with the inhibit_rules of rules/{INHIBIT_FILE}: paste them after regenerating"
    );
    let committed = std::fs::read_to_string(repo(&format!("rules/{INHIBIT_FILE}"))).unwrap();
    assert_eq!(
        &committed, fragment,
        "rules/{INHIBIT_FILE} is stale: regenerate"
    );

    // The fragment alone, under a minimal route, passes amtool.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("am.yml");
    std::fs::write(
        &cfg,
        format!("route: {{receiver: x}}\nreceivers: [{{name: x}}]\n{fragment}"),
    )
    .unwrap();
    let out = Command::new("amtool")
        .arg("check-config")
        .arg(&cfg)
        .output()
        .expect("amtool must be installed");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Real Alertmanager on the generated rules, delivering to a webhook: of
/// the alerts of one outage, only the one that should page is active and
/// delivered; the others are suppressed (inhibited) and never reach the
/// webhook; an unrelated host is untouched.
#[test]
fn alertmanager_keeps_one_outage_to_one_page() {
    let t = Thresholds::load(&repo("rules/thresholds.yaml")).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    let (_, fragment) = files.iter().find(|(n, _)| n == INHIBIT_FILE).unwrap();
    let webhook = Webhook::start();
    // Every alert its own notification, sent a second after it arrives.
    let config = format!(
        "route: {{receiver: x, group_by: ['...'], group_wait: 1s, group_interval: 1s}}\nreceivers: [{{name: x, webhook_configs: [{{url: 'http://{}/x/am'}}]}}]\n{fragment}",
        webhook.addr
    );
    let am = Alertmanager::start(&config, Path::new("/usr/share/zoneinfo"));
    let url = format!("--alertmanager.url=http://{}", am.addr);
    let add = |labels: &[&str]| {
        let out = Command::new("amtool")
            .args(["alert", "add", &url])
            .args(labels)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Incident 1's double page: forecast and free space critical on one filesystem.
    add(&[
        "alertname=VigieFilesystemFillingUp",
        "severity=critical",
        "instance=nc1",
        "mountpoint=/srv",
    ]);
    add(&[
        "alertname=VigieFilesystemAlmostFull",
        "severity=critical",
        "instance=nc1",
        "mountpoint=/srv",
    ]);
    // A critical and its warning.
    add(&[
        "alertname=VigieDiskHot",
        "severity=critical",
        "instance=nc1",
        "device=/dev/sda",
        "serial=S1",
    ]);
    add(&[
        "alertname=VigieDiskHot",
        "severity=warning",
        "instance=nc1",
        "device=/dev/sda",
        "serial=S1",
    ]);
    // All resolvers down and a per-resolver alert.
    add(&[
        "alertname=VigieDnsAllResolversFailing",
        "severity=critical",
        "instance=mx1",
    ]);
    add(&[
        "alertname=VigieDnsResolverFailing",
        "severity=warning",
        "instance=mx1",
        "resolver=10.0.0.53:53",
    ]);
    // vigie gone on one host; another host's alert stays active.
    add(&[
        "alertname=VigieTargetMissing",
        "severity=critical",
        "instance=old1",
    ]);
    add(&[
        "alertname=VigieSwapAlmostFull",
        "severity=warning",
        "instance=old1",
    ]);
    add(&[
        "alertname=VigieSwapAlmostFull",
        "severity=warning",
        "instance=web1",
    ]);

    let key = |a: &serde_json::Value| {
        let l = |k: &str| a["labels"][k].as_str().unwrap_or("").to_string();
        format!("{} {} {}", l("alertname"), l("severity"), l("instance"))
    };
    let expected_suppressed = [
        "VigieFilesystemAlmostFull critical nc1",
        "VigieDiskHot warning nc1",
        "VigieDnsResolverFailing warning mx1",
        "VigieSwapAlmostFull warning old1",
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v: serde_json::Value =
            serde_json::from_str(&get(am.addr, "/api/v2/alerts").body).unwrap();
        let alerts = v.as_array().unwrap();
        let mut suppressed: Vec<String> = alerts
            .iter()
            .filter(|a| a["status"]["state"] == "suppressed")
            .map(key)
            .collect();
        let mut active: Vec<String> = alerts
            .iter()
            .filter(|a| a["status"]["state"] == "active")
            .map(key)
            .collect();
        suppressed.sort();
        active.sort();
        let mut want = expected_suppressed.map(String::from).to_vec();
        want.sort();
        if alerts.len() == 9 && suppressed == want {
            assert_eq!(
                active,
                [
                    "VigieDiskHot critical nc1",
                    "VigieDnsAllResolversFailing critical mx1",
                    "VigieFilesystemFillingUp critical nc1",
                    "VigieSwapAlmostFull warning web1",
                    "VigieTargetMissing critical old1",
                ]
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "suppressed {suppressed:?}, active {active:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The five active alerts are delivered; then, three seconds more (three
    // group intervals), none of the suppressed ones has been.
    let delivered = || -> Vec<String> {
        let mut d: Vec<String> = webhook
            .received()
            .iter()
            .flat_map(|n| n.alerts.iter())
            .map(|(a, s, i, _)| format!("{a} {s} {i}"))
            .collect();
        d.sort();
        d.dedup();
        d
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered().len() < 5 {
        assert!(Instant::now() < deadline, "delivered: {:?}", delivered());
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        delivered(),
        [
            "VigieDiskHot critical nc1",
            "VigieDnsAllResolversFailing critical mx1",
            "VigieFilesystemFillingUp critical nc1",
            "VigieSwapAlmostFull warning web1",
            "VigieTargetMissing critical old1",
        ]
    );
}
