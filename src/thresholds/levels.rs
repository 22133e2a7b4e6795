//! Validation of levels: each value against its signal's kind, warning
//! against critical, `for:`, the trend windows, and the roles' levels.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::Levels;
use super::catalogue::{Direction, ROLE_DEFAULTS, Signal, ValueKind::*, describe, signal};
use super::error::{At, ThresholdsError};
use super::raw::{RawLevels, RawRole, RawValue};
use crate::units::parse_duration;

/// The longest `for:` the file accepts. Prometheus itself takes up to 292
/// years, but an alert held back for more than a week is no warning, and
/// the generated promtool tests sample every minute of it.
pub(super) const MAX_FOR: std::time::Duration = std::time::Duration::from_secs(7 * 86400);

/// The longest duration value or window the file accepts (a year): fill
/// forecasts, trend windows and latencies beyond it are typing mistakes.
pub(super) const MAX_SPAN: std::time::Duration = std::time::Duration::from_secs(366 * 86400);

/// `text` as a duration of whole seconds, at most `max` (named `max_text`).
pub(super) fn bounded_duration(
    text: &str,
    max: std::time::Duration,
    max_text: &str,
) -> Result<std::time::Duration, String> {
    let d = parse_duration(text)?;
    if d > max {
        return Err(format!(
            "{text:?} is longer than {max_text}, the most vigie accepts here"
        ));
    }
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "{text:?} is not a whole number of seconds; write e.g. 1s or 90s"
        ));
    }
    Ok(d)
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
        (RawValue::Other(_), _) => Err(at.err(
            loc,
            format!("{which} of {}: expected {}", sig.id, describe(sig.kind)),
        )),
        (_, Condition) => Err(at.err(
            loc,
            format!(
                "{} has no {which} value: it only takes for: and enabled:",
                sig.id
            ),
        )),
        (RawValue::Text(t), Duration) => parse_duration(t)
            .and_then(|d| {
                if d > MAX_SPAN {
                    Err(format!(
                        "{t:?} is longer than 366d, the most vigie accepts here"
                    ))
                } else {
                    Ok(d.as_secs_f64())
                }
            })
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
pub(super) fn levels(
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
        out.for_secs = bounded_duration(&f.value, MAX_FOR, "7d")
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
                    std::time::Duration::try_from_secs_f64(v)
                        .map_or_else(|_| format!("{v}s"), crate::units::human)
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
pub(super) fn window(
    at: &At,
    what: &str,
    raw: &Option<Spanned<String>>,
    default: u64,
) -> Result<u64, ThresholdsError> {
    match raw {
        None => Ok(default),
        Some(s) => {
            let d = bounded_duration(&s.value, MAX_SPAN, "366d")
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

/// The longest `slow_signals_interval`, Prometheus' default evaluation
/// interval: a read-only filesystem's alert (`for: 1m`) fires at most a
/// minute later, the generated promtool tests (evaluated every minute)
/// still hold, and the groups' records and `ALERTS` stay well inside
/// Prometheus' 5-minute lookback.
pub const MAX_SLOW_INTERVAL_SECS: u64 = 60;

/// `slow_signals_interval`: None (Prometheus' own interval), or seconds
/// from 1 to [`MAX_SLOW_INTERVAL_SECS`].
pub(super) fn slow_interval(
    at: &At,
    raw: &Option<Spanned<String>>,
) -> Result<Option<u64>, ThresholdsError> {
    let Some(s) = raw else {
        return Ok(None);
    };
    let max = std::time::Duration::from_secs(MAX_SLOW_INTERVAL_SECS);
    let d = bounded_duration(&s.value, max, "1m")
        .map_err(|e| at.err(s.referenced, format!("slow_signals_interval: {e}")))?;
    if d.as_secs() == 0 {
        return Err(at.err(
            s.referenced,
            "slow_signals_interval: 0s would never evaluate; leave it out for Prometheus' own interval",
        ));
    }
    Ok(Some(d.as_secs()))
}

/// The levels of each filesystem role: the defaults of [`ROLE_DEFAULTS`]
/// on top of the file's global levels, then what the file says of the role.
pub(super) fn roles(
    at: &At,
    raw: &BTreeMap<String, Spanned<RawRole>>,
    signals: &BTreeMap<&'static str, Levels>,
) -> Result<BTreeMap<String, BTreeMap<&'static str, Levels>>, ThresholdsError> {
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
    for (role, raw_role) in raw {
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
                entry.insert(id, levels(at, sig, r, base)?);
            }
        }
    }
    Ok(roles)
}
