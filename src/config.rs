//! The exporter's configuration: a plain value built from the command line
//! by [`crate::cli`] and read by the rest, kept apart from argument parsing so
//! tests and other front ends can build one directly.

use std::time::Duration;

use crate::collect::dns::DnsConfig;
use crate::collect::filesystem::FilesystemConfig;
use crate::collect::smart::SmartConfig;
use crate::paths::Paths;

/// The default port. The Prometheus exporter range 9100-9999 is fully
/// allocated; 7361 is outside it and outside Prometheus' own ports
/// (9090-9094).
pub const DEFAULT_PORT: u16 = 7361;

/// Everything `vigie serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port`, `:port` (all interfaces), or `[v6]:port`.
    pub listen_address: String,
    /// Where metrics are served (`/metrics`).
    pub telemetry_path: String,
    /// Scrapes answered at once; more get 503 at once instead of queueing.
    pub max_requests: usize,
    /// Connections held open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// A client must send its request headers within this time.
    pub header_read_timeout: Duration,
    /// The longest a scrape waits for on-scrape collectors.
    pub scrape_timeout: Duration,
    pub paths: Paths,
    pub collectors: CollectorsConfig,
}

/// Which collectors run, with their settings (`None`/`false`: disabled).
#[derive(Debug, Clone)]
pub struct CollectorsConfig {
    pub filesystem: Option<FilesystemConfig>,
    pub swap: bool,
    pub smart: Option<SmartConfig>,
    pub dns: Option<DnsConfig>,
    pub reboot: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_address: format!(":{DEFAULT_PORT}"),
            telemetry_path: "/metrics".into(),
            max_requests: 40,
            max_connections: 256,
            header_read_timeout: Duration::from_secs(5),
            scrape_timeout: Duration::from_secs(2),
            paths: Paths::default(),
            collectors: CollectorsConfig {
                filesystem: Some(FilesystemConfig::default()),
                swap: true,
                smart: Some(SmartConfig::default()),
                dns: Some(DnsConfig::default()),
                reboot: true,
            },
        }
    }
}
