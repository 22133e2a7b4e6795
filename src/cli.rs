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

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT, or :PORT for every interface.
    #[arg(
        long = "web.listen-address",
        value_name = "ADDR",
        default_value = ":7361",
        help_heading = "Web"
    )]
    pub listen_address: String,

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

    /// Connections held open at the same time; more wait until one closes.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Web")]
    pub max_connections: u32,

    /// A client must send its request headers within this time, or is disconnected.
    #[arg(long = "web.header-read-timeout", value_name = "DURATION", default_value = "5s",
          value_parser = duration, help_heading = "Web")]
    pub header_read_timeout: Duration,

    /// The longest a scrape waits for the collectors that run on each scrape
    /// (shortened further by Prometheus' X-Prometheus-Scrape-Timeout-Seconds).
    #[arg(long = "web.scrape-timeout", value_name = "DURATION", default_value = "2s",
          value_parser = duration, help_heading = "Web")]
    pub scrape_timeout: Duration,

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
            listen_address: self.listen_address.clone(),
            telemetry_path: self.telemetry_path.clone(),
            max_requests: self.max_requests as usize,
            max_connections: self.max_connections as usize,
            header_read_timeout: self.header_read_timeout,
            scrape_timeout: self.scrape_timeout,
            paths: Paths {
                procfs: self.procfs.clone(),
                sysfs: self.sysfs.clone(),
                rootfs: self.rootfs.clone(),
            },
            collectors: self.collectors.enabled.clone(),
        }
    }
}

impl Cli {
    /// The serve arguments, from `vigie serve ...` or plain `vigie ...`.
    pub fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(a)) => a,
            None | Some(Command::GenRules(_)) => &self.serve,
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
        assert_eq!(c.listen_address, ":7361");
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
        assert_eq!(dns.queries[0].to_string(), "example.com:A");
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
        assert_eq!(c.listen_address, "127.0.0.1:1");
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
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
