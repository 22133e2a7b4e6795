//! The command line, in node_exporter's style (`--web.listen-address`,
//! `--path.procfs`, `--collector.NAME` / `--no-collector.NAME`), turned into
//! a [`Config`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use regex::Regex;

use crate::collect::dns::DnsConfig;
use crate::collect::dns_probe::DnsQuery;
use crate::collect::filesystem::{
    DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE, FilesystemConfig, WatchPath,
};
use crate::collect::smart::{SmartConfig, SmartDevice};
use crate::config::{CollectorsConfig, Config};
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

const GEN_AFTER_HELP: &str =
    "Writes vigie-rules.yaml, vigie-rules.test.yaml and dashboards/vigie-fleet.json,
dashboards/vigie-host.json (Grafana). Exit status: 0 written or up to date, 1 out of date
(--check), 2 bad thresholds file or unwritable output.

Examples:
  vigie gen-rules --thresholds thresholds.yaml --out rules/
  vigie gen-rules --thresholds thresholds.yaml --out rules/ --check   (in CI: exit 1 if stale)
  promtool check rules rules/vigie-rules.yaml && promtool test rules rules/vigie-rules.test.yaml";

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
    #[arg(long, value_enum, default_value_t = crate::generate::Format::Plain)]
    pub format: crate::generate::Format,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_flag_duration(s)
}

fn resolver_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    crate::collect::resolv_conf::parse_address(s)
        .ok_or_else(|| format!("{s:?} is not an IP address with an optional port (192.0.2.1, 192.0.2.1:5353, [2001:db8::1]:53)"))
}

fn regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}

/// Declares `--collector.NAME` / `--no-collector.NAME` for each collector.
macro_rules! collector_flags {
    ($($field:ident, $no:ident, $name:literal, $help:literal;)*) => {
        /// Collectors to run. Each one can be switched on or off; the last
        /// flag given wins.
        #[derive(Debug, Clone, Args)]
        #[command(next_help_heading = "Collectors")]
        pub struct CollectorSwitches {
            /// Turn off every collector not switched on explicitly with --collector.NAME.
            #[arg(long = "collector.disable-defaults")]
            pub disable_defaults: bool,
            $(
                #[arg(long = concat!("collector.", $name), overrides_with = stringify!($no),
                      help = concat!("Enable the ", $name, " collector (on by default): ", $help))]
                pub $field: bool,
                #[arg(long = concat!("no-collector.", $name), overrides_with = stringify!($field),
                      help = concat!("Disable the ", $name, " collector"))]
                pub $no: bool,
            )*
        }

        impl CollectorSwitches {
            /// Whether `name` runs.
            pub fn enabled(&self, name: &str) -> bool {
                $(
                    if name == $name {
                        return if self.$field {
                            true
                        } else if self.$no {
                            false
                        } else {
                            !self.disable_defaults
                        };
                    }
                )*
                false
            }
        }
    };
}

collector_flags! {
    filesystem, no_filesystem, "filesystem", "usage of every real filesystem and of watched paths";
    swap, no_swap, "swap", "swap usage, swap-in/out and memory pressure";
    smart, no_smart, "smart", "SMART health and pre-fail counters of every disk";
    dns, no_dns, "dns", "health and latency of every resolver this host uses";
    reboot, no_reboot, "reboot", "boot time and pending reboot";
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

    #[command(flatten)]
    pub collectors: CollectorSwitches,

    /// How often filesystems are statted.
    #[arg(long = "collector.filesystem.interval", value_name = "DURATION", default_value = "15s",
          value_parser = duration, help_heading = "Filesystem collector")]
    pub fs_interval: Duration,

    /// How long statfs on one mount may take before it is reported stuck
    /// (vigie_filesystem_stat_error 1). A stuck mount never delays scrapes.
    #[arg(long = "collector.filesystem.stat-timeout", value_name = "DURATION", default_value = "5s",
          value_parser = duration, help_heading = "Filesystem collector")]
    pub fs_stat_timeout: Duration,

    /// Only mount points matching this regex are reported.
    #[arg(long = "collector.filesystem.mount-points-include", value_name = "REGEX",
          value_parser = regex, help_heading = "Filesystem collector")]
    pub mount_points_include: Option<Regex>,

    /// Mount points matching this regex are skipped.
    #[arg(long = "collector.filesystem.mount-points-exclude", value_name = "REGEX",
          default_value = DEFAULT_MOUNT_POINTS_EXCLUDE, value_parser = regex, help_heading = "Filesystem collector")]
    pub mount_points_exclude: Regex,

    /// Only filesystem types matching this regex are reported.
    #[arg(long = "collector.filesystem.fs-types-include", value_name = "REGEX",
          value_parser = regex, help_heading = "Filesystem collector")]
    pub fs_types_include: Option<Regex>,

    /// Filesystem types matching this regex are skipped.
    #[arg(long = "collector.filesystem.fs-types-exclude", value_name = "REGEX",
          default_value = DEFAULT_FS_TYPES_EXCLUDE, value_parser = regex, help_heading = "Filesystem collector")]
    pub fs_types_exclude: Regex,

    /// Paths whose filesystem is reported, each with a role.
    #[arg(
        long = "collector.filesystem.watch-path",
        value_name = "PATH[=ROLE]",
        help_heading = "Filesystem collector",
        help = "PATH[=ROLE]: report which filesystem holds PATH (following symlinks inside --path.rootfs), \
                  e.g. /var/lib/etcd=control-plane. Repeatable. That filesystem is reported even if the \
                  filters above skip it"
    )]
    pub watch_paths: Vec<WatchPath>,

    /// The smartctl program (from smartmontools).
    #[arg(
        long = "collector.smart.smartctl-path",
        value_name = "PATH",
        default_value = "smartctl",
        help_heading = "SMART collector"
    )]
    pub smartctl: PathBuf,

    /// How often every disk is read.
    #[arg(long = "collector.smart.interval", value_name = "DURATION", default_value = "5m",
          value_parser = duration, help_heading = "SMART collector")]
    pub smart_interval: Duration,

    /// How long one smartctl run may take; then it is killed and the disk reported in error.
    #[arg(long = "collector.smart.timeout", value_name = "DURATION", default_value = "30s",
          value_parser = duration, help_heading = "SMART collector")]
    pub smart_timeout: Duration,

    /// Leave disks in this power mode or lower alone (smartctl --nocheck): never, sleep,
    /// standby or idle. The default keeps sleeping disks asleep.
    #[arg(long = "collector.smart.powermode", value_name = "MODE", default_value = "standby",
          value_parser = ["never", "sleep", "standby", "idle"], help_heading = "SMART collector")]
    pub smart_powermode: String,

    /// Disks to read instead of discovering them.
    #[arg(
        long = "collector.smart.device",
        value_name = "DEVICE[:TYPE]",
        help_heading = "SMART collector",
        help = "A disk to read instead of discovering them with smartctl --scan-open, e.g. /dev/sda or \
                  /dev/bus/0:megaraid,4 (the type after ':' is passed as -d). Repeatable"
    )]
    pub smart_devices: Vec<SmartDevice>,

    /// Disks read at the same time.
    #[arg(long = "collector.smart.parallel", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64), help_heading = "SMART collector")]
    pub smart_parallel: u32,

    /// How often each resolver is probed (once per query).
    #[arg(long = "collector.dns.interval", value_name = "DURATION", default_value = "30s",
          value_parser = duration, help_heading = "DNS collector")]
    pub dns_interval: Duration,

    /// How long a resolver has to answer one probe.
    #[arg(long = "collector.dns.timeout", value_name = "DURATION", default_value = "2s",
          value_parser = duration, help_heading = "DNS collector")]
    pub dns_timeout: Duration,

    /// Resolvers to watch in any case.
    #[arg(long = "collector.dns.resolver", value_name = "IP[:PORT]", value_parser = resolver_addr,
          help_heading = "DNS collector",
          help = "IP[:PORT] of a resolver to watch in any case ([IPv6]:PORT for IPv6 with a port). Repeatable")]
    pub dns_resolvers: Vec<std::net::SocketAddr>,

    /// Also watch the resolvers of /etc/resolv.conf (and systemd-resolved's upstreams).
    #[arg(long = "collector.dns.resolver-from-resolv-conf", value_name = "BOOL", default_value_t = true,
          action = clap::ArgAction::Set, help_heading = "DNS collector")]
    pub dns_from_resolv_conf: bool,

    /// Queries asked of every resolver.
    #[arg(
        long = "collector.dns.query",
        value_name = "NAME[:TYPE]",
        help_heading = "DNS collector",
        help = "NAME[:TYPE] to ask every resolver (A by default), e.g. example.org:MX for your mail domain. \
                  Repeatable. Default: example.com:A"
    )]
    pub dns_queries: Vec<DnsQuery>,

    /// Log level: error, warn, info or debug.
    #[arg(long = "log.level", value_name = "LEVEL", default_value = "info",
          value_parser = ["error", "warn", "info", "debug"], help_heading = "Logging")]
    pub log_level: String,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn to_config(&self) -> Config {
        let on = |name: &str| self.collectors.enabled(name);
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
            collectors: CollectorsConfig {
                filesystem: on("filesystem").then(|| FilesystemConfig {
                    interval: self.fs_interval,
                    stat_timeout: self.fs_stat_timeout,
                    mount_points_include: self.mount_points_include.clone(),
                    mount_points_exclude: self.mount_points_exclude.clone(),
                    fs_types_include: self.fs_types_include.clone(),
                    fs_types_exclude: self.fs_types_exclude.clone(),
                    watch_paths: {
                        // The same path twice would export duplicate series.
                        let mut w = self.watch_paths.clone();
                        let mut seen = std::collections::HashSet::new();
                        w.retain(|p| seen.insert(p.path.clone()));
                        w
                    },
                }),
                swap: on("swap"),
                smart: on("smart").then(|| SmartConfig {
                    smartctl: self.smartctl.clone(),
                    interval: self.smart_interval,
                    timeout: self.smart_timeout,
                    powermode: self.smart_powermode.clone(),
                    devices: self.smart_devices.clone(),
                    parallel: self.smart_parallel as usize,
                }),
                dns: on("dns").then(|| DnsConfig {
                    interval: self.dns_interval,
                    timeout: self.dns_timeout,
                    resolvers: self.dns_resolvers.clone(),
                    from_resolv_conf: self.dns_from_resolv_conf,
                    queries: if self.dns_queries.is_empty() {
                        DnsConfig::default().queries
                    } else {
                        self.dns_queries.clone()
                    },
                }),
                reboot: on("reboot"),
            },
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
        assert!(c.collectors.filesystem.is_some() && c.collectors.swap && c.collectors.reboot);
        assert_eq!(c.paths, Paths::default());
    }

    #[test]
    fn switches_last_wins_and_disable_defaults() {
        let c = parse(&["--no-collector.swap"]);
        assert!(!c.collectors.swap && c.collectors.reboot);
        let c = parse(&["--no-collector.swap", "--collector.swap"]);
        assert!(c.collectors.swap);
        let c = parse(&["--collector.disable-defaults", "--collector.reboot"]);
        assert!(c.collectors.reboot && !c.collectors.swap && c.collectors.filesystem.is_none());
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
        ]);
        assert_eq!(c.listen_address, "127.0.0.1:1");
        assert_eq!(c.paths.procfs, PathBuf::from("/x/proc"));
        let fs = c.collectors.filesystem.unwrap();
        assert_eq!(fs.watch_paths.len(), 2);
        assert_eq!(fs.watch_paths[0].role, "control-plane");
        assert_eq!(fs.interval, Duration::from_secs(60));
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
