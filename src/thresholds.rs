//! The thresholds file: one short YAML file from which `vigie gen-rules`
//! will write the alerting rules, their tests and the dashboards, and which
//! `vigie check` will evaluate on the host.
//!
//! Every value has a default drawn from `incidents.md`, so an empty file
//! (`{}`) is valid and useful. Parsing goes through serde-saphyr with
//! unknown keys refused; every error names the file, line and column and
//! says what was expected. Overrides change thresholds for series matched on
//! labels (instance, mountpoint, device...), with a required reason and an
//! optional expiry date; an expired override is reported and ignored.
//!
//! The result is a flat model: each signal (`filesystem.free_percent`,
//! `smart.reallocated_sectors`...) has [`Levels`] (warning, critical, `for`),
//! per role for filesystems, and per override.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::promql::{Scope, Selector, Windows, is_label_name};
use crate::units::{parse_date, parse_duration, today};

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
}

const fn sig(
    id: &'static str,
    kind: ValueKind,
    direction: Direction,
    warning: Option<f64>,
    critical: Option<f64>,
    for_secs: u64,
) -> Signal {
    Signal {
        id,
        kind,
        direction,
        warning,
        critical,
        for_secs,
    }
}

use Direction::{HigherIsWorse as Hi, LowerIsWorse as Lo};
use ValueKind::*;

const DAY: f64 = 86400.0;

/// Every signal, with the defaults the incidents argue for.
pub const SIGNALS: &[Signal] = &[
    // Incident 1: a disk "with tens of GB free" filled in days. Percent
    // alone misses it; the forecast catches it.
    sig(
        "filesystem.free_percent",
        Percent,
        Lo,
        Some(15.0),
        Some(5.0),
        600,
    ),
    sig(
        "filesystem.inodes_free_percent",
        Percent,
        Lo,
        Some(10.0),
        Some(3.0),
        600,
    ),
    sig(
        "filesystem.full_in",
        Duration,
        Lo,
        Some(7.0 * DAY),
        Some(DAY),
        3600,
    ),
    sig("filesystem.readonly", Condition, Hi, None, Some(1.0), 60),
    // Incident 3: pre-fail read errors on a disk without RAID.
    sig("smart.failing", Condition, Hi, None, Some(1.0), 0),
    sig(
        "smart.reallocated_sectors",
        Count,
        Hi,
        Some(1.0),
        Some(50.0),
        0,
    ),
    sig("smart.pending_sectors", Count, Hi, Some(1.0), Some(10.0), 0),
    sig(
        "smart.offline_uncorrectable",
        Count,
        Hi,
        Some(1.0),
        Some(10.0),
        0,
    ),
    sig(
        "smart.reported_uncorrectable",
        Count,
        Hi,
        Some(1.0),
        Some(10.0),
        0,
    ),
    sig("smart.udma_crc_errors", Count, Hi, Some(1.0), None, 0),
    // A pre-fail counter that grew within `smart.growth_window`: a disk
    // getting worse now, a stronger signal than a high stable count.
    sig("smart.counter_growing", Condition, Hi, None, Some(1.0), 0),
    sig(
        "smart.nvme_media_errors",
        Count,
        Hi,
        Some(1.0),
        Some(10.0),
        0,
    ),
    sig(
        "smart.nvme_critical_warning",
        Condition,
        Hi,
        None,
        Some(1.0),
        0,
    ),
    sig(
        "smart.nvme_wear_percent",
        WearPercent,
        Hi,
        Some(80.0),
        Some(95.0),
        0,
    ),
    sig("smart.nvme_spare_low", Condition, Hi, None, Some(1.0), 0),
    sig("smart.self_test_failed", Condition, Hi, Some(1.0), None, 0),
    sig(
        "smart.temperature_celsius",
        Celsius,
        Hi,
        Some(55.0),
        Some(65.0),
        900,
    ),
    sig("smart.not_reporting", Condition, Hi, Some(1.0), None, 3600),
    // Incident 4: swap at 100% on a server not rebooted for 33 weeks.
    sig(
        "swap.used_percent",
        Percent,
        Hi,
        Some(80.0),
        Some(95.0),
        900,
    ),
    sig(
        "swap.swap_in_bytes_per_second",
        BytesPerSecond,
        Hi,
        Some(1048576.0),
        Some(10485760.0),
        900,
    ),
    sig("reboot.days_since", Days, Hi, Some(90.0), Some(180.0), 0),
    sig("reboot.required_days", Days, Hi, Some(7.0), Some(30.0), 0),
    // Incident 5: the resolvers of a mail server went down.
    sig("dns.resolver_failing", Condition, Hi, Some(1.0), None, 300),
    sig(
        "dns.all_resolvers_failing",
        Condition,
        Hi,
        None,
        Some(1.0),
        120,
    ),
    sig("dns.latency", Duration, Hi, Some(0.5), Some(2.0), 600),
    // Incident 6: the monitoring itself was dead for weeks.
    sig(
        "monitoring.target_down",
        Condition,
        Hi,
        None,
        Some(1.0),
        300,
    ),
    sig(
        "monitoring.collector_failing",
        Condition,
        Hi,
        Some(1.0),
        None,
        900,
    ),
];

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

/// Warning, critical and `for:` of one signal, after defaults and validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// None: no warning alert.
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub for_secs: u64,
}

impl Levels {
    fn default_of(s: &Signal) -> Levels {
        Levels {
            warning: s.warning,
            critical: s.critical,
            for_secs: s.for_secs,
        }
    }
}

/// Alert text language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

/// An override that applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Label name -> exact value.
    pub matchers: BTreeMap<String, String>,
    pub reason: String,
    /// `YYYY-MM-DD`, when given.
    pub expires: Option<String>,
    pub signals: BTreeMap<&'static str, Levels>,
}

/// A validated thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub source: PathBuf,
    /// Added to every generated expression.
    pub selector: Selector,
    pub language: Language,
    pub runbook_url: Option<String>,
    /// Every signal's levels; a disabled signal has neither warning nor critical.
    pub signals: BTreeMap<&'static str, Levels>,
    /// Filesystem roles (from watched paths) with their own levels.
    pub roles: BTreeMap<String, BTreeMap<&'static str, Levels>>,
    /// The range over which `filesystem.full_in` extrapolates the trend
    /// and the one over which a growing SMART counter raises its alert.
    pub windows: Windows,
    /// An always-firing alert for a dead-man's-switch receiver.
    pub watchdog: bool,
    pub overrides: Vec<Override>,
    /// Non-fatal remarks (expired overrides), `file:line:column: text`.
    pub warnings: Vec<String>,
}

/// A thresholds file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ThresholdsError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

// ---- The file as written -------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFile {
    selector: Option<Spanned<String>>,
    language: Option<Language>,
    runbook_url: Option<Spanned<String>>,
    filesystems: RawFilesystems,
    smart: RawSmart,
    swap: RawSwap,
    reboot: RawReboot,
    dns: RawDns,
    monitoring: RawMonitoring,
    overrides: Vec<Spanned<RawOverride>>,
}

/// One signal as written: `{warning: 15, critical: 5, for: 10m}`, or
/// `{enabled: false}`. Values are numbers, or durations for time signals.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevels {
    #[serde(default)]
    warning: Option<Spanned<RawValue>>,
    #[serde(default)]
    critical: Option<Spanned<RawValue>>,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<String>>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawValue {
    Number(f64),
    Text(String),
}

type Slot = Option<Spanned<RawLevels>>;

/// Declares a section: its signal fields (each `section.field`) and the
/// list of (signal id, field) pairs used to walk it.
macro_rules! section {
    ($name:ident, $prefix:literal { $($field:ident),* } $( extra { $($xf:ident : $xt:ty),* } )?) => {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        struct $name {
            $( $field: Slot, )*
            $( $( $xf: $xt, )* )?
        }

        impl $name {
            fn slots(&self) -> Vec<(&'static str, &Slot)> {
                vec![$( (concat!($prefix, ".", stringify!($field)), &self.$field) ),*]
            }
        }
    };
}

section!(RawFilesystems, "filesystem" { free_percent, inodes_free_percent, full_in, readonly }
    extra { full_in_window: Option<Spanned<String>>, roles: BTreeMap<String, Spanned<RawRole>> });
section!(RawRole, "filesystem" { free_percent, inodes_free_percent, full_in });
section!(RawSmart, "smart" { failing, reallocated_sectors, pending_sectors, offline_uncorrectable,
    reported_uncorrectable, udma_crc_errors, counter_growing, nvme_media_errors, nvme_critical_warning, nvme_wear_percent, nvme_spare_low,
    self_test_failed, temperature_celsius, not_reporting }
    extra { growth_window: Option<Spanned<String>> });
section!(RawSwap, "swap" { used_percent, swap_in_bytes_per_second });
section!(RawReboot, "reboot" { days_since, required_days });
section!(RawDns, "dns" { resolver_failing, all_resolvers_failing, latency });
section!(RawMonitoring, "monitoring" { target_down, collector_failing } extra { watchdog: Option<bool> });

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    #[serde(rename = "match")]
    matchers: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    filesystems: RawRole,
    #[serde(default)]
    smart: RawSmart,
    #[serde(default)]
    swap: RawSwap,
    #[serde(default)]
    reboot: RawReboot,
    #[serde(default)]
    dns: RawDns,
}

impl RawOverride {
    fn slots(&self) -> Vec<(&'static str, &Slot)> {
        let mut v = self.filesystems.slots();
        v.extend(self.smart.slots());
        v.extend(self.swap.slots());
        v.extend(self.reboot.slots());
        v.extend(self.dns.slots());
        v
    }
}

// ---- Validation ------------------------------------------------------------

/// Where an error points.
struct At<'a> {
    file: &'a str,
}

impl At<'_> {
    fn err(&self, loc: serde_saphyr::Location, message: impl Into<String>) -> ThresholdsError {
        ThresholdsError {
            file: self.file.to_string(),
            line: loc.line().max(1),
            column: loc.column().max(1),
            message: message.into(),
        }
    }
}

fn describe(kind: ValueKind) -> &'static str {
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

/// A value of `kind`, as a number (durations in seconds).
fn value(
    at: &At,
    sig: &Signal,
    which: &str,
    v: &Spanned<RawValue>,
) -> Result<f64, ThresholdsError> {
    let loc = v.referenced;
    match (&v.value, sig.kind) {
        (_, Condition) => Err(at.err(
            loc,
            format!(
                "{} has no {which} value: it only takes for: and enabled:",
                sig.id
            ),
        )),
        (RawValue::Text(t), Duration) => parse_duration(t)
            .map(|d| d.as_secs_f64())
            .map_err(|e| at.err(loc, format!("{which} of {}: {e}", sig.id))),
        (RawValue::Number(n), Duration) => Err(at.err(
            loc,
            format!(
                "{which} of {}: {n} has no unit; write a duration such as {n}s, {n}m or {n}d",
                sig.id
            ),
        )),
        (RawValue::Text(t), _) => Err(at.err(
            loc,
            format!(
                "{which} of {}: expected {}, found {t:?}",
                sig.id,
                describe(sig.kind)
            ),
        )),
        (RawValue::Number(n), kind) => {
            let n = *n;
            let ok = n.is_finite()
                && match kind {
                    Percent => (0.0..=100.0).contains(&n),
                    WearPercent => (0.0..=255.0).contains(&n),
                    Count => n >= 0.0 && n.fract() == 0.0,
                    BytesPerSecond => n >= 0.0,
                    Celsius => (-50.0..=150.0).contains(&n),
                    Days => (0.0..=3650.0).contains(&n),
                    Duration | Condition => false,
                };
            if ok {
                Ok(n)
            } else {
                Err(at.err(
                    loc,
                    format!("{which} of {}: {n} is not {}", sig.id, describe(kind)),
                ))
            }
        }
    }
}

/// Applies what the file says of one signal onto `base`.
fn levels(
    at: &At,
    sig: &Signal,
    raw: &Spanned<RawLevels>,
    base: Levels,
) -> Result<Levels, ThresholdsError> {
    let r = &raw.value;
    let mut out = base;
    if let Some(w) = &r.warning {
        out.warning = Some(value(at, sig, "warning", w)?);
    }
    if let Some(c) = &r.critical {
        out.critical = Some(value(at, sig, "critical", c)?);
    }
    if let Some(f) = &r.for_ {
        out.for_secs = parse_duration(&f.value)
            .map_err(|e| at.err(f.referenced, format!("for of {}: {e}", sig.id)))?
            .as_secs();
    }
    if r.enabled == Some(false) {
        out.warning = None;
        out.critical = None;
    }
    if let (Some(w), Some(c)) = (out.warning, out.critical) {
        let stricter = match sig.direction {
            Direction::LowerIsWorse => w <= c,
            Direction::HigherIsWorse => w >= c,
        };
        if stricter {
            let loc = r
                .warning
                .as_ref()
                .or(r.critical.as_ref())
                .map_or(raw.referenced, |v| v.referenced);
            let (word, rule) = match sig.direction {
                Direction::LowerIsWorse => ("lower is worse", "above"),
                Direction::HigherIsWorse => ("higher is worse", "below"),
            };
            let show = |v: f64| {
                if sig.kind == Duration {
                    crate::units::human(std::time::Duration::from_secs_f64(v))
                } else {
                    format!("{v}")
                }
            };
            return Err(at.err(
                loc,
                format!(
                    "warning {} is not less severe than critical {} for {} ({word}: the warning must be {rule} the critical)",
                    show(w),
                    show(c),
                    sig.id
                ),
            ));
        }
    }
    Ok(out)
}

/// A window such as `6h`.
fn window(
    at: &At,
    what: &str,
    raw: &Option<Spanned<String>>,
    default: u64,
) -> Result<u64, ThresholdsError> {
    match raw {
        None => Ok(default),
        Some(s) => {
            let d = parse_duration(&s.value)
                .map_err(|e| at.err(s.referenced, format!("{what}: {e}")))?;
            if d < std::time::Duration::from_secs(60) {
                return Err(at.err(
                    s.referenced,
                    format!(
                        "{what}: {} is too short to see a trend; use at least 1m",
                        s.value
                    ),
                ));
            }
            Ok(d.as_secs())
        }
    }
}

impl Thresholds {
    /// The series and windows every generated expression reads.
    pub fn scope(&self) -> Scope {
        Scope {
            sel: self.selector.clone(),
            windows: self.windows,
        }
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Thresholds, ThresholdsError> {
        let text = std::fs::read_to_string(path).map_err(|e| ThresholdsError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the thresholds file: {e}"),
        })?;
        Self::parse(&text, path, today())
    }

    /// Validates `text` (read from `source`), with `today` in days since the
    /// epoch for override expiry.
    pub fn parse(text: &str, source: &Path, today: i64) -> Result<Thresholds, ThresholdsError> {
        let file = source.display().to_string();
        let at = At { file: &file };
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let loc = e.location();
                let msg = e.without_snippet().to_string();
                // Drop saphyr's own " at line L, column C": the prefix says it.
                let msg = match msg.rfind(" at line ") {
                    Some(i) if msg[i..].contains(", column ") => msg[..i].to_string(),
                    _ => msg,
                };
                // Speak to the person editing the file, not to a developer.
                let msg = msg.replace(
                    ", set DuplicateKeyPolicy in Options if acceptable",
                    " (each key may appear only once)",
                );
                ThresholdsError {
                    file: file.clone(),
                    line: loc.map_or(1, |l| l.line().max(1)),
                    column: loc.map_or(1, |l| l.column().max(1)),
                    message: msg,
                }
            })?
        };

        let selector = match &raw.selector {
            None => Selector::parse("job=\"vigie\"").expect("the default selector parses"),
            Some(s) => Selector::parse(&s.value).map_err(|e| {
                at.err(
                    s.referenced,
                    format!("selector: {e} (write e.g. job=\"vigie\")"),
                )
            })?,
        };
        let runbook_url = match &raw.runbook_url {
            None => None,
            Some(u) if u.value.starts_with("https://") || u.value.starts_with("http://") => Some(u.value.clone()),
            Some(u) => return Err(at.err(u.referenced, "runbook_url: expected an http:// or https:// address; {alert} is replaced by the alert name")),
        };

        let mut signals: BTreeMap<&'static str, Levels> = SIGNALS
            .iter()
            .map(|s| (s.id, Levels::default_of(s)))
            .collect();
        let mut slots = raw.filesystems.slots();
        slots.extend(raw.smart.slots());
        slots.extend(raw.swap.slots());
        slots.extend(raw.reboot.slots());
        slots.extend(raw.dns.slots());
        slots.extend(raw.monitoring.slots());
        for (id, slot) in slots {
            if let Some(r) = slot {
                let sig = signal(id).expect("every section field is a signal");
                let l = levels(&at, sig, r, signals[id])?;
                signals.insert(id, l);
            }
        }

        // Roles: the defaults of ROLE_DEFAULTS, on top of the file's global
        // levels, then what the file says of the role.
        let mut roles: BTreeMap<String, BTreeMap<&'static str, Levels>> = BTreeMap::new();
        for (role, id, w, c) in ROLE_DEFAULTS {
            let base = signals[id];
            // A signal switched off for every filesystem is off for roles
            // too, unless the file sets the role's levels itself (below).
            if base.warning.is_none() && base.critical.is_none() {
                continue;
            }
            roles.entry(role.to_string()).or_default().insert(
                id,
                Levels {
                    warning: *w,
                    critical: *c,
                    ..base
                },
            );
        }
        for (role, raw_role) in &raw.filesystems.roles {
            if !role
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                || role.is_empty()
            {
                let loc = raw_role.referenced;
                return Err(at.err(loc, format!("role {role:?}: letters, digits, '-', '_' or '.' only (as in --collector.filesystem.watch-path=PATH=ROLE)")));
            }
            let entry = roles.entry(role.clone()).or_default();
            for (id, slot) in raw_role.value.slots() {
                if let Some(r) = slot {
                    let sig = signal(id).expect("role fields are signals");
                    let base = entry.get(id).copied().unwrap_or(signals[id]);
                    entry.insert(id, levels(&at, sig, r, base)?);
                }
            }
        }

        let full_in_window_secs = window(
            &at,
            "filesystems.full_in_window",
            &raw.filesystems.full_in_window,
            6 * 3600,
        )?;
        let smart_growth_window_secs = window(
            &at,
            "smart.growth_window",
            &raw.smart.growth_window,
            24 * 3600,
        )?;

        let mut overrides: Vec<Override> = Vec::new();
        let mut warnings = Vec::new();
        let mut seen: Vec<(BTreeMap<String, String>, &'static str)> = Vec::new();
        for o in &raw.overrides {
            let ov = &o.value;
            let mloc = ov.matchers.referenced;
            if ov.matchers.value.is_empty() {
                return Err(at.err(
                    mloc,
                    "match: give at least one label, e.g. {instance: 'host:7361'}",
                ));
            }
            if let Some(bad) = ov.matchers.value.keys().find(|k| !is_label_name(k)) {
                return Err(at.err(mloc, format!("match: {bad:?} is not a label name")));
            }
            let reason = match &ov.reason {
                Some(r) if !r.value.trim().is_empty() => r.value.trim().to_string(),
                _ => return Err(at.err(
                    o.referenced,
                    "this override has no reason: say why these thresholds differ (reason: ...)",
                )),
            };
            let expires = match &ov.expires {
                None => None,
                Some(e) => {
                    let day = parse_date(&e.value).ok_or_else(|| {
                        at.err(
                            e.referenced,
                            format!("expires: {:?} is not a date; write YYYY-MM-DD", e.value),
                        )
                    })?;
                    if day < today {
                        warnings.push(format!(
                            "{file}:{}:{}: override for {:?} expired on {} ({reason}); it is ignored",
                            e.referenced.line(),
                            e.referenced.column(),
                            ov.matchers.value,
                            e.value
                        ));
                        continue;
                    }
                    Some(e.value.clone())
                }
            };
            let mut osignals = BTreeMap::new();
            for (id, slot) in ov.slots() {
                if let Some(r) = slot {
                    if seen
                        .iter()
                        .any(|(m, s)| *m == ov.matchers.value && *s == id)
                    {
                        return Err(at.err(
                            r.referenced,
                            format!("an earlier override with the same match already sets {id}"),
                        ));
                    }
                    seen.push((ov.matchers.value.clone(), id));
                    let sig = signal(id).expect("override fields are signals");
                    osignals.insert(id, levels(&at, sig, r, signals[id])?);
                }
            }
            if osignals.is_empty() {
                return Err(at.err(mloc, "this override changes nothing: add the thresholds it sets (filesystems:, smart:, swap:, reboot: or dns:)"));
            }
            overrides.push(Override {
                matchers: ov.matchers.value.clone(),
                reason,
                expires,
                signals: osignals,
            });
        }

        Ok(Thresholds {
            source: source.to_path_buf(),
            selector,
            language: raw.language.unwrap_or_default(),
            runbook_url,
            signals,
            roles,
            windows: Windows {
                trend_secs: full_in_window_secs,
                growth_secs: smart_growth_window_secs,
            },
            watchdog: raw.monitoring.watchdog.unwrap_or(true),
            overrides,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::days_from_civil;

    fn parse(text: &str) -> Result<Thresholds, ThresholdsError> {
        // 2026-11-21
        Thresholds::parse(text, Path::new("t.yaml"), days_from_civil(2026, 11, 21))
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        for text in ["", "{}", "# only a comment\n"] {
            let t = parse(text).unwrap();
            assert_eq!(t.selector.to_string(), "job=\"vigie\"");
            assert_eq!(t.language, Language::En);
            assert_eq!(
                t.signals["filesystem.free_percent"],
                Levels {
                    warning: Some(15.0),
                    critical: Some(5.0),
                    for_secs: 600
                }
            );
            assert_eq!(
                t.roles["control-plane"]["filesystem.free_percent"].critical,
                Some(15.0)
            );
            assert!(t.watchdog);
            assert_eq!(t.signals.len(), SIGNALS.len());
        }
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_date("2000-03-01"), Some(11017));
        assert_eq!(parse_date("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        for bad in ["2023-02-29", "2027-13-01", "27-01-31", "2027-1-31", "soon"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_levels_override_defaults_and_roles_follow() {
        let t = parse(
            "language: fr\n\
             filesystems:\n  free_percent: {warning: 20, for: 30m}\n  full_in_window: 12h\n  roles:\n    nextcloud-data:\n      free_percent: {warning: 25, critical: 10}\n\
             dns:\n  latency: {warning: 300ms, critical: 1s}\n\
             monitoring: {watchdog: false}\n",
        )
        .unwrap();
        assert_eq!(t.language, Language::Fr);
        assert_eq!(
            t.signals["filesystem.free_percent"],
            Levels {
                warning: Some(20.0),
                critical: Some(5.0),
                for_secs: 1800
            }
        );
        assert_eq!(t.windows.trend_secs, 12 * 3600);
        assert_eq!(
            t.roles["nextcloud-data"]["filesystem.free_percent"].warning,
            Some(25.0)
        );
        assert_eq!(
            t.roles["nextcloud-data"]["filesystem.free_percent"].for_secs,
            1800
        );
        assert_eq!(t.signals["dns.latency"].warning, Some(0.3));
        assert!(!t.watchdog);
    }

    #[test]
    fn overrides_expire_and_need_a_reason() {
        let t = parse(
            "overrides:\n\
             - match: {instance: 'mutu2:7361', mountpoint: /srv/backup}\n  reason: backup volume sits near full\n  expires: 2027-01-31\n  filesystems: {free_percent: {warning: 3, critical: 1}}\n\
             - match: {instance: 'old:7361'}\n  reason: decommissioned\n  expires: 2026-11-20\n  swap: {used_percent: {enabled: false}}\n",
        )
        .unwrap();
        assert_eq!(t.overrides.len(), 1);
        assert_eq!(
            t.overrides[0].signals["filesystem.free_percent"].critical,
            Some(1.0)
        );
        assert_eq!(t.warnings.len(), 1);
        assert!(
            t.warnings[0].starts_with("t.yaml:8:12: override"),
            "{:?}",
            t.warnings
        );
    }
}
