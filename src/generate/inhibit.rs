//! Alertmanager inhibition rules that keep one outage to one page, derived
//! from the same catalogue and rule groups as the alerts: a dead or missing
//! vigie target silences that host's other vigie alerts, no target at all
//! silences the per-target ones, all resolvers failing silences the
//! per-resolver alerts, a critical silences its own warning, and a fill
//! forecast at critical silences the free-space alert of the same
//! filesystem (incident 1 paged twice, an hour apart). Written as an
//! Alertmanager configuration fragment (`inhibit_rules:`), checked by
//! `amtool check-config`.

use std::collections::BTreeSet;

use super::alerts::ALERTS;
use super::rules::{Group, MISSING, role_alert_name};
use crate::promql::{Matcher, regex_literal};
use crate::thresholds::Thresholds;
use crate::thresholds::catalogue::Series;

/// The fragment's file name.
pub const INHIBIT_FILE: &str = "vigie-alertmanager-inhibit.yaml";

/// One inhibition rule, with why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inhibit {
    pub why: &'static str,
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
}

/// `alertname=~"A|B"` matching exactly `names`, or `alertname="A"` for one.
fn names(names: &[String]) -> Matcher {
    match names {
        [one] => Matcher::eq("alertname", one),
        _ => Matcher::regex(
            "alertname",
            &names
                .iter()
                .map(|n| regex_literal(n))
                .collect::<Vec<_>>()
                .join("|"),
        ),
    }
}

/// The alerts of `groups` with their severities, in order.
fn alerts(groups: &[Group]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for g in groups {
        for r in &g.rules {
            if let Some(a) = &r.alert {
                let sev = r.labels.get("severity").cloned().unwrap_or_default();
                if !out.contains(&(a.clone(), sev.clone())) {
                    out.push((a.clone(), sev));
                }
            }
        }
    }
    out
}

/// The inhibition rules for the alerts `groups` hold (those generated for `t`).
pub fn rules(t: &Thresholds, groups: &[Group]) -> Vec<Inhibit> {
    let all = alerts(groups);
    let has = |name: &str| all.iter().any(|(a, _)| a == name);
    let unique = |it: &mut dyn Iterator<Item = String>| -> Vec<String> {
        let mut seen = BTreeSet::new();
        it.filter(|n| seen.insert(n.clone())).collect()
    };
    let mut out = Vec::new();

    // A critical silences the warning of the same alert on the same series:
    // every label that names one (a filesystem, a disk, a probe, a path...).
    let both: Vec<String> = unique(
        &mut all
            .iter()
            .filter(|(a, s)| s == "critical" && all.contains(&(a.clone(), "warning".into())))
            .map(|(a, _)| a.clone()),
    );
    if !both.is_empty() {
        let mut equal: Vec<String> = vec!["alertname".into(), "instance".into()];
        for s in [
            Series::Filesystem,
            Series::Disk,
            Series::Probe,
            Series::Collector,
            Series::Path,
        ] {
            for l in s.labels() {
                if !equal.iter().any(|e| e == l) {
                    equal.push(l.to_string());
                }
            }
        }
        out.push(Inhibit {
            why: "A critical alert silences the warning of the same alert on the same series.",
            source: vec![names(&both), Matcher::eq("severity", "critical")],
            target: vec![names(&both), Matcher::eq("severity", "warning")],
            equal,
        });
    }

    // vigie itself down or gone: its other alerts for that host are stale.
    let monitoring = ["VigieWatchdog", "VigieAbsent", "VigieDown", MISSING];
    let host_alerts: Vec<String> = unique(
        &mut all
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| !monitoring.contains(&a.as_str())),
    );
    for (source, why) in [
        (
            "VigieDown",
            "vigie down on a host silences that host's other vigie alerts.",
        ),
        (
            MISSING,
            "vigie gone from service discovery silences that host's other vigie alerts.",
        ),
    ] {
        if has(source) && !host_alerts.is_empty() {
            let mut targets = host_alerts.clone();
            // The rules hand VigieDown over to VigieTargetMissing with no
            // overlap in Prometheus; an engine that sees ALERTS a little
            // late (vmalert) may overlap an evaluation or two: the missing
            // alert wins. Never the other way round (both would be muted).
            if source == MISSING && has("VigieDown") {
                targets.push("VigieDown".into());
            }
            out.push(Inhibit {
                why,
                source: vec![Matcher::eq("alertname", source)],
                target: vec![names(&targets)],
                equal: vec!["instance".into()],
            });
        }
    }
    if has("VigieAbsent") {
        let mut targets = host_alerts.clone();
        targets.extend(
            ["VigieDown", MISSING]
                .iter()
                .filter(|a| has(a))
                .map(|a| a.to_string()),
        );
        out.push(Inhibit {
            why: "No vigie target at all: one alert, not one per target that went missing.",
            source: vec![Matcher::eq("alertname", "VigieAbsent")],
            target: vec![names(&targets)],
            equal: vec![],
        });
    }

    // All resolvers failing: the per-resolver (per-probe) DNS alerts are
    // the same outage.
    let all_failing = ALERTS
        .iter()
        .find(|a| a.signal == "dns.all_resolvers_failing")
        .map(|a| a.name);
    let per_probe: Vec<String> = unique(
        &mut ALERTS
            .iter()
            .filter(|a| a.signal.starts_with("dns.") && a.sig().series == Series::Probe)
            .map(|a| a.name.to_string())
            .filter(|a| has(a)),
    );
    if let Some(src) = all_failing.filter(|a| has(a))
        && !per_probe.is_empty()
    {
        out.push(Inhibit {
            why: "All resolvers of a host failing silences the per-resolver DNS alerts.",
            source: vec![Matcher::eq("alertname", src)],
            target: vec![names(&per_probe)],
            equal: vec!["instance".into()],
        });
    }

    // Incident 1: the forecast's critical and the free-space critical on
    // the same filesystem paged about an hour apart. The forecast comes
    // first on a slow fill and stays until there is room again: it is the
    // page; the free-space alert adds nothing while it fires.
    let forecast = ALERTS.iter().find(|a| a.signal == "filesystem.full_in");
    let almost_full = ALERTS
        .iter()
        .find(|a| a.signal == "filesystem.free_percent");
    if let (Some(f), Some(a)) = (forecast, almost_full) {
        let mut pairs = vec![(f.name.to_string(), a.name.to_string())];
        for (role, signals) in &t.roles {
            if signals.contains_key(f.signal) && signals.contains_key(a.signal) {
                pairs.push((role_alert_name(f, role), role_alert_name(a, role)));
            }
        }
        for (src, dst) in pairs {
            if all.contains(&(src.clone(), "critical".into())) && has(&dst) {
                out.push(Inhibit {
                    why: "A fill forecast at critical silences the free-space alert of the same filesystem (one page, incident 1).",
                    source: vec![Matcher::eq("alertname", &src), Matcher::eq("severity", "critical")],
                    target: vec![Matcher::eq("alertname", &dst)],
                    equal: vec!["instance".into(), "mountpoint".into()],
                });
            }
        }
    }

    // Beside node_exporter: node-mixin's alert on a filesystem vigie
    // already alerts on is redundant.
    let fs_alerts: Vec<String> = unique(&mut all.iter().map(|(a, _)| a.clone()).filter(|a| {
        ALERTS.iter().any(|s| {
            s.sig().series == Series::Filesystem
                && (s.name == a || t.roles.keys().any(|r| role_alert_name(s, r) == *a))
        })
    }));
    if !fs_alerts.is_empty() {
        out.push(Inhibit {
            why: "Beside node_exporter: a vigie filesystem alert silences node-mixin's on the same filesystem (needs `instance` without the port in both scrape jobs, as in deploy/prometheus/prometheus.yml).",
            source: vec![names(&fs_alerts)],
            target: vec![Matcher::regex("alertname", "NodeFilesystem.+")],
            equal: vec!["instance".into(), "mountpoint".into()],
        });
    }
    out
}

/// A YAML single-quoted scalar.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| quoted(&s)).collect();
    format!("[{}]", items.join(", "))
}

/// The fragment: `inhibit_rules:` with one commented rule per [`Inhibit`],
/// ready to paste into (or to be) the `inhibit_rules` of an Alertmanager
/// configuration.
pub fn to_yaml(rules: &[Inhibit]) -> String {
    let mut s = String::from("inhibit_rules:\n");
    for r in rules {
        s.push_str(&format!("  # {}\n", r.why));
        s.push_str(&format!(
            "  - source_matchers: {}\n",
            list(r.source.iter().map(ToString::to_string))
        ));
        s.push_str(&format!(
            "    target_matchers: {}\n",
            list(r.target.iter().map(ToString::to_string))
        ));
        s.push_str(&format!("    equal: {}\n", list(r.equal.iter().cloned())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::MatchOp;
    use std::path::Path;

    fn matches(ms: &[Matcher], alert: &(String, String)) -> bool {
        ms.iter().all(|m| {
            let v = match m.name.as_str() {
                "alertname" => &alert.0,
                "severity" => &alert.1,
                _ => return false,
            };
            let re = regex::Regex::new(&format!("^(?:{})$", m.value)).unwrap();
            match m.op {
                MatchOp::Equal => *v == m.value,
                MatchOp::NotEqual => *v != m.value,
                MatchOp::Regex => re.is_match(v),
                MatchOp::NotRegex => !re.is_match(v),
            }
        })
    }

    /// No two alerts silence each other (both would be muted, and the
    /// outage would page no one), no alert silences itself, and every
    /// rule silences at least one generated alert.
    #[test]
    fn no_alert_is_silenced_by_one_it_silences() {
        for text in [
            "{}",
            "filesystems: {roles: {nextcloud: {free_percent: {warning: 20}, full_in: {critical: 1d}}}}\n",
        ] {
            let t = Thresholds::parse(text, Path::new("t.yaml"), 0).unwrap();
            let groups = super::super::rules::groups(&t);
            let all = alerts(&groups);
            let rules = rules(&t, &groups);
            // node-mixin's alerts are not vigie's.
            for r in rules
                .iter()
                .filter(|r| !r.why.starts_with("Beside node_exporter"))
            {
                assert!(
                    all.iter().any(|a| matches(&r.target, a)),
                    "{}: silences nothing",
                    r.why
                );
            }
            // Which alerts each rule's source and target match, once.
            let sets: Vec<(Vec<bool>, Vec<bool>)> = rules
                .iter()
                .map(|r| {
                    (
                        all.iter().map(|a| matches(&r.source, a)).collect(),
                        all.iter().map(|a| matches(&r.target, a)).collect(),
                    )
                })
                .collect();
            let silences_at = |i: usize, j: usize| sets.iter().any(|(s, t)| s[i] && t[j]);
            for i in 0..all.len() {
                assert!(!silences_at(i, i), "{:?} silences itself", all[i]);
                for j in 0..i {
                    assert!(
                        !(silences_at(i, j) && silences_at(j, i)),
                        "{:?} and {:?} silence each other",
                        all[i],
                        all[j]
                    );
                }
            }
            let silences = |x: &(String, String), y: &(String, String)| {
                let (i, j) = (
                    all.iter().position(|a| a == x).unwrap(),
                    all.iter().position(|a| a == y).unwrap(),
                );
                silences_at(i, j)
            };
            assert!(silences(
                &("VigieTargetMissing".into(), "critical".into()),
                &("VigieDiskHot".into(), "warning".into())
            ));
            assert!(silences(
                &("VigieTargetMissing".into(), "critical".into()),
                &("VigieDown".into(), "critical".into())
            ));
        }
    }
}
