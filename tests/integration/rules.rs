//! `vigie gen-rules`: the shipped `rules/` is up to date; the output for the
//! default file and the varied fixtures passes `promtool check rules` and
//! `promtool test rules` (among them overrides looser than the defaults,
//! and `slow_signals_interval`); `--check`; the Prometheus Operator form;
//! overrides do not multiply alerts, and hold from the first evaluation.

use std::path::Path;
use std::process::Command;

use vigie::generate::{
    Format, INHIBIT_FILE, LONG_TESTS_FILE, OPERATOR_FILE, RULES_FILE, TESTS_FILE, generate,
};
use vigie::thresholds::Thresholds;

use crate::common::fixture;

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

use crate::common::promtool;

/// Generates `thresholds` into a temp dir and runs promtool on it.
fn check_with_promtool(thresholds: &Path) -> (usize, String) {
    let t = Thresholds::load(thresholds).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    let dir = tempfile::tempdir().unwrap();
    vigie::generate::write(&files, dir.path(), None, false).unwrap();
    let checked = promtool(&["check", "rules", RULES_FILE], dir.path())
        .unwrap_or_else(|e| panic!("{}: {e}", thresholds.display()));
    let tested = promtool(&["test", "rules", TESTS_FILE, LONG_TESTS_FILE], dir.path())
        .unwrap_or_else(|e| panic!("{}: {e}", thresholds.display()));
    assert!(tested.contains("SUCCESS"), "{tested}");
    let tests = files
        .iter()
        .filter(|(n, _)| n == TESTS_FILE || n == LONG_TESTS_FILE)
        .map(|(_, c)| c.matches("\n- name: ").count())
        .sum();
    (tests, checked)
}

#[test]
fn shipped_rules_are_up_to_date() {
    let t = Thresholds::load(&repo("rules/thresholds.yaml")).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    assert!(files.iter().any(|(n, _)| n.ends_with(".json")));
    for (name, content) in files {
        let path = vigie::generate::destination(&name, &repo("rules"), Some(&repo("dashboards")));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == content,
            "{} is out of date: run `cargo run -- gen-rules --thresholds rules/thresholds.yaml --out rules/ --dashboards-out dashboards/` and commit",
            path.display()
        );
    }
}

#[test]
fn default_and_fixtures_pass_promtool() {
    let mut files = vec![repo("rules/thresholds.yaml")];
    files.extend(
        [
            "french",
            "overrides",
            "kubernetes",
            "dns-only",
            "regex-role",
            "large-fleet",
        ]
        .map(|f| fixture(&format!("thresholds/{f}.yaml"))),
    );
    // promtool takes seconds per file: run them side by side.
    let report: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                s.spawn(move || {
                    let (tests, checked) = check_with_promtool(f);
                    assert!(tests >= 4, "{}: only {tests} tests", f.display());
                    let found = checked
                        .lines()
                        .find(|l| l.contains("rules found"))
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    format!("{}: {tests} tests; {found}", f.display())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!("{}", report.join("\n"));
}

/// The generated rules and tests (both test files' groups in one list), parsed.
fn parsed(files: &[(String, String)]) -> (serde_json::Value, serde_json::Value) {
    let file = |name: &str| -> serde_json::Value {
        let (_, c) = files.iter().find(|(n, _)| n == name).unwrap();
        serde_saphyr::from_str(c).unwrap()
    };
    let mut tests = file(TESTS_FILE);
    let long = file(LONG_TESTS_FILE);
    if let (Some(all), Some(more)) = (tests["tests"].as_array_mut(), long["tests"].as_array()) {
        all.extend(more.iter().cloned());
    }
    (file(RULES_FILE), tests)
}

#[test]
fn every_alert_and_level_has_a_firing_and_a_quiet_test() {
    let t = Thresholds::load(&repo("rules/thresholds.yaml")).unwrap();
    let (rules, tests) = parsed(&generate(&t, Format::Plain).unwrap());
    let names: Vec<&str> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    let tested: Vec<&str> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        // The summaries' test has expression tests only.
        .filter_map(|g| g["alert_rule_test"][0]["alertname"].as_str())
        .collect();
    let mut count = 0;
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let Some(alert) = rule["alert"].as_str() else {
                continue;
            };
            count += 1;
            let level = rule["labels"]["severity"].as_str().unwrap();
            assert!(tested.contains(&alert), "{alert} has no test");
            if alert != "VigieWatchdog" {
                assert!(
                    names
                        .iter()
                        .any(|n| n.starts_with(&format!("{alert} stays quiet"))),
                    "{alert} has no quiet test"
                );
            }
            if level == "warning" || level == "critical" {
                let fires = names.iter().any(|n| {
                    n.starts_with(&format!("{alert} fires"))
                        && (n.contains(level) || !n.contains(" at "))
                });
                assert!(fires, "{alert} at {level} has no firing test");
            }
        }
    }
    assert!(count >= 40, "{count} alerts");
    // Every summary the alerts read is recorded in a group of its own
    // interval, and tested: its recorded series read back.
    let summaries = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "vigie-summaries")
        .expect("a summary group");
    assert_eq!(summaries["interval"], "10m");
    let exprs: Vec<&str> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["promql_expr_test"].as_array())
        .flatten()
        .map(|e| e["expr"].as_str().unwrap())
        .collect();
    let recorded = summaries["rules"].as_array().unwrap();
    // 10 summaries (free space low and high, 6 SMART counters, `up`, the
    // watched paths), then 11 long extremes: the filesystems' day low,
    // high and settled high, the counters' week low, `up`'s and the
    // paths' day high.
    assert_eq!(recorded.len(), 21, "{recorded:?}");
    for r in recorded {
        let name = r["record"].as_str().unwrap();
        assert!(
            exprs.iter().any(|e| e.starts_with(&format!("{name}{{"))),
            "{name} has no test"
        );
    }
}

#[test]
fn french_texts_and_runbook_links() {
    let t = Thresholds::load(&fixture("thresholds/french.yaml")).unwrap();
    let (rules, _) = parsed(&generate(&t, Format::Plain).unwrap());
    let fs = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "vigie-filesystem")
        .unwrap();
    let rule = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        fs["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| pred(r))
            .unwrap()
    };
    let expr = |r: &serde_json::Value| r["expr"].as_str().unwrap().to_string();
    // The first alert (the records it reads are written before it).
    let first = rule(&|r| r.get("alert").is_some());
    assert_eq!(first["alert"], "VigieFilesystemAlmostFull");
    assert!(
        first["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("est descendu à"),
        "French summaries"
    );
    assert_eq!(
        first["annotations"]["runbook_url"],
        "https://wiki.chatons.example/vigie/VigieFilesystemAlmostFull"
    );
    // It reads its candidates, recorded before it from the values now,
    // all through the file's selector.
    assert!(
        expr(first)
            .contains("vigie:candidates:filesystem_almost_full{job=\"vigie\", env=\"prod\"}")
    );
    let candidates = rule(&|r| r["record"] == "vigie:candidates:filesystem_almost_full");
    assert!(expr(candidates).contains(":min_over_time_26h_now{job=\"vigie\", env=\"prod\"}"));
}

#[test]
fn five_hundred_overrides_do_not_multiply_alerts() {
    let base = Thresholds::parse("{}", Path::new("t.yaml"), 20_778).unwrap();
    let mut text = String::from("overrides:\n");
    for i in 0..500 {
        text.push_str(&format!(
            "  - match: {{instance: 'host{i}.example.org:7361', mountpoint: /srv/data}}\n    reason: host {i}\n    filesystems: {{free_percent: {{warning: 3, critical: 1}}}}\n"
        ));
    }
    let many = Thresholds::parse(&text, Path::new("t.yaml"), 20_778).unwrap();
    let alerts = |t: &Thresholds| {
        generate(t, Format::Plain).unwrap()[0]
            .1
            .matches("- alert: ")
            .count()
    };
    let records = |t: &Thresholds| {
        generate(t, Format::Plain).unwrap()[0]
            .1
            .matches("- record: vigie:threshold:")
            .count()
    };
    let others = |t: &Thresholds, kind: &str| {
        let text = &generate(t, Format::Plain).unwrap()[0].1;
        let candidates = text.matches("- record: vigie:candidates:").count();
        match kind {
            "candidates" => candidates,
            _ => {
                text.matches("- record: ").count()
                    - text.matches("- record: vigie:threshold:").count()
                    - candidates
            }
        }
    };
    assert_eq!(alerts(&many), alerts(&base));
    // The records of lows and highs the alerts read (21 in the summary
    // group, 10 values now at the head of the alerts' groups), and the
    // candidates of the alerts several rules read (one each), do not grow
    // with the overrides either.
    assert_eq!(others(&many, "summaries"), others(&base, "summaries"));
    assert_eq!(others(&base, "summaries"), 31);
    assert_eq!(others(&many, "candidates"), others(&base, "candidates"));
    assert_eq!(others(&base, "candidates"), 17);
    let records = records(&many);
    assert_eq!(
        records, 1000,
        "one recorded threshold per override and level"
    );
}

#[test]
fn an_override_on_a_label_the_series_lack_is_an_error() {
    // Caught by the thresholds validation, at the override's match.
    let e = Thresholds::parse(
        "overrides:\n  - match: {instance: 'a:7361', mountpoint: /srv}\n    reason: r\n    swap: {used_percent: {warning: 90, critical: 99}}\n",
        Path::new("t.yaml"),
        20_778,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 12), "{e}");
    assert!(
        e.to_string().starts_with("t.yaml:2:12: ")
            && e.message.contains(
                "swap.used_percent series have no label \"mountpoint\" (they have instance, job)"
            ),
        "{e}"
    );
}

#[test]
fn prometheus_operator_form_wraps_the_same_groups() {
    let t = Thresholds::load(&repo("rules/thresholds.yaml")).unwrap();
    let files = generate(&t, Format::PrometheusOperator).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            RULES_FILE,
            TESTS_FILE,
            "dashboards/vigie-fleet.json",
            "dashboards/vigie-host.json",
            LONG_TESTS_FILE,
            INHIBIT_FILE,
            OPERATOR_FILE,
            "vigie-dashboards-configmap.yaml"
        ]
    );
    let plain: serde_json::Value = serde_saphyr::from_str(&files[0].1).unwrap();
    let object: serde_json::Value = serde_saphyr::from_str(&files[6].1).unwrap();
    assert_eq!(object["kind"], "PrometheusRule");
    assert_eq!(object["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(object["spec"]["groups"], plain["groups"]);
}

#[test]
fn check_mode_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let th = repo("rules/thresholds.yaml");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args([
                "gen-rules",
                "--thresholds",
                th.to_str().unwrap(),
                "--out",
                dir.path().to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(1), "nothing written yet");
    assert!(
        !dir.path().join(RULES_FILE).exists(),
        "--check writes nothing"
    );
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(run(&["--check"]).status.code(), Some(0));
    std::fs::write(dir.path().join(TESTS_FILE), "changed").unwrap();
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(TESTS_FILE) && !err.contains(RULES_FILE),
        "{err}"
    );
    // A bad thresholds file: exit 2 and the location.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "swap:\n  used_percent: {warning: 140}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "gen-rules",
            "--thresholds",
            bad.to_str().unwrap(),
            "--out",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("bad.yaml:2:27: warning of swap.used_percent: 140 is not a percentage")
    );
}

#[test]
fn alertmanager_example_is_valid() {
    let out = Command::new("amtool")
        .args([
            "check-config",
            repo("deploy/alertmanager.yml").to_str().unwrap(),
        ])
        .output()
        .expect(
            "amtool must be installed (scripts/test installs Debian's prometheus-alertmanager)",
        );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Every alert it names exists in the generated rules.
    let rules = std::fs::read_to_string(repo("rules/vigie-rules.yaml")).unwrap();
    let am = std::fs::read_to_string(repo("deploy/alertmanager.yml")).unwrap();
    for name in am
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.starts_with("Vigie"))
    {
        assert!(
            rules.contains(&format!("alert: {name}\n")),
            "{name} is not a generated alert"
        );
    }
}

/// Prometheus starts each group at its own offset within the interval, so
/// on the first evaluation after the rules are loaded (or after an
/// override with new label keys is added) an alert's group may run before
/// `vigie-thresholds` has recorded the overrides' thresholds. An overridden
/// series must not fire on the default threshold meanwhile: seen with real
/// Prometheus, where the disks' group ran 0.3 s before the thresholds' and
/// a disk overridden to warn at 1,000 reallocated sectors fired
/// `VigieDiskReallocatedSectors` (`for: 0`) for one evaluation. promtool
/// runs the groups of an evaluation in `group_eval_order`, here with the
/// thresholds' last.
#[test]
fn an_override_holds_from_the_first_evaluation_whatever_the_group_order() {
    let t = Thresholds::load(&fixture("thresholds/overrides.yaml")).unwrap();
    let files = generate(&t, Format::Plain).unwrap();
    let rules: serde_json::Value = serde_saphyr::from_str(&files[0].1).unwrap();
    let mut order: Vec<String> = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .filter(|g| g != "vigie-thresholds")
        .collect();
    order.push("vigie-thresholds".into());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(RULES_FILE), &files[0].1).unwrap();
    // The NAS's /dev/sdc warns at 20 reallocated sectors (the override),
    // /dev/sdb at 1 (the default); both have 10.
    let disk = |device: &str, serial: &str| {
        format!(
            "vigie_smart_reallocated_sectors{{job=\"vigie\",instance=\"nas.example.org:7361\",device=\"{device}\",serial=\"{serial}\",model=\"M\"}}"
        )
    };
    let alerts = "ALERTS{alertname=\"VigieDiskReallocatedSectors\"}";
    let test = format!(
        "rule_files: [{RULES_FILE}]\nevaluation_interval: 1m\ngroup_eval_order: [{}]\ntests:\n  - interval: 1m\n    input_series:\n      \
         - series: '{}'\n        values: '10x10'\n      - series: '{}'\n        values: '10x10'\n    promql_expr_test:\n      \
         - expr: '{alerts}'\n        eval_time: 0m\n        exp_samples: []\n      \
         - expr: '{alerts}'\n        eval_time: 5m\n        exp_samples:\n          \
         - labels: 'ALERTS{{alertname=\"VigieDiskReallocatedSectors\",alertstate=\"firing\",device=\"/dev/sdb\",instance=\"nas.example.org:7361\",job=\"vigie\",model=\"M\",serial=\"S2\",severity=\"warning\"}}'\n            value: 1\n",
        order.join(", "),
        disk("/dev/sdc", "S1"),
        disk("/dev/sdb", "S2"),
    );
    std::fs::write(dir.path().join("first.test.yaml"), test).unwrap();
    let out = promtool(&["test", "rules", "first.test.yaml"], dir.path())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("SUCCESS"), "{out}");
}
