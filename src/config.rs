//! The exporter's configuration: a plain value built from the command line
//! by [`crate::cli`] and read by the rest, kept apart from argument parsing so
//! tests and other front ends can build one directly.

use std::time::Duration;

use crate::collect::registry::{self, AnySettings};
use crate::paths::Paths;

/// The default port. The Prometheus exporter range 9100-9999 is fully
/// allocated; 7361 is outside it and outside Prometheus' own ports
/// (9090-9094).
pub const DEFAULT_PORT: u16 = 7361;

/// Everything `vigie serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Each `host:port`, `:port` (all interfaces), or `[v6]:port`.
    pub listen_addresses: Vec<String>,
    /// Take the listening sockets from systemd (LISTEN_FDS) instead.
    pub systemd_socket: bool,
    /// exporter-toolkit web config (TLS, basic auth, headers).
    pub web_config_file: Option<std::path::PathBuf>,
    /// Where metrics are served (`/metrics`).
    pub telemetry_path: String,
    /// Scrapes answered at once; more get 503 at once instead of queueing.
    pub max_requests: usize,
    /// Connections held open at once; beyond, a new one replaces the oldest
    /// that has not sent a request (see [`crate::conntrack`]).
    pub max_connections: usize,
    /// A client must send its request headers within this time.
    pub header_read_timeout: Duration,
    /// A keep-alive connection may idle this long between requests.
    pub idle_timeout: Duration,
    /// The longest a scrape waits for on-scrape collectors.
    pub scrape_timeout: Duration,
    pub paths: Paths,
    /// The settings of each collector that runs, in export order (see
    /// [`crate::collect::ALL`]); a collector not listed is disabled.
    pub collectors: Vec<Box<dyn AnySettings>>,
}

impl Config {
    /// The settings of the collector configured by `T`, if it runs.
    pub fn collector<T: 'static>(&self) -> Option<&T> {
        self.collectors
            .iter()
            .find_map(|c| c.as_any().downcast_ref::<T>())
    }

    /// Mutable access to the settings of the collector configured by `T`.
    pub fn collector_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.collectors
            .iter_mut()
            .find_map(|c| c.as_any_mut().downcast_mut::<T>())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addresses: vec![format!(":{DEFAULT_PORT}")],
            systemd_socket: false,
            web_config_file: None,
            telemetry_path: "/metrics".into(),
            max_requests: 40,
            max_connections: 2048,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            scrape_timeout: Duration::from_secs(2),
            paths: Paths::default(),
            collectors: registry::default_collectors(),
        }
    }
}
