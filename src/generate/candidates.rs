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
use crate::thresholds::{Direction, Levels, Thresholds};

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

/// The levels of `spec`'s rules: the generic ones, then each role's that
/// sets its signal.
fn rule_levels<'t>(t: &'t Thresholds, spec: &AlertSpec) -> Vec<&'t Levels> {
    let mut levels = vec![&t.signals[spec.signal]];
    levels.extend(
        t.roles_setting(spec.signal)
            .iter()
            .map(|r| &t.roles[*r][spec.signal]),
    );
    levels
}

/// How many times the rules of `spec` compute its value per evaluation:
/// for each level that has a rule, generic or of a role, one clause per
/// set of override keys and one for the default.
fn reads(t: &Thresholds, idx: &OverrideIndex, spec: &AlertSpec) -> usize {
    let levels = rule_levels(t, spec);
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
    let mut levels = rule_levels(t, spec);
    levels.extend(idx.levels_of(spec.signal));
    let all = levels
        .into_iter()
        .flat_map(|l| LEVELS.iter().filter_map(|lv| level_of(l, lv)))
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
    use crate::generate::rules::{groups, groups_in};
    use std::path::Path;

    /// Each candidates record of `yaml` (a thresholds file): (name, expr).
    fn candidates(yaml: &str, raw: bool) -> Vec<(String, String)> {
        let t = Thresholds::parse(yaml, Path::new("t.yaml"), 20_778).unwrap();
        let gs = if raw {
            groups_in(&t, &t.scope(), &OverrideIndex::new(&t), true)
        } else {
            groups(&t)
        };
        gs.iter()
            .flat_map(|g| &g.rules)
            .filter_map(|r| {
                let name = r.record.as_ref()?;
                name.starts_with("vigie:candidates:")
                    .then(|| (name.clone(), r.expr.as_str().to_string()))
            })
            .collect()
    }

    fn expr_of<'a>(c: &'a [(String, String)], name: &str) -> Option<&'a str> {
        c.iter().find(|(n, _)| n == name).map(|(_, e)| e.as_str())
    }

    #[test]
    fn the_loosest_threshold_of_defaults_roles_and_overrides_is_kept() {
        let shipped = candidates("{}", false);
        // Free space: the control plane's 30% is looser than the generic
        // 15%, and the warning floor of free bytes (20 GiB) applies.
        let fs = expr_of(&shipped, "vigie:candidates:filesystem_almost_full").unwrap();
        assert!(fs.contains(") < 30) and on(instance, mountpoint)"), "{fs}");
        assert!(fs.ends_with("< 21474836480"), "{fs}");
        // Swap used (higher is worse): the warning, 80%.
        let swap = expr_of(&shipped, "vigie:candidates:swap_almost_full").unwrap();
        assert!(swap.ends_with(">= 80"), "{swap}");
        // Overrides looser than the defaults widen the candidates.
        let looser = candidates(
            "overrides:\n  - match: {instance: 'a:1', mountpoint: /m}\n    reason: r\n    \
             filesystems: {free_percent: {warning: 40}}\n  - match: {instance: 'a:1'}\n    \
             reason: r\n    swap: {used_percent: {warning: 30}}\n",
            false,
        );
        let fs = expr_of(&looser, "vigie:candidates:filesystem_almost_full").unwrap();
        assert!(fs.contains(") < 40) and on(instance, mountpoint)"), "{fs}");
        let swap = expr_of(&looser, "vigie:candidates:swap_almost_full").unwrap();
        assert!(swap.ends_with(">= 30"), "{swap}");
    }

    #[test]
    fn values_reading_alerts_read_once_or_raw_are_not_recorded() {
        // A failing disk and a read-only filesystem have one rule each.
        let shipped = candidates("{}", false);
        assert!(expr_of(&shipped, "vigie:candidates:disk_failing").is_none());
        assert!(expr_of(&shipped, "vigie:candidates:filesystem_read_only").is_none());
        // With an override each, their rules read the value twice (the
        // override's clause and the default's): the failing disk's is
        // recorded; the read-only chain, which reads ALERTS, is not.
        let two = candidates(
            "overrides:\n  - match: {instance: 'a:1', serial: S}\n    reason: r\n    \
             smart: {failing: {enabled: false}}\n  - match: {instance: 'a:1', mountpoint: /m}\n    \
             reason: r\n    filesystems: {readonly: {enabled: false}}\n",
            false,
        );
        let failing = expr_of(&two, "vigie:candidates:disk_failing").unwrap();
        assert!(failing.ends_with(">= 1"), "{failing}");
        assert!(expr_of(&two, "vigie:candidates:filesystem_read_only").is_none());
        // The dashboards read raw: no record at all.
        assert!(candidates("{}", true).is_empty());
    }

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
