//! The signal catalogue: every signal vigie alerts on, with its value
//! kind, direction, default levels and `for:`, display scale, series and
//! whether a role may set it. The thresholds file (whose section structs
//! are declared here, from the same list), the rules, their promtool tests
//! and the dashboards all read it from here.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::raw::{RawFloor, RawRole, section};

/// Which way a value goes bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Free space, time until full: the lower, the worse.
    LowerIsWorse,
    /// Used space, error counts, days since reboot: the higher, the worse.
    HigherIsWorse,
}

/// How a signal's values are written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// 0 to 100.
    Percent,
    /// 0 to 100, but wear may pass 100.
    WearPercent,
    /// A count (sectors, errors), at least 0.
    Count,
    /// Bytes per second.
    BytesPerSecond,
    /// Degrees Celsius.
    Celsius,
    /// Days.
    Days,
    /// A duration (`7d`, `500ms`), stored in seconds.
    Duration,
    /// No value: only `for:` and `enabled:` (a flag or an event).
    Condition,
}

/// The series a signal's value is computed for: the labels that identify
/// one of them besides `job` and `instance` (what an override may match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// One per host.
    Host,
    /// One per mounted filesystem.
    Filesystem,
    /// One per disk.
    Disk,
    /// One per DNS probe (resolver, query and type).
    Probe,
    /// One per collector of vigie.
    Collector,
    /// One per watched path (`--collector.filesystem.watch-path`).
    Path,
}

impl Series {
    pub const fn labels(self) -> &'static [&'static str] {
        match self {
            Series::Host => &[],
            Series::Filesystem => &["mountpoint", "device", "fstype"],
            Series::Disk => &["device", "type", "model", "serial", "wwn"],
            Series::Probe => &["resolver", "source", "query", "type"],
            Series::Collector => &["collector"],
            Series::Path => &["path", "role"],
        }
    }

    /// The labels an override may match these series on: `instance`,
    /// `job` and [`Series::labels`].
    pub fn matchable(self) -> Vec<&'static str> {
        let mut v = vec!["instance", "job"];
        v.extend(self.labels());
        v
    }
}

/// A signal vigie alerts on, with its defaults.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    /// `section.key`, e.g. `filesystem.free_percent`.
    pub id: &'static str,
    pub kind: ValueKind,
    pub direction: Direction,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// Default `for:` in seconds.
    pub for_secs: u64,
    /// The series the value is computed for.
    pub series: Series,
    /// From the file's unit to the unit of the value the alerts compare and
    /// the dashboards show (seconds to days for `filesystem.full_in`).
    pub scale: f64,
    /// Whether a filesystem role (`filesystems.roles`) may set it.
    pub by_role: bool,
}

/// A signal without levels, `for:` 0, shown in the file's unit; its id
/// is set by [`catalogue!`] from its section and key.
const fn sig(kind: ValueKind, direction: Direction, series: Series) -> Signal {
    Signal {
        id: "",
        kind,
        direction,
        warning: None,
        critical: None,
        for_secs: 0,
        series,
        scale: 1.0,
        by_role: false,
    }
}

impl Signal {
    const fn named(self, id: &'static str) -> Signal {
        Signal { id, ..self }
    }

    const fn levels(self, warning: Option<f64>, critical: Option<f64>) -> Signal {
        Signal {
            warning,
            critical,
            ..self
        }
    }

    const fn after(self, for_secs: u64) -> Signal {
        Signal { for_secs, ..self }
    }

    const fn shown_in(self, scale: f64) -> Signal {
        Signal { scale, ..self }
    }

    const fn by_role(self) -> Signal {
        Signal {
            by_role: true,
            ..self
        }
    }
}

use Direction::{HigherIsWorse as Hi, LowerIsWorse as Lo};
use Series::*;
use ValueKind::*;

const DAY: f64 = 86400.0;

/// Declares the catalogue: for each section of the file (the serde struct
/// that reads it, and the prefix of its signals' ids), its signals as
/// `key: definition`, and the section's keys that are not signals. Gives
/// [`SIGNALS`] (id `section.key`) and the section structs, so the keys the
/// file accepts are the catalogue's.
macro_rules! catalogue {
    ($( $name:ident $prefix:literal { $( $field:ident : $sig:expr ),* $(,)? }
        $( extra { $($xf:ident : $xt:ty),* } )?; )*) => {
        /// Every signal, with the defaults the incidents argue for.
        pub const SIGNALS: &[Signal] = &[
            $( $( $sig.named(concat!($prefix, ".", stringify!($field))), )* )*
        ];
        $( section!($name, $prefix { $($field),* } $( extra { $($xf: $xt),* } )?); )*
    };
}

catalogue! {
    RawFilesystems "filesystem" {
        // Incident 1: a disk "with tens of GB free" filled in days. Percent
        // alone misses it; the forecast catches it. Read at the day's lowest
        // and only under `free_percent_floor` bytes (a 4 TB disk with 300 GB
        // free is not almost full).
        free_percent: sig(Percent, Lo, Filesystem).levels(Some(15.0), Some(5.0)).after(600).by_role(),
        inodes_free_percent: sig(Percent, Lo, Filesystem).levels(Some(10.0), Some(3.0)).after(600).by_role(),
        // Critical 2 days ahead: a volunteer may only read it the next evening.
        full_in: sig(Duration, Lo, Filesystem).levels(Some(7.0 * DAY), Some(2.0 * DAY)).after(3600).shown_in(1.0 / DAY).by_role(),
        // Read-only against its mount options, or after having been
        // writable: critical. Settable per role (a role's filesystems then
        // get their own read-only alert, or none with `enabled: false`).
        readonly: sig(Condition, Hi, Filesystem).levels(None, Some(1.0)).after(60).by_role(),
        // statfs hung or failed (a stuck NFS mount): every process touching
        // it hangs, and its free-space alerts are blind. Critical, after
        // 10m so an NFS server rebooting does not page.
        stuck: sig(Condition, Hi, Filesystem).levels(None, Some(1.0)).after(600),
        // A watched path (/var/lib/etcd) that stopped resolving: its role's
        // stricter alerts are gone, the filesystem falls back to the
        // generic levels. A path absent from the start (a worker node) is
        // not an alert.
        path_unresolved: sig(Condition, Hi, Path).levels(Some(1.0), None).after(600),
    } extra {
        full_in_window: Option<Spanned<String>>,
        full_in_day: Option<Spanned<String>>,
        free_percent_floor: Option<Spanned<RawFloor>>,
        roles: BTreeMap<String, Spanned<RawRole>>
    };
    RawSmart "smart" {
        // Incident 3: pre-fail read errors on a disk without RAID.
        failing: sig(Condition, Hi, Disk).levels(None, Some(1.0)),
        reallocated_sectors: sig(Count, Hi, Disk).levels(Some(1.0), Some(50.0)),
        pending_sectors: sig(Count, Hi, Disk).levels(Some(1.0), Some(10.0)),
        offline_uncorrectable: sig(Count, Hi, Disk).levels(Some(1.0), Some(10.0)),
        reported_uncorrectable: sig(Count, Hi, Disk).levels(Some(1.0), Some(10.0)),
        udma_crc_errors: sig(Count, Hi, Disk).levels(Some(1.0), None),
        // A pre-fail counter that grew within `smart.growth_window`: a disk
        // getting worse now, a stronger signal than a high stable count.
        counter_growing: sig(Condition, Hi, Disk).levels(None, Some(1.0)),
        // The ATA error log grew within `smart.growth_window`. A warning:
        // it also records interface and command errors, not only media
        // ones; a stable count, however high, stays quiet.
        error_log_growing: sig(Condition, Hi, Disk).levels(Some(1.0), None),
        nvme_media_errors: sig(Count, Hi, Disk).levels(Some(1.0), Some(10.0)),
        nvme_critical_warning: sig(Condition, Hi, Disk).levels(None, Some(1.0)),
        nvme_wear_percent: sig(WearPercent, Hi, Disk).levels(Some(80.0), Some(95.0)),
        nvme_spare_low: sig(Condition, Hi, Disk).levels(None, Some(1.0)),
        // The disk found an error testing itself: critical while the latest
        // test stands failed (incident 3: no RAID, days lost restoring).
        self_test_failed: sig(Condition, Hi, Disk).levels(None, Some(1.0)),
        // SAS/SCSI disks have no ATA attributes: their grown defect list
        // plays the part of reallocated sectors, uncorrected read/write/
        // verify errors that of reported uncorrectable errors.
        scsi_grown_defects: sig(Count, Hi, Disk).levels(Some(1.0), Some(50.0)),
        scsi_uncorrected_errors: sig(Count, Hi, Disk).levels(Some(1.0), Some(10.0)),
        temperature_celsius: sig(Celsius, Hi, Disk).levels(Some(55.0), Some(65.0)).after(900),
        // 15m: three failed rounds at the default 5-minute interval.
        not_reporting: sig(Condition, Hi, Disk).levels(Some(1.0), None).after(900),
    } extra { growth_window: Option<Spanned<String>> };
    RawSwap "swap" {
        // Incident 4: swap at 100% on a server not rebooted for 33 weeks.
        used_percent: sig(Percent, Hi, Host).levels(Some(80.0), Some(95.0)).after(900),
        swap_in_bytes_per_second: sig(BytesPerSecond, Hi, Host).levels(Some(1048576.0), Some(10485760.0)).after(900),
    };
    RawReboot "reboot" {
        days_since: sig(Days, Hi, Host).levels(Some(90.0), Some(180.0)),
        required_days: sig(Days, Hi, Host).levels(Some(7.0), Some(30.0)),
    };
    RawDns "dns" {
        // Incident 5: the resolvers of a mail server went down.
        resolver_failing: sig(Condition, Hi, Probe).levels(Some(1.0), None).after(300),
        all_resolvers_failing: sig(Condition, Hi, Host).levels(None, Some(1.0)).after(120),
        latency: sig(Duration, Hi, Probe).levels(Some(0.5), Some(2.0)).after(600),
    };
    RawMonitoring "monitoring" {
        // Incident 6: the monitoring itself was dead for weeks.
        target_down: sig(Condition, Hi, Host).levels(None, Some(1.0)).after(300),
        collector_failing: sig(Condition, Hi, Collector).levels(Some(1.0), None).after(900),
        // A target scraped within `missing_window` that left service
        // discovery (host dropped from file_sd, pod evicted): as blind as a
        // dead target, so critical like target_down.
        target_missing: sig(Condition, Hi, Host).levels(None, Some(1.0)).after(300),
    } extra { watchdog: Option<bool>, missing_window: Option<Spanned<String>> };
}

/// Default thresholds per filesystem role (incident 2: `/` of a
/// control-plane VM filled and etcd died; be stricter there).
pub const ROLE_DEFAULTS: &[(&str, &str, Option<f64>, Option<f64>)] = &[
    (
        "control-plane",
        "filesystem.free_percent",
        Some(30.0),
        Some(15.0),
    ),
    (
        "control-plane",
        "filesystem.full_in",
        Some(14.0 * DAY),
        Some(3.0 * DAY),
    ),
];

/// The signal `id`.
pub fn signal(id: &str) -> Option<&'static Signal> {
    SIGNALS.iter().find(|s| s.id == id)
}

/// What a value of `kind` must be, for error messages.
pub(super) fn describe(kind: ValueKind) -> &'static str {
    match kind {
        Percent => "a percentage from 0 to 100",
        WearPercent => "a percentage from 0 to 255 (NVMe wear may pass 100)",
        Count => "a whole number, 0 or more",
        BytesPerSecond => "a number of bytes per second, 0 or more",
        Celsius => "a temperature in degrees Celsius, from -50 to 150",
        Days => "a number of days, from 0 to 3650",
        Duration => "a duration such as 500ms, 30s, 10m, 6h or 7d",
        Condition => "nothing: this signal only takes for: and enabled:",
    }
}
