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

/// Parses `500ms`, `15s`, `5m`, `1h`, `1d` (and combinations such as `1m30s`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("{s:?} is not a duration; write e.g. 500ms, 15s, 5m, 1h or 1d");
    let s = s.trim();
    if s.is_empty() {
        return Err(err());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        let n = n.min(u64::MAX / 86400);
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "d" => Duration::from_secs(n * 86400),
            _ => return Err(err()),
        };
        total = total.checked_add(d).ok_or_else(err)?;
    }
    Ok(total)
}

/// The longest interval or timeout vigie accepts (a year).
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86400);

/// A duration for a flag: more than zero and at most [`MAX_DURATION`].
pub fn parse_flag_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "{s:?} is zero; give a positive duration such as 15s"
        ));
    }
    if d > MAX_DURATION {
        return Err(format!("{s:?} is longer than a year"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172800)));
        for bad in ["", "5", "5 minutes", "s", "1.5s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_flag_duration("0s").unwrap_err().contains("zero"));
        assert!(parse_flag_duration("99999999999999999999d").is_err());
        assert!(parse_flag_duration("400d").unwrap_err().contains("year"));
        assert_eq!(parse_flag_duration("2s"), Ok(Duration::from_secs(2)));
    }
}
