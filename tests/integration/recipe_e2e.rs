//! The README's "From zero to alerts" recipe, run for real: the shipped
//! `deploy/prometheus/prometheus.yml` and `rules/vigie-rules.yaml` in real
//! Prometheus, scraping the real binary on the fixture host (disks with
//! pre-fail counters, a failing NVMe), and the shipped
//! `deploy/alertmanager.yml` in two real Alertmanagers, one at night and one
//! in the day, delivering to a webhook receiver the test runs.
//!
//! What the test changes in the shipped files, and nothing else: in
//! prometheus.yml the rules path, the file_sd path and the Alertmanager
//! address; in alertmanager.yml the receivers' URLs. Each must be found, so
//! a file that drifts from the recipe fails here.
//!
//! Making "night" deterministic: Alertmanager reads the `location:` of the
//! `night` time interval (Europe/Paris) through Go's time package, which
//! looks in the directory named by `ZONEINFO` first. The test writes there a
//! one-rule zone file under that name whose UTC offset makes it 03:MM (night)
//! for one Alertmanager and 13:MM (day) for the other, whatever the real time.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::common::{free_port, get, vigie_on_fixture_host};
use crate::prometheus::Prometheus;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `text` with `from` replaced by `to`; `from` must occur exactly once.
fn replace_once(text: &str, from: &str, to: &str, file: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "{file} must contain {from:?} exactly once (the README recipe relies on it)"
    );
    text.replace(from, to)
}

/// One notification received by the webhook.
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    /// Which Alertmanager sent it ("night" or "day").
    am: String,
    /// The receiver of alertmanager.yml it was meant for.
    receiver: String,
    at: Instant,
    /// (alertname, severity, instance) of each alert in it, with its status.
    pub(crate) alerts: Vec<(String, String, String, String)>,
}

/// A webhook receiver on loopback: every POST to /RECEIVER/AM is recorded.
pub(crate) struct Webhook {
    pub(crate) addr: SocketAddr,
    got: Arc<Mutex<Vec<Notification>>>,
}

impl Webhook {
    pub(crate) fn start() -> Webhook {
        Webhook::answering_after(Duration::ZERO)
    }

    /// A webhook that records each notification when it arrives and answers
    /// `delay` later: a slow receiver (a dead-man's-switch service far
    /// away, a send that Alertmanager had to retry).
    pub(crate) fn answering_after(delay: Duration) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let Some((_, path, body)) = crate::common::read_request(&mut reader) else {
                        return;
                    };
                    let at = Instant::now();
                    let v: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    let mut parts = path.trim_start_matches('/').splitn(2, '/');
                    let receiver = parts.next().unwrap_or("").to_string();
                    let am = parts.next().unwrap_or("").to_string();
                    let alerts = v["alerts"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|a| {
                                    let l =
                                        |k: &str| a["labels"][k].as_str().unwrap_or("").to_string();
                                    (
                                        l("alertname"),
                                        l("severity"),
                                        l("instance"),
                                        a["status"].as_str().unwrap_or("").to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    sink.lock().unwrap().push(Notification {
                        am,
                        receiver,
                        at,
                        alerts,
                    });
                    std::thread::sleep(delay);
                    let mut conn = conn;
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
        Webhook { addr, got }
    }

    pub(crate) fn received(&self) -> Vec<Notification> {
        self.got.lock().unwrap().clone()
    }
}

/// A zone file (TZif, version 1) with one fixed UTC offset and no
/// transitions: what Go's time.LoadLocation reads for a zone name.
fn tzif(utc_offset_seconds: i32) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"TZif");
    f.push(0); // version 1
    f.extend_from_slice(&[0; 15]);
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for n in [0u32, 0, 0, 0, 1, 4] {
        f.extend_from_slice(&n.to_be_bytes());
    }
    f.extend_from_slice(&utc_offset_seconds.to_be_bytes());
    f.push(0); // not DST
    f.push(0); // abbreviation index
    f.extend_from_slice(b"TST\0");
    f
}

/// The whole-hour UTC offset (within -11..=12 h) that makes the local hour
/// `hour` now.
fn offset_for_local_hour(hour: i64) -> i32 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let utc_hour = (now / 3600) % 24;
    let mut h = (hour - utc_hour).rem_euclid(24);
    if h > 12 {
        h -= 24;
    }
    (h * 3600) as i32
}

/// A real Alertmanager (Debian's prometheus-alertmanager) on `config`, with
/// Go's zone database taken from `zoneinfo`. Killed when dropped.
pub(crate) struct Alertmanager {
    child: Child,
    pub(crate) addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    pub(crate) fn start(config: &str, zoneinfo: &Path) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new("prometheus-alertmanager")
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            // A single instance: no gossip port, no peers.
            .arg("--cluster.listen-address=")
            .env("ZONEINFO", zoneinfo)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prometheus-alertmanager must be installed (scripts/test installs it)");
        let mut am = Alertmanager {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() || get(addr, "/-/ready").status != 200 {
            if let Ok(Some(st)) = am.child.try_wait() {
                let mut err = String::new();
                am.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("alertmanager exited ({st}): {err}");
            }
            assert!(Instant::now() < deadline, "alertmanager not ready in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        am
    }

    /// (alertname, severity) of the alerts it holds, active or muted.
    fn alerts(&self) -> Vec<(String, String)> {
        let body = get(self.addr, "/api/v2/alerts").body;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let l = |k: &str| a["labels"][k].as_str().unwrap_or("").to_string();
                (l("alertname"), l("severity"))
            })
            .collect()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// deploy/alertmanager.yml with every receiver URL pointed at the webhook
/// (`/RECEIVER/AM`). Returns the config and the receivers' names.
fn alertmanager_config(webhook: SocketAddr, am: &str) -> (String, Vec<String>) {
    let shipped = std::fs::read_to_string(repo("deploy/alertmanager.yml")).unwrap();
    let mut out = String::new();
    let mut in_receivers = false;
    let mut receiver = String::new();
    let mut receivers = Vec::new();
    let mut urls = 0;
    for line in shipped.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty() {
            in_receivers = line == "receivers:";
        }
        let t = line.trim_start();
        if in_receivers && let Some(name) = t.strip_prefix("- name: ") {
            receiver = name.trim().to_string();
            receivers.push(receiver.clone());
        }
        if in_receivers
            && !t.starts_with('#')
            && let Some(i) = line.find("url: ")
        {
            out.push_str(&line[..i + 5]);
            out.push_str(&format!("http://{webhook}/{receiver}/{am}\n"));
            urls += 1;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(
        urls >= receivers.len() && urls >= 2,
        "every receiver of deploy/alertmanager.yml must have a URL to replace"
    );
    (out, receivers)
}

/// The `location:` of the night interval in deploy/alertmanager.yml.
fn night_location() -> String {
    let shipped = std::fs::read_to_string(repo("deploy/alertmanager.yml")).unwrap();
    let locs: Vec<&str> = shipped
        .lines()
        .filter_map(|l| l.trim().strip_prefix("location: "))
        .collect();
    assert_eq!(locs.len(), 1, "one location in deploy/alertmanager.yml");
    locs[0].trim().to_string()
}

/// A ZONEINFO directory where `location` is `offset` seconds from UTC.
fn zoneinfo(location: &str, offset: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(location);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, tzif(offset)).unwrap();
    dir
}

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn shipped_prometheus_and_alertmanager_configs_deliver_criticals_at_night_and_warnings_in_the_day()
{
    for (tool, package) in [
        ("prometheus", "prometheus"),
        ("prometheus-alertmanager", "prometheus-alertmanager"),
    ] {
        assert!(
            Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "{tool} must be installed (scripts/test installs Debian's {package})"
        );
    }
    let webhook = Webhook::start();
    let (_host, _disks, vigie) = vigie_on_fixture_host();

    let location = night_location();
    let night_tz = zoneinfo(&location, offset_for_local_hour(3));
    let day_tz = zoneinfo(&location, offset_for_local_hour(13));
    let (night_cfg, receivers) = alertmanager_config(webhook.addr, "night");
    let (day_cfg, _) = alertmanager_config(webhook.addr, "day");
    assert!(receivers.contains(&"admins".to_string()), "{receivers:?}");
    assert!(
        receivers.contains(&"deadmansswitch".to_string()),
        "{receivers:?}"
    );
    let night = Alertmanager::start(&night_cfg, night_tz.path());
    let day = Alertmanager::start(&day_cfg, day_tz.path());

    // Prometheus on the shipped file: rules, targets and Alertmanagers are
    // the only things moved.
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("vigie-targets.yml");
    std::fs::write(&targets, format!("- targets: ['{}']\n", vigie.addr)).unwrap();
    let file = "deploy/prometheus/prometheus.yml";
    let shipped = std::fs::read_to_string(repo(file)).unwrap();
    let cfg = replace_once(
        &shipped,
        "/usr/share/vigie/vigie-rules.yaml",
        repo("rules/vigie-rules.yaml").to_str().unwrap(),
        file,
    );
    let cfg = replace_once(
        &cfg,
        "/etc/prometheus/file_sd/vigie.yml",
        targets.to_str().unwrap(),
        file,
    );
    let cfg = replace_once(
        &cfg,
        "['localhost:9093']",
        &format!("['{}', '{}']", night.addr, day.addr),
        file,
    );
    std::fs::write(dir.path().join("prometheus.yml"), &cfg).unwrap();
    let check = Command::new("promtool")
        .args(["check", "config"])
        .arg(dir.path().join("prometheus.yml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let _prom = Prometheus::with_config(&dir.path().join("prometheus.yml"));

    let started = Instant::now();
    let got = |am: &str, receiver: &str, alert: &str, severity: &str| {
        webhook
            .received()
            .into_iter()
            .filter(|n| n.am == am && n.receiver == receiver)
            .filter(|n| {
                n.alerts
                    .iter()
                    .any(|(a, s, _, st)| a == alert && s == severity && st == "firing")
            })
            .collect::<Vec<_>>()
    };
    // Scrape and evaluation every 15 s (the shipped global), group_wait 30 s.
    wait_until("a critical alert delivered at night", 120, || {
        !got("night", "admins", "VigieDiskFailing", "critical").is_empty()
    });
    wait_until("the warning delivered in the day", 60, || {
        !got("day", "admins", "VigieDiskPendingSectors", "warning").is_empty()
    });
    // The night Alertmanager holds that warning (it is there, not sent).
    assert!(
        night
            .alerts()
            .contains(&("VigieDiskPendingSectors".into(), "warning".into())),
        "{:?}",
        night.alerts()
    );
    // The watchdog pings the dead-man's switch once a minute: wait for two
    // pings after this point (a CI machine under load can stall anything
    // for a while: up to 3 minutes) and check their spacing.
    let before = got("night", "deadmansswitch", "VigieWatchdog", "none").len();
    let deadline = Instant::now() + Duration::from_secs(180);
    while got("night", "deadmansswitch", "VigieWatchdog", "none").len() < before + 2 {
        assert!(
            Instant::now() < deadline,
            "two more watchdog pings not within 180 s of +{}s; notifications: {}",
            started.elapsed().as_secs(),
            timeline(&webhook, started)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let pings = got("night", "deadmansswitch", "VigieWatchdog", "none");
    let gap = pings[before + 1].at - pings[before].at;
    assert!(
        gap >= Duration::from_secs(50) && gap <= Duration::from_secs(75),
        "watchdog pings {gap:?} apart, expected about 1m; notifications: {}",
        timeline(&webhook, started)
    );

    let all = webhook.received();
    // At night, no warning left the night Alertmanager.
    let night_warnings: Vec<_> = all
        .iter()
        .filter(|n| n.am == "night")
        .flat_map(|n| n.alerts.iter())
        .filter(|(_, s, _, _)| s == "warning")
        .collect();
    assert!(night_warnings.is_empty(), "{night_warnings:?}");
    // Every alert about a host names it without the port (the shipped
    // relabelling; the watchdog has no instance).
    let instances: BTreeMap<&str, usize> = all
        .iter()
        .flat_map(|n| n.alerts.iter())
        .filter(|(_, _, i, _)| !i.is_empty())
        .fold(BTreeMap::new(), |mut m, (_, _, i, _)| {
            *m.entry(i.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        instances.keys().copied().collect::<Vec<_>>(),
        vec!["127.0.0.1"],
        "{instances:?}"
    );
    eprintln!(
        "recipe e2e: {} notifications in {:?}: {}",
        all.len(),
        started.elapsed(),
        timeline(&webhook, started)
    );
}

/// Every notification the webhook received, with its time since `started`.
fn timeline(webhook: &Webhook, started: Instant) -> String {
    format!(
        "{:?}",
        webhook
            .received()
            .iter()
            .map(|n| format!(
                "+{}s {}/{} {:?}",
                n.at.saturating_duration_since(started).as_secs(),
                n.am,
                n.receiver,
                n.alerts
            ))
            .collect::<Vec<_>>()
    )
}

/// The README's "From zero to alerts" section: its code blocks.
fn recipe() -> String {
    let readme = read("README.md");
    let start = readme
        .find("\n## From zero to alerts")
        .expect("README has a \"From zero to alerts\" section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_string()
}

#[test]
fn readme_recipe_installs_the_shipped_files_where_the_configs_expect_them() {
    let recipe = recipe();
    // Every example the recipe copies from the package exists in deploy/,
    // which scripts/build-deb installs under /usr/share/doc/vigie/examples/.
    let examples = "/usr/share/doc/vigie/examples/";
    let mut copied = Vec::new();
    for line in recipe.lines().filter(|l| l.contains(" install ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(src) = words.iter().find(|w| w.starts_with(examples)) {
            let rel = src.trim_start_matches(examples);
            assert!(
                repo("deploy").join(rel).is_file(),
                "{line}: no deploy/{rel}"
            );
            copied.push((rel.to_string(), words.last().unwrap().to_string()));
        }
    }
    let dest = |rel: &str| -> String {
        copied
            .iter()
            .find(|(r, _)| r == rel)
            .unwrap_or_else(|| panic!("the recipe does not install {rel}: {copied:?}"))
            .1
            .clone()
    };
    // Debian's own paths for Prometheus and Alertmanager.
    assert_eq!(
        dest("prometheus/prometheus.yml"),
        "/etc/prometheus/prometheus.yml"
    );
    assert_eq!(dest("alertmanager.yml"), "/etc/prometheus/alertmanager.yml");
    // prometheus.yml reads the targets where the recipe puts them, and the
    // rules where the package installs them.
    let prom = read("deploy/prometheus/prometheus.yml");
    let targets = dest("prometheus/vigie-targets.yml");
    assert!(prom.contains(&format!("files: [{targets}]")), "{targets}");
    assert!(prom.contains("\n  - /usr/share/vigie/vigie-rules.yaml\n"));
    assert!(prom.contains("targets: ['localhost:9093']"));
    // Grafana reads the dashboards the package installs.
    assert!(
        dest("grafana/vigie-dashboards.yaml").starts_with("/etc/grafana/provisioning/dashboards/")
    );
    assert!(
        read("deploy/grafana/vigie-dashboards.yaml")
            .contains("path: /usr/share/vigie/dashboards\n")
    );
    // The recipe checks what it installs, and reloads.
    for cmd in [
        "promtool check config /etc/prometheus/prometheus.yml",
        "amtool check-config /etc/prometheus/alertmanager.yml",
        "systemctl reload prometheus",
    ] {
        assert!(recipe.contains(cmd), "the recipe lacks `{cmd}`");
    }
}

/// The dead-man's switch is pinged every minute even when each ping takes
/// its receiver 20 s to answer: Alertmanager sends a repeat at a
/// group_interval tick only if repeat_interval has passed since the last
/// send *ended*, so a repeat_interval just under the 1-minute tick skipped
/// every other tick as soon as a send took longer than the difference, and
/// the switch saw 2-minute gaps (a false "monitoring is dead" page for a
/// tight grace period).
#[test]
fn a_slow_dead_mans_switch_is_still_pinged_every_minute() {
    let webhook = Webhook::answering_after(Duration::from_secs(20));
    let zones = zoneinfo(&night_location(), 0);
    let (config, _) = alertmanager_config(webhook.addr, "am");
    let am = Alertmanager::start(&config, zones.path());
    let started = Instant::now();
    // The watchdog, firing (without an end, Alertmanager holds it for its
    // resolve_timeout, 5 minutes: longer than the test).
    let out = Command::new("amtool")
        .args([
            "alert",
            "add",
            "alertname=VigieWatchdog",
            "severity=none",
            &format!("--alertmanager.url=http://{}", am.addr),
        ])
        .output()
        .expect("amtool must be installed (scripts/test installs it)");
    assert!(out.status.success(), "amtool alert add: {out:?}");
    let pings = || {
        webhook
            .received()
            .into_iter()
            .filter(|n| n.receiver == "deadmansswitch")
            .collect::<Vec<_>>()
    };
    // The first ping leaves at once (group_wait 0s), the next at the
    // following 1-minute tick; a skipped tick would make it 2 minutes.
    let deadline = Instant::now() + Duration::from_secs(110);
    while pings().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "a second ping not within 110 s: the slow first send made Alertmanager skip a tick; \
             notifications: {}",
            timeline(&webhook, started)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let p = pings();
    let gap = p[1].at - p[0].at;
    assert!(
        gap <= Duration::from_secs(75),
        "pings {gap:?} apart with a 20 s receiver, expected about 1m; notifications: {}",
        timeline(&webhook, started)
    );
}
