//! The generated rules and dashboards on the VictoriaMetrics stack, from
//! Debian's `victoria-metrics` package (1.79.5+ds1-2+b5 as tested): every
//! rule file `gen-rules` writes loads in `vmalert -dryRun`; vmagent scrapes
//! vigie on the fixture host and remote-writes to the single-node server,
//! vmalert evaluates the rules there and notifies a webhook, and fires the
//! same alerts, with the same texts, as Prometheus does on the same host;
//! every dashboard query returns the same series through VictoriaMetrics'
//! Prometheus-compatible API.

use std::collections::BTreeSet;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{absent, fixture, free_port, get};
use crate::prometheus::{Prometheus, query, query_at};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A VictoriaMetrics program from Debian's package, or None with a notice
/// (a failure under CI=true, where scripts/test installs the package).
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        absent(
            Path::new(name),
            "scripts/test installs Debian's victoria-metrics package",
            "Debian's victoria-metrics package is not installed",
        );
    }
    found
}

/// `vigie gen-rules --thresholds THRESHOLDS --out OUT`, which must succeed.
pub(crate) fn gen_rules(thresholds: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("gen-rules")
        .arg("--thresholds")
        .arg(thresholds)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gen-rules {}: {}",
        thresholds.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `vmalert -dryRun -rule=FILE`: Ok, or vmalert's fatal line.
fn dry_run(vmalert: &Path, rules: &Path) -> Result<(), String> {
    let o = Command::new(vmalert)
        .args(["-dryRun", "-loggerLevel=ERROR"])
        .arg(format!("-rule={}", rules.display()))
        .output()
        .unwrap();
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

#[test]
fn every_generated_rule_file_loads_in_vmalert() {
    let Some(vmalert) = tool("vmalert") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The dry run checks expressions with MetricsQL's parser and templates
    // with vmalert's functions: a broken one fails it.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations: {summary: '{{ $value | humanizeNothing }}'}\n",
    )
    .unwrap();
    let err = dry_run(&vmalert, &bad).unwrap_err();
    assert!(err.contains("humanizeNothing"), "{err}");
    std::fs::write(
        &bad,
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: max_over_time(up[5m]\n",
    )
    .unwrap();
    assert!(dry_run(&vmalert, &bad).is_err());

    // The shipped rules, then the rules of the shipped thresholds file and of
    // every thresholds fixture, generated afresh.
    dry_run(&vmalert, &repo("rules/vigie-rules.yaml")).unwrap();
    let mut inputs = vec![repo("rules/thresholds.yaml")];
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(fixture("thresholds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    inputs.extend(fixtures);
    assert!(inputs.len() >= 6, "{inputs:?}");
    let mut loaded = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let out = dir.path().join(i.to_string());
        gen_rules(input, &out);
        for e in std::fs::read_dir(&out).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            // Not the Alertmanager inhibit_rules fragment (no rules).
            if name.ends_with(".yaml") && !name.contains(".test.") && !name.contains("alertmanager")
            {
                if let Err(e) = dry_run(&vmalert, &p) {
                    panic!("rules of {} rejected by vmalert:\n{e}", input.display());
                }
                loaded.push(format!("{}: {name}", input.display()));
            }
        }
    }
    assert_eq!(loaded.len(), inputs.len(), "{loaded:?}");
}

/// A program of the VictoriaMetrics stack, its output in `log`; killed
/// when dropped.
pub(crate) struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    pub(crate) fn start(bin: &Path, args: &[String], log: PathBuf) -> Daemon {
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .args(args)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        Daemon { child, log }
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits (at most 30 s) until `GET path` on `addr` answers 200.
    pub(crate) fn wait_ready(&mut self, addr: SocketAddr, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("{} exited ({st}):\n{}", self.log.display(), self.log_tail());
            }
            if TcpStream::connect(addr).is_ok() && get(addr, path).status == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready in 30 s:\n{}",
                self.log.display(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// victoria-metrics (the single-node server) on a free loopback port, its
/// data under `dir`: data visible to queries 1 s after it arrives (30 s by
/// default), and no response cache, since the tests poll.
pub(crate) fn victoria_metrics(bin: &Path, dir: &Path) -> (Daemon, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut d = Daemon::start(
        bin,
        &[
            format!("-storageDataPath={}", dir.join("vm").display()),
            format!("-httpListenAddr={addr}"),
            "-search.latencyOffset=1s".into(),
            "-search.disableCache".into(),
        ],
        dir.join("victoria-metrics.log"),
    );
    d.wait_ready(addr, "/health");
    (d, addr)
}

/// vmagent scraping `target` every second (job `vigie`) and writing to the
/// victoria-metrics at `vm`, its files under `dir`; ready when returned.
pub(crate) fn vmagent(bin: &Path, dir: &Path, target: SocketAddr, vm: SocketAddr) -> Daemon {
    let scrape = dir.join("scrape.yml");
    std::fs::write(
        &scrape,
        format!(
            "global: {{scrape_interval: 1s}}\n\
             scrape_configs:\n  - job_name: vigie\n    static_configs: [{{targets: ['{target}']}}]\n"
        ),
    )
    .unwrap();
    let agent = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut d = Daemon::start(
        bin,
        &[
            format!("-promscrape.config={}", scrape.display()),
            format!("-remoteWrite.url=http://{vm}/api/v1/write"),
            format!("-remoteWrite.tmpDataPath={}", dir.join("vmagent").display()),
            format!("-httpListenAddr={agent}"),
        ],
        dir.join("vmagent.log"),
    );
    d.wait_ready(agent, "/health");
    d
}

/// vmalert evaluating `rules` every second against the victoria-metrics at
/// `vm`, writing its `ALERTS` and recorded series back there, notifying
/// `notifier`, with the README's flags; ready when returned, with its
/// address (its `/api/v1/alerts`).
pub(crate) fn vmalert(
    bin: &Path,
    dir: &Path,
    rules: &Path,
    vm: SocketAddr,
    notifier: SocketAddr,
) -> (Daemon, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut d = Daemon::start(
        bin,
        &[
            format!("-rule={}", rules.display()),
            format!("-datasource.url=http://{vm}"),
            format!("-remoteWrite.url=http://{vm}"),
            "-remoteWrite.flushInterval=1s".into(),
            format!("-notifier.url=http://{notifier}"),
            "-evaluationInterval=1s".into(),
            // Without it vmalert adds `alertgroup` to every alert and ALERTS
            // series: the dashboards' alert table would show one more column
            // than on Prometheus (the README's flags include it).
            "-disableAlertgroupLabel".into(),
            format!("-httpListenAddr={addr}"),
        ],
        dir.join("vmalert.log"),
    );
    d.wait_ready(addr, "/health");
    (d, addr)
}

/// The alerts of a generated rule file: (name, expr).
/// Each alert's expression, with the records it reads that its group
/// writes at each evaluation (its candidates, `vigie:candidates:...`, and
/// the values now, `..._now`) written out as their recording expressions:
/// a query sees what the alert sees, with no ruler running.
fn alert_exprs(rules: &Path) -> Vec<(String, String)> {
    let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(rules).unwrap()).unwrap();
    let rules: Vec<&Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .collect();
    // The records an alert's group writes before it: its candidates
    // first (they read the values now), then the values now.
    let mut now: Vec<(&str, &str)> = rules
        .iter()
        .filter_map(|r| Some((r["record"].as_str()?, r["expr"].as_str()?)))
        .filter(|(name, _)| name.ends_with("_now") || name.starts_with("vigie:candidates:"))
        .collect();
    now.sort_by_key(|(name, _)| name.ends_with("_now"));
    rules
        .iter()
        .filter_map(|r| Some((r["alert"].as_str()?, r["expr"].as_str()?)))
        .map(|(alert, expr)| {
            let mut expr = expr.to_string();
            for (name, value) in &now {
                // NAME{selector} -> (value)
                while let Some(at) = expr.find(&format!("{name}{{")) {
                    let end = at + expr[at..].find('}').unwrap() + 1;
                    expr.replace_range(at..end, &format!("({value})"));
                }
            }
            (alert.to_string(), expr)
        })
        .collect()
}

/// MetricsQL's `delta` (and `increase`) assume a series that starts inside
/// the window started from 0 when its first value is under ten times its
/// next change: a disk that has had 8 offline-uncorrectable sectors for
/// years, new to the database, "grew by 8". The growth alerts must not
/// fire on such a counter, on VictoriaMetrics as on Prometheus, and must
/// fire on one that grew.
#[test]
fn a_small_constant_smart_counter_is_not_growing_on_victoriametrics() {
    let Some(bin) = tool("victoria-metrics") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_vm, vm) = victoria_metrics(&bin, dir.path());
    // Ten minutes of samples every 15 s, ending now: on disk STEADY every
    // counter sits at a small value; on disk GROWN each rises by one two
    // minutes ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let metrics = [
        "vigie_smart_reallocated_sectors",
        "vigie_smart_pending_sectors",
        "vigie_smart_offline_uncorrectable",
        "vigie_smart_nvme_media_errors",
        "vigie_smart_scsi_grown_defects",
        "vigie_smart_error_log_entries",
    ];
    let mut body = String::new();
    for i in 0..=40u64 {
        let t = now - (40 - i) * 15;
        for m in metrics {
            let grown = 8 + u64::from(i >= 32);
            body.push_str(&format!(
                "{m}{{job=\"vigie\",instance=\"h:9\",serial=\"STEADY\"}} 8 {}\n\
                 {m}{{job=\"vigie\",instance=\"h:9\",serial=\"GROWN\"}} {grown} {}\n",
                t * 1000,
                t * 1000
            ));
        }
    }
    import(vm, &body);

    let growing: Vec<(String, String)> = alert_exprs(&repo("rules/vigie-rules.yaml"))
        .into_iter()
        .filter(|(name, _)| name.ends_with("Growing") && name != "VigieFilesystemFillingUp")
        .collect();
    assert_eq!(growing.len(), metrics.len(), "{growing:?}");
    for (name, expr) in growing {
        let deadline = Instant::now() + Duration::from_secs(15);
        let serials = loop {
            let r = query_at(vm, &expr, Some(now));
            let serials: Vec<String> = r
                .iter()
                .map(|(l, _)| l["serial"].as_str().unwrap().to_string())
                .collect();
            if !serials.is_empty() || Instant::now() > deadline {
                break serials;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        assert_eq!(serials, ["GROWN"], "{name}: {expr}");
    }
}

/// Writes samples (Prometheus text format with timestamps) into
/// victoria-metrics through its import API.
fn import(vm: SocketAddr, body: &str) {
    let mut s = TcpStream::connect(vm).unwrap();
    s.write_all(
        format!(
            "POST /api/v1/import/prometheus HTTP/1.1\r\nHost: {vm}\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
}

/// The fill forecast (a lowest value over a day, divided by the fall of
/// the day's highest value between two windows, one `offset` 3 days back,
/// each read through the long extremes the rules record from their
/// summaries, and the raw last 15 minutes) gives on VictoriaMetrics the exact days a steady fall leaves,
/// and `absent` the labels Prometheus gives it.
#[test]
fn the_fill_forecast_and_absent_read_the_same_on_victoriametrics() {
    let Some(bin) = tool("victoria-metrics") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_vm, vm) = victoria_metrics(&bin, dir.path());
    // Five days, a sample every 5 minutes: 10 GB, 5 GB free at first,
    // 1 MB less every 5 minutes.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 300
        * 300
        - 300;
    let steps = 5 * 288u64;
    let labels = "job=\"vigie\",instance=\"h:9\",mountpoint=\"/srv\",device=\"/dev/sdb1\"";
    let mut body = String::new();
    for i in 0..=steps {
        let t = (now - (steps - i) * 300) * 1000;
        let avail = 5_000_000_000 - i * 1_000_000;
        body.push_str(&format!(
            "vigie_filesystem_avail_bytes{{{labels}}} {avail} {t}\n\
             vigie_filesystem_size_bytes{{{labels}}} 10000000000 {t}\n"
        ));
    }
    // What the rules' summary group would have recorded every 10 minutes
    // (the alerts read the long windows through it): the lowest and
    // highest of the samples in the 15 minutes before, (r - 15m, r]; then
    // from those, the day's (26 h) lowest and highest, each with the raw
    // last 15 minutes, and the high again once a summary is older than
    // half the day.
    let start = now - steps * 300;
    let avail_at = |t: u64| 5_000_000_000 - (t - start) / 300 * 1_000_000;
    let day = 26 * 3600;
    let first = start + 900;
    for r in (first..=now).step_by(600) {
        let t = r * 1000;
        // The summaries in (r - 26h, r]: the oldest one's high is the
        // highest (free space only falls), the newest one's low the
        // lowest (the raw tail's, the sample at r).
        let oldest = (first..=r).step_by(600).find(|q| *q + day > r).unwrap();
        let settled = oldest + day / 2 <= r;
        body.push_str(&format!(
            "vigie_filesystem_avail_bytes:min_over_time_15m{{{labels}}} {} {t}\n\
             vigie_filesystem_avail_bytes:max_over_time_15m{{{labels}}} {} {t}\n\
             vigie_filesystem_avail_bytes:min_over_time_26h{{{labels}}} {} {t}\n\
             vigie_filesystem_avail_bytes:max_over_time_26h{{{labels}}} {} {t}\n",
            avail_at(r),
            avail_at(r - 600),
            avail_at(r),
            avail_at(oldest - 600),
        ));
        if settled {
            body.push_str(&format!(
                "vigie_filesystem_avail_bytes:max_over_time_26h_settled{{{labels}}} {} {t}\n",
                avail_at(oldest - 600),
            ));
        }
    }
    import(vm, &body);
    let (_, expr) = alert_exprs(&repo("rules/vigie-rules.yaml"))
        .into_iter()
        .find(|(name, _)| name == "VigieFilesystemFillingUp")
        .unwrap();
    // The alert's value without its threshold: days until full (among
    // its candidates, under the control plane's looser 14 days).
    let days = expr.rsplit_once(" < ").unwrap().0;
    let left = 5_000_000_000.0 - steps as f64 * 1_000_000.0;
    let want = left / (1_000_000.0 / 300.0) / 86400.0;
    let deadline = Instant::now() + Duration::from_secs(15);
    let r = loop {
        let r = query_at(vm, days, Some(now));
        if !r.is_empty() || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(r.len(), 1, "{days}: {r:?}");
    assert!((r[0].1 - want).abs() < 1e-9, "{} days, not {want}", r[0].1);
    assert_eq!(r[0].0["mountpoint"], "/srv");
    // absent() of the selector: {job="vigie"}, as in Prometheus.
    let r = query_at(vm, "absent(up{job=\"vigie\"})", Some(now));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, serde_json::json!({"job": "vigie"}));
}

/// What vmalert's notifier sends: Alertmanager's `POST /api/v2/alerts`, a
/// JSON array of alerts. The receiver records every alert it is sent.
pub(crate) struct AlertReceiver {
    pub(crate) addr: SocketAddr,
    got: Arc<Mutex<Vec<Value>>>,
}

impl AlertReceiver {
    pub(crate) fn start() -> AlertReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let sink = sink.clone();
                std::thread::spawn(move || receive(conn, &sink));
            }
        });
        AlertReceiver { addr, got }
    }

    fn received(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }
}

/// Serves one connection (keep-alive: several requests) of the receiver.
fn receive(conn: TcpStream, sink: &Mutex<Vec<Value>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let Some((method, path, body)) = crate::common::read_request(&mut reader) else {
            return;
        };
        let ok = method == "POST" && path == "/api/v2/alerts";
        if ok && let Ok(Value::Array(alerts)) = serde_json::from_slice(&body) {
            sink.lock().unwrap().extend(alerts);
        }
        let status = if ok { "200 OK" } else { "404 Not Found" };
        if conn
            .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
            .is_err()
        {
            return;
        }
    }
}

/// The labels that tell one alert from another.
const KEY: [&str; 6] = [
    "alertname",
    "severity",
    "instance",
    "mountpoint",
    "serial",
    "resolver",
];

fn key(labels: &Value) -> String {
    KEY.iter()
        .map(|k| labels[*k].as_str().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Firing alerts of an `/api/v1/alerts` answer (Prometheus' or vmalert's),
/// by key, with their summary.
pub(crate) fn firing(addr: SocketAddr) -> Vec<(String, String)> {
    let body = get(addr, "/api/v1/alerts").body;
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let mut out: Vec<(String, String)> = v["data"]["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| {
            (
                key(&a["labels"]),
                a["annotations"]["summary"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Alerts whose summary does not move while the test runs (no free space
/// or latency in it), so Prometheus' and vmalert's texts can be compared.
fn stable_summary(key: &str) -> bool {
    !key.starts_with("VigieControlPlaneFilesystem")
        && !key.starts_with("VigieFilesystem")
        && !key.starts_with("VigieDns")
        && !key.starts_with("VigieSwap")
}

/// Thresholds for the end-to-end test: the shipped defaults, but no `for:`
/// on the filesystem alerts, and the control-plane level set so high that
/// the fixture's control-plane filesystem (the real disk under the
/// temporary directory) alerts: its summary runs the `query` and
/// `humanize1024` template functions. The other filesystems, on the same
/// real disk, stay under the generic 5% level: they must not alert.
const E2E_THRESHOLDS: &str = "\
filesystems:
  free_percent: {warning: 5, critical: 2, for: 0s}
  free_percent_floor: {warning: 1125899906842624, critical: 1125899906842624}
  readonly: {for: 0s}
  roles:
    control-plane:
      free_percent: {warning: 99, critical: 1, for: 0s}
";

/// vmagent scrapes vigie on the fixture host (a read-only /data holding the
/// control-plane path, a reboot pending since 2026-09-21, a failing NVMe
/// disk with media errors, dnsmasq as a resolver) and remote-writes to
/// victoria-metrics; vmalert evaluates the generated rules there and
/// notifies a webhook. Prometheus scrapes the same vigie with the same
/// rules: both fire the same alerts with the same texts, and every panel
/// query of both shipped dashboards returns the same series from
/// VictoriaMetrics as from Prometheus.
#[test]
fn the_victoriametrics_stack_fires_what_prometheus_fires() {
    let (Some(vm_bin), Some(vmagent_bin), Some(vmalert_bin)) =
        (tool("victoria-metrics"), tool("vmagent"), tool("vmalert"))
    else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s);
    let thresholds = d("thresholds.yaml");
    std::fs::write(&thresholds, E2E_THRESHOLDS).unwrap();
    gen_rules(&thresholds, &d("rules"));
    let rules = d("rules/vigie-rules.yaml");

    let dns = crate::dns::Dnsmasq::start();
    let resolver = format!("--collector.dns.resolver={}", dns.addr);
    let (_host, _disks, v) = crate::common::vigie_on_fixture_host_with(&[
        &resolver,
        "--collector.dns.interval=1s",
        "--collector.dns.query=vigie.test:MX",
    ]);
    let instance = v.addr.to_string();

    let (_vm_d, vm) = victoria_metrics(&vm_bin, dir.path());

    let agent_d = vmagent(&vmagent_bin, dir.path(), v.addr, vm);

    let receiver = AlertReceiver::start();
    let (alert_d, alert) = vmalert(&vmalert_bin, dir.path(), &rules, vm, receiver.addr);

    let prom = Prometheus::start(&[v.addr], &[&rules]);

    // The alerts the fixture host must raise reach the webhook.
    let want = [
        format!("VigieFilesystemReadOnly critical {instance} /data  "),
        format!("VigieRebootRequired critical {instance}   "),
        format!("VigieRebootRequired warning {instance}   "),
        format!("VigieNvmeMediaErrors critical {instance}  VTN0001 "),
        format!("VigieControlPlaneFilesystemAlmostFull warning {instance} /data  "),
        "VigieWatchdog none    ".to_string(),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let received = loop {
        let got = receiver.received();
        let keys: BTreeSet<String> = got.iter().map(|a| key(&a["labels"])).collect();
        if want.iter().all(|w| keys.contains(w)) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "after 60 s the webhook has {keys:#?}\nvmalert:\n{}\nvmagent:\n{}",
            alert_d.log_tail(),
            agent_d.log_tail()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // Every notification names its alert and says what is wrong.
    for a in &received {
        let summary = a["annotations"]["summary"].as_str().unwrap_or("");
        assert!(
            !summary.is_empty() && !summary.contains("<no value>"),
            "{a}"
        );
    }
    // The `query` and `humanize1024` template functions ran in vmalert.
    let cp = received
        .iter()
        .find(|a| a["labels"]["alertname"] == "VigieControlPlaneFilesystemAlmostFull")
        .unwrap();
    let summary = cp["annotations"]["summary"].as_str().unwrap();
    let free = summary
        .split(" (")
        .nth(1)
        .and_then(|s| s.strip_suffix("B free now)."))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(
        free.ends_with("Gi") || free.ends_with("Ti") || free.ends_with("Mi"),
        "{summary}"
    );
    // The steady filesystems of the fixture (/ and /srv/backup disk, well
    // above the generic 5%) raise nothing, and constant SMART counters are
    // not "growing" (MetricsQL's delta takes no extrapolation).
    let keys: BTreeSet<String> = received.iter().map(|a| key(&a["labels"])).collect();
    for k in &keys {
        assert!(
            !k.contains(&format!(" {instance} / ")) && !k.contains("/srv/backup disk"),
            "{k}"
        );
        assert!(!k.contains("Growing"), "{k}");
    }

    // Prometheus fires the same alerts (same labels) with the same texts.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = firing(prom.addr);
        let m = firing(alert);
        let pk: BTreeSet<&String> = p.iter().map(|(k, _)| k).collect();
        let mk: BTreeSet<&String> = m.iter().map(|(k, _)| k).collect();
        if pk == mk {
            let ps: Vec<&(String, String)> = p.iter().filter(|(k, _)| stable_summary(k)).collect();
            let ms: Vec<&(String, String)> = m.iter().filter(|(k, _)| stable_summary(k)).collect();
            assert_eq!(ps, ms, "summaries differ");
            assert!(ps.len() >= 5, "{ps:#?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus and vmalert disagree:\nonly Prometheus: {:#?}\nonly vmalert: {:#?}",
            pk.difference(&mk).collect::<Vec<_>>(),
            mk.difference(&pk).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // The dashboards, through VictoriaMetrics' query API: once rates have
    // samples and vmalert's ALERTS series arrived.
    let wait_vm = |promql: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while query(vm, promql).is_empty() {
            assert!(Instant::now() < deadline, "{promql}: nothing after 30 s");
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    wait_vm("count_over_time(vigie_dns_probe_success[1m]) >= 3");
    wait_vm("increase(vigie_dns_probe_latency_seconds_count[1m]) > 0");
    let series = |addr: SocketAddr, e: &str| -> BTreeSet<String> {
        query(addr, e)
            .into_iter()
            // Prometheus returns NaN samples (a latency quantile of a
            // resolver with no answered probe: every bucket's rate is 0);
            // MetricsQL drops them. Grafana draws neither.
            .filter(|(_, v)| !v.is_nan())
            .map(|(mut l, _)| {
                // MetricsQL keeps the metric name where PromQL drops it
                // (min_over_time, max_over_time): not a difference a panel
                // sees.
                l.as_object_mut().unwrap().remove("__name__");
                l.to_string()
            })
            .collect()
    };
    // vmalert writes its ALERTS series through remote write, a flush
    // behind Prometheus' own.
    let firing_series = "ALERTS{alertstate=\"firing\"}";
    let deadline = Instant::now() + Duration::from_secs(30);
    while series(vm, firing_series) != series(prom.addr, firing_series) {
        assert!(
            Instant::now() < deadline,
            "ALERTS differ after 30 s:\nVictoriaMetrics: {:#?}\nPrometheus: {:#?}",
            series(vm, firing_series),
            series(prom.addr, firing_series)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in ["vigie-fleet.json", "vigie-host.json"] {
        let dash: Value =
            serde_json::from_str(&std::fs::read_to_string(repo("dashboards").join(file)).unwrap())
                .unwrap();
        for var in dash["templating"]["list"].as_array().unwrap() {
            if var["type"] == "query" {
                let label = var["name"].as_str().unwrap();
                let body = get(
                    vm,
                    &format!("/api/v1/label/{label}/values?match[]=vigie_build_info"),
                )
                .body;
                let want = if label == "job" { "vigie" } else { &instance };
                assert!(body.contains(want), "{label}: {body}");
            }
        }
        for p in crate::dashboards::panels(&dash) {
            for tg in p["targets"].as_array().unwrap() {
                let e = crate::dashboards::substitute(tg["expr"].as_str().unwrap(), &instance);
                checked += 1;
                let on_vm = series(vm, &e);
                let on_prom = series(prom.addr, &e);
                if on_vm.is_empty() || on_vm != on_prom {
                    failures.push(format!(
                        "{file}: {}: {e}\n  VictoriaMetrics: {on_vm:?}\n  Prometheus: {on_prom:?}",
                        p["title"]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "panel queries that differ on VictoriaMetrics:\n{}",
        failures.join("\n\n")
    );
    assert!(checked > 60, "{checked} queries");
    eprintln!(
        "VictoriaMetrics end to end: {} alerts, {checked} panel queries, {:.0?}",
        keys.len(),
        started.elapsed()
    );
}
