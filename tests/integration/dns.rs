//! The DNS collector against a real resolver (Debian's dnsmasq, started on a
//! loopback port with a local zone) and against small in-test servers for
//! the faults a real one will not produce on demand: silence, SERVFAIL,
//! REFUSED, a slow answer, a malformed packet, a truncated answer.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use vigie::collect::dns_probe::{DnsQuery, Outcome, probe};

use crate::common::{Vigie, get, value};

/// dnsmasq serving `vigie.test` on a loopback port; killed when dropped.
pub struct Dnsmasq {
    child: Child,
    pub addr: SocketAddr,
}

impl Dnsmasq {
    pub fn start() -> Dnsmasq {
        let bin = ["/usr/sbin/dnsmasq", "dnsmasq"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok())
            .expect("dnsmasq must be installed (scripts/test installs Debian's dnsmasq-base)");
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(bin);
        cmd.args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            &format!("--port={port}"),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--pid-file=",
            "--local=/vigie.test/",
            "--address=/www.vigie.test/192.0.2.10",
            "--mx-host=vigie.test,mail.vigie.test,10",
        ]);
        // Run unprivileged: dnsmasq drops to this user after binding.
        if nix::unistd::geteuid().is_root() {
            cmd.args(["--user=nobody", "--group=nogroup"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let d = Dnsmasq {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        // Wait until it answers.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let q: DnsQuery = "www.vigie.test".parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !rt
            .block_on(probe(d.addr, &q, Duration::from_millis(200)))
            .0
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not answer within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
enum Fault {
    Silent,
    Rcode(ResponseCode),
    /// Answers NOERROR with one A record after this delay.
    Slow(Duration),
    Garbage,
    /// Answers truncated over UDP, fully over TCP.
    Truncated,
    /// Answers NOERROR with an A record, for another name than the one asked.
    OtherQuestion,
    /// Answers NOERROR with an A record and no question section.
    NoQuestion,
    /// Truncated over UDP; over TCP, NOERROR for another name.
    TruncatedOtherQuestion,
}

/// The answer to `query` (a wire message) for `fault`.
fn answer(query: &[u8], rcode: ResponseCode, truncated: bool) -> Vec<u8> {
    answer_to(query, rcode, truncated, None)
}

/// The same, echoing `question` (None: the query's own) as the question.
fn answer_to(
    query: &[u8],
    rcode: ResponseCode,
    truncated: bool,
    question: Option<Vec<Query>>,
) -> Vec<u8> {
    let q = Message::from_vec(query).unwrap();
    let question = question.unwrap_or_else(|| q.queries().to_vec());
    let mut r = Message::new();
    r.set_id(q.id())
        .set_message_type(MessageType::Response)
        .set_op_code(q.op_code())
        .set_recursion_desired(true)
        .set_recursion_available(true)
        .set_response_code(rcode)
        .set_truncated(truncated)
        .add_queries(question.clone());
    if rcode == ResponseCode::NoError && !truncated {
        let name = question
            .first()
            .map_or_else(|| q.queries()[0].name().clone(), |q| q.name().clone());
        r.add_answer(Record::from_rdata(name, 60, RData::A(A::new(192, 0, 2, 1))));
    }
    r.to_vec().unwrap()
}

/// A fake resolver on a loopback port; counts the queries it received.
fn fake_resolver(fault: Fault) -> (SocketAddr, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    if let Fault::Truncated | Fault::TruncatedOtherQuestion = fault {
        let tcp = std::net::TcpListener::bind(addr).expect("TCP on the same port");
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for conn in tcp.incoming() {
                let Ok(mut c) = conn else { continue };
                let mut len = [0u8; 2];
                if c.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                if c.read_exact(&mut q).is_err() {
                    continue;
                }
                let a = match fault {
                    Fault::TruncatedOtherQuestion => {
                        answer_to(&q, ResponseCode::NoError, false, Some(other_question()))
                    }
                    _ => answer(&q, ResponseCode::NoError, false),
                };
                let _ = c.write_all(&(a.len() as u16).to_be_bytes());
                let _ = c.write_all(&a);
            }
        });
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let q = buf[..n].to_vec();
            let reply = match fault {
                Fault::Silent => continue,
                Fault::Rcode(rc) => answer(&q, rc, false),
                Fault::Slow(d) => {
                    let sock = sock.try_clone().unwrap();
                    std::thread::spawn(move || {
                        std::thread::sleep(d);
                        let _ = sock.send_to(&answer(&q, ResponseCode::NoError, false), peer);
                    });
                    continue;
                }
                // The query's id, then bytes that are no DNS message.
                Fault::Garbage => vec![q[0], q[1], 0x81, 0x80, 0xff, 0xff, 0xff, 0xff, 0xde, 0xad],
                Fault::Truncated | Fault::TruncatedOtherQuestion => {
                    answer(&q, ResponseCode::NoError, true)
                }
                Fault::OtherQuestion => {
                    answer_to(&q, ResponseCode::NoError, false, Some(other_question()))
                }
                Fault::NoQuestion => answer_to(&q, ResponseCode::NoError, false, Some(vec![])),
            };
            let _ = sock.send_to(&reply, peer);
        }
    });
    (addr, received)
}

/// A question vigie never asks.
fn other_question() -> Vec<Query> {
    vec![Query::query(
        Name::from_ascii("attacker.example.").unwrap(),
        RecordType::A,
    )]
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn q(s: &str) -> DnsQuery {
    s.parse().unwrap()
}

#[test]
fn real_resolver_noerror_nxdomain_and_mx() {
    let d = Dnsmasq::start();
    let rt = rt();
    let (o, took) = rt.block_on(probe(d.addr, &q("www.vigie.test"), Duration::from_secs(2)));
    assert_eq!(
        o,
        Outcome::Answer {
            rcode: ResponseCode::NoError,
            answers: 1,
            over_tcp: false
        }
    );
    assert!(took < Duration::from_secs(1));
    let (o, _) = rt.block_on(probe(d.addr, &q("nope.vigie.test"), Duration::from_secs(2)));
    assert_eq!(o.label(), "NXDOMAIN");
    assert!(!o.success());
    let (o, _) = rt.block_on(probe(d.addr, &q("vigie.test:MX"), Duration::from_secs(2)));
    assert_eq!(
        o,
        Outcome::Answer {
            rcode: ResponseCode::NoError,
            answers: 1,
            over_tcp: false
        }
    );
}

#[test]
fn faults_give_the_right_outcome_within_the_timeout() {
    let rt = rt();
    let name = q("mail.example.org:MX");
    let cases: Vec<(Fault, Duration, &str)> = vec![
        (Fault::Silent, Duration::from_millis(500), "timeout"),
        (
            Fault::Rcode(ResponseCode::ServFail),
            Duration::from_secs(2),
            "SERVFAIL",
        ),
        (
            Fault::Rcode(ResponseCode::Refused),
            Duration::from_secs(2),
            "REFUSED",
        ),
        (
            Fault::Slow(Duration::from_millis(1500)),
            Duration::from_secs(2),
            "NOERROR",
        ),
        (Fault::Garbage, Duration::from_secs(2), "malformed"),
        (Fault::Truncated, Duration::from_secs(2), "NOERROR"),
        (Fault::OtherQuestion, Duration::from_secs(2), "malformed"),
        (Fault::NoQuestion, Duration::from_secs(2), "malformed"),
        (
            Fault::TruncatedOtherQuestion,
            Duration::from_secs(2),
            "malformed",
        ),
    ];
    for (fault, timeout, want) in cases {
        let (addr, _) = fake_resolver(fault);
        let (o, took) = rt.block_on(probe(addr, &name, timeout));
        assert_eq!(o.label(), want, "{o:?}");
        assert!(
            took <= timeout + Duration::from_millis(300),
            "{want}: took {took:?}"
        );
        match fault {
            Fault::Silent => assert!(took >= timeout, "gave up early: {took:?}"),
            Fault::Slow(d) => {
                assert!(took >= d, "{took:?}");
                assert!(o.success());
            }
            Fault::Truncated => assert_eq!(
                o,
                Outcome::Answer {
                    rcode: ResponseCode::NoError,
                    answers: 1,
                    over_tcp: true
                }
            ),
            _ => assert!(took < Duration::from_millis(500), "{want}: {took:?}"),
        }
    }
    // A closed port: the kernel's "port unreachable" is a network error, at once.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (o, took) = rt.block_on(probe(closed, &name, Duration::from_secs(2)));
    assert_eq!(o.label(), "network_error", "{o:?}");
    assert!(took < Duration::from_millis(500));
}

#[test]
fn binary_probes_dnsmasq_through_resolv_conf_and_systemd_resolved() {
    let d = Dnsmasq::start();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::create_dir_all(root.path().join("run/systemd/resolve")).unwrap();
    // resolv.conf points at the systemd-resolved stub (nothing listens on
    // 127.0.0.53 here); the upstream list names dnsmasq.
    std::fs::write(
        root.path().join("run/systemd/resolve/stub-resolv.conf"),
        "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../run/systemd/resolve/stub-resolv.conf",
        root.path().join("etc/resolv.conf"),
    )
    .unwrap();
    std::fs::write(
        root.path().join("run/systemd/resolve/resolv.conf"),
        format!("nameserver {}\n", d.addr),
    )
    .unwrap();

    let v = Vigie::start(&[
        &format!("--path.rootfs={}", root.path().display()),
        "--collector.disable-defaults",
        "--collector.dns",
        "--collector.dns.query=www.vigie.test",
        "--collector.dns.query=nope.vigie.test:A",
        "--collector.dns.query=vigie.test:MX",
        "--collector.dns.interval=500ms",
    ]);
    let up = format!("resolver=\"{}\",source=\"systemd-resolved\"", d.addr);
    let body = v.scrape_until(|b| b.matches("vigie_dns_probe_success{").count() == 6);
    assert_eq!(
        value(
            &body,
            &format!("vigie_dns_probe_success{{{up},query=\"www.vigie.test\",type=\"A\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &body,
            &format!("vigie_dns_probe_answers{{{up},query=\"www.vigie.test\"")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &body,
            &format!("vigie_dns_probe_success{{{up},query=\"nope.vigie.test\"")
        ),
        Some(0.0)
    );
    assert!(value(&body, &format!("vigie_dns_probes_total{{{up},query=\"nope.vigie.test\",type=\"A\",result=\"NXDOMAIN\"}}")).unwrap() >= 1.0);
    assert_eq!(
        value(
            &body,
            &format!("vigie_dns_probe_success{{{up},query=\"vigie.test\",type=\"MX\"}}")
        ),
        Some(1.0)
    );
    assert!(
        value(
            &body,
            &format!("vigie_dns_last_success_timestamp_seconds{{{up},query=\"vigie.test\"")
        )
        .unwrap()
            > 1.7e9
    );
    assert!(
        value(
            &body,
            &format!("vigie_dns_probe_latency_seconds_count{{{up},query=\"www.vigie.test\"")
        )
        .unwrap()
            >= 1.0
    );
    // The stub itself is probed too, and fails.
    assert_eq!(
        value(
            &body,
            "vigie_dns_probe_success{resolver=\"127.0.0.53:53\",source=\"resolv.conf\",query=\"www.vigie.test\""
        ),
        Some(0.0)
    );
    assert_eq!(value(&body, "vigie_dns_resolvers "), Some(2.0));
    // The stub fails every query; dnsmasq fails the NXDOMAIN one.
    assert_eq!(value(&body, "vigie_dns_resolvers_failing "), Some(2.0));
    crate::common::promtool_check_metrics(&body).unwrap();
}

#[test]
fn scrape_stays_fast_whatever_the_resolvers_do() {
    let faults = [
        Fault::Silent,
        Fault::Rcode(ResponseCode::ServFail),
        Fault::Rcode(ResponseCode::Refused),
        Fault::Slow(Duration::from_millis(1500)),
        Fault::Garbage,
    ];
    let addrs: Vec<SocketAddr> = faults.iter().map(|f| fake_resolver(*f).0).collect();
    let mut args = vec![
        "--collector.disable-defaults".to_string(),
        "--collector.dns".into(),
        "--collector.dns.resolver-from-resolv-conf=false".into(),
        "--collector.dns.interval=1s".into(),
        "--collector.dns.timeout=2s".into(),
        "--collector.dns.query=mail.example.org:MX".into(),
    ];
    args.extend(
        addrs
            .iter()
            .map(|a| format!("--collector.dns.resolver={a}")),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = Vigie::start(&args);
    // Until every resolver has an outcome (the silent one needs 2 s).
    let body = v.scrape_until(|b| b.matches("vigie_dns_probe_success{").count() == 5);
    let result = |a: &SocketAddr, r: &str| {
        value(
            &body,
            &format!(
                "vigie_dns_probes_total{{resolver=\"{a}\",source=\"flag\",query=\"mail.example.org\",type=\"MX\",result=\"{r}\"}}"
            ),
        )
    };
    assert!(result(&addrs[0], "timeout").is_some(), "{body}");
    assert!(result(&addrs[1], "SERVFAIL").is_some());
    assert!(result(&addrs[2], "REFUSED").is_some());
    assert!(result(&addrs[3], "NOERROR").is_some());
    assert!(result(&addrs[4], "malformed").is_some());
    assert_eq!(value(&body, "vigie_dns_resolvers "), Some(5.0));
    assert_eq!(value(&body, "vigie_dns_resolvers_failing "), Some(4.0));
    let mut worst = Duration::ZERO;
    for _ in 0..30 {
        let t = Instant::now();
        assert_eq!(get(v.addr, "/metrics").status, 200);
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The probe timeout is 2 s; a scrape never waits for a probe.
    assert!(
        worst < Duration::from_millis(250),
        "slowest scrape {worst:?}"
    );
}

#[test]
fn a_dead_resolver_costs_one_timeout_per_interval_never_a_queue() {
    let (dead, received) = fake_resolver(Fault::Silent);
    // Probes every 100 ms that each wait 1 s: without the in-flight guard
    // there would be ten probes per timeout.
    let v = Vigie::start(&[
        "--collector.disable-defaults",
        "--collector.dns",
        "--collector.dns.resolver-from-resolv-conf=false",
        &format!("--collector.dns.resolver={dead}"),
        "--collector.dns.interval=100ms",
        "--collector.dns.timeout=1s",
    ]);
    std::thread::sleep(Duration::from_millis(2600));
    let body = get(v.addr, "/metrics").body;
    let sent = received.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&sent),
        "{sent} queries reached the dead resolver in 2.6 s"
    );
    let timeouts = value(&body, "vigie_dns_probes_total{").unwrap();
    assert!(
        (2.0..=3.0).contains(&timeouts),
        "{timeouts} timeouts in 2.6 s"
    );
}

#[test]
fn dns_self_metrics_report_the_real_interval_and_the_last_round() {
    use crate::smart::self_metrics;
    let (slow, received) = fake_resolver(Fault::Slow(Duration::from_millis(300)));
    // The default interval: one round at start, the next in 30 s.
    let v = Vigie::start(&[
        "--collector.disable-defaults",
        "--collector.dns",
        "--collector.dns.resolver-from-resolv-conf=false",
        &format!("--collector.dns.resolver={slow}"),
    ]);
    let body = v.scrape_until(|b| {
        b.contains("vigie_dns_probe_success{") && self_metrics(b, "dns").1.unwrap_or(0.0) > 0.0
    });
    let (success, round, interval) = self_metrics(&body, "dns");
    assert_eq!(success, Some(1.0), "{body}");
    assert_eq!(interval, Some(30.0), "{body}");
    // The round ended once its probe was answered, not before.
    let answered = value(&body, "vigie_dns_last_success_timestamp_seconds{").unwrap();
    let round = round.unwrap();
    assert!(
        round >= answered && round - answered < 1.0,
        "round {round}, answer {answered}"
    );
    // Later scrapes do not move it: no round ran since.
    std::thread::sleep(Duration::from_millis(1200));
    let later = get(v.addr, "/metrics").body;
    assert_eq!(self_metrics(&later, "dns").1, Some(round), "{later}");
    assert_eq!(received.load(Ordering::SeqCst), 1);
}

#[test]
fn a_huge_systemd_resolved_upstream_list_is_capped_and_says_so() {
    // 50,000 upstreams (closed loopback ports: each probe fails at once).
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::create_dir_all(root.path().join("run/systemd/resolve")).unwrap();
    std::fs::write(
        root.path().join("etc/resolv.conf"),
        "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
    )
    .unwrap();
    let upstream: String = (0..50_000u32)
        .map(|i| format!("nameserver 127.0.{}.{}:9\n", i >> 8, i & 255))
        .collect();
    std::fs::write(
        root.path().join("run/systemd/resolve/resolv.conf"),
        upstream,
    )
    .unwrap();
    let v = Vigie::start(&[
        &format!("--path.rootfs={}", root.path().display()),
        "--collector.disable-defaults",
        "--collector.dns",
        "--collector.dns.timeout=300ms",
        "--collector.dns.interval=1s",
    ]);
    let body = v.scrape_until(|b| b.contains("vigie_dns_resolvers_ignored{"));
    assert_eq!(value(&body, "vigie_dns_resolvers "), Some(9.0), "{body}");
    assert_eq!(
        value(
            &body,
            "vigie_dns_resolvers_ignored{source=\"systemd-resolved\"}"
        ),
        Some(49_992.0),
        "{body}"
    );
    assert!(body.len() < 100_000, "{} bytes", body.len());
    let log = v.wait_log(|l| l.contains("systemd-resolved") && l.contains("49992"));
    assert!(
        log.iter()
            .any(|l| l.contains("systemd-resolved") && l.contains("49992")),
        "{log:?}"
    );
}

#[test]
fn sighup_rereads_resolv_conf_and_logs_instead_of_killing_vigie() {
    let (a, _) = fake_resolver(Fault::Rcode(ResponseCode::NoError));
    let (b, _) = fake_resolver(Fault::Rcode(ResponseCode::NoError));
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let conf = root.path().join("etc/resolv.conf");
    std::fs::write(&conf, format!("nameserver {a}\n")).unwrap();
    let mut v = Vigie::start(&[
        &format!("--path.rootfs={}", root.path().display()),
        "--collector.disable-defaults",
        "--collector.dns",
        "--collector.dns.interval=1h",
    ]);
    v.scrape_until(|body| body.contains(&format!("vigie_dns_probe_success{{resolver=\"{a}\"")));
    // The host's resolvers change; the next interval is an hour away.
    std::fs::write(&conf, format!("nameserver {b}\n")).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(v.child.id() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let log = v.wait_log(|l| l.contains("SIGHUP"));
    assert!(log.iter().any(|l| l.contains("SIGHUP")), "{log:?}");
    assert!(v.child.try_wait().unwrap().is_none(), "SIGHUP ended vigie");
    v.scrape_until(|body| {
        body.contains(&format!("vigie_dns_probe_success{{resolver=\"{b}\""))
            && !body.contains(&format!("vigie_dns_probe_success{{resolver=\"{a}\""))
    });
}

/// dnsmasq saying NXDOMAIN for a name that must exist, beside a resolver
/// that does not answer: each is named for what it did, in the exposition
/// (`class`, `result`), on the landing page (in trouble, not "ok"), in the
/// alert real Prometheus fires with the generated rules, and in
/// `vigie check` in French. "Does not answer" only for the silent one.
#[test]
fn nxdomain_is_a_wrong_answer_not_silence() {
    use vigie::generate::{Format, RULES_FILE, generate};
    use vigie::thresholds::Thresholds;

    let d = Dnsmasq::start();
    let (silent, _) = fake_resolver(Fault::Silent);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--collector.disable-defaults".to_string(),
        "--collector.dns".into(),
        "--collector.dns.resolver-from-resolv-conf=false".into(),
        format!("--collector.dns.resolver={}", d.addr),
        format!("--collector.dns.resolver={silent}"),
        "--collector.dns.query=nope.vigie.test".into(),
        "--collector.dns.timeout=300ms".into(),
        "--collector.dns.interval=1s".into(),
    ];
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = Vigie::start(&a);
    let body = v.scrape_until(|b| b.matches("vigie_dns_probe_last_result{").count() == 2);
    let last = |resolver: SocketAddr| {
        body.lines()
            .find(|l| {
                l.starts_with("vigie_dns_probe_last_result{")
                    && l.contains(&format!("resolver=\"{resolver}\""))
            })
            .unwrap()
            .to_string()
    };
    assert!(
        last(d.addr).contains("class=\"wrong_answer\",result=\"NXDOMAIN\"}"),
        "{}",
        last(d.addr)
    );
    assert!(
        last(silent).contains("class=\"no_answer\",result=\"timeout\"}"),
        "{}",
        last(silent)
    );
    crate::common::promtool_check_metrics(&body).unwrap();

    // The landing page: the collector runs, and is in trouble.
    let page = get(v.addr, "/").body;
    let row = page
        .lines()
        .find(|l| l.starts_with("<tr><td>dns</td>"))
        .unwrap();
    assert!(
        row.contains("in trouble") && !row.ends_with("<td>ok</td></tr>"),
        "{row}"
    );
    assert!(
        row.contains(&format!("{} gives a wrong answer (NXDOMAIN)", d.addr))
            && row.contains(&format!("{silent} does not answer (timeout)")),
        "{row}"
    );

    // Real Prometheus, the generated rules, no waiting.
    let t = Thresholds::parse(
        "dns:\n  resolver_failing: {for: 0s}\n  all_resolvers_failing: {for: 0s}\n",
        std::path::Path::new("dns.yaml"),
        20_778,
    )
    .unwrap();
    vigie::generate::write(
        &generate(&t, Format::Plain).unwrap(),
        dir.path(),
        None,
        false,
    )
    .unwrap();
    let prom = crate::prometheus::Prometheus::start(&[v.addr], &[&dir.path().join(RULES_FILE)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let summary = loop {
        let body = get(prom.addr, "/api/v1/alerts").body;
        let j: serde_json::Value = serde_json::from_str(&body).unwrap();
        let found = j["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|a| {
                (a["labels"]["alertname"] == "VigieDnsAllResolversFailing"
                    && a["state"] == "firing")
                    .then(|| a["annotations"]["summary"].as_str().unwrap().to_string())
            });
        if let Some(s) = found {
            break s;
        }
        assert!(Instant::now() < deadline, "no all-failing alert: {body}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        summary.contains(&format!(
            "{} says nope.vigie.test does not exist (NXDOMAIN)",
            d.addr
        )) && summary.contains(&format!("{silent} does not answer (timeout)")),
        "{summary}"
    );
    assert!(
        !summary.contains(&format!("{} does not answer", d.addr)),
        "{summary}"
    );
    drop(prom);
    drop(v);

    // vigie check, in French: the same words.
    let t = dir.path().join("fr.yaml");
    std::fs::write(&t, "language: fr\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("check")
        .arg(format!("--thresholds={}", t.display()))
        .args([
            "--only=dns",
            "--collector.dns.resolver-from-resolv-conf=false",
        ])
        .arg(format!("--collector.dns.resolver={}", d.addr))
        .arg("--collector.dns.query=nope.vigie.test")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "{} dit que nope.vigie.test n'existe pas (NXDOMAIN)",
            d.addr
        )),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{} ne répond pas", d.addr)),
        "{text}"
    );
}
