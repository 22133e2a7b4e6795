//! The candidates of an alert: its value recorded once per evaluation,
//! for only the series that could fire it at some level.
//!
//! Without them, each rule of an alert computes the whole value again over
//! every series: once per level, once more per role (the control plane's
//! stricter levels), and once per set of override keys plus the default
//! clause. At 500 hosts a filesystem value reads its inputs for all 3,000
//! filesystems 5 to 8 times per rule, and that selection, not arithmetic,
//! is what costs Prometheus' time (about 5 µs a series per selector).
//!
//! So an alert whose value would be computed at least twice per evaluation
//! gets one recording rule, `vigie:candidates:<alert>`, placed in its group
//! before its first alert: the value, kept only where it is beyond the
//! loosest threshold any of its rules compares with (the default, each
//! role's, each override's, at either level). Its rules then compare that
//! record, a handful of series on a healthy fleet, with their own levels.
//! The result is the same series with the same value: a series beyond a
//! rule's threshold is beyond the loosest one. A gated value (the
//! free-space percentage, only below a floor of free bytes) is recorded
//! where the loosest floor holds too ([`GATED_LEVEL`]).
//!
//! Left out:
//! - values that read `ALERTS` (the read-only chain, a resolver failing
//!   while all fail): they depend on which alerts ran before them in the
//!   same evaluation, which a record placed earlier would change;
//! - raw reads ([`Reads::Raw`]: the dashboards), which must not depend on
//!   records;
//! - values read once per evaluation, where a record would only add a rule.
//!
//! Prometheus evaluates a group's rules in order, each seeing what the
//! ones before it recorded at the same evaluation; vmalert sees a record
//! at its next evaluation (see the README's "Many hosts").

use std::collections::BTreeMap;

use super::alerts::AlertSpec;
use super::rules::{LEVELS, OverrideIndex, Rule, firing_op, gated, level_of, override_keysets};
use crate::promql::signals::metric::ALERTS;
use crate::promql::{Expr, Reads, Scope};
use crate::thresholds::{Direction, Thresholds};

/// The level whose gate (the free-space floor) the candidates of a gated
/// alert meet: the warning's, the loosest (the thresholds file refuses a
/// warning floor below the critical one). Their warning rules need no
/// gate of their own; the critical ones still apply theirs.
pub const GATED_LEVEL: &str = "warning";

/// The record of `alert`'s candidates: `vigie:candidates:filesystem_almost_full`.
pub fn candidates_metric(alert: &str) -> String {
    let mut out = String::from("vigie:candidates:");
    for (i, c) in alert.trim_start_matches("Vigie").chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// How many times the rules of `spec` compute its value per evaluation:
/// for each level that has a rule, generic or of a role, one clause per
/// set of override keys and one for the default.
fn reads(t: &Thresholds, idx: &OverrideIndex, spec: &AlertSpec) -> usize {
    let roles = t.roles_setting(spec.signal);
    let mut levels = vec![&t.signals[spec.signal]];
    levels.extend(roles.iter().map(|r| &t.roles[*r][spec.signal]));
    let mut n = 0;
    for level in LEVELS {
        let keysets = override_keysets(idx, spec.signal, level, None).len();
        for l in &levels {
            if level_of(l, level).is_some() || keysets > 0 {
                n += keysets + 1;
            }
        }
    }
    n
}

/// The loosest threshold `spec`'s rules compare with (scaled): the highest
/// for a value that is worse lower, else the lowest. None without any.
fn loosest(t: &Thresholds, idx: &OverrideIndex, spec: &AlertSpec) -> Option<f64> {
    let sig = spec.sig();
    let roles = t.roles_setting(spec.signal);
    let mut all: Vec<f64> = Vec::new();
    let mut add = |l: &crate::thresholds::Levels| {
        all.extend(LEVELS.iter().filter_map(|lv| level_of(l, lv)));
    };
    add(&t.signals[spec.signal]);
    for r in &roles {
        add(&t.roles[*r][spec.signal]);
    }
    for l in idx.levels_of(spec.signal) {
        add(l);
    }
    let all = all
        .into_iter()
        .filter(|v| v.is_finite())
        .map(|v| v * sig.scale);
    match sig.direction {
        Direction::LowerIsWorse => all.reduce(f64::max),
        Direction::HigherIsWorse => all.reduce(f64::min),
    }
}

/// The value `spec`'s rules compare (before the role split): `value`
/// itself, or the record of its candidates, returned with the recording
/// rule to place before the alert's first rule.
pub fn value_read(
    t: &Thresholds,
    scope: &Scope,
    idx: &OverrideIndex,
    spec: &AlertSpec,
    value: Expr,
) -> (Expr, Option<Rule>) {
    let recordable = scope.reads == Reads::Recorded
        && !value.as_str().contains(&format!("{ALERTS}{{"))
        && reads(t, idx, spec) >= 2;
    let Some(loosest) = loosest(t, idx, spec).filter(|_| recordable) else {
        return (value, None);
    };
    let name = candidates_metric(spec.name);
    let beyond = value
        .paren()
        .bin(firing_op(spec.sig().direction), Expr::num(loosest));
    let rule = Rule {
        record: Some(name.clone()),
        alert: None,
        expr: gated(spec, scope, GATED_LEVEL, beyond, false),
        for_: None,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };
    (scope.metric(&name), Some(rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_are_snake_case_without_the_prefix() {
        assert_eq!(
            candidates_metric("VigieFilesystemAlmostFull"),
            "vigie:candidates:filesystem_almost_full"
        );
        assert_eq!(
            candidates_metric("VigieNvmeMediaErrorsGrowing"),
            "vigie:candidates:nvme_media_errors_growing"
        );
    }
}
