//! The Grafana dashboards `gen-rules` writes: Grafana's own published types
//! accept them (`tsc --strict` against npm `@grafana/schema`) and reject a
//! broken one; every query of every panel returns series from real
//! Prometheus scraping vigie on the fixture root; structure (units, ids,
//! layout, variables, languages) and snapshots.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vigie::generate::dashboards::{self, FLEET_UID, HOST_UID};
use vigie::generate::{Format, generate};
use vigie::thresholds::Thresholds;

use crate::prometheus::Prometheus;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn load(rel: &str) -> Thresholds {
    Thresholds::load(&repo(rel)).unwrap()
}

/// The thresholds files the tests generate dashboards from.
const FILES: &[&str] = &[
    "rules/thresholds.yaml",
    "tests/fixtures/thresholds/french.yaml",
    "tests/fixtures/thresholds/overrides.yaml",
    "tests/fixtures/thresholds/kubernetes.yaml",
    "tests/fixtures/thresholds/dns-only.yaml",
];

/// The TypeScript checker, installed by `scripts/test` (`npm ci` in
/// `tests/dashboard-types`). Absent on a developer's machine without npm:
/// the test is skipped with a notice, but not under CI=true.
fn type_checker() -> Option<PathBuf> {
    let dir = repo("tests/dashboard-types");
    if dir.join("node_modules/.bin/tsc").exists()
        && dir
            .join("node_modules/@grafana/schema/package.json")
            .exists()
    {
        return Some(dir);
    }
    crate::common::absent(
        &dir.join("node_modules"),
        "scripts/test installs it with npm ci",
        "run scripts/test, or npm ci in tests/dashboard-types",
    );
    None
}

/// Writes each (name, dashboard JSON) as a TypeScript module whose constants
/// have Grafana's types, into `generated/<run>/`, and runs `tsc --strict`
/// once on all of them. Ok, or tsc's output.
fn type_check(dir: &Path, run: &str, dashboards: &[(String, String)]) -> Result<(), String> {
    let out = dir.join("generated").join(run);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut files = Vec::new();
    for (name, json) in dashboards {
        let file = format!("{name}.ts");
        // Twice: once against the panel plugins' own types, once against
        // the plain `Dashboard` type (each with excess-property checks).
        std::fs::write(
            out.join(&file),
            format!(
                "import type {{ GrafanaDashboard, VigieDashboard }} from '../../vigie';\n\n\
                 export const dashboard: VigieDashboard = {json};\n\n\
                 export const plain: GrafanaDashboard = {json};\n"
            ),
        )
        .unwrap();
        files.push(file);
    }
    std::fs::write(
        out.join("tsconfig.json"),
        serde_json::json!({"extends": "../../tsconfig.json", "files": files}).to_string(),
    )
    .unwrap();
    let o = Command::new(dir.join("node_modules/.bin/tsc"))
        .args(["--strict", "--noEmit", "-p"])
        .arg(out.join("tsconfig.json"))
        .current_dir(dir)
        .output()
        .expect("run tsc");
    if o.status.success() {
        let _ = std::fs::remove_dir_all(&out);
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// The dashboards of a thresholds file, as (file stem, parsed JSON).
fn dashboards_of(t: &Thresholds) -> Vec<(String, Value)> {
    generate(t, Format::Plain)
        .unwrap()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .map(|(n, text)| {
            let stem = Path::new(&n)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (stem, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

#[test]
fn every_dashboard_type_checks_against_grafana_schema() {
    let Some(dir) = type_checker() else { return };
    let mut all = Vec::new();
    for f in FILES {
        let t = load(f);
        let tag = Path::new(f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace('-', "_");
        for (stem, d) in dashboards_of(&t) {
            all.push((
                format!("{tag}_{}", stem.replace('-', "_")),
                serde_json::to_string_pretty(&d).unwrap(),
            ));
        }
    }
    assert_eq!(all.len(), 2 * FILES.len());
    if let Err(e) = type_check(&dir, "valid", &all) {
        panic!("tsc rejects generated dashboards:\n{e}");
    }
}

/// The check itself: each kind of mistake is caught, in its own file.
#[test]
fn a_broken_dashboard_fails_the_type_check() {
    let Some(dir) = type_checker() else { return };
    let t = load("rules/thresholds.yaml");
    let ds = dashboards_of(&t);
    let host = &ds.iter().find(|(n, _)| n == "vigie-host").unwrap().1;
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: &[Breakage] = &[
        // A misspelt enum value.
        ("threshold_mode", |d| {
            d["panels"][1]["fieldConfig"]["defaults"]["thresholds"]["mode"] = "absolut".into()
        }),
        // A required field missing.
        ("no_grid_height", |d| {
            d["panels"][1]["gridPos"]
                .as_object_mut()
                .unwrap()
                .remove("h");
        }),
        // An option the panel plugin does not have.
        ("unknown_option", |d| {
            let p = d["panels"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|p| p["type"] == "timeseries")
                .unwrap();
            p["options"]["legend"]["placment"] = "right".into();
        }),
        // A wrong type.
        ("schema_version_string", |d| {
            d["schemaVersion"] = "39".into()
        }),
        // A variable of a type Grafana does not have.
        ("variable_type", |d| {
            d["templating"]["list"][1]["type"] = "querry".into()
        }),
        // A panel type vigie does not write.
        ("panel_type", |d| d["panels"][1]["type"] = "graph".into()),
    ];
    let files: Vec<(String, String)> = breakages
        .iter()
        .map(|(name, f)| {
            let mut d = host.clone();
            f(&mut d);
            (
                (*name).to_string(),
                serde_json::to_string_pretty(&d).unwrap(),
            )
        })
        .collect();
    let err = type_check(&dir, "broken", &files).expect_err("tsc accepted broken dashboards");
    for (name, _) in breakages {
        assert!(
            err.contains(&format!("{name}.ts(")),
            "no error reported for {name}:\n{err}"
        );
    }
    assert!(err.contains("\"absolut\""), "{err}");
    assert!(
        err.contains("'h' is missing") || err.contains("\"h\""),
        "{err}"
    );
    assert!(err.contains("placment"), "{err}");
    let _ = std::fs::remove_dir_all(dir.join("generated/broken"));
}

/// Every panel of every dashboard, rows excluded.
pub fn panels(d: &Value) -> Vec<&Value> {
    d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "row")
        .collect()
}

#[test]
fn structure_units_layout_and_variables() {
    for f in FILES {
        let t = load(f);
        let ds = dashboards_of(&t);
        assert_eq!(ds.len(), 2, "{f}");
        for (stem, d) in &ds {
            let uid = d["uid"].as_str().unwrap();
            assert_eq!(format!("vigie-{}", &uid[6..]), *stem, "{f}");
            assert!([FLEET_UID, HOST_UID].contains(&uid));
            let vars: Vec<&str> = d["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap())
                .collect();
            assert_eq!(vars, ["datasource", "job", "instance"], "{f} {stem}");
            let mut ids = std::collections::BTreeSet::new();
            let mut cells = std::collections::BTreeSet::new();
            for p in d["panels"].as_array().unwrap() {
                assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate id");
                // No two panels overlap on the 24-column grid.
                let g = &p["gridPos"];
                let (x, y, w, h) = (
                    g["x"].as_u64().unwrap(),
                    g["y"].as_u64().unwrap(),
                    g["w"].as_u64().unwrap(),
                    g["h"].as_u64().unwrap(),
                );
                assert!(x + w <= 24, "{stem}: {} too wide", p["title"]);
                for cx in x..x + w {
                    for cy in y..y + h {
                        assert!(cells.insert((cx, cy)), "{stem}: {} overlaps", p["title"]);
                    }
                }
            }
            for p in panels(d) {
                let title = p["title"].as_str().unwrap();
                assert!(!title.is_empty());
                assert!(
                    p["description"].as_str().is_some_and(|s| s.len() > 20),
                    "{stem}: {title} has no description"
                );
                // A unit on every panel (tables: on every value column).
                let unit = p["fieldConfig"]["defaults"]["unit"].as_str().unwrap_or("");
                assert!(!unit.is_empty(), "{stem}: {title} has no unit");
                assert_eq!(p["datasource"]["uid"], "${datasource}");
                let targets = p["targets"].as_array().unwrap();
                assert!(!targets.is_empty(), "{stem}: {title} has no query");
                for tg in targets {
                    assert_eq!(tg["datasource"]["uid"], "${datasource}");
                    let e = tg["expr"].as_str().unwrap();
                    assert!(
                        e.contains("$instance")
                            || e.starts_with("count(ALERTS")
                            || e.starts_with("count(up"),
                        "{stem}: {title}: a query that ignores the instance variable: {e}"
                    );
                }
                if p["type"] == "table" {
                    for o in p["fieldConfig"]["overrides"].as_array().unwrap() {
                        if o["matcher"]["options"]
                            .as_str()
                            .unwrap()
                            .starts_with("Value #")
                        {
                            assert!(
                                o["properties"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .any(|p| p["id"] == "unit"),
                                "{stem}: {title}: column {} has no unit",
                                o["matcher"]["options"]
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Thresholds reach the panels: the host dashboard draws the file's
/// levels as lines, the fleet table colours with them, and a role gets its
/// own panel with its own levels.
#[test]
fn thresholds_and_language_reach_the_panels() {
    let steps = |p: &Value| -> Vec<(String, Option<f64>)> {
        p["fieldConfig"]["defaults"]["thresholds"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["color"].as_str().unwrap().to_string(),
                    s["value"].as_f64(),
                )
            })
            .collect()
    };
    let find = |d: &Value, title: &str| -> Value {
        panels(d)
            .into_iter()
            .find(|p| p["title"].as_str().unwrap().starts_with(title))
            .unwrap_or_else(|| panic!("no panel {title}"))
            .clone()
    };
    // Defaults: free space 15 % warning, 5 % critical (lower is worse).
    let en = dashboards_of(&load("rules/thresholds.yaml"));
    let host = &en[1].1;
    let free = find(host, "Free space");
    // Lines: red at the critical level, orange at the warning one.
    assert_eq!(
        steps(&free),
        [
            ("green".into(), None),
            ("red".into(), Some(5.0)),
            ("orange".into(), Some(15.0))
        ]
    );
    assert_eq!(
        free["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"],
        "line"
    );
    assert_eq!(free["fieldConfig"]["defaults"]["unit"], "percent");
    // Higher is worse: swap 80 / 95.
    assert_eq!(
        steps(&find(host, "Swap used (percent)")),
        [
            ("green".into(), None),
            ("orange".into(), Some(80.0)),
            ("red".into(), Some(95.0))
        ]
    );
    // The fleet table colours its cells (not lines) with the same levels:
    // red below 5 %, orange below 15 %, green above.
    let fleet = &en[0].1;
    let hosts = panels(fleet)
        .into_iter()
        .find(|p| p["type"] == "table")
        .unwrap();
    let least_free = hosts["fieldConfig"]["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["properties"][0]["value"] == "Least free")
        .unwrap();
    let cell_steps = least_free["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "thresholds")
        .unwrap();
    assert_eq!(
        cell_steps["value"]["steps"],
        serde_json::json!([
            {"color": "red", "value": null},
            {"color": "orange", "value": 5.0},
            {"color": "green", "value": 15.0}
        ])
    );
    // The forecast in days (file: 7d and 2d).
    let forecast = find(host, "Forecast");
    assert_eq!(forecast["fieldConfig"]["defaults"]["unit"], "suffix: d");
    assert_eq!(
        steps(&forecast)[1..],
        [("orange".into(), Some(2.0)), ("green".into(), Some(7.0))]
    );
    // The role of the shipped file: control-plane 30 / 15.
    let cp = find(host, "Free space of watched paths (control-plane)");
    assert_eq!(
        steps(&cp)[1..],
        [("red".into(), Some(15.0)), ("orange".into(), Some(30.0))]
    );
    assert!(
        cp["targets"][0]["expr"]
            .as_str()
            .unwrap()
            .contains("role=\"control-plane\"")
    );

    // French: the file's own levels and French text everywhere.
    let fr = dashboards_of(&load("tests/fixtures/thresholds/french.yaml"));
    let (fleet, host) = (&fr[0].1, &fr[1].1);
    assert_eq!(fleet["title"], "vigie / Vue du parc");
    assert_eq!(host["title"], "vigie / Détail d'une machine");
    let free = find(host, "Espace libre");
    assert_eq!(
        steps(&free)[1..],
        [("red".into(), Some(8.0)), ("orange".into(), Some(20.0))]
    );
    let swap = find(host, "Swap utilisé (pourcentage)");
    assert_eq!(
        steps(&swap)[1..],
        [("orange".into(), Some(70.0)), ("red".into(), Some(90.0))]
    );
    // The selector of the file is in every query.
    for p in panels(host) {
        for tg in p["targets"].as_array().unwrap() {
            let e = tg["expr"].as_str().unwrap();
            assert!(e.contains("env=\"prod\""), "{}: {e}", p["title"]);
        }
    }
    // No English title left in the French dashboards.
    let en_titles: std::collections::BTreeSet<String> = en
        .iter()
        .flat_map(|(_, d)| {
            panels(d)
                .into_iter()
                .map(|p| p["title"].as_str().unwrap().to_string())
        })
        .collect();
    for (_, d) in &fr {
        for p in panels(d) {
            let t = p["title"].as_str().unwrap();
            if !["Swap", "DNS", "vigie", "smartctl"].contains(&t) {
                assert!(!en_titles.contains(t), "untranslated title {t}");
            }
            assert_ne!(p["description"], Value::Null);
        }
    }
    // Kubernetes: two roles, two role panels with their own levels.
    let k = dashboards_of(&load("tests/fixtures/thresholds/kubernetes.yaml"));
    let storage = find(&k[1].1, "Free space of watched paths (storage)");
    assert_eq!(
        steps(&storage)[1..],
        [("red".into(), Some(10.0)), ("orange".into(), Some(25.0))]
    );
    find(&k[1].1, "Free space of watched paths (control-plane)");
}

#[test]
fn dashboards_are_deterministic_and_the_configmaps_carry_them() {
    let t = load("tests/fixtures/thresholds/kubernetes.yaml");
    let a = generate(&t, Format::PrometheusOperator).unwrap();
    let b = generate(&t, Format::PrometheusOperator).unwrap();
    assert_eq!(a, b);
    let cm = &a
        .iter()
        .find(|(n, _)| n == dashboards::CONFIGMAP_FILE)
        .expect("a ConfigMap with --format prometheus-operator")
        .1;
    assert!(
        !generate(&t, Format::Plain)
            .unwrap()
            .iter()
            .any(|(n, _)| n == dashboards::CONFIGMAP_FILE)
    );
    // One ConfigMap per dashboard, labelled for the sidecar, holding the
    // same JSON as the files (compact), each under the 256 KiB that
    // client-side `kubectl apply` can keep.
    let docs: Vec<&str> = cm
        .split("\n---\n")
        .map(|d| d.trim_start_matches("---\n"))
        .collect();
    assert_eq!(docs.len(), 2, "{cm}");
    for (doc, (file, d)) in docs.iter().zip(dashboards::generate(&t)) {
        #[derive(serde::Deserialize)]
        struct Cm {
            kind: String,
            metadata: Meta,
            data: std::collections::BTreeMap<String, String>,
        }
        #[derive(serde::Deserialize)]
        struct Meta {
            labels: std::collections::BTreeMap<String, String>,
        }
        let body: String = doc
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let cm: Cm = serde_saphyr::from_str(&body).unwrap_or_else(|e| panic!("{e}: {doc}"));
        assert_eq!(cm.kind, "ConfigMap");
        assert_eq!(cm.metadata.labels["grafana_dashboard"], "1");
        let json = &cm.data[file];
        assert!(json.len() < 256 * 1024, "{file}: {} bytes", json.len());
        assert_eq!(serde_json::from_str::<Value>(json).unwrap(), d);
    }
}

#[test]
fn snapshots_of_two_thresholds_files() {
    for f in [
        "tests/fixtures/thresholds/french.yaml",
        "tests/fixtures/thresholds/kubernetes.yaml",
    ] {
        let tag = Path::new(f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (stem, d) in dashboards_of(&load(f)) {
            insta::assert_snapshot!(format!("{tag}__{stem}"), dashboards::to_json(&d));
        }
    }
}

/// Grafana's variables in a query, as a test of one host substitutes them.
pub fn substitute(expr: &str, instance: &str) -> String {
    expr.replace("$instance", instance)
        .replace("$job", "vigie")
        .replace("$__rate_interval", "1m")
}

/// Real Prometheus scrapes vigie on the fixture root (three disks, a
/// pending reboot, watched paths, dnsmasq as a resolver beside the dead
/// one of the fixture's resolv.conf) and evaluates the shipped rules;
/// every query of every panel of both shipped dashboards returns at least
/// one series, and the fleet table says what the fixture host has.
#[test]
fn every_panel_query_returns_data_from_real_prometheus() {
    let dns = crate::dns::Dnsmasq::start();
    let resolver = format!("--collector.dns.resolver={}", dns.addr);
    let (_dir, _disks, v) = crate::common::vigie_on_fixture_host_with(&[
        &resolver,
        "--collector.dns.interval=1s",
        "--collector.dns.query=vigie.test:MX",
    ]);
    let rules = repo("rules/vigie-rules.yaml");
    let prom = Prometheus::start(&[v.addr], &[&rules]);
    let instance = v.addr.to_string();
    // Every source has reported, alerts have been evaluated, and rates and
    // slopes have at least two samples.
    prom.wait_for("vigie_smart_healthy", |r| r.len() == 3);
    prom.wait_for("vigie_dns_probe_success == 1", |r| !r.is_empty());
    prom.wait_for("ALERTS{alertstate=\"firing\"}", |r| !r.is_empty());
    prom.wait_for("count_over_time(vigie_dns_probe_success[1m]) >= 3", |r| {
        !r.is_empty()
    });
    prom.wait_for(
        "increase(vigie_dns_probe_latency_seconds_count[1m]) > 0",
        |r| !r.is_empty(),
    );

    let dir = repo("dashboards");
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in [dashboards::FLEET_FILE, dashboards::HOST_FILE] {
        let d: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        // The variables' own queries: label_values(vigie_build_info, ...).
        for var in d["templating"]["list"].as_array().unwrap() {
            if var["type"] == "query" {
                let label = var["name"].as_str().unwrap();
                let body = crate::common::get(
                    prom.addr,
                    &format!("/api/v1/label/{label}/values?match[]=vigie_build_info"),
                )
                .body;
                let want = if label == "job" {
                    "vigie"
                } else {
                    instance.as_str()
                };
                assert!(body.contains(want), "{label}: {body}");
            }
        }
        for p in panels(&d) {
            for tg in p["targets"].as_array().unwrap() {
                let e = substitute(tg["expr"].as_str().unwrap(), &instance);
                checked += 1;
                if prom.query(&e).is_empty() {
                    failures.push(format!("{file}: {}: {e}", p["title"]));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "queries with no series:\n{}",
        failures.join("\n\n")
    );
    assert!(checked > 60, "{checked} queries");

    // The fleet table's cells for the fixture host, with the shipped
    // levels: the reboot was requested 61+ days ago (critical from 30), the
    // NVMe disk of the fixture says it is failing (critical), one
    // filesystem is read-only (critical), one resolver of two fails
    // (warning only), vigie itself is fine.
    let fleet: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(dashboards::FLEET_FILE)).unwrap())
            .unwrap();
    let table = panels(&fleet)
        .into_iter()
        .find(|p| p["type"] == "table")
        .unwrap()
        .clone();
    let column = |name: &str| -> f64 {
        let refid = table["fieldConfig"]["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| {
                o["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["id"] == "displayName" && p["value"] == name)
            })
            .unwrap()["matcher"]["options"]
            .as_str()
            .unwrap()
            .trim_start_matches("Value #")
            .to_string();
        let tg = table["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["refId"] == refid.as_str())
            .unwrap();
        let r = prom.query(&substitute(tg["expr"].as_str().unwrap(), &instance));
        assert_eq!(r.len(), 1, "{name}: {r:?}");
        assert_eq!(r[0].0["instance"], instance.as_str());
        r[0].1
    };
    let alerts = prom.query("ALERTS");
    let alerts: Vec<String> = alerts
        .iter()
        .map(|(l, _)| format!("{} {} {}", l["alertname"], l["severity"], l["serial"]))
        .collect();
    let column = |name: &str| (column(name), alerts.join("\n"));
    assert_eq!(column("Reboot").0, 2.0);
    let (v, a) = column("Filesystems");
    assert_eq!(v, 2.0, "{a}");
    let (v, a) = column("Disks");
    assert_eq!(v, 2.0, "{a}");
    let (v, a) = column("DNS");
    assert_eq!(v, 1.0, "{a}");
    let (v, a) = column("vigie");
    assert_eq!(v, 0.0, "{a}");
    let (v, a) = column("Status");
    assert_eq!(v, 2.0, "{a}");
    assert!(column("Alerts firing").0 >= 1.0);

    // The forecast of a filesystem that is not filling is the horizon
    // ("not filling"), not an error or infinity.
    let host: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(dashboards::HOST_FILE)).unwrap())
            .unwrap();
    let forecast = panels(&host)
        .into_iter()
        .find(|p| p["title"] == "Forecast: days until full")
        .unwrap()
        .clone();
    let r = prom.query(&substitute(
        forecast["targets"][0]["expr"].as_str().unwrap(),
        &instance,
    ));
    assert!(r.iter().all(|(_, v)| *v == 365.0), "{r:?}");
}
