//! `dns`: is each resolver this host depends on answering, how fast, and
//! with what (incident 5: the resolvers of a mail server went down, its
//! containers looped on DNS errors and mail was down for hours; another time
//! the only resolver lived on a server that failed to restart).
//!
//! Resolvers: the `nameserver` lines of `{rootfs}/etc/resolv.conf` (the
//! first three, as libc; 127.0.0.1 when there is none, as libc), plus, when
//! resolv.conf only points at systemd-resolved's stub, the upstream servers
//! of `{rootfs}/run/systemd/resolve/resolv.conf`; plus every
//! `--collector.dns.resolver`. The list is re-read at every interval.
//!
//! The runner schedules the probe rounds (one per interval, on the
//! collector's worker thread). A round probes every (resolver, query) pair
//! at once, each in its own task with its own timeout, and ends when every
//! probe has answered or timed out. A pair whose probe is somehow still
//! running is not probed again, so a dead resolver costs one timeout per
//! round and never a queue. Scrapes render the last results from memory.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::dns_probe::{Class, DnsQuery, Outcome, probe};
use super::registry::{self, Context, Entry, Settings, entry};
use super::{Collector, Refresh, Registration};
use super::resolv_conf::{self, LIBC_DEFAULT, LIBC_MAX_NAMESERVERS, SYSTEMD_MAX_UPSTREAMS};
use crate::metrics::{Families, Histogram, Unit};
use crate::schema::Desc;
use crate::paths::Paths;
use crate::units::{parse_flag_duration, unix_now};

/// Bounds of the probe latency histogram, in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "dns",
    DnsConfig,
    default_enabled: true,
    summary: "health and latency of every resolver this host uses",
    details: "each resolver this host uses (resolv.conf, systemd-resolved upstreams, listed ones): \
              success, response code, latency, last success; how many resolvers fail",
    metrics: FAMILIES,
);

// The families this file emits: the metric schema's part for the dns collector.

/// A (resolver, query) pair.
const PROBE: &[&str] = &["resolver", "source", "query", "type"];
const PROBE_RESULT: &[&str] = &["resolver", "source", "query", "type", "result"];
const PROBE_LAST_RESULT: &[&str] = &["resolver", "source", "query", "type", "class", "result"];

pub const DNS_PROBES: Desc = Desc::counter(
    "vigie_dns_probes",
    "DNS probes by result: the response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED...) or timeout, network_error, malformed.",
    PROBE_RESULT,
);
pub const DNS_PROBE_LATENCY_SECONDS: Desc = Desc::histogram(
    "vigie_dns_probe_latency_seconds",
    "Time the resolver took to answer (answered probes only; timeouts are counted in vigie_dns_probes_total).",
    PROBE,
).unit(Unit::Seconds);
pub const DNS_LAST_SUCCESS_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_dns_last_success_timestamp_seconds",
    "Unix time of the last healthy answer of this resolver to this query (see vigie_dns_probe_success); 0 if none yet.",
    PROBE,
)
.unit(Unit::Seconds);
pub const DNS_PROBE_SUCCESS: Desc = Desc::gauge(
    "vigie_dns_probe_success",
    "1 if the resolver's last answer to this query was healthy: what the query expects (by default NOERROR with at least one record), else 0.",
    PROBE,
);
pub const DNS_PROBE_LAST_RESULT: Desc = Desc::gauge(
    "vigie_dns_probe_last_result",
    "Always 1: what the last probe of this query got. class: ok, no_answer (timeout, network_error), error_answer (SERVFAIL, REFUSED...), \
     wrong_answer (NXDOMAIN for a name that must exist, NODATA: NOERROR without a record, malformed: an answer to another question, \
     or another code than the one the query expects); result: the response code, NODATA, timeout, network_error or malformed.",
    PROBE_LAST_RESULT,
);
pub const DNS_PROBE_DURATION_SECONDS: Desc = Desc::gauge(
    "vigie_dns_probe_duration_seconds",
    "How long the last probe took.",
    PROBE,
)
.unit(Unit::Seconds);
pub const DNS_PROBE_ANSWERS: Desc = Desc::gauge(
    "vigie_dns_probe_answers",
    "Records in the answer section of the last probe's answer (0 when it got no answer).",
    PROBE,
);
pub const DNS_RESOLVERS: Desc = Desc::gauge(
    "vigie_dns_resolvers",
    "Resolvers this host uses (resolv.conf, systemd-resolved upstreams, --collector.dns.resolver).",
    &[],
);
pub const DNS_RESOLVERS_IGNORED: Desc = Desc::gauge(
    "vigie_dns_resolvers_ignored",
    "Resolvers listed in a file but not watched, past its cap: resolv.conf after its first 3 (libc reads no more), \
     systemd-resolved upstreams after the first 8.",
    &["source"],
);
pub const DNS_RESOLVERS_FAILING: Desc = Desc::gauge(
    "vigie_dns_resolvers_failing",
    "Resolvers whose last probe of at least one query failed. Equal to vigie_dns_resolvers: name resolution is down.",
    &[],
);

/// The families this collector exports, in export order.
pub const FAMILIES: &[&Desc] = &[
    &DNS_PROBES,
    &DNS_PROBE_LATENCY_SECONDS,
    &DNS_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &DNS_PROBE_SUCCESS,
    &DNS_PROBE_LAST_RESULT,
    &DNS_PROBE_DURATION_SECONDS,
    &DNS_PROBE_ANSWERS,
    &DNS_RESOLVERS,
    &DNS_RESOLVERS_IGNORED,
    &DNS_RESOLVERS_FAILING,
];

/// Settings of the DNS collector: its flags.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "DNS collector")]
pub struct DnsConfig {
    /// How often each resolver is probed (once per query).
    #[arg(id = "collector.dns.interval", long = "collector.dns.interval",
          value_name = "DURATION", default_value = "30s", value_parser = parse_flag_duration)]
    pub interval: Duration,

    /// How long a resolver has to answer one probe.
    #[arg(id = "collector.dns.timeout", long = "collector.dns.timeout",
          value_name = "DURATION", default_value = "2s", value_parser = parse_flag_duration)]
    pub timeout: Duration,

    /// Resolvers watched in any case.
    #[arg(id = "collector.dns.resolver", long = "collector.dns.resolver",
          value_name = "IP[:PORT]", value_parser = resolver_addr,
          help = "IP[:PORT] of a resolver to watch in any case ([IPv6]:PORT for IPv6 with a port). Repeatable")]
    pub resolvers: Vec<SocketAddr>,

    /// Also watch the resolvers of /etc/resolv.conf (and systemd-resolved's upstreams).
    #[arg(id = "collector.dns.resolver-from-resolv-conf",
          long = "collector.dns.resolver-from-resolv-conf", value_name = "BOOL",
          default_value_t = true, action = clap::ArgAction::Set)]
    pub from_resolv_conf: bool,

    /// Queries asked of every resolver.
    #[arg(
        id = "collector.dns.query",
        long = "collector.dns.query",
        value_name = "NAME[:TYPE][=EXPECT]",
        default_value = DEFAULT_QUERY,
        hide_default_value = true,
        help = "NAME[:TYPE][=EXPECT] to ask every resolver (type A by default), e.g. example.org:MX for your \
                  mail domain. EXPECT says what a healthy answer is: records (NOERROR with at least one record, \
                  the default), noerror, or a response code (gone.example.org=NXDOMAIN). Repeatable. \
                  Default: .:NS (the root's name servers, which every working recursive resolver knows)"
    )]
    pub queries: Vec<DnsQuery>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        registry::defaults()
    }
}

impl Settings for DnsConfig {
    fn register(&self, context: &Context) -> Registration {
        // A round probes every resolver at once, each probe under its own
        // timeout; a scrape only renders the results.
        Registration {
            collector: Arc::new(DnsCollector::new(context.paths.clone(), self.clone())),
            refresh: Refresh::Every(self.interval),
            timeout: DnsCollector::round_timeout(self),
        }
    }
}

fn resolver_addr(s: &str) -> Result<SocketAddr, String> {
    resolv_conf::parse_address(s)
        .ok_or_else(|| format!("{s:?} is not an IP address with an optional port (192.0.2.1, 192.0.2.1:5353, [2001:db8::1]:53)"))
}

/// The default query: the root zone's name servers (`.` NS). Every working
/// recursive resolver answers it with records (it primes from its root
/// hints), whatever the host's network policy and without depending on a
/// third party's zone. `example.com` (the default before) depends on
/// IANA's zone and on the resolver reaching the internet; a resolver that
/// cannot recurse (a sandbox, a local-only dnsmasq) says NXDOMAIN or
/// REFUSED to both, and then the alert says so in those words. Users add
/// their own (their mail domain's MX).
pub const DEFAULT_QUERY: &str = ".:NS";

/// Per list read (`resolv.conf`, `systemd-resolved`): how many resolvers it
/// named past its cap.
pub type Ignored = Vec<(&'static str, usize)>;

/// A resolver and where vigie learnt of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resolver {
    pub addr: SocketAddr,
    /// `resolv.conf`, `systemd-resolved`, `flag` or `libc-default`.
    pub source: &'static str,
}

/// What is known of one (resolver, query) pair.
#[derive(Debug, Clone)]
struct PairState {
    /// The last probe's outcome and duration; None until one finished.
    last: Option<(Outcome, Duration)>,
    last_success: Option<f64>,
    /// Probes by result label.
    results: BTreeMap<String, u64>,
    latency: Histogram,
    in_flight: bool,
    /// Which probe the pair is waiting for: a result from an older one is
    /// ignored.
    generation: u64,
    /// Rounds since the pair left the configuration (0: configured). A pair
    /// is kept, hidden, for a few rounds, so a resolv.conf rewritten
    /// non-atomically does not reset its history.
    missing_rounds: u32,
}

/// Rounds a pair that left the configuration is kept before it is dropped.
const GRACE_ROUNDS: u32 = 3;

impl PairState {
    fn new() -> Self {
        PairState {
            last: None,
            last_success: None,
            results: BTreeMap::new(),
            latency: Histogram::new(LATENCY_BUCKETS),
            in_flight: false,
            generation: 0,
            missing_rounds: 0,
        }
    }
}

#[derive(Default)]
struct Shared {
    resolvers: Vec<Resolver>,
    /// Per list read: resolvers it named past its cap.
    ignored: Ignored,
    pairs: BTreeMap<(Resolver, DnsQuery), PairState>,
    /// Why the resolver list could not be read, if it could not.
    list_error: Option<String>,
}

pub struct DnsCollector {
    paths: Paths,
    config: DnsConfig,
    shared: Arc<super::Versioned<Shared>>,
    /// Probes started since start (numbers each probe).
    probes: std::sync::atomic::AtomicU64,
}

/// Locks the state for a change (bumps the render version).
fn lock(m: &super::Versioned<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.write()
}

impl DnsCollector {
    pub fn new(paths: Paths, mut config: DnsConfig) -> Self {
        // One probe per name and type (the last flag's expectation wins):
        // the same name and type twice would export duplicate series.
        let mut seen = HashSet::new();
        config.queries.reverse();
        config
            .queries
            .retain(|q| seen.insert((q.name.clone(), q.rtype)));
        config.queries.reverse();
        DnsCollector {
            paths,
            config,
            shared: Arc::default(),
            probes: Default::default(),
        }
    }

    /// Reads a resolv.conf of the host; None when it does not exist.
    fn read_resolv_conf(&self, host: &str) -> anyhow::Result<Option<resolv_conf::ResolvConf>> {
        let (resolved, exists) = self.paths.resolve_host_path(Path::new(host))?;
        if !exists {
            return Ok(None);
        }
        let file = self.paths.under_rootfs(&resolved);
        let text = super::read_file(&file)?;
        let rc = resolv_conf::parse(&text);
        for r in &rc.rejected {
            log::debug!("{}: ignoring {r}", file.display());
        }
        Ok(Some(rc))
    }

    /// The resolvers to probe now.
    pub fn resolvers(&self) -> anyhow::Result<Vec<Resolver>> {
        self.resolver_list().map(|(r, _)| r)
    }

    /// The resolvers to probe now, and per list read, how many it named
    /// past its cap.
    pub fn resolver_list(&self) -> anyhow::Result<(Vec<Resolver>, Ignored)> {
        let mut ignored = Vec::new();
        let mut out: Vec<Resolver> = Vec::new();
        let mut push = |addr: SocketAddr, source: &'static str| {
            if !out.iter().any(|r| r.addr == addr) {
                out.push(Resolver { addr, source });
            }
        };
        if self.config.from_resolv_conf {
            match self.read_resolv_conf("/etc/resolv.conf")? {
                Some(rc) if !rc.nameservers.is_empty() => {
                    let stub = rc.only_systemd_stub();
                    for a in rc.nameservers.iter().take(LIBC_MAX_NAMESERVERS) {
                        push(*a, "resolv.conf");
                    }
                    ignored.push((
                        "resolv.conf",
                        rc.nameservers.len().saturating_sub(LIBC_MAX_NAMESERVERS),
                    ));
                    if stub
                        && let Some(up) =
                            self.read_resolv_conf("/run/systemd/resolve/resolv.conf")?
                    {
                        for a in up.nameservers.iter().take(SYSTEMD_MAX_UPSTREAMS) {
                            push(*a, "systemd-resolved");
                        }
                        ignored.push((
                            "systemd-resolved",
                            up.nameservers.len().saturating_sub(SYSTEMD_MAX_UPSTREAMS),
                        ));
                    }
                }
                // No resolv.conf, or no nameserver in it: libc asks 127.0.0.1.
                _ => push(LIBC_DEFAULT, "libc-default"),
            }
        }
        for a in &self.config.resolvers {
            push(*a, "flag");
        }
        Ok((out, ignored))
    }

    /// How long a round may run before the runner reports it stuck: the
    /// probes run at once, so one probe timeout and the round's margin,
    /// plus reading the resolver list.
    pub fn round_timeout(config: &DnsConfig) -> Duration {
        config.timeout + ROUND_MARGIN + LIST_BUDGET
    }

    /// One round: refresh the resolver list, start a probe for every pair
    /// that has none in flight and wait for them (each probe has its own
    /// timeout). Must run inside a Tokio runtime's context. Fails only when
    /// the resolver list cannot be read; a failing resolver is a result.
    fn round(&self) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| anyhow::anyhow!("dns probes need the async runtime: {e}"))?;
        let resolvers = match self.resolver_list() {
            Ok((r, ignored)) => {
                let mut sh = lock(&self.shared);
                if sh.list_error.take().is_some() {
                    log::info!("dns: the resolver list can be read again");
                }
                for &(source, n) in &ignored {
                    if n > 0 && !sh.ignored.contains(&(source, n)) {
                        let cap = match source {
                            "systemd-resolved" => SYSTEMD_MAX_UPSTREAMS,
                            _ => LIBC_MAX_NAMESERVERS,
                        };
                        log::warn!(
                            "dns: {source} lists {} resolvers; watching the first {cap}, ignoring {n}",
                            n + cap
                        );
                    }
                }
                sh.ignored = ignored;
                sh.resolvers = r.clone();
                r
            }
            Err(e) => {
                let msg = format!("{e:#}");
                let mut sh = lock(&self.shared);
                if sh.list_error.as_deref() != Some(msg.as_str()) {
                    log::warn!(
                        "dns: cannot read the resolver list, probing the last known one: {msg}"
                    );
                }
                sh.list_error = Some(msg);
                sh.resolvers.clone()
            }
        };
        let wanted: HashSet<(Resolver, DnsQuery)> = resolvers
            .iter()
            .flat_map(|r| {
                self.config
                    .queries
                    .iter()
                    .map(move |q| (r.clone(), q.clone()))
            })
            .collect();
        let mut to_start = Vec::new();
        {
            let mut sh = lock(&self.shared);
            for (k, st) in sh.pairs.iter_mut() {
                if !wanted.contains(k) {
                    st.missing_rounds += 1;
                }
            }
            sh.pairs.retain(|_, st| st.missing_rounds <= GRACE_ROUNDS);
            for key in &wanted {
                let st = sh.pairs.entry(key.clone()).or_insert_with(PairState::new);
                st.missing_rounds = 0;
                if !st.in_flight {
                    st.in_flight = true;
                    st.generation = self
                        .probes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        + 1;
                    to_start.push((key.clone(), st.generation));
                }
            }
        }
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let started = to_start.len();
        for (key, generation) in to_start {
            let shared = self.shared.clone();
            let timeout = self.config.timeout;
            let done = done_tx.clone();
            runtime.spawn(async move {
                // Sent when the task ends, whatever happens below.
                let _done = Finished(done);
                let (outcome, took) = probe(key.0.addr, &key.1, timeout).await;
                let mut sh = lock(&shared);
                // The pair may have left the configuration meanwhile.
                let Some(st) = sh.pairs.get_mut(&key) else {
                    return;
                };
                if st.generation != generation {
                    return;
                }
                st.in_flight = false;
                *st.results.entry(outcome.label()).or_insert(0) += 1;
                if matches!(outcome, Outcome::Answer { .. }) {
                    st.latency.observe(took.as_secs_f64());
                }
                if outcome.class(key.1.expect) == Class::Ok {
                    st.last_success = Some(unix_now());
                } else if st
                    .last
                    .as_ref()
                    .is_none_or(|(o, _)| o.label() != outcome.label())
                {
                    log::warn!(
                        "dns: {} for {} from {}: {outcome:?}",
                        outcome.label(),
                        key.1,
                        key.0.addr
                    );
                }
                st.last = Some((outcome, took));
            });
        }
        drop(done_tx);
        // Every probe ends within its timeout; the margin covers scheduling.
        let deadline = std::time::Instant::now() + self.config.timeout + ROUND_MARGIN;
        for _ in 0..started {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if done_rx.recv_timeout(left).is_err() {
                break;
            }
        }
        let sh = lock(&self.shared);
        match &sh.list_error {
            Some(e) => anyhow::bail!("cannot read the resolver list: {e}"),
            None => Ok(()),
        }
    }
}

/// How long a round waits for its probes beyond their timeout.
const ROUND_MARGIN: Duration = Duration::from_secs(1);

/// What reading the resolver list (resolv.conf, systemd-resolved's) may
/// take within a round.
const LIST_BUDGET: Duration = Duration::from_secs(4);

/// Tells the round a probe task has ended when dropped (also when the task
/// is cancelled because the runtime shuts down).
struct Finished(std::sync::mpsc::Sender<()>);

impl Drop for Finished {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl Collector for DnsCollector {
    fn name(&self) -> &'static str {
        "dns"
    }

    /// One probe round; the series come from [`Self::render`].
    fn refresh(&self, _out: &mut Families) -> anyhow::Result<()> {
        self.round()
    }

    /// The failing resolvers and what each did ("2 of 2 resolvers fail:
    /// 10.0.0.53:53 says . does not exist (NXDOMAIN) ...").
    fn trouble(&self) -> Option<String> {
        let sh = lock(&self.shared);
        if sh.resolvers.is_empty() {
            return Some("no resolver to probe".into());
        }
        let mut failing: Vec<String> = Vec::new();
        let mut resolvers: HashSet<&Resolver> = HashSet::new();
        for ((resolver, query), st) in sh.pairs.iter().filter(|(_, st)| st.missing_rounds == 0) {
            let Some((outcome, _)) = &st.last else { continue };
            let class = outcome.class(query.expect);
            if class == Class::Ok {
                continue;
            }
            resolvers.insert(resolver);
            let what = match class {
                Class::NoAnswer => "does not answer",
                Class::ErrorAnswer => "answers with an error",
                _ => "gives a wrong answer",
            };
            failing.push(format!(
                "{} {what} ({}) to {} {}",
                resolver.addr,
                outcome.result(),
                query.name,
                query.rtype
            ));
        }
        (!failing.is_empty()).then(|| {
            format!(
                "{} of {} resolvers fail: {}",
                resolvers.len(),
                sh.resolvers.len(),
                failing.join("; ")
            )
        })
    }

    fn rereads_on_sighup(&self) -> Option<&'static str> {
        self.config
            .from_resolv_conf
            .then_some("resolv.conf and systemd-resolved's upstreams")
    }

    fn render_version(&self) -> Option<u64> {
        Some(self.shared.version())
    }

    fn render(&self, out: &mut Families) {
        let sh = self.shared.read();
        let mut failing: HashSet<&Resolver> = HashSet::new();
        for ((resolver, query), st) in sh.pairs.iter().filter(|(_, st)| st.missing_rounds == 0) {
            let addr = resolver.addr.to_string();
            let name = query.name.as_str();
            let rtype = query.rtype.to_string();
            let l = [
                ("resolver", addr.as_str()),
                ("source", resolver.source),
                ("query", name),
                ("type", rtype.as_str()),
            ];
            for (result, n) in &st.results {
                out.family(&DNS_PROBES)
                .sample(&[l[0], l[1], l[2], l[3], ("result", result.as_str())], *n as f64);
            }
            out.family(&DNS_PROBE_LATENCY_SECONDS)
            .histogram(st.latency.sample(&l));
            out.family(&DNS_LAST_SUCCESS_TIMESTAMP_SECONDS)
            .sample(&l, st.last_success.unwrap_or(0.0));
            let Some((outcome, took)) = &st.last else {
                continue;
            };
            let class = outcome.class(query.expect);
            if class != Class::Ok {
                failing.insert(resolver);
            }
            out.family(&DNS_PROBE_SUCCESS)
                .sample(&l, if class == Class::Ok { 1.0 } else { 0.0 });
            let result = outcome.result();
            out.family(&DNS_PROBE_LAST_RESULT).sample(
                &[l[0], l[1], l[2], l[3], ("class", class.label()), ("result", result.as_str())],
                1.0,
            );
            out.family(&DNS_PROBE_DURATION_SECONDS)
            .sample(&l, took.as_secs_f64());
            let answers = match outcome {
                Outcome::Answer { answers, .. } => *answers,
                _ => 0,
            };
            out.family(&DNS_PROBE_ANSWERS)
            .sample(&l, answers as f64);
        }
        out.family(&DNS_RESOLVERS)
            .sample(&[], sh.resolvers.len() as f64);
        for (source, n) in &sh.ignored {
            out.family(&DNS_RESOLVERS_IGNORED)
                .sample(&[("source", source)], *n as f64);
        }
        out.family(&DNS_RESOLVERS_FAILING)
        .sample(&[], failing.len() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector(
        resolv_conf: Option<&str>,
        upstream: Option<&str>,
        config: DnsConfig,
    ) -> (tempfile::TempDir, DnsCollector) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join("run/systemd/resolve")).unwrap();
        if let Some(t) = resolv_conf {
            std::fs::write(root.path().join("etc/resolv.conf"), t).unwrap();
        }
        if let Some(t) = upstream {
            std::fs::write(root.path().join("run/systemd/resolve/resolv.conf"), t).unwrap();
        }
        let paths = Paths {
            rootfs: root.path().to_path_buf(),
            ..Paths::default()
        };
        (root, DnsCollector::new(paths, config))
    }

    fn list(c: &DnsCollector) -> Vec<(String, &'static str)> {
        c.resolvers()
            .unwrap()
            .into_iter()
            .map(|r| (r.addr.to_string(), r.source))
            .collect()
    }

    #[test]
    fn no_nameserver_or_no_file_means_libc_default() {
        let (_d, c) = collector(
            Some("search example.org\noptions ndots:2\n"),
            None,
            DnsConfig::default(),
        );
        assert_eq!(list(&c), [("127.0.0.1:53".to_string(), "libc-default")]);
        let (_d, c) = collector(None, None, DnsConfig::default());
        assert_eq!(list(&c), [("127.0.0.1:53".to_string(), "libc-default")]);
    }

    #[test]
    fn only_the_first_three_nameservers_as_libc() {
        let text = "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n";
        let (_d, c) = collector(Some(text), None, DnsConfig::default());
        assert_eq!(list(&c).len(), 3);
    }

    #[test]
    fn a_huge_systemd_upstream_list_is_capped() {
        let upstream: String = (0..50_000u32)
            .map(|i| format!("nameserver 10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255))
            .collect();
        let (_d, c) = collector(
            Some("nameserver 127.0.0.53\n"),
            Some(&upstream),
            DnsConfig::default(),
        );
        let l = list(&c);
        assert_eq!(l.len(), 1 + 8, "{}", l.len());
        assert_eq!(l[1], ("10.0.0.0:53".to_string(), "systemd-resolved"));
    }

    #[test]
    fn systemd_stub_adds_upstreams_and_flags_are_added_once() {
        let config = DnsConfig {
            resolvers: vec![
                "192.0.2.53:53".parse().unwrap(),
                "127.0.0.53:53".parse().unwrap(),
            ],
            ..DnsConfig::default()
        };
        let (_d, c) = collector(
            Some("nameserver 127.0.0.53\noptions edns0 trust-ad\n"),
            Some("nameserver 192.0.2.1\nnameserver 2001:db8::1\n"),
            config,
        );
        assert_eq!(
            list(&c),
            [
                ("127.0.0.53:53".to_string(), "resolv.conf"),
                ("192.0.2.1:53".to_string(), "systemd-resolved"),
                ("[2001:db8::1]:53".to_string(), "systemd-resolved"),
                ("192.0.2.53:53".to_string(), "flag"),
            ]
        );
    }

    #[test]
    fn resolv_conf_off_keeps_only_flags() {
        let config = DnsConfig {
            from_resolv_conf: false,
            resolvers: vec!["[::1]:5353".parse().unwrap()],
            ..DnsConfig::default()
        };
        let (_d, c) = collector(Some("nameserver 192.0.2.1\n"), None, config);
        assert_eq!(list(&c), [("[::1]:5353".to_string(), "flag")]);
    }

    #[test]
    fn unreadable_resolv_conf_is_a_collector_error() {
        let (d, c) = collector(None, None, DnsConfig::default());
        // A directory where the file should be: reading it fails.
        std::fs::create_dir(d.path().join("etc/resolv.conf")).unwrap();
        assert!(c.resolvers().is_err());
    }
}
