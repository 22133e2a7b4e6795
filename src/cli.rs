//! The command line, in node_exporter's style: the global flags of `serve`
//! (`--web.*`, `--path.*`, `--log.level`) and the subcommands. The collector
//! switches and each collector's own flags come from the collector registry
//! ([`crate::collect::registry::CollectorArgs`]). Parsed flags are turned
//! into a plain [`Config`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::collect::registry::CollectorArgs;
use crate::config::Config;
use crate::paths::Paths;
use crate::units::parse_flag_duration;

const ABOUT: &str = "vigie: early warnings for small hosting collectives.

Exports the signals behind the outages small hosters keep having (disks that fill, \
control-plane filesystems, swap, reboots left pending) as Prometheus metrics.";

const AFTER_HELP: &str = "Examples:
  vigie                                   serve on :7361 with the default collectors
  vigie --collector.filesystem.watch-path=/var/lib/etcd=control-plane
                                          also tell which filesystem holds etcd's data
  vigie --path.procfs=/host/proc --path.rootfs=/host/root
                                          run in a container, reading the host";

#[derive(Debug, Parser)]
#[command(name = "vigie", version, about = ABOUT, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true, disable_help_subcommand = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// With no subcommand, vigie serves.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, at start
pub enum Command {
    /// Serve metrics over HTTP (what plain `vigie` does).
    #[command(after_help = AFTER_HELP)]
    Serve(ServeArgs),
    /// Write alerting rules, their promtool tests and Grafana dashboards from a thresholds file.
    #[command(after_help = GEN_AFTER_HELP)]
    GenRules(GenRulesArgs),
    /// Evaluate the thresholds file on this host now (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
}

const CHECK_AFTER_HELP: &str =
    "Runs the collectors once, each under its timeout, and compares every enabled signal of
the thresholds file with its levels, as the alert rules do. Exit status (Monitoring Plugins):
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check itself could not run).

Examples:
  vigie check                                         built-in thresholds, a table
  vigie check --thresholds /etc/vigie/thresholds.yaml --state /var/lib/vigie/check.json
  vigie check --args-from /etc/default/vigie --format nagios --only filesystem,swap";

/// `vigie check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CheckFormat {
    /// A table for people, in the thresholds file's language.
    #[default]
    Table,
    /// One status line with performance data (Nagios, Icinga).
    Nagios,
    /// A JSON document.
    Json,
}

/// `vigie check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The thresholds file (YAML); the built-in defaults without one.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Check only these sections: filesystem, smart, swap, reboot, dns.
    #[arg(long, value_name = "SECTIONS", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Keep each run's free bytes (and counters) in FILE, for the time-to-full
    /// forecast and rates.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The instance name overrides are matched against (default: the host
    /// name; give host:port to match the instance label Prometheus uses).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,

    /// Also read the collector and path flags of the exporter's environment
    /// file (VIGIE_ARGS=... in /etc/default/vigie); flags given here win.
    #[arg(long = "args-from", value_name = "FILE")]
    pub args_from: Option<PathBuf>,

    /// `--path.procfs`, `--path.sysfs`, `--path.rootfs`, as for serve.
    #[command(flatten)]
    pub paths: PathArgs,

    /// The collector switches and every collector's own flags, as for serve.
    #[command(flatten)]
    pub collectors: CollectorArgs,
}

impl CheckArgs {
    /// The collectors' configuration these flags describe.
    pub fn to_config(&self) -> Config {
        Config {
            paths: self.paths.to_paths(),
            collectors: self.collectors.enabled.clone(),
            ..Config::default()
        }
    }
}

/// The flags of an environment file such as `/etc/default/vigie`
/// (`VIGIE_ARGS="--a=b --c"`, shell-style quotes), keeping the ones `check`
/// shares with `serve`: `--collector.*`, `--no-collector.*`, `--path.*`.
pub fn args_from_file(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some(value) = line.strip_prefix("VIGIE_ARGS=") else {
            continue;
        };
        // The shell assigns the unquoted value; systemd's `$VIGIE_ARGS`
        // then splits it into words.
        let words = shell_words(&shell_words(value).join(" "));
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            let shared = ["--collector.", "--no-collector.", "--path."]
                .iter()
                .any(|p| w.starts_with(p));
            if shared {
                out.push(w.clone());
                // `--flag value`: take the value along.
                if !w.contains('=')
                    && !w.starts_with("--no-")
                    && words.get(i + 1).is_some_and(|n| !n.starts_with('-'))
                    && !is_switch(w)
                {
                    out.push(words[i + 1].clone());
                    i += 1;
                }
            } else if !w.contains('=') && words.get(i + 1).is_some_and(|n| !n.starts_with('-')) {
                i += 1;
            }
            i += 1;
        }
    }
    out
}

/// `--collector.NAME` and `--collector.disable-defaults` take no value.
fn is_switch(flag: &str) -> bool {
    let name = flag.trim_start_matches("--collector.");
    name == "disable-defaults" || crate::collect::ALL.iter().any(|e| e.name == name)
}

/// Splits a shell word list with single and double quotes and backslashes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = s.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            (None, '#') if !has => break,
            (None, c) if c.is_whitespace() => {
                if has {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        words.push(cur);
    }
    words
}

const GEN_AFTER_HELP: &str = "Writes vigie-rules.yaml, its promtool tests vigie-rules.test.yaml and
vigie-rules.long.test.yaml (the fill forecast, over days) and dashboards/vigie-fleet.json,
dashboards/vigie-host.json (Grafana). Exit status: 0 written or up to date, 1 out of date
(--check), 2 bad thresholds file or unwritable output.

Examples:
  vigie gen-rules --thresholds thresholds.yaml --out rules/
  vigie gen-rules --thresholds thresholds.yaml --out rules/ --check   (in CI: exit 1 if stale)
  promtool check rules rules/vigie-rules.yaml
  promtool test rules rules/vigie-rules.test.yaml rules/vigie-rules.long.test.yaml";

/// A Kubernetes namespace: a DNS-1123 label (lower-case letters, digits and
/// `-`, starting and ending with a letter or digit, at most 63 characters).
fn kubernetes_namespace(s: &str) -> Result<String, String> {
    let ok = s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a Kubernetes namespace: lower-case letters, digits and '-', \
             starting and ending with a letter or digit, at most 63 characters"
        ))
    }
}

/// The name part of a Kubernetes label key, or a non-empty label value: at
/// most 63 letters, digits, `-`, `_` and `.`, starting and ending with a
/// letter or digit.
fn kubernetes_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `KEY=VALUE`, a Kubernetes label: KEY is `[PREFIX/]NAME` (PREFIX a DNS
/// subdomain), VALUE is empty or a name.
fn kubernetes_label(s: &str) -> Result<(String, String), String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE, e.g. release=kube-prometheus-stack"))?;
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix
        .is_none_or(|p| p.len() <= 253 && p.split('.').all(|l| kubernetes_namespace(l).is_ok()));
    if !prefix_ok || !kubernetes_name(name) {
        return Err(format!(
            "{key:?} is not a Kubernetes label key: [PREFIX/]NAME, NAME at most 63 letters, digits, \
             '-', '_' and '.', starting and ending with a letter or digit"
        ));
    }
    if !value.is_empty() && !kubernetes_name(value) {
        return Err(format!(
            "{value:?} is not a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

/// `vigie gen-rules`.
#[derive(Debug, Clone, Args)]
pub struct GenRulesArgs {
    /// The thresholds file (YAML). An empty file gives the defaults.
    #[arg(long, value_name = "FILE")]
    pub thresholds: PathBuf,

    /// Directory to write vigie-rules.yaml, vigie-rules.test.yaml and the
    /// Grafana dashboards (in its dashboards/ subdirectory) into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write the dashboards (vigie-fleet.json, vigie-host.json) here
    /// instead of OUT/dashboards.
    #[arg(long, value_name = "DIR")]
    pub dashboards_out: Option<PathBuf>,

    /// Write nothing; exit 1 and list the files that would change.
    #[arg(long)]
    pub check: bool,

    /// prometheus-operator: also write the rules as a PrometheusRule object
    /// and the dashboards as ConfigMaps for the Grafana sidecar.
    #[arg(long, value_enum, default_value_t = RulesFormat::Plain)]
    pub format: RulesFormat,

    /// With --format prometheus-operator: the namespace of the PrometheusRule
    /// and of the dashboard ConfigMaps (none written by default: kubectl's).
    #[arg(long, value_name = "NAMESPACE", value_parser = kubernetes_namespace)]
    pub namespace: Option<String>,

    /// With --format prometheus-operator: a label of the PrometheusRule, such
    /// as the one the operator's ruleSelector matches
    /// (release=kube-prometheus-stack with kube-prometheus-stack). Repeatable.
    #[arg(long = "rule-label", value_name = "KEY=VALUE", value_parser = kubernetes_label)]
    pub rule_labels: Vec<(String, String)>,
}

/// `gen-rules --format`. Declared here so that the command line does not
/// depend on the generator; `main` maps it to the generator's own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RulesFormat {
    /// Rule files, their tests and the dashboards as JSON files.
    #[default]
    Plain,
    /// Also a PrometheusRule object and the dashboards as ConfigMaps (Kubernetes).
    PrometheusOperator,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_flag_duration(s)
}

/// Where the host is read from: the same three flags for `serve` and
/// `check`, defined once.
#[derive(Debug, Clone, Args)]
pub struct PathArgs {
    /// procfs mount point.
    #[arg(
        long = "path.procfs",
        value_name = "DIR",
        default_value = "/proc",
        help_heading = "Paths"
    )]
    pub procfs: PathBuf,

    /// sysfs mount point.
    #[arg(
        long = "path.sysfs",
        value_name = "DIR",
        default_value = "/sys",
        help_heading = "Paths"
    )]
    pub sysfs: PathBuf,

    /// Where the host's root filesystem is (set it when running in a container).
    #[arg(
        long = "path.rootfs",
        value_name = "DIR",
        default_value = "/",
        help_heading = "Paths"
    )]
    pub rootfs: PathBuf,
}

impl PathArgs {
    pub fn to_paths(&self) -> Paths {
        Paths {
            procfs: self.procfs.clone(),
            sysfs: self.sysfs.clone(),
            rootfs: self.rootfs.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT, or :PORT for every interface.
    /// Repeat the flag to listen on several addresses.
    #[arg(
        long = "web.listen-address",
        value_name = "ADDR",
        default_value = ":7361",
        action = clap::ArgAction::Append,
        help_heading = "Web"
    )]
    pub listen_address: Vec<String>,

    /// Use the sockets systemd passes (socket activation: LISTEN_FDS and
    /// LISTEN_PID) instead of --web.listen-address.
    #[arg(long = "web.systemd-socket", help_heading = "Web")]
    pub systemd_socket: bool,

    /// Prometheus exporter-toolkit web config file (TLS, basic auth,
    /// response headers, rate limit), e.g. node_exporter's, used unchanged.
    /// Re-read when it or a file it names changes, and on SIGHUP.
    #[arg(long = "web.config.file", value_name = "FILE", help_heading = "Web")]
    pub web_config_file: Option<std::path::PathBuf>,

    /// Path under which metrics are served.
    #[arg(
        long = "web.telemetry-path",
        value_name = "PATH",
        default_value = "/metrics",
        help_heading = "Web"
    )]
    pub telemetry_path: String,

    /// Scrapes answered at the same time; more are refused with 503 at once.
    #[arg(long = "web.max-requests", value_name = "N", default_value_t = 40,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Web")]
    pub max_requests: u32,

    /// Connections held open at the same time; beyond, a new connection
    /// replaces the oldest one that has not sent a full request (then the
    /// longest idle), never one being answered.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Web")]
    pub max_connections: u32,

    /// A client must send its request headers (and finish the TLS handshake)
    /// within this time of connecting or of its previous answer, or is
    /// disconnected.
    #[arg(long = "web.header-read-timeout", value_name = "DURATION", default_value = "5s",
          value_parser = duration, help_heading = "Web")]
    pub header_read_timeout: Duration,

    /// How long a keep-alive connection that completed a request may stay
    /// idle (longer than the scrape interval, so that Prometheus keeps it).
    #[arg(long = "web.idle-timeout", value_name = "DURATION", default_value = "5m",
          value_parser = duration, help_heading = "Web")]
    pub idle_timeout: Duration,

    /// The longest a scrape waits for the collectors that run on each scrape
    /// (shortened further by Prometheus' X-Prometheus-Scrape-Timeout-Seconds).
    #[arg(long = "web.scrape-timeout", value_name = "DURATION", default_value = "2s",
          value_parser = duration, help_heading = "Web")]
    pub scrape_timeout: Duration,

    #[command(flatten)]
    pub paths: PathArgs,

    /// The collector switches and every collector's own flags.
    #[command(flatten)]
    pub collectors: CollectorArgs,

    /// Log level: error, warn, info or debug.
    #[arg(long = "log.level", value_name = "LEVEL", default_value = "info",
          value_parser = ["error", "warn", "info", "debug"], help_heading = "Logging")]
    pub log_level: String,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn to_config(&self) -> Config {
        Config {
            listen_addresses: self.listen_address.clone(),
            systemd_socket: self.systemd_socket,
            web_config_file: self.web_config_file.clone(),
            telemetry_path: self.telemetry_path.clone(),
            max_requests: self.max_requests as usize,
            max_connections: self.max_connections as usize,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            scrape_timeout: self.scrape_timeout,
            paths: self.paths.to_paths(),
            collectors: self.collectors.enabled.clone(),
        }
    }
}

impl Cli {
    /// The serve arguments, from `vigie serve ...` or plain `vigie ...`.
    pub fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(a)) => a,
            None | Some(Command::GenRules(_)) | Some(Command::Check(_)) => &self.serve,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::ALL;
    use crate::collect::dns::DnsConfig;
    use crate::collect::filesystem::FilesystemConfig;
    use crate::collect::reboot::RebootConfig;
    use crate::collect::smart::SmartConfig;
    use crate::collect::swap::SwapConfig;
    use crate::paths::Paths;

    fn parse(args: &[&str]) -> Config {
        let mut v = vec!["vigie"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).unwrap().serve_args().to_config()
    }

    #[test]
    fn defaults() {
        let c = parse(&[]);
        assert_eq!(c.listen_addresses, [":7361"]);
        assert_eq!(c.telemetry_path, "/metrics");
        assert!(c.collector::<FilesystemConfig>().is_some());
        assert!(c.collector::<SwapConfig>().is_some() && c.collector::<RebootConfig>().is_some());
        assert_eq!(c.paths, Paths::default());
    }

    /// The guard of "defaults written once": the configuration plain `vigie`
    /// runs with is `Config::default()`, field by field (every collector's
    /// settings included), and each collector's flag defaults are the ones
    /// it documents.
    #[test]
    fn cli_defaults_equal_config_defaults() {
        let parsed = parse(&[]);
        let default = Config::default();
        assert_eq!(format!("{parsed:#?}"), format!("{default:#?}"));
        let enabled: Vec<&str> = ALL
            .iter()
            .filter(|e| e.default_enabled)
            .map(|e| e.name)
            .collect();
        assert_eq!(parsed.collectors.len(), enabled.len());
        let smart = SmartConfig::default();
        assert_eq!(smart.interval, Duration::from_secs(300));
        assert_eq!(smart.timeout, Duration::from_secs(30));
        assert_eq!(smart.powermode, "standby");
        assert_eq!(smart.parallel, 4);
        let dns = DnsConfig::default();
        assert_eq!(dns.interval, Duration::from_secs(30));
        assert_eq!(dns.timeout, Duration::from_secs(2));
        assert!(dns.from_resolv_conf);
        assert_eq!(dns.queries.len(), 1);
        assert_eq!(dns.queries[0].to_string(), ".:NS");
        let fs = FilesystemConfig::default();
        assert_eq!(fs.interval, Duration::from_secs(15));
        assert_eq!(fs.stat_timeout, Duration::from_secs(5));
    }

    #[test]
    fn switches_last_wins_and_disable_defaults() {
        let c = parse(&["--no-collector.swap"]);
        assert!(c.collector::<SwapConfig>().is_none() && c.collector::<RebootConfig>().is_some());
        let c = parse(&["--no-collector.swap", "--collector.swap"]);
        assert!(c.collector::<SwapConfig>().is_some());
        let c = parse(&["--collector.disable-defaults", "--collector.reboot"]);
        assert!(c.collector::<RebootConfig>().is_some());
        assert_eq!(c.collectors.len(), 1);
    }

    #[test]
    fn serve_subcommand_and_flags() {
        let c = parse(&[
            "serve",
            "--web.listen-address=127.0.0.1:1",
            "--path.procfs=/x/proc",
            "--collector.filesystem.watch-path=/var/lib/etcd=control-plane",
            "--collector.filesystem.watch-path=/srv",
            "--collector.filesystem.interval=1m",
            "--collector.dns.query=example.org:MX",
            "--collector.smart.parallel=2",
        ]);
        assert_eq!(c.listen_addresses, ["127.0.0.1:1"]);
        assert_eq!(c.paths.procfs, PathBuf::from("/x/proc"));
        let fs = c.collector::<FilesystemConfig>().unwrap();
        assert_eq!(fs.watch_paths.len(), 2);
        assert_eq!(fs.watch_paths[0].role, "control-plane");
        assert_eq!(fs.interval, Duration::from_secs(60));
        let dns = c.collector::<DnsConfig>().unwrap();
        assert_eq!(dns.queries.len(), 1, "the default query is replaced");
        assert_eq!(dns.queries[0].to_string(), "example.org:MX");
        assert_eq!(c.collector::<SmartConfig>().unwrap().parallel, 2);
    }

    #[test]
    fn bad_values_are_explained() {
        let e = Cli::try_parse_from(["vigie", "--collector.filesystem.interval=5 minutes"])
            .unwrap_err();
        assert!(e.to_string().contains("is not a duration"), "{e}");
        let e = Cli::try_parse_from(["vigie", "--collector.filesystem.mount-points-exclude=("])
            .unwrap_err();
        assert!(e.to_string().contains("invalid regular expression"), "{e}");
    }

    #[test]
    fn environment_file_flags() {
        let text = "# vigie\nVIGIE_ARGS=\"--web.listen-address=:9 --collector.filesystem.watch-path=/var/lib/etcd=control-plane --no-collector.smart --log.level debug --path.rootfs '/host root'\"\nOTHER=1\n";
        assert_eq!(
            args_from_file(text),
            [
                "--collector.filesystem.watch-path=/var/lib/etcd=control-plane",
                "--no-collector.smart",
                "--path.rootfs",
                "/host root"
            ]
        );
        assert_eq!(
            shell_words("a 'b c' \"d\\\"e\" f\\ g # x"),
            ["a", "b c", "d\"e", "f g"]
        );
    }

    #[test]
    fn check_subcommand() {
        let cli = Cli::try_parse_from([
            "vigie",
            "check",
            "--only",
            "filesystem,swap",
            "--format",
            "json",
            "--collector.filesystem.watch-path=/srv=data",
            "--path.procfs=/x",
        ])
        .unwrap();
        let Some(Command::Check(c)) = cli.command else {
            panic!()
        };
        assert_eq!(c.only, ["filesystem", "swap"]);
        assert_eq!(c.format, CheckFormat::Json);
        let config = c.to_config();
        assert_eq!(config.paths.procfs, PathBuf::from("/x"));
        assert_eq!(
            config.collector::<FilesystemConfig>().unwrap().watch_paths[0].role,
            "data"
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
