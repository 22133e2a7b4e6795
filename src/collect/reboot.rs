//! `reboot`: when the host booted, and whether (and since when) it waits
//! for a reboot (incident 4: a server not rebooted for 33 weeks whose
//! maintenance reboot became a 3 h outage).
//!
//! Sources: the `btime` line of `{procfs}/stat`; Debian/Ubuntu's
//! `{rootfs}/var/run/reboot-required` (its mtime is when the first package
//! asked for a reboot) and `reboot-required.pkgs` (the packages that asked).
//! `/var/run` is followed through `--path.rootfs`, so the usual
//! `/var/run -> /run` symlink resolves inside the host tree.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;

use super::registry::{Context, Entry, Settings, entry};
use super::{Collector, Partial, Refresh, Registration, read_file};
use crate::metrics::{Families, Unit};
use crate::schema::Desc;
use crate::paths::Paths;

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "reboot",
    RebootConfig,
    default_enabled: true,
    summary: "boot time and pending reboot",
    details: "boot time, Debian/Ubuntu reboot-required flag, since when, and how many packages ask for it",
    metrics: FAMILIES,
);

// The families this file emits: the metric schema's part for the reboot collector.


pub const REBOOT_REQUIRED: Desc = Desc::gauge(
    "vigie_reboot_required",
    "1 if the system asks for a reboot (/var/run/reboot-required exists, Debian/Ubuntu), else 0.",
    &[],
);
pub const REBOOT_REQUIRED_SINCE_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_reboot_required_since_timestamp_seconds",
    "Unix time at which a reboot was first requested (mtime of /var/run/reboot-required).",
    &[],
)
.unit(Unit::Seconds);
pub const REBOOT_REQUIRED_PACKAGES: Desc = Desc::gauge(
    "vigie_reboot_required_packages",
    "Number of packages that asked for a reboot (lines of /var/run/reboot-required.pkgs).",
    &[],
);
pub const BOOT_TIME_SECONDS: Desc = Desc::gauge(
    "vigie_boot_time_seconds",
    "Unix time at which the host booted (btime of /proc/stat).",
    &[],
)
.unit(Unit::Seconds);

/// The families this collector exports, in export order.
pub const FAMILIES: &[&Desc] = &[
    &REBOOT_REQUIRED,
    &REBOOT_REQUIRED_SINCE_TIMESTAMP_SECONDS,
    &REBOOT_REQUIRED_PACKAGES,
    &BOOT_TIME_SECONDS,
];

/// Settings of the reboot collector: it has no flags.
#[derive(Debug, Clone, Default, Args)]
pub struct RebootConfig {}

impl Settings for RebootConfig {
    fn register(&self, context: &Context) -> Registration {
        // Boot time and the reboot-required flag change rarely and are
        // alerted on in days: a background refresh every 30 s is plenty, and
        // keeps the read of the large /proc/stat off the scrape path.
        Registration {
            collector: Arc::new(RebootCollector::new(context.paths.clone())),
            refresh: Refresh::Every(Duration::from_secs(30)),
            timeout: Duration::from_secs(10),
        }
    }
}

pub struct RebootCollector {
    paths: Paths,
}

impl RebootCollector {
    pub fn new(paths: Paths) -> Self {
        RebootCollector { paths }
    }

    /// Where a host file is, seen from here, with symlinks followed inside
    /// rootfs; None when it does not exist.
    fn host_file(&self, host: &str) -> anyhow::Result<Option<std::path::PathBuf>> {
        let (resolved, exists) = self.paths.resolve_host_path(Path::new(host))?;
        Ok(exists.then(|| self.paths.under_rootfs(&resolved)))
    }
}

/// The `btime` value of `/proc/stat`.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Distinct package names listed in `reboot-required.pkgs`.
pub fn count_packages(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<BTreeSet<_>>()
        .len()
}

impl Collector for RebootCollector {
    fn name(&self) -> &'static str {
        "reboot"
    }

    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        let mut errors = Partial::default();

        let mut host_file = |host: &str| {
            let r = self
                .host_file(host)
                .map_err(|e| anyhow::anyhow!("resolving {host}: {e}"));
            errors.ok(r).flatten()
        };
        let flag = host_file("/var/run/reboot-required");
        let pkgs_file = host_file("/var/run/reboot-required.pkgs");
        out.family(&REBOOT_REQUIRED)
        .sample(&[], if flag.is_some() { 1.0 } else { 0.0 });
        if let Some(flag) = &flag {
            match std::fs::symlink_metadata(flag).and_then(|m| m.modified()) {
                Ok(mtime) => {
                    let since = mtime
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs_f64())
                        .unwrap_or(0.0);
                    out.family(&REBOOT_REQUIRED_SINCE_TIMESTAMP_SECONDS)
                    .sample(&[], since);
                }
                Err(e) => {
                    errors.note(anyhow::anyhow!("{}: {e}", flag.display()));
                }
            }
        }
        let pkgs = match pkgs_file {
            Some(p) => match read_file(&p) {
                Ok(t) => count_packages(&t),
                Err(e) => {
                    errors.note(e);
                    0
                }
            },
            None => 0,
        };
        out.family(&REBOOT_REQUIRED_PACKAGES)
        .sample(&[], pkgs as f64);

        let stat = self.paths.proc("stat");
        match read_file(&stat).and_then(|t| {
            parse_btime(&t).ok_or_else(|| anyhow::anyhow!("{}: no btime line", stat.display()))
        }) {
            Ok(btime) => {
                out.family(&BOOT_TIME_SECONDS)
                .sample(&[], btime as f64);
            }
            Err(e) => {
                errors.note(e);
            }
        }

        errors.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btime() {
        assert_eq!(
            parse_btime("cpu 1 2 3\nbtime 1418183276\nprocesses 3\n"),
            Some(1418183276)
        );
        assert_eq!(parse_btime("cpu 1 2 3\n"), None);
        assert_eq!(parse_btime("btime notanumber\n"), None);
    }

    #[test]
    fn packages() {
        assert_eq!(count_packages("linux-image-amd64\nlibc6\n\nlibc6\n"), 2);
        assert_eq!(count_packages(""), 0);
    }
}
