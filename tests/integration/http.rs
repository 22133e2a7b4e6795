//! The HTTP server, in-process: routes, content negotiation, the header-read
//! timeout, the cap on concurrent scrapes and graceful shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigie::collect::{Collector, Refresh, Registration, Runner};
use vigie::config::Config;
use vigie::metrics::Families;
use vigie::server::{App, serve};

use crate::common::{get, request};

/// Sleeps, then exports one sample.
struct Slow(Duration);

const SLOW: vigie::schema::Desc = vigie::schema::Desc::gauge("vigie_slow", "Slow.", &[]);

impl Collector for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        std::thread::sleep(self.0);
        out.family(&SLOW).sample(&[], 1.0);
        Ok(())
    }
}

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    fn start(config: Config, delay: Duration) -> Server {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let runner = Arc::new(Runner::new(vec![Registration {
                    collector: Arc::new(Slow(delay)),
                    refresh: Refresh::OnScrape,
                    timeout: Duration::from_secs(10),
                }]));
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send(listener.local_addr()?).unwrap();
                let app = Arc::new(App::new(&config, runner));
                serve(vec![listener], app, async {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Server {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) -> Duration {
        let t = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap().unwrap();
        t.elapsed()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.stop();
        }
    }
}

#[test]
fn routes() {
    let s = Server::start(Config::default(), Duration::ZERO);
    let m = get(s.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(m.body.contains("\nvigie_slow 1\n"), "{}", m.body);
    assert!(!m.body.contains("# EOF"));

    let root = get(s.addr, "/");
    assert_eq!(root.status, 200);
    assert!(
        root.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(root.body.contains("href=\"/metrics\""));
    assert!(root.body.contains("<td>slow</td>"), "{}", root.body);

    assert_eq!(get(s.addr, "/-/healthy").status, 200);
    let nf = get(s.addr, "/metricz");
    assert_eq!(nf.status, 404);
    assert!(nf.body.contains("/metrics"));
    let post = request(s.addr, "POST", "/metrics", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[test]
fn a_tiny_scrape_timeout_header_does_not_fail_collectors() {
    let s = Server::start(Config::default(), Duration::from_millis(50));
    let r = request(
        s.addr,
        "GET",
        "/metrics",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "0.000001")],
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("vigie_collector_success{collector=\"slow\"} 1\n"),
        "{}",
        r.body
    );
}

#[test]
fn custom_telemetry_path() {
    let config = Config {
        telemetry_path: "/probe".into(),
        ..Config::default()
    };
    let s = Server::start(config, Duration::ZERO);
    assert_eq!(get(s.addr, "/probe").status, 200);
    assert_eq!(get(s.addr, "/metrics").status, 404);
    assert!(get(s.addr, "/").body.contains("href=\"/probe\""));
}

#[test]
fn openmetrics_when_asked() {
    let s = Server::start(Config::default(), Duration::ZERO);
    let accept =
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let r = request(s.addr, "GET", "/metrics", &[("Accept", accept)]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
    assert!(r.body.contains("# TYPE vigie_collector_errors counter"));
    assert!(
        r.body
            .contains("vigie_collector_errors_total{collector=\"slow\"}")
    );
}

/// The samples whose values do not change from one scrape to the next
/// (durations and timestamps of vigie's own runs do).
fn stable_lines(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| !l.starts_with("vigie_collector_duration_seconds"))
        .filter(|l| !l.contains("_timestamp_seconds{"))
        .collect()
}

#[test]
fn gzip_when_asked_decodes_to_the_plain_body_in_both_formats() {
    use std::io::Read as _;
    let s = Server::start(Config::default(), Duration::ZERO);
    let om = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    for accept in ["text/plain", om] {
        let plain = request(s.addr, "GET", "/metrics", &[("Accept", accept)]);
        assert_eq!(plain.header("content-encoding"), None);
        // What Prometheus sends.
        let (status, headers, gz) = crate::common::request_raw(
            s.addr,
            "GET",
            "/metrics",
            &[("Accept", accept), ("Accept-Encoding", "gzip")],
        );
        assert_eq!(status, 200);
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("content-encoding"), Some("gzip"));
        assert_eq!(header("vary"), Some("Accept-Encoding"));
        assert_eq!(header("content-type"), plain.header("content-type"));
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut decoded)
            .expect("a valid gzip body");
        assert_eq!(
            stable_lines(&decoded),
            stable_lines(&plain.body),
            "{accept}"
        );
        assert!(decoded.contains("\nvigie_slow"), "{decoded}");
        // The same bytes through the system's gzip, which checks the CRC
        // and length trailer.
        let mut child = std::process::Command::new("gzip")
            .args(["-d", "-c"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&gz).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), decoded);
    }
    // Refused gzip: plain.
    let r = request(
        s.addr,
        "GET",
        "/metrics",
        &[("Accept-Encoding", "gzip;q=0")],
    );
    assert_eq!(r.header("content-encoding"), None);
    assert!(r.body.contains("\nvigie_slow 1\n"));
}

#[test]
fn silent_client_is_disconnected_after_header_read_timeout() {
    let config = Config {
        header_read_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let s = Server::start(config, Duration::ZERO);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Half a request line, then nothing (slowloris).
    c.write_all(b"GET /metr").unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap_or(0);
    let took = t.elapsed();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        n == 0 || answer.starts_with("HTTP/1.1 408"),
        "unexpected answer {answer:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "connection held for {took:?}"
    );
    // The server still serves others.
    assert_eq!(get(s.addr, "/metrics").status, 200);
}

#[test]
fn concurrent_scrapes_beyond_the_cap_get_503_at_once() {
    let config = Config {
        max_requests: 1,
        ..Config::default()
    };
    let s = Server::start(config, Duration::from_millis(800));
    let addr = s.addr;
    let slow = std::thread::spawn(move || get(addr, "/metrics"));
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let busy = get(addr, "/metrics");
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "the refusal waited {:?}",
        t.elapsed()
    );
    // The landing page is not a scrape and is not refused.
    assert_eq!(get(addr, "/").status, 200);
    assert_eq!(slow.join().unwrap().status, 200);
    assert_eq!(get(addr, "/metrics").status, 200);
}

#[test]
fn shutdown_lets_the_scrape_in_flight_finish_then_refuses_connections() {
    let mut s = Server::start(Config::default(), Duration::from_millis(600));
    let addr = s.addr;
    let in_flight = std::thread::spawn(move || get(addr, "/metrics"));
    std::thread::sleep(Duration::from_millis(200));
    let took = s.stop();
    let r = in_flight.join().unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.contains("vigie_slow 1"));
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

/// Reads one HTTP/1.1 answer with a Content-Length from a kept-alive
/// connection; returns its status line.
fn read_answer(c: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if body.len() >= len {
                return head.lines().next().unwrap().to_string();
            }
        }
    }
}

/// A keep-alive connection that completed a request stays open past the
/// header-read timeout (Prometheus reuses it on the next scrape), and a
/// request on it later is answered; a new header trickled on it is again
/// bounded by the header-read timeout.
#[test]
fn keep_alive_connections_outlive_the_header_timeout_between_scrapes() {
    let config = Config {
        header_read_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let s = Server::start(config, Duration::ZERO);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(read_answer(&mut c).contains(" 200 "));
    std::thread::sleep(Duration::from_millis(1200));
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(
        read_answer(&mut c).contains(" 200 "),
        "idle connection kept"
    );
    // Then half a header: closed after the header-read timeout.
    c.write_all(b"GET /metr").unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

/// With every slot held by clients that never finish a request, a new
/// scraper still gets in at once: the oldest slow client is closed.
#[test]
fn slow_clients_holding_every_slot_do_not_keep_a_scraper_out() {
    let config = Config {
        max_connections: 8,
        header_read_timeout: Duration::from_secs(30),
        ..Config::default()
    };
    let s = Server::start(config, Duration::ZERO);
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ").unwrap();
        slow.push(c);
    }
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let r = get(s.addr, "/metrics");
    assert_eq!(r.status, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(
        r.body.contains("vigie_http_connections_evicted_total 1"),
        "{}",
        r.body
    );
    // The first slow client was the one closed.
    slow[0]
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(slow[0].read(&mut buf).unwrap_or(0), 0);
}
