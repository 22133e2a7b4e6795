//! The metric schema: every family vigie exports, declared once (name,
//! help, type, unit, label names) as a [`Desc`]. Collectors emit through
//! these descriptors ([`crate::metrics::Families::family`]), which check the
//! label names of every sample against the declaration in debug builds;
//! [`families`] lists them all, for guard tests that compare the README,
//! the generated rules or the dashboards with what vigie exports.
//!
//! Names follow the metric contract: prefix `vigie_`, base units, the unit
//! as the name's suffix; counters are named without `_total` (the encoders
//! add it).

use crate::metrics::{Kind, Unit};

/// The declaration of one metric family.
#[derive(Debug, PartialEq, Eq)]
pub struct Desc {
    /// The family name (a counter's without `_total`).
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub unit: Option<Unit>,
    /// The label names of every sample, in order.
    pub labels: &'static [&'static str],
}

impl Desc {
    pub const fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            name,
            help,
            kind: Kind::Gauge,
            unit: None,
            labels,
        }
    }

    pub const fn counter(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            kind: Kind::Counter,
            ..Desc::gauge(name, help, labels)
        }
    }

    pub const fn histogram(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            kind: Kind::Histogram,
            ..Desc::gauge(name, help, labels)
        }
    }

    /// The same family with a unit (its name must end with `_<unit>`).
    pub const fn unit(self, unit: Unit) -> Desc {
        Desc {
            unit: Some(unit),
            ..self
        }
    }

    /// The names of the series the family exposes in the Prometheus text
    /// format: `NAME_total` for a counter, `NAME_bucket`, `NAME_sum` and
    /// `NAME_count` for a histogram, `NAME` for a gauge.
    pub fn series_names(&self) -> Vec<String> {
        match self.kind {
            Kind::Gauge => vec![self.name.to_string()],
            Kind::Counter => vec![format!("{}_total", self.name)],
            Kind::Histogram => ["bucket", "sum", "count"]
                .iter()
                .map(|s| format!("{}_{s}", self.name))
                .collect(),
        }
    }

    /// The family's name as `# TYPE` lines show it (`_total` on counters).
    pub fn exposed_name(&self) -> String {
        match self.kind {
            Kind::Counter => format!("{}_total", self.name),
            Kind::Gauge | Kind::Histogram => self.name.to_string(),
        }
    }
}

/// Every family of the schema, in export order.
pub fn families() -> &'static [&'static Desc] {
    ALL
}

// Label sets shared by several families.
const NONE: &[&str] = &[];
const MOUNT: &[&str] = &["mountpoint", "device", "fstype"];
const PATH: &[&str] = &["path", "role"];
const PATH_FILESYSTEM: &[&str] = &["path", "role", "mountpoint", "device", "fstype"];
const SWAP_DEVICE: &[&str] = &["device", "type"];
/// A disk: its path, smartctl's type, and its stable identity.
const DISK: &[&str] = &["device", "type", "model", "serial", "wwn"];
const DISK_INFO: &[&str] = &[
    "device", "type", "model", "serial", "wwn", "firmware", "protocol",
];
const DISK_BIT: &[&str] = &["device", "type", "model", "serial", "wwn", "bit", "meaning"];
const DISK_ATTRIBUTE: &[&str] = &[
    "device", "type", "model", "serial", "wwn", "id", "name", "prefail",
];
const DISK_OPERATION: &[&str] = &["device", "type", "model", "serial", "wwn", "operation"];
/// A (resolver, query) pair.
const PROBE: &[&str] = &["resolver", "source", "query", "type"];
const PROBE_RESULT: &[&str] = &["resolver", "source", "query", "type", "result"];
const COLLECTOR: &[&str] = &["collector"];
const BUILD: &[&str] = &["version", "revision", "rustc"];

// The filesystem collector.
pub const FILESYSTEM_STAT_ERROR: Desc = Desc::gauge(
    "vigie_filesystem_stat_error",
    "1 if statfs on the filesystem failed or did not return in time (stuck mount), else 0.",
    MOUNT,
);
pub const FILESYSTEM_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_size_bytes",
    "Size of the filesystem in bytes.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_FREE_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_free_bytes",
    "Free bytes, including those reserved for root.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_AVAIL_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_avail_bytes",
    "Bytes available to unprivileged users: what applications can still write.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_FILES: Desc = Desc::gauge(
    "vigie_filesystem_files",
    "Total inodes (file nodes) of the filesystem.",
    MOUNT,
);
pub const FILESYSTEM_FILES_FREE: Desc = Desc::gauge(
    "vigie_filesystem_files_free",
    "Free inodes of the filesystem.",
    MOUNT,
);
pub const FILESYSTEM_READONLY: Desc = Desc::gauge(
    "vigie_filesystem_readonly",
    "1 if the filesystem is mounted read-only (ext4 remounts read-only on errors), else 0.",
    MOUNT,
);
pub const PATH_RESOLVE_ERROR: Desc = Desc::gauge(
    "vigie_path_resolve_error",
    "1 if the watched path could not be resolved to a filesystem (symlink loop, permission), else 0.",
    PATH,
);
pub const PATH_EXISTS: Desc = Desc::gauge(
    "vigie_path_exists",
    "1 if the watched path exists (after following symlinks), else 0.",
    PATH,
);
pub const PATH_FILESYSTEM_INFO: Desc = Desc::gauge(
    "vigie_path_filesystem_info",
    "Always 1: maps a watched path and its role to the filesystem that holds it (join on mountpoint).",
    PATH_FILESYSTEM,
);

// The swap collector.
pub const SWAP_IN_BYTES: Desc = Desc::counter(
    "vigie_swap_in_bytes",
    "Bytes read back in from swap since boot (pswpin x page size). A sustained rate means the host is short of RAM.",
    NONE,
).unit(Unit::Bytes);
pub const SWAP_OUT_BYTES: Desc = Desc::counter(
    "vigie_swap_out_bytes",
    "Bytes written out to swap since boot (pswpout x page size).",
    NONE,
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_swap_device_size_bytes",
    "Size of one swap device or file.",
    SWAP_DEVICE,
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_USED_BYTES: Desc = Desc::gauge(
    "vigie_swap_device_used_bytes",
    "Used space of one swap device or file.",
    SWAP_DEVICE,
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_PRIORITY: Desc = Desc::gauge(
    "vigie_swap_device_priority",
    "Priority of one swap device or file (higher is used first).",
    SWAP_DEVICE,
);
pub const PRESSURE_MEMORY_WAITING_SECONDS: Desc = Desc::counter(
    "vigie_pressure_memory_waiting_seconds",
    "Time in which at least one task was stalled waiting for memory (PSI 'some').",
    NONE,
)
.unit(Unit::Seconds);
pub const PRESSURE_MEMORY_STALLED_SECONDS: Desc = Desc::counter(
    "vigie_pressure_memory_stalled_seconds",
    "Time in which all non-idle tasks were stalled waiting for memory (PSI 'full').",
    NONE,
)
.unit(Unit::Seconds);
pub const SWAP_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_swap_size_bytes",
    "Total swap space (SwapTotal); 0 when the host has no swap.",
    NONE,
)
.unit(Unit::Bytes);
pub const SWAP_FREE_BYTES: Desc = Desc::gauge(
    "vigie_swap_free_bytes",
    "Unused swap space (SwapFree).",
    NONE,
)
.unit(Unit::Bytes);
pub const SWAP_CACHED_BYTES: Desc = Desc::gauge(
    "vigie_swap_cached_bytes",
    "Memory that is both in RAM and in swap (SwapCached).",
    NONE,
)
.unit(Unit::Bytes);
pub const MEMORY_TOTAL_BYTES: Desc =
    Desc::gauge("vigie_memory_total_bytes", "Usable RAM (MemTotal).", NONE).unit(Unit::Bytes);
pub const MEMORY_AVAILABLE_BYTES: Desc = Desc::gauge(
    "vigie_memory_available_bytes",
    "RAM available for new work without swapping (MemAvailable).",
    NONE,
)
.unit(Unit::Bytes);

// The reboot collector.
pub const REBOOT_REQUIRED: Desc = Desc::gauge(
    "vigie_reboot_required",
    "1 if the system asks for a reboot (/var/run/reboot-required exists, Debian/Ubuntu), else 0.",
    NONE,
);
pub const REBOOT_REQUIRED_SINCE_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_reboot_required_since_timestamp_seconds",
    "Unix time at which a reboot was first requested (mtime of /var/run/reboot-required).",
    NONE,
)
.unit(Unit::Seconds);
pub const REBOOT_REQUIRED_PACKAGES: Desc = Desc::gauge(
    "vigie_reboot_required_packages",
    "Number of packages that asked for a reboot (lines of /var/run/reboot-required.pkgs).",
    NONE,
);
pub const BOOT_TIME_SECONDS: Desc = Desc::gauge(
    "vigie_boot_time_seconds",
    "Unix time at which the host booted (btime of /proc/stat).",
    NONE,
)
.unit(Unit::Seconds);

// The smart collector.
pub const SMART_DEVICE_ERROR: Desc = Desc::gauge(
    "vigie_smart_device_error",
    "1 if the last smartctl run on the device gave no usable data (see the log), else 0.",
    DISK,
);
pub const SMART_DEVICE_STANDBY: Desc = Desc::gauge(
    "vigie_smart_device_standby",
    "1 if the disk was asleep at the last run and was left asleep (its last values are kept), else 0.",
    DISK,
);
pub const SMART_LAST_SUCCESS_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_smart_last_success_timestamp_seconds",
    "Unix time of the last smartctl run that gave data for the device; 0 if none yet.",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_RUN_DURATION_SECONDS: Desc = Desc::gauge(
    "vigie_smart_run_duration_seconds",
    "How long the last smartctl run on the device took.",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_DEVICE_INFO: Desc = Desc::gauge(
    "vigie_smart_device_info",
    "Always 1: identity of a disk (model, serial, firmware, protocol).",
    DISK_INFO,
);
pub const SMART_EXIT_STATUS_BIT: Desc = Desc::gauge(
    "vigie_smart_exit_status_bit",
    "smartctl exit status bits 2-7 of the last run with data: 3 disk failing, 4 prefail attributes at or below threshold, 6 errors in the error log, 7 self-test errors.",
    DISK_BIT,
);
pub const SMART_HEALTHY: Desc = Desc::gauge(
    "vigie_smart_healthy",
    "1 if the disk's overall SMART self-assessment passed, 0 if the disk says it is failing.",
    DISK,
);
pub const SMART_CAPACITY_BYTES: Desc = Desc::gauge(
    "vigie_smart_capacity_bytes",
    "User capacity of the disk.",
    DISK,
)
.unit(Unit::Bytes);
pub const SMART_ROTATION_RATE_RPM: Desc = Desc::gauge(
    "vigie_smart_rotation_rate_rpm",
    "Rotation rate in rpm; 0 for solid-state disks.",
    DISK,
);
pub const SMART_POWER_ON_SECONDS: Desc = Desc::gauge(
    "vigie_smart_power_on_seconds",
    "Time the disk has been powered on (power-on hours x 3600).",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_TEMPERATURE_CELSIUS: Desc = Desc::gauge(
    "vigie_smart_temperature_celsius",
    "Current temperature of the disk.",
    DISK,
);
pub const SMART_ATTRIBUTE_RAW: Desc = Desc::gauge(
    "vigie_smart_attribute_raw",
    "Raw value of an ATA SMART attribute (raw.value as smartctl decodes it; some vendors pack several fields).",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_VALUE: Desc = Desc::gauge(
    "vigie_smart_attribute_value",
    "Normalised value of an ATA SMART attribute (lower is worse).",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_WORST: Desc = Desc::gauge(
    "vigie_smart_attribute_worst",
    "Worst normalised value an ATA SMART attribute has had.",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_THRESHOLD: Desc = Desc::gauge(
    "vigie_smart_attribute_threshold",
    "Failure threshold of an ATA SMART attribute: at or below it, the disk says it fails.",
    DISK_ATTRIBUTE,
);
pub const SMART_ERROR_LOG_ENTRIES: Desc = Desc::gauge(
    "vigie_smart_error_log_entries",
    "Errors recorded in the disk's ATA error log.",
    DISK,
);
pub const SMART_SELF_TEST_FAILED: Desc = Desc::gauge(
    "vigie_smart_self_test_failed",
    "Failed tests in the disk's self-test log.",
    DISK,
);
pub const SMART_SELF_TEST_LATEST_PASSED: Desc = Desc::gauge(
    "vigie_smart_self_test_latest_passed",
    "1 if the most recent completed self-test passed, 0 if it failed.",
    DISK,
);
pub const SMART_NVME_CRITICAL_WARNING: Desc = Desc::gauge(
    "vigie_smart_nvme_critical_warning",
    "NVMe critical warning byte; anything but 0 needs attention.",
    DISK,
);
pub const SMART_NVME_CRITICAL_WARNING_BIT: Desc = Desc::gauge(
    "vigie_smart_nvme_critical_warning_bit",
    "One bit of the NVMe critical warning byte, with its meaning.",
    DISK_BIT,
);
pub const SMART_SCSI_GROWN_DEFECTS: Desc = Desc::gauge(
    "vigie_smart_scsi_grown_defects",
    "Sectors the SCSI/SAS disk has remapped since it left the factory (grown defect list).",
    DISK,
);
pub const SMART_SCSI_UNCORRECTED_ERRORS: Desc = Desc::gauge(
    "vigie_smart_scsi_uncorrected_errors",
    "Errors the SCSI/SAS disk could not correct, by operation.",
    DISK_OPERATION,
);
pub const SMART_DEVICES: Desc = Desc::gauge(
    "vigie_smart_devices",
    "Disks vigie reads with smartctl.",
    NONE,
);
pub const SMART_REALLOCATED_SECTORS: Desc = Desc::gauge(
    "vigie_smart_reallocated_sectors",
    "Reallocated sectors (ATA attribute 5, raw value).",
    DISK,
);
pub const SMART_REPORTED_UNCORRECTABLE: Desc = Desc::gauge(
    "vigie_smart_reported_uncorrectable",
    "Errors the drive could not correct (ATA attribute 187, raw value).",
    DISK,
);
pub const SMART_COMMAND_TIMEOUTS: Desc = Desc::gauge(
    "vigie_smart_command_timeouts",
    "Aborted commands due to timeouts (ATA attribute 188; the low 16 bits of the raw value, which Seagate packs with two other counters).",
    DISK,
);
pub const SMART_PENDING_SECTORS: Desc = Desc::gauge(
    "vigie_smart_pending_sectors",
    "Unstable sectors waiting to be remapped (ATA attribute 197, raw value).",
    DISK,
);
pub const SMART_OFFLINE_UNCORRECTABLE: Desc = Desc::gauge(
    "vigie_smart_offline_uncorrectable",
    "Sectors found uncorrectable by offline scans (ATA attribute 198, raw value).",
    DISK,
);
pub const SMART_UDMA_CRC_ERRORS: Desc = Desc::gauge(
    "vigie_smart_udma_crc_errors",
    "Interface CRC errors, usually a bad cable (ATA attribute 199, raw value).",
    DISK,
);
pub const SMART_NVME_MEDIA_ERRORS: Desc = Desc::gauge(
    "vigie_smart_nvme_media_errors",
    "Unrecovered data integrity errors (NVMe media_errors).",
    DISK,
);
pub const SMART_NVME_ERROR_LOG_ENTRIES: Desc = Desc::gauge(
    "vigie_smart_nvme_error_log_entries",
    "Entries in the NVMe error log over the device's life.",
    DISK,
);
pub const SMART_NVME_WEAR_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_wear_ratio",
    "Estimated share of the device's rated endurance used (percentage_used / 100; may exceed 1).",
    DISK,
);
pub const SMART_NVME_AVAILABLE_SPARE_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_available_spare_ratio",
    "Remaining spare capacity (available_spare / 100).",
    DISK,
);
pub const SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_available_spare_threshold_ratio",
    "Spare capacity below which the device raises a critical warning (available_spare_threshold / 100).",
    DISK,
);
pub const SMART_NVME_UNSAFE_SHUTDOWNS: Desc = Desc::gauge(
    "vigie_smart_nvme_unsafe_shutdowns",
    "Power losses without a clean shutdown.",
    DISK,
);

// The dns collector.
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
    "Unix time of the last NOERROR answer of this resolver to this query; 0 if none yet.",
    PROBE,
)
.unit(Unit::Seconds);
pub const DNS_PROBE_SUCCESS: Desc = Desc::gauge(
    "vigie_dns_probe_success",
    "1 if the resolver's last answer to this query was NOERROR, else 0 (error code, timeout, network error).",
    PROBE,
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
    NONE,
);
pub const DNS_RESOLVERS_FAILING: Desc = Desc::gauge(
    "vigie_dns_resolvers_failing",
    "Resolvers whose last probe of at least one query failed. Equal to vigie_dns_resolvers: name resolution is down.",
    NONE,
);

// The vigie's own health (the runner).
pub const COLLECTOR_SUCCESS: Desc = Desc::gauge(
    "vigie_collector_success",
    "1 if the collector's last run succeeded, 0 if it failed, timed out or has not run yet.",
    COLLECTOR,
);
pub const COLLECTOR_DURATION_SECONDS: Desc = Desc::gauge(
    "vigie_collector_duration_seconds",
    "How long the collector's last run took (its timeout if it overran).",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const COLLECTOR_LAST_SUCCESS_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_collector_last_success_timestamp_seconds",
    "Unix time of the collector's last successful run; 0 if it never succeeded.",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const COLLECTOR_ERRORS: Desc = Desc::counter(
    "vigie_collector_errors",
    "Failed, timed-out or stuck runs of the collector since vigie started.",
    COLLECTOR,
);
pub const COLLECTOR_REFRESH_INTERVAL_SECONDS: Desc = Desc::gauge(
    "vigie_collector_refresh_interval_seconds",
    "How often the collector refreshes in the background; 0 if it runs on each scrape.",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const BUILD_INFO: Desc = Desc::gauge(
    "vigie_build_info",
    "A metric with a constant 1 value labelled by vigie's version, git revision and rustc version.",
    BUILD,
);
pub const START_TIME_SECONDS: Desc = Desc::gauge(
    "vigie_start_time_seconds",
    "Unix time at which this vigie process started.",
    NONE,
)
.unit(Unit::Seconds);

const ALL: &[&Desc] = &[
    &FILESYSTEM_STAT_ERROR,
    &FILESYSTEM_SIZE_BYTES,
    &FILESYSTEM_FREE_BYTES,
    &FILESYSTEM_AVAIL_BYTES,
    &FILESYSTEM_FILES,
    &FILESYSTEM_FILES_FREE,
    &FILESYSTEM_READONLY,
    &PATH_RESOLVE_ERROR,
    &PATH_EXISTS,
    &PATH_FILESYSTEM_INFO,
    &SWAP_IN_BYTES,
    &SWAP_OUT_BYTES,
    &SWAP_DEVICE_SIZE_BYTES,
    &SWAP_DEVICE_USED_BYTES,
    &SWAP_DEVICE_PRIORITY,
    &PRESSURE_MEMORY_WAITING_SECONDS,
    &PRESSURE_MEMORY_STALLED_SECONDS,
    &SWAP_SIZE_BYTES,
    &SWAP_FREE_BYTES,
    &SWAP_CACHED_BYTES,
    &MEMORY_TOTAL_BYTES,
    &MEMORY_AVAILABLE_BYTES,
    &REBOOT_REQUIRED,
    &REBOOT_REQUIRED_SINCE_TIMESTAMP_SECONDS,
    &REBOOT_REQUIRED_PACKAGES,
    &BOOT_TIME_SECONDS,
    &SMART_DEVICE_ERROR,
    &SMART_DEVICE_STANDBY,
    &SMART_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &SMART_RUN_DURATION_SECONDS,
    &SMART_DEVICE_INFO,
    &SMART_EXIT_STATUS_BIT,
    &SMART_HEALTHY,
    &SMART_CAPACITY_BYTES,
    &SMART_ROTATION_RATE_RPM,
    &SMART_POWER_ON_SECONDS,
    &SMART_TEMPERATURE_CELSIUS,
    &SMART_ATTRIBUTE_RAW,
    &SMART_ATTRIBUTE_VALUE,
    &SMART_ATTRIBUTE_WORST,
    &SMART_ATTRIBUTE_THRESHOLD,
    &SMART_ERROR_LOG_ENTRIES,
    &SMART_SELF_TEST_FAILED,
    &SMART_SELF_TEST_LATEST_PASSED,
    &SMART_NVME_CRITICAL_WARNING,
    &SMART_NVME_CRITICAL_WARNING_BIT,
    &SMART_SCSI_GROWN_DEFECTS,
    &SMART_SCSI_UNCORRECTED_ERRORS,
    &SMART_DEVICES,
    &SMART_REALLOCATED_SECTORS,
    &SMART_REPORTED_UNCORRECTABLE,
    &SMART_COMMAND_TIMEOUTS,
    &SMART_PENDING_SECTORS,
    &SMART_OFFLINE_UNCORRECTABLE,
    &SMART_UDMA_CRC_ERRORS,
    &SMART_NVME_MEDIA_ERRORS,
    &SMART_NVME_ERROR_LOG_ENTRIES,
    &SMART_NVME_WEAR_RATIO,
    &SMART_NVME_AVAILABLE_SPARE_RATIO,
    &SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO,
    &SMART_NVME_UNSAFE_SHUTDOWNS,
    &DNS_PROBES,
    &DNS_PROBE_LATENCY_SECONDS,
    &DNS_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &DNS_PROBE_SUCCESS,
    &DNS_PROBE_DURATION_SECONDS,
    &DNS_PROBE_ANSWERS,
    &DNS_RESOLVERS,
    &DNS_RESOLVERS_FAILING,
    &COLLECTOR_SUCCESS,
    &COLLECTOR_DURATION_SECONDS,
    &COLLECTOR_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &COLLECTOR_ERRORS,
    &COLLECTOR_REFRESH_INTERVAL_SECONDS,
    &BUILD_INFO,
    &START_TIME_SECONDS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_follow_the_contract() {
        let mut seen = BTreeSet::new();
        for d in families() {
            assert!(seen.insert(d.name), "{} declared twice", d.name);
            assert!(d.name.starts_with("vigie_"), "{}", d.name);
            if let Some(u) = d.unit {
                assert!(d.name.ends_with(&format!("_{}", u.as_str())), "{}", d.name);
            }
            assert!(
                d.kind != Kind::Counter || !d.name.ends_with("_total"),
                "counter {} must be declared without _total",
                d.name
            );
            assert!(d.help.ends_with('.'), "{}", d.name);
            let labels: BTreeSet<_> = d.labels.iter().collect();
            assert_eq!(labels.len(), d.labels.len(), "{}: a label twice", d.name);
            assert!(!d.labels.contains(&"le"), "{}", d.name);
        }
    }
}
