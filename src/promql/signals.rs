//! The value of each signal, as one named function, and the names of the
//! metrics they read. The alert rules, their promtool tests and both
//! dashboards call these same functions, so a formula is written once.

pub use super::records::{
    Extreme, RECORDED_LOOKBACK, RecordedExtreme, SUMMARY_RANGE, SUMMARY_STEP, extreme_over,
    extreme_over_settled, long_metric, recorded_read, summary_metric,
};
use super::{Agg, Expr, Matcher, Op, Scope};

/// The metrics the generated rules and dashboards read.
pub mod metric {
    pub const FS_AVAIL: &str = "vigie_filesystem_avail_bytes";
    pub const FS_SIZE: &str = "vigie_filesystem_size_bytes";
    pub const FS_FILES: &str = "vigie_filesystem_files";
    pub const FS_FILES_FREE: &str = "vigie_filesystem_files_free";
    pub const FS_READONLY: &str = "vigie_filesystem_readonly";
    pub const FS_MOUNT_READONLY: &str = "vigie_filesystem_mount_readonly";
    pub const FS_SUPERBLOCK_READONLY: &str = "vigie_filesystem_superblock_readonly";
    pub const FS_TURNED_READONLY: &str = "vigie_filesystem_turned_readonly";
    pub const FS_STAT_ERROR: &str = "vigie_filesystem_stat_error";
    pub const PATH_INFO: &str = "vigie_path_filesystem_info";
    pub const PATH_RESOLVE_ERROR: &str = "vigie_path_resolve_error";
    pub const PATH_EXISTS: &str = "vigie_path_exists";
    pub const SWAP_SIZE: &str = "vigie_swap_size_bytes";
    pub const SWAP_FREE: &str = "vigie_swap_free_bytes";
    pub const SWAP_IN: &str = "vigie_swap_in_bytes_total";
    pub const SWAP_OUT: &str = "vigie_swap_out_bytes_total";
    pub const MEMORY_AVAILABLE: &str = "vigie_memory_available_bytes";
    pub const BOOT_TIME: &str = "vigie_boot_time_seconds";
    pub const REBOOT_REQUIRED: &str = "vigie_reboot_required";
    pub const REBOOT_REQUIRED_SINCE: &str = "vigie_reboot_required_since_timestamp_seconds";
    pub const REBOOT_REQUIRED_PACKAGES: &str = "vigie_reboot_required_packages";
    pub const SMART_HEALTHY: &str = "vigie_smart_healthy";
    pub const SMART_REALLOCATED: &str = "vigie_smart_reallocated_sectors";
    pub const SMART_PENDING: &str = "vigie_smart_pending_sectors";
    pub const SMART_OFFLINE_UNCORRECTABLE: &str = "vigie_smart_offline_uncorrectable";
    pub const SMART_REPORTED_UNCORRECTABLE: &str = "vigie_smart_reported_uncorrectable";
    pub const SMART_UDMA_CRC: &str = "vigie_smart_udma_crc_errors";
    pub const SMART_SCSI_GROWN_DEFECTS: &str = "vigie_smart_scsi_grown_defects";
    pub const SMART_SCSI_UNCORRECTED: &str = "vigie_smart_scsi_uncorrected_errors";
    pub const NVME_MEDIA_ERRORS: &str = "vigie_smart_nvme_media_errors";
    pub const NVME_CRITICAL_WARNING: &str = "vigie_smart_nvme_critical_warning";
    pub const NVME_WEAR: &str = "vigie_smart_nvme_wear_ratio";
    pub const NVME_SPARE: &str = "vigie_smart_nvme_available_spare_ratio";
    pub const NVME_SPARE_THRESHOLD: &str = "vigie_smart_nvme_available_spare_threshold_ratio";
    pub const SMART_ERROR_LOG: &str = "vigie_smart_error_log_entries";
    pub const SMART_SELF_TEST_PASSED: &str = "vigie_smart_self_test_latest_passed";
    pub const SMART_TEMPERATURE: &str = "vigie_smart_temperature_celsius";
    pub const SMART_DEVICE_ERROR: &str = "vigie_smart_device_error";
    pub const SMART_DEVICE_STANDBY: &str = "vigie_smart_device_standby";
    pub const SMART_POWER_ON: &str = "vigie_smart_power_on_seconds";
    pub const SMART_LAST_SUCCESS: &str = "vigie_smart_last_success_timestamp_seconds";
    pub const DNS_SUCCESS: &str = "vigie_dns_probe_success";
    pub const DNS_LAST_RESULT: &str = "vigie_dns_probe_last_result";
    pub const DNS_DURATION: &str = "vigie_dns_probe_duration_seconds";
    pub const DNS_LATENCY_BUCKET: &str = "vigie_dns_probe_latency_seconds_bucket";
    pub const DNS_PROBES: &str = "vigie_dns_probes_total";
    pub const DNS_RESOLVERS: &str = "vigie_dns_resolvers";
    pub const DNS_RESOLVERS_FAILING: &str = "vigie_dns_resolvers_failing";
    pub const COLLECTOR_SUCCESS: &str = "vigie_collector_success";
    pub const COLLECTOR_DURATION: &str = "vigie_collector_duration_seconds";
    pub const COLLECTOR_LAST_SUCCESS: &str = "vigie_collector_last_success_timestamp_seconds";
    pub const BUILD_INFO: &str = "vigie_build_info";
    /// Prometheus' own series.
    pub const UP: &str = "up";
    pub const SCRAPE_DURATION: &str = "scrape_duration_seconds";
    pub const ALERTS: &str = "ALERTS";
}

use metric::*;

/// Labels a filesystem's series and a watched path's info share.
pub const FILESYSTEM_KEY: &[&str] = &["instance", "mountpoint"];
/// Labels that name one DNS probe.
pub const PROBE_KEY: &[&str] = &["instance", "resolver", "query", "type"];
/// One disk, for people: by serial, with model and device.
pub const DISK_BY: &[&str] = &["serial", "model", "device"];

const DAY: f64 = 86400.0;

fn n(v: f64) -> Expr {
    Expr::num(v)
}

/// `100 * a / b`.
fn percent(a: Expr, b: Expr) -> Expr {
    n(100.0).bin(Op::Mul, a).bin(Op::Div, b)
}

/// Days from a timestamp `ts` to now: `(time() - ts) / 86400`.
pub fn days_since(ts: Expr) -> Expr {
    seconds_since(ts).paren().bin(Op::Div, n(DAY))
}

/// Seconds from a timestamp `ts` to now.
pub fn seconds_since(ts: Expr) -> Expr {
    Expr::call("time", []).bin(Op::Sub, ts)
}

/// `1 - flag`: 1 when a flag that should be 1 is 0.
fn not(flag: Expr) -> Expr {
    n(1.0).bin(Op::Sub, flag)
}

/// Free space in percent of the size (what unprivileged users can write).
pub fn free_percent(s: &Scope) -> Expr {
    percent(s.metric(FS_AVAIL), s.metric(FS_SIZE))
}

/// Free inodes in percent.
pub fn inodes_free_percent(s: &Scope) -> Expr {
    percent(s.metric(FS_FILES_FREE), s.metric(FS_FILES))
}

/// Available bytes at their lowest over the last day: what is left once
/// the nightly churn (a backup written then deleted) has passed through.
pub fn daily_low(s: &Scope) -> Expr {
    extreme_over(s, FS_AVAIL, Extreme::Min, s.windows.day_secs, 0)
}

/// Available bytes at their highest over the day ending `offset` ago: the
/// level between bursts, which a burst of writes does not move.
fn daily_high(s: &Scope, offset: u64) -> Expr {
    extreme_over(s, FS_AVAIL, Extreme::Max, s.windows.day_secs, offset)
}

/// 1% of the size freed since the day before: the day's highest free space
/// rose by more than that over the previous day's. Someone made room, so
/// the day's low (from before) no longer says how full the disk is.
pub fn space_freed(s: &Scope) -> Expr {
    daily_high(s, 0)
        .bin(Op::Sub, daily_high(s, s.windows.day_secs))
        .bin(Op::Gt, s.metric(FS_SIZE).bin(Op::Div, n(100.0)))
}

/// Free space in percent at the day's lowest, unless space was freed since
/// (see [`space_freed`]): a nightly burst keeps it low all day (no alert
/// that resolves each morning and fires again each night), a clean-up
/// clears it at once.
pub fn free_percent_low(s: &Scope) -> Expr {
    percent(daily_low(s), s.metric(FS_SIZE))
        .paren()
        .bin(Op::Unless, space_freed(s))
}

/// Filesystems with fewer than `bytes` available at the day's lowest: the
/// only ones the free-space percentage alerts on at a level whose floor is
/// `bytes`.
pub fn free_below(s: &Scope, bytes: u64) -> Expr {
    daily_low(s).bin(Op::Lt, n(bytes as f64))
}

/// The rate at which free space falls, per second (positive while
/// filling): how far the day's highest free space fell over the trend
/// window. Highs are the level between bursts: a nightly backup written
/// and deleted, or a one-off burst, does not move them; a clean-up raises
/// them at once.
///
/// Today's high is read only once the summaries cover most of the day
/// ([`extreme_over_settled`]): just after the rules are first loaded, a
/// high read over the few hours since would be low if they fell inside a
/// nightly backup, and the fall from three days ago would look like a
/// fill. The high of three days back errs the other way when partial (too
/// low: a slower fall), so it is read as it comes.
fn falling_rate(s: &Scope) -> Expr {
    let trend = s.windows.trend_secs;
    let today = extreme_over_settled(s, FS_AVAIL, Extreme::Max, s.windows.day_secs);
    daily_high(s, trend)
        .bin(Op::Sub, today)
        .paren()
        .bin(Op::Div, n(trend as f64))
}

/// Days until full: the day's lowest free space over the rate its highest
/// fell over the trend window; 0 for a filesystem with no byte left, which
/// stays alerting until it has room again.
pub fn days_until_full(s: &Scope) -> Expr {
    let filling = falling_rate(s).bin(Op::Gt, n(0.0)).paren();
    let forecast = daily_low(s).bin(Op::Div, filling).bin(Op::Div, n(DAY));
    let full_now = s.metric(FS_AVAIL).bin(Op::Eq, n(0.0));
    forecast.bin(Op::Or, full_now)
}

/// [`days_until_full`] for a graph: every filesystem gets a value, at most
/// `horizon` days; one the forecast does not see filling shows the horizon.
pub fn days_until_full_or_horizon(s: &Scope, horizon: f64) -> Expr {
    let capped = Expr::call("clamp_max", [days_until_full(s), n(horizon)]);
    let horizon_everywhere = n(0.0)
        .bin(Op::Mul, s.metric(FS_AVAIL))
        .bin(Op::Add, n(horizon));
    capped.bin(Op::Or, horizon_everywhere)
}

/// 1 where writes fail through the mount (a state: a filesystem mounted
/// read-only on purpose is 1 too), for graphs.
pub fn readonly(s: &Scope) -> Expr {
    s.metric(FS_READONLY)
}

/// 1 for a filesystem whose statfs failed or hung (a stuck mount).
pub fn filesystem_stuck(s: &Scope) -> Expr {
    s.metric(FS_STAT_ERROR)
}

/// Labels that name one watched path.
pub const PATH_KEY: &[&str] = &["instance", "path", "role"];

/// 1 for a watched path that cannot be resolved (symlink loop,
/// permission), or that is gone after having existed within the missing
/// window; 0 for one that exists. A path that never existed (the etcd
/// directory on a worker node watched like the control plane) gives
/// nothing.
pub fn path_unresolved(s: &Scope) -> Expr {
    let existed = extreme_over(s, PATH_EXISTS, Extreme::Max, s.windows.missing_secs, 0)
        .bin(Op::Eq, n(1.0))
        .paren();
    let gone = not(s.metric(PATH_EXISTS))
        .paren()
        .on(Op::And, PATH_KEY, existed);
    s.metric(PATH_RESOLVE_ERROR)
        .bin(Op::Eq, n(1.0))
        .paren()
        .bin(Op::Or, gone)
}

/// How long a read-only filesystem's alert keeps firing without a reading
/// (vigie restarting, a failed scrape): Prometheus' default lookback. An
/// unmounted filesystem's alert resolves this long after its last reading.
pub const RESTART_GAP_SECS: u64 = 300;

/// The read-only alerts, matched by name: the generic one and each role's.
pub const READONLY_ALERTS: &str = "Vigie.*FilesystemReadOnly";

/// 1 for a filesystem that went read-only against its owner's will:
/// - its superblock is read-only while the mount's own options say rw
///   (ext4 `errors=remount-ro` after an error, btrfs after an abort);
/// - or vigie saw this mount writable and it is read-only now (it was
///   remounted read-only);
/// - or it is still read-only (its last reading within
///   [`RESTART_GAP_SECS`], so a failed scrape does not break the chain) and
///   a read-only alert already fires for it: so the alert does not resolve
///   when vigie restarts and forgets what it saw, only when the filesystem
///   is writable again.
///
/// 0 for any other filesystem (mounted read-only from the start, or
/// writable). Each term
/// is computed without the metric name, so a filesystem that meets two of
/// them gives one series.
pub fn readonly_unexpected(s: &Scope) -> Expr {
    let against_options = s
        .metric(FS_SUPERBLOCK_READONLY)
        .bin(Op::Sub, s.metric(FS_MOUNT_READONLY))
        .paren()
        .bin(Op::Eq, n(1.0));
    let turned =
        Expr::call("clamp_max", [s.metric(FS_TURNED_READONLY), n(1.0)]).bin(Op::Eq, n(1.0));
    let firing = Expr::metric(
        ALERTS,
        &s.sel
            .with(Matcher::eq("alertstate", "firing"))
            .with(Matcher::regex("alertname", READONLY_ALERTS)),
    );
    // Its last reading within the gap: a scrape that fails while vigie
    // restarts leaves a stale marker, and the alert must ride through it.
    let last = Expr::call(
        "last_over_time",
        [s.metric(FS_READONLY).over(RESTART_GAP_SECS)],
    );
    let still = Expr::call("clamp_max", [last, n(1.0)])
        .bin(Op::Eq, n(1.0))
        .on(Op::And, FILESYSTEM_KEY, firing);
    // 0 for every other filesystem: a value to show (vigie check, graphs).
    let others = n(0.0).bin(Op::Mul, s.metric(FS_READONLY));
    against_options
        .bin(Op::Or, turned)
        .bin(Op::Or, still)
        .bin(Op::Or, others)
}

/// 2 for a filesystem whose statfs hung, else 1 when read-only, per mountpoint.
pub fn readonly_or_stuck(s: &Scope) -> Expr {
    let stuck = n(2.0).bin(Op::Mul, s.metric(FS_STAT_ERROR).bin(Op::Eq, n(1.0)).paren());
    Expr::agg(Agg::Max, &["mountpoint"], stuck.bin(Op::Or, readonly(s)))
}

/// `value` for the filesystems holding no watched path of `roles` (those
/// have their role's alerts instead): only the roles that set the signal,
/// or a filesystem holding a path of a role without it has no alert at all.
pub fn outside_roles<S: AsRef<str>>(value: Expr, s: &Scope, roles: &[S]) -> Expr {
    let info = Expr::metric(PATH_INFO, &s.sel.with(Matcher::any_of("role", roles)));
    value.paren().on(Op::Unless, FILESYSTEM_KEY, info)
}

/// `value` for the filesystems holding a path watched with `role`, with
/// the path's labels joined in.
pub fn in_role(value: Expr, s: &Scope, role: &str) -> Expr {
    let info = Expr::metric(PATH_INFO, &s.sel.with(Matcher::eq("role", role)));
    info.on_group_left(Op::Mul, FILESYSTEM_KEY, value.paren())
}

pub fn swap_used_bytes(s: &Scope) -> Expr {
    s.metric(SWAP_SIZE).bin(Op::Sub, s.metric(SWAP_FREE))
}

/// Swap used in percent, for hosts that have swap.
pub fn swap_used_percent(s: &Scope) -> Expr {
    let size = s.metric(SWAP_SIZE).bin(Op::Gt, n(0.0)).paren();
    percent(swap_used_bytes(s).paren(), size)
}

/// Bytes per second read back from swap, over 10 minutes: at least four
/// samples with a scrape interval up to 2.5 minutes (5 minutes needed
/// 75-second scrapes or shorter to be sure of two).
pub fn swap_in_rate(s: &Scope) -> Expr {
    Expr::call("rate", [s.metric(SWAP_IN).over(600)])
}

pub fn days_since_boot(s: &Scope) -> Expr {
    days_since(s.metric(BOOT_TIME))
}

/// Days since a reboot was first requested.
pub fn reboot_required_days(s: &Scope) -> Expr {
    days_since(s.metric(REBOOT_REQUIRED_SINCE))
}

/// 1 when the disk's SMART self-assessment fails.
pub fn smart_failing(s: &Scope) -> Expr {
    not(s.metric(SMART_HEALTHY))
}

/// A SMART counter or gauge as exported.
pub fn smart_value(s: &Scope, metric: &str) -> Expr {
    s.metric(metric)
}

/// 1 when `metric` grew over the growth window: it is above its lowest
/// value of the window. Not `delta`: on a series that starts inside the
/// window (a disk new to the database), VictoriaMetrics' `delta` counts
/// the first value as growth from 0 when it is small (8 sectors, constant
/// for years, "grew by 8"), where Prometheus' says 0.
pub fn counter_growing(s: &Scope, metric: &str) -> Expr {
    let lowest = extreme_over(s, metric, Extreme::Min, s.windows.growth_secs, 0);
    let grown = s.metric(metric).bin(Op::Sub, lowest);
    Expr::call("clamp_max", [grown.bin(Op::Gt, n(0.0)), n(1.0)])
}

/// Uncorrected read, write and verify errors of a SAS/SCSI disk, summed
/// over the operation (one series per disk).
pub fn scsi_uncorrected_errors(s: &Scope) -> Expr {
    Expr::agg_without(Agg::Sum, &["operation"], s.metric(SMART_SCSI_UNCORRECTED))
}

/// 1 when any NVMe critical warning bit is set.
pub fn nvme_critical_warning(s: &Scope) -> Expr {
    Expr::call("clamp_max", [s.metric(NVME_CRITICAL_WARNING), n(1.0)])
}

/// NVMe wear in percent of rated endurance, of the wear ratio series
/// `ratio` (as exported or aggregated per disk).
pub fn wear_percent_of(ratio: Expr) -> Expr {
    n(100.0).bin(Op::Mul, ratio)
}

pub fn nvme_wear_percent(s: &Scope) -> Expr {
    wear_percent_of(s.metric(NVME_WEAR))
}

/// 1 when spare blocks are below the disk's own threshold.
pub fn nvme_spare_low(s: &Scope) -> Expr {
    s.metric(NVME_SPARE)
        .bin(Op::LtBool, s.metric(NVME_SPARE_THRESHOLD))
}

pub fn self_test_failed(s: &Scope) -> Expr {
    not(s.metric(SMART_SELF_TEST_PASSED))
}

/// 1 when a disk gives smartctl no data.
pub fn smart_not_reporting(s: &Scope) -> Expr {
    s.metric(SMART_DEVICE_ERROR)
}

/// One disk metric, one series per disk.
pub fn per_disk(s: &Scope, metric: &str) -> Expr {
    Expr::agg(Agg::Max, DISK_BY, s.metric(metric))
}

/// The alert for all of a host's resolvers failing.
pub const DNS_ALL_FAILING_ALERT: &str = "VigieDnsAllResolversFailing";

/// 1 for a resolver that failed at every probe over the last
/// `resolver_failing_secs` (the signal's `for:`), until the alert for all
/// of the host's resolvers failing fires: the per-resolver alerts hand
/// over to it only once it fires (after its own `for:`), so there is no
/// gap in between and, once it fires, one alert instead of one per
/// resolver. The duration is in the expression, not in the rule's `for:`
/// (the rule has none): the suppression while the critical fires would
/// reset a pending `for:`, so when one resolver came back, one still
/// failing would wait a whole `for:` again with no alert. Read over the
/// range, it fires at the very evaluation the critical resolves. With a
/// `for:` of 0, the current probe alone.
pub fn dns_resolver_failing(s: &Scope) -> Expr {
    let all_failing = Expr::metric(
        ALERTS,
        &s.sel
            .with(Matcher::eq("alertstate", "firing"))
            .with(Matcher::eq("alertname", DNS_ALL_FAILING_ALERT)),
    );
    let failing = match s.windows.resolver_failing_secs {
        0 => not(s.metric(DNS_SUCCESS)),
        // Failed at every probe since FOR ago, and at the last one before
        // (so a new series, or one back after a gap such as a reboot,
        // waits FOR like a pending `for:` would); 0 for the others (kept,
        // as `vigie check` shows working resolvers too).
        w => {
            let since = Expr::call("max_over_time", [s.metric(DNS_SUCCESS).over(w)]);
            let before = s.metric(DNS_SUCCESS).offset(w);
            not(since).paren().bin(Op::Mul, not(before).paren())
        }
    };
    failing.paren().on(Op::Unless, &["instance"], all_failing)
}

/// The share of a host's resolvers failing (1: none answers).
pub fn dns_failing_share(s: &Scope) -> Expr {
    let resolvers = s.metric(DNS_RESOLVERS).bin(Op::Gt, n(0.0)).paren();
    s.metric(DNS_RESOLVERS_FAILING).bin(Op::Div, resolvers)
}

/// The duration of answered probes.
pub fn dns_latency(s: &Scope) -> Expr {
    let answered = s.metric(DNS_SUCCESS).bin(Op::Eq, n(1.0)).paren();
    s.metric(DNS_DURATION).on(Op::And, PROBE_KEY, answered)
}

pub fn target_down(s: &Scope) -> Expr {
    s.metric(UP).bin(Op::Eq, n(0.0))
}

/// A target scraped within the missing window that is gone from `up`
/// (dropped from service discovery), with the labels it was scraped with.
pub fn target_missing(s: &Scope) -> Expr {
    extreme_over(s, UP, Extreme::Max, s.windows.missing_secs, 0).on(
        Op::Unless,
        &["instance"],
        s.metric(UP),
    )
}

/// A target down (`up` 0), or one that was down when it left service
/// discovery, for `hold` seconds after and until `VigieTargetMissing`
/// fires for it: the two hand over with neither a gap nor an overlap.
pub fn target_down_until_missing(s: &Scope, hold: u64, missing_alert: &str) -> Expr {
    let vanished_down = Expr::call("last_over_time", [s.metric(UP).over(hold)])
        .bin(Op::Eq, n(0.0))
        .on(Op::Unless, &["instance"], s.metric(UP));
    let missing_firing = Expr::metric(
        ALERTS,
        &s.sel
            .with(Matcher::eq("alertname", missing_alert))
            .with(Matcher::eq("alertstate", "firing")),
    );
    target_down(s).bin(
        Op::Or,
        vanished_down
            .paren()
            .on(Op::Unless, &["instance"], missing_firing)
            .paren(),
    )
}

pub fn no_target(s: &Scope) -> Expr {
    Expr::call("absent", [s.metric(UP)])
}

pub fn collector_failing(s: &Scope) -> Expr {
    s.metric(COLLECTOR_SUCCESS).bin(Op::Eq, n(0.0))
}

/// 0 for every host scraped: gives hosts with nothing to count a value.
pub fn zero_per_host(s: &Scope) -> Expr {
    n(0.0).bin(Op::Mul, Expr::agg(Agg::Group, &["instance"], s.metric(UP)))
}

/// The vigie alerts firing, of `severity` when given.
pub fn firing_alerts(s: &Scope, severity: Option<&str>) -> Expr {
    let mut sel = s
        .sel
        .with(Matcher::eq("alertstate", "firing"))
        .with(Matcher::regex("alertname", "Vigie.+"));
    if let Some(sev) = severity {
        sel = sel.with(Matcher::eq("severity", sev));
    }
    Expr::metric(ALERTS, &sel)
}

/// The per-second rate of a counter over Grafana's rate interval.
pub fn graph_rate(s: &Scope, metric: &str) -> Expr {
    Expr::call("rate", [s.metric(metric).over_rate_interval()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::{FreeFloor, Reads, Selector, Windows};

    fn scope(reads: Reads) -> Scope {
        Scope {
            sel: Selector::parse("job=\"vigie\"").unwrap(),
            windows: Windows {
                day_secs: 93600,
                trend_secs: 259200,
                growth_secs: 604800,
                missing_secs: 86400,
                resolver_failing_secs: 300,
            },
            free_floor: FreeFloor {
                warning_bytes: 1,
                critical_bytes: 1,
            },
            reads,
        }
    }

    /// Raw reads are the plain range functions (what `vigie check` and the
    /// dashboards evaluate); recorded reads of a long range read the
    /// latest long extreme and the raw tail (an offset one the record
    /// alone), and short ranges stay raw.
    #[test]
    fn long_windows_read_raw_or_through_the_records() {
        let raw = scope(Reads::Raw);
        let rec = scope(Reads::Recorded);
        assert_eq!(
            extreme_over(&raw, FS_AVAIL, Extreme::Max, 93600, 259200).as_str(),
            "max_over_time(vigie_filesystem_avail_bytes{job=\"vigie\"}[26h] offset 3d)"
        );
        assert_eq!(
            extreme_over(&rec, FS_AVAIL, Extreme::Max, 93600, 259200).as_str(),
            "max_over_time(vigie_filesystem_avail_bytes:max_over_time_26h{job=\"vigie\"}[15m] offset 3d)"
        );
        assert_eq!(
            extreme_over(&rec, FS_AVAIL, Extreme::Min, 93600, 0).as_str(),
            "vigie_filesystem_avail_bytes:min_over_time_26h_now{job=\"vigie\"}"
        );
        assert_eq!(
            extreme_over_settled(&rec, FS_AVAIL, Extreme::Max, 93600).as_str(),
            "(vigie_filesystem_avail_bytes:max_over_time_26h_now{job=\"vigie\"} \
             and max_over_time(vigie_filesystem_avail_bytes:max_over_time_26h_settled{job=\"vigie\"}[15m]))"
        );
        // The value now: the long extremes and the raw tail, each read
        // once.
        let now = RecordedExtreme {
            metric: FS_AVAIL.into(),
            e: Extreme::Max,
            range: 93600,
            settled: false,
            now: true,
        };
        assert_eq!(
            now.expr(&rec).as_str(),
            "max without(vigie_operand) (label_replace(max_over_time(vigie_filesystem_avail_bytes:max_over_time_26h{job=\"vigie\"}[15m]), \
             \"vigie_operand\", \"a\", \"\", \"\") \
             or max_over_time(vigie_filesystem_avail_bytes{job=\"vigie\"}[15m]))"
        );
        assert_eq!(
            extreme_over(&rec, FS_AVAIL, Extreme::Min, SUMMARY_RANGE, 0),
            extreme_over(&raw, FS_AVAIL, Extreme::Min, SUMMARY_RANGE, 0)
        );
        // The long extreme's own record reads the summaries and the raw
        // tail; the settled one also the summaries' age.
        let long = RecordedExtreme {
            metric: FS_AVAIL.into(),
            e: Extreme::Max,
            range: 93600,
            settled: true,
            now: false,
        };
        assert_eq!(
            long.expr(&rec).as_str(),
            "(max without(vigie_operand) (label_replace(max_over_time(vigie_filesystem_avail_bytes:max_over_time_15m{job=\"vigie\"}[26h]), \
             \"vigie_operand\", \"a\", \"\", \"\") \
             or max_over_time(vigie_filesystem_avail_bytes{job=\"vigie\"}[15m])) \
             and last_over_time(vigie_filesystem_avail_bytes:max_over_time_15m{job=\"vigie\"}[13h] offset 13h))"
        );
        // Every recorded read parses, and names only records of the
        // metrics it reads.
        for e in [
            days_until_full(&rec),
            free_percent_low(&rec),
            counter_growing(&rec, SMART_PENDING),
            target_missing(&rec),
            path_unresolved(&rec),
        ] {
            crate::promql::parse_promql(e.as_str()).unwrap();
            let read = recorded_read(e.as_str());
            assert!(!read.is_empty(), "{e}");
            for r in read {
                assert!(
                    [FS_AVAIL, SMART_PENDING, UP, PATH_EXISTS].contains(&r.metric.as_str()),
                    "{r:?}"
                );
                assert!(
                    !r.is_summary(),
                    "alerts read summaries only through records"
                );
            }
        }
    }

    #[test]
    fn record_names_round_trip() {
        for e in [Extreme::Min, Extreme::Max] {
            for (range, settled, now) in [
                (SUMMARY_RANGE, false, false),
                (604800, false, false),
                (604800, false, true),
                (93600, true, false),
                (93600, true, true),
            ] {
                let r = RecordedExtreme {
                    metric: SMART_REALLOCATED.into(),
                    e,
                    range,
                    settled,
                    now,
                };
                assert_eq!(RecordedExtreme::parse(&r.name()), Some(r));
            }
        }
        assert_eq!(
            summary_metric(FS_AVAIL, Extreme::Min),
            "vigie_filesystem_avail_bytes:min_over_time_15m"
        );
        assert_eq!(
            long_metric(FS_AVAIL, Extreme::Max, 93600, true, false),
            "vigie_filesystem_avail_bytes:max_over_time_26h_settled"
        );
        for not in [
            "vigie:threshold:x:warning",
            "host:7361",
            FS_AVAIL,
            "a:max_over_time_5m",
            "a:max_over_time_15m_settled",
            "a:max_over_time_15m_now",
            "a:max_over_time_1d_now_settled",
            "a:max_over_time_1d2h",
            "a:max_over_time_x",
        ] {
            assert_eq!(RecordedExtreme::parse(not), None, "{not}");
        }
    }
}
