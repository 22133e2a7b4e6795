//! Real Prometheus (Debian's package) scrapes the real binary on the fixture
//! root: every collector's series arrive, with the values of the fixtures,
//! and the units that only OpenMetrics carries (Prometheus asks for
//! OpenMetrics first, so this exercises that encoder against Prometheus' own
//! parser).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, get};

/// A Prometheus server on a loopback port, scraping `targets` every second.
/// Killed when dropped.
pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// The label sets of the alerts firing now (`/api/v1/alerts`), each as
    /// the values of `keys` ("" for a label the alert lacks).
    pub fn firing(&self, keys: &[&str]) -> Vec<Vec<String>> {
        let body = get(self.addr, "/api/v1/alerts").body;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "firing")
            .map(|a| {
                keys.iter()
                    .map(|k| a["labels"][*k].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .collect()
    }

    pub fn start(targets: &[SocketAddr], rule_files: &[&Path]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let rules: Vec<String> = rule_files
            .iter()
            .map(|r| format!("'{}'", r.display()))
            .collect();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: [{}]\n\
             scrape_configs:\n  - job_name: vigie\n    static_configs: [{{targets: [{}]}}]\n",
            rules.join(", "),
            targets.join(", ")
        );
        let file = dir.path().join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        Prometheus::spawn(&file, dir)
    }

    /// A Prometheus server on the configuration file `config` (written by
    /// the caller), on a loopback port, its data in a temporary directory.
    pub fn with_config(config: &Path) -> Prometheus {
        Prometheus::spawn(config, tempfile::tempdir().unwrap())
    }

    /// Starts Prometheus on `config` with its data under `dir`, and waits
    /// until it is ready.
    fn spawn(config: &Path, dir: tempfile::TempDir) -> Prometheus {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "prometheus must be installed (scripts/test installs Debian's prometheus package)",
            );
        let p = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(p.addr).is_err() || get(p.addr, "/-/ready").status != 200
        {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    /// `/api/v1/query` for an instant vector: (labels JSON, value) pairs.
    pub fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        query(self.addr, promql)
    }

    /// Polls `promql` until `ok` holds on its result (at most 30 s).
    pub fn wait_for(
        &self,
        promql: &str,
        ok: impl Fn(&[(serde_json::Value, f64)]) -> bool,
    ) -> Vec<(serde_json::Value, f64)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.query(promql);
            if ok(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "{promql}: still {r:?} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/api/v1/query` for an instant vector on any server with Prometheus'
/// query API (Prometheus, VictoriaMetrics): (labels JSON, value) pairs.
pub fn query(addr: SocketAddr, promql: &str) -> Vec<(serde_json::Value, f64)> {
    query_at(addr, promql, None)
}

/// [`query`] at a given time (Unix seconds) instead of now.
pub fn query_at(
    addr: SocketAddr,
    promql: &str,
    time: Option<u64>,
) -> Vec<(serde_json::Value, f64)> {
    let at = time.map(|t| format!("&time={t}")).unwrap_or_default();
    let r = get(addr, &format!("/api/v1/query?query={}{at}", encode(promql)));
    let v: serde_json::Value =
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    assert_eq!(v["status"], "success", "{promql}: {}", r.body);
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].clone(),
                s["value"][1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Percent-encoding for a query string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_every_collector() {
    let (_dir, _disks, v) = crate::common::vigie_on_fixture_host();
    // The shipped rules too: every one must evaluate against real series.
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/vigie-rules.yaml");
    let prom = Prometheus::start(&[v.addr], &[&rules]);
    prom.wait_for("up{job=\"vigie\"}", |r| r.len() == 1 && r[0].1 == 1.0);
    // Every collector reports success.
    let ok = prom.wait_for("vigie_collector_success == 1", |r| {
        r.len() == vigie::collect::ALL.len()
    });
    assert_eq!(ok.len(), 5, "{ok:?}");
    // Values from the fixtures, through Prometheus.
    assert_eq!(prom.query("vigie_boot_time_seconds")[0].1, 1_776_153_600.0);
    let r = prom.wait_for(
        "vigie_smart_reallocated_sectors{serial=\"VT4000A1\"}",
        |r| !r.is_empty(),
    );
    assert_eq!(r[0].1, 24.0);
    let r = prom.query("vigie_path_filesystem_info{role=\"control-plane\"}");
    assert_eq!(r[0].0["mountpoint"], "/data");
    // A counter and a histogram arrive as such.
    assert!(!prom.query("vigie_swap_in_bytes_total").is_empty());
    assert!(
        !prom
            .query("vigie_dns_probe_latency_seconds_bucket{le=\"+Inf\"}")
            .is_empty()
    );
    // Units travel only in OpenMetrics: Prometheus negotiated it.
    let meta = get(
        prom.addr,
        "/api/v1/metadata?metric=vigie_filesystem_size_bytes",
    )
    .body;
    assert!(meta.contains("\"unit\":\"bytes\""), "{meta}");
    // And the join a control-plane rule will use works.
    let r = prom.query(
        "vigie_filesystem_avail_bytes * on(instance, mountpoint) group_left(path, role) vigie_path_filesystem_info{role=\"control-plane\"}",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0["path"], "/var/lib/etcd");

    // After a few evaluations, no rule reports an error (a bad join, a
    // many-to-many match) on vigie's real label sets. A group evaluated
    // less often than this waits (the summaries, every 10 minutes, first
    // evaluated at an offset within that interval) has each rule's query
    // run once here instead, which must succeed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut slow_checked = false;
    loop {
        let body = get(prom.addr, "/api/v1/rules").body;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let groups = v["data"]["groups"].as_array().unwrap();
        let slow = |g: &&serde_json::Value| g["interval"].as_f64().unwrap_or(0.0) > 30.0;
        let rules: Vec<&serde_json::Value> = groups
            .iter()
            .filter(|g| !slow(g))
            .flat_map(|g| g["rules"].as_array().unwrap().iter())
            .collect();
        assert!(rules.len() > 40, "{} rules loaded", rules.len());
        if !slow_checked {
            for r in groups
                .iter()
                .filter(slow)
                .flat_map(|g| g["rules"].as_array().unwrap().iter())
            {
                prom.query(r["query"].as_str().unwrap());
            }
            slow_checked = true;
        }
        let bad: Vec<String> = rules
            .iter()
            .filter(|r| r["health"] != "ok" && r["health"] != "unknown")
            .map(|r| format!("{}: {}", r["name"], r["lastError"]))
            .collect();
        assert!(bad.is_empty(), "rules failing to evaluate: {bad:?}");
        if rules.iter().all(|r| r["health"] == "ok") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rules not all evaluated after 30 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The fixture host booted in April 2026 (btime 1776153600): more than 180
    // days ago, so the reboot alert fires at both levels.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = get(prom.addr, "/api/v1/alerts").body;
        if alerts
            .matches("\"alertname\":\"VigieRebootOverdue\"")
            .count()
            == 2
        {
            assert!(alerts.contains("VigieWatchdog"), "{alerts}");
            assert!(!alerts.contains("VigieAbsent\",\"job\":\"vigie\",\"severity\":\"critical\"},\"annotations\":{\"description\":\"Check the scrape configuration of Prometheus (job and targets) and service discovery.\",\"summary\":\"Prometheus scrapes no vigie target at all.\"},\"state\":\"firing\""));
            break;
        }
        assert!(Instant::now() < deadline, "{alerts}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
