//! Rule groups from a thresholds file.
//!
//! Overrides do not copy alerts. Each override's threshold is recorded as a
//! series (`vigie:threshold:<signal>:<level>`) carrying the override's
//! labels and a `keys` label naming them; each alert compares its value to
//! those series with one `on(<keys>)` join per distinct set of keys (most
//! specific first), and to the default for every series no override
//! matches, once the thresholds are recorded (a group may run before
//! `vigie-thresholds` on its first evaluation). 500 overrides on
//! `{instance, mountpoint}` that set a warning and a critical level give
//! 1,000 one-line recording rules (one per override and level) and still
//! one alerting rule per alert and level.
//! (Rules of many overrides each, `label_replace(vector(3), ...) or ...`,
//! took Prometheus 5 times longer to evaluate than one rule per override:
//! 150 ms against 30 ms for 500 overrides.)
//!
//! Long windows (a filesystem's day, a SMART counter's week, a target's
//! day) are read through records: the group `vigie-summaries`, every 10
//! minutes, records each such series' lowest or highest over 15 minutes,
//! then its lowest or highest over each long window from those, one rule
//! per series and window the alerts read that way ([`summary_group`],
//! [`signals::extreme_over`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::GenerateError;
use super::alerts::{ALERTS, AlertSpec};
use super::candidates;
use crate::promql::{Expr, Matcher, Op, Scope, Selector, signals};
use crate::thresholds::{
    Direction, Language, Levels, Override, ROLE_DEFAULTS, SLOW_SECTIONS, Thresholds,
};
use crate::units::prom_duration;

#[derive(Debug, Serialize)]
pub struct Group {
    pub name: String,
    /// The group's own evaluation interval (the summaries'), else
    /// Prometheus' global one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: Expr,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The two levels, in order.
pub const LEVELS: [&str; 2] = ["warning", "critical"];

pub fn level_of(l: &Levels, level: &str) -> Option<f64> {
    if level == "warning" {
        l.warning
    } else {
        l.critical
    }
}

/// The comparison that fires an alert of a signal going `direction`.
pub fn firing_op(direction: Direction) -> Op {
    match direction {
        Direction::LowerIsWorse => Op::Lt,
        Direction::HigherIsWorse => Op::Ge,
    }
}

/// The signals whose `for:` is applied in their value expression (over a
/// range), not by the rule: [`signals::dns_resolver_failing`], which is
/// suppressed while the all-resolvers critical fires; a rule `for:` would
/// start again from nothing after each suppression.
pub const FOR_IN_EXPR: &[&str] = &["dns.resolver_failing"];

/// The rule's `for:` for `signal` with `for_secs` in the thresholds file.
pub fn rule_for(signal: &str, for_secs: u64) -> Option<String> {
    (for_secs > 0 && !FOR_IN_EXPR.contains(&signal)).then(|| prom_duration(for_secs))
}

/// The recording rule name of a signal's threshold at a level.
pub fn threshold_metric(signal_id: &str, level: &str) -> String {
    format!("vigie:threshold:{}:{level}", signal_id.replace('.', "_"))
}

/// The alert expression for a value at a level with default threshold
/// `t` (already scaled), joined with the override thresholds recorded as
/// `metric` for each set of label `keysets` (most specific first).
fn alert_expr(op: Op, value: Expr, t: f64, keysets: &[Vec<String>], metric: &str) -> Expr {
    // The value may hold `and`/`unless`, which bind looser than comparisons.
    let value = value.paren();
    let threshold = |keys: &[String]| {
        Expr::metric(
            metric,
            &Selector::default().with(Matcher::eq("keys", &keys.join(","))),
        )
    };
    let unless_overridden = |mut e: Expr, keysets: &[Vec<String>]| {
        for keys in keysets {
            e = e.on(Op::Unless, keys, threshold(keys));
        }
        e.paren()
    };
    if keysets.is_empty() {
        return value.bin(op, Expr::num(t));
    }
    let mut clauses = Vec::new();
    for (i, keys) in keysets.iter().enumerate() {
        let c = value.clone().on_group_left(op, keys, threshold(keys));
        clauses.push(unless_overridden(c, &keysets[..i]));
    }
    // The default clause waits until every set of override thresholds is
    // recorded: Prometheus starts each group at its own offset, so on the
    // first evaluation after the rules are loaded this group may run
    // before `vigie-thresholds`, and an overridden series would be
    // compared with the default (a `for: 0` alert firing for one
    // evaluation).
    let mut default = unless_overridden(value.bin(op, Expr::num(t)), keysets);
    for keys in keysets {
        default = default.on(
            Op::Unless,
            &[] as &[&str],
            Expr::call("absent", [threshold(keys)]),
        );
    }
    clauses.push(default.paren());
    Expr::union(clauses).expect("at least the default clause")
}

/// `value` where `spec`'s gate at `level` also holds (the free-space
/// floor), unless `value` is candidates already gated at that level
/// ([`candidates::GATED_LEVEL`]).
pub fn gated(spec: &AlertSpec, scope: &Scope, level: &str, value: Expr, candidates: bool) -> Expr {
    match spec.gate {
        Some(_) if candidates && level == candidates::GATED_LEVEL => value,
        Some(gate) => value
            .paren()
            .on(Op::And, signals::FILESYSTEM_KEY, gate(scope, level)),
        None => value,
    }
}

/// The overrides of a thresholds file by signal, indexed once per
/// generation and read by the rules and both dashboards, rather than each
/// alert walking every override: for each signal an override sets, the
/// overrides that set it (in file order) and their label key sets (most
/// specific first).
#[derive(Debug, Default)]
pub struct OverrideIndex<'a> {
    by_signal: BTreeMap<&'static str, BySignal<'a>>,
    /// The `keys` label of each distinct set of label names (`instance,mountpoint`).
    keys_labels: Vec<String>,
}

#[derive(Debug, Default)]
struct BySignal<'a> {
    /// Each override, with its `keys` label (an index in `keys_labels`).
    overrides: Vec<(&'a Override, usize)>,
    /// Most specific first, then in order.
    keysets: Vec<Vec<String>>,
}

impl<'a> OverrideIndex<'a> {
    pub fn new(t: &'a Thresholds) -> OverrideIndex<'a> {
        let mut keys_labels = Vec::new();
        let mut label_of: BTreeMap<Vec<&'a String>, usize> = BTreeMap::new();
        let mut by_signal: BTreeMap<&'static str, BySignal<'a>> = BTreeMap::new();
        let mut keysets: BTreeMap<&'static str, BTreeSet<usize>> = BTreeMap::new();
        for o in &t.overrides {
            let keys: Vec<&'a String> = o.matchers.keys().collect();
            let label = *label_of.entry(keys).or_insert_with_key(|keys| {
                keys_labels.push(
                    keys.iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                );
                keys_labels.len() - 1
            });
            for &signal in o.signals.keys() {
                by_signal
                    .entry(signal)
                    .or_default()
                    .overrides
                    .push((o, label));
                keysets.entry(signal).or_default().insert(label);
            }
        }
        let names: BTreeMap<usize, &Vec<&String>> = label_of.iter().map(|(k, &i)| (i, k)).collect();
        for (signal, labels) in keysets {
            let mut sets: Vec<&Vec<&String>> = labels.iter().map(|i| names[i]).collect();
            sets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            by_signal.entry(signal).or_default().keysets = sets
                .into_iter()
                .map(|k| k.iter().map(|s| s.to_string()).collect())
                .collect();
        }
        OverrideIndex {
            by_signal,
            keys_labels,
        }
    }

    /// The levels each override sets for `signal`.
    pub fn levels_of(&self, signal: &str) -> Vec<&'a Levels> {
        self.by_signal.get(signal).map_or_else(Vec::new, |e| {
            e.overrides
                .iter()
                .map(|(o, _)| &o.signals[signal])
                .collect()
        })
    }
}

/// The label key sets of the overrides that set `signal`, most specific
/// first; with `recording`, each override's threshold at `level` is
/// recorded there.
pub fn override_keysets<'i>(
    idx: &'i OverrideIndex,
    signal: &str,
    level: &str,
    recording: Option<&mut Vec<Rule>>,
) -> &'i [Vec<String>] {
    let Some(entry) = idx.by_signal.get(signal) else {
        return &[];
    };
    if let Some(rec) = recording {
        let scale = crate::thresholds::signal(signal).map_or(1.0, |s| s.scale);
        let metric = threshold_metric(signal, level);
        rec.reserve(entry.overrides.len());
        for &(o, keys) in &entry.overrides {
            let ol = &o.signals[signal];
            let mut labels: BTreeMap<String, String> = o.matchers.clone();
            labels.insert("keys".into(), idx.keys_labels[keys].clone());
            let v = level_of(ol, level).map_or(f64::NAN, |v| v * scale);
            rec.push(Rule {
                record: Some(metric.clone()),
                alert: None,
                expr: Expr::call("vector", [Expr::num(v)]),
                for_: None,
                labels,
                annotations: BTreeMap::new(),
            });
        }
    }
    &entry.keysets
}

/// Every rule group for `t`.
pub fn groups(t: &Thresholds) -> Vec<Group> {
    groups_in(t, &t.rule_scope(), &OverrideIndex::new(t), true)
}

/// The rule groups for `t` with its overrides indexed in `idx`, reading
/// the series of `scope` (the rules' own, [`Thresholds::rule_scope`], or a
/// dashboard's with its variables, reading long windows raw). Without
/// `record`, the alerting groups only: no recorded threshold, which the
/// alerts' expressions read by name.
pub fn groups_in(t: &Thresholds, scope: &Scope, idx: &OverrideIndex, record: bool) -> Vec<Group> {
    let mut recording: Vec<Rule> = Vec::new();
    let mut alerting: BTreeMap<&'static str, Vec<Rule>> = BTreeMap::new();
    // Each alert's value as its rules read it: `spec.value` or its record.
    let mut base: BTreeMap<&str, (Expr, bool)> = BTreeMap::new();
    for spec in ALERTS {
        let sig = spec.sig();
        let levels = t.signals[spec.signal];
        let scale = sig.scale;
        let op = firing_op(sig.direction);
        // The value, or the record of its candidates when several rules
        // read it (placed before the first of them).
        let (mut value, candidate) =
            candidates::value_read(t, scope, idx, spec, (spec.value)(scope));
        let section = spec.signal.split('.').next().unwrap_or("other");
        let is_candidates = candidate.is_some();
        if let Some(r) = candidate {
            alerting.entry(section).or_default().push(r);
        }
        base.insert(spec.name, (value.clone(), is_candidates));
        // A filesystem that holds a watched path has its role's alerts
        // instead (stricter, and naming the path).
        let roles = t.roles_setting(spec.signal);
        if sig.by_role && !roles.is_empty() {
            value = signals::outside_roles(value, scope, &roles);
        }
        for level in LEVELS {
            let default = level_of(&levels, level).map(|v| v * scale);
            // Overrides that set this signal, grouped by their label keys.
            let metric = threshold_metric(spec.signal, level);
            let keysets =
                override_keysets(idx, spec.signal, level, record.then_some(&mut recording));
            // No default and no override at this level: no rule.
            let Some(default) = default.or(if keysets.is_empty() {
                None
            } else {
                Some(f64::NAN)
            }) else {
                continue;
            };
            let expr = alert_expr(
                op,
                gated(spec, scope, level, value.clone(), is_candidates),
                default,
                keysets,
                &metric,
            );
            let text = match t.language {
                Language::En => spec.en,
                Language::Fr => spec.fr,
            };
            let annotations = BTreeMap::from([
                ("summary".to_string(), text.summary.to_string()),
                ("description".to_string(), text.description.to_string()),
                ("runbook_url".to_string(), t.runbook(spec.name, spec.name)),
            ]);
            alerting.entry(section).or_default().push(Rule {
                record: None,
                alert: Some(spec.name.to_string()),
                expr,
                for_: rule_for(spec.signal, levels.for_secs),
                labels: BTreeMap::from([("severity".to_string(), level.to_string())]),
                annotations,
            });
        }
    }
    for (role, signals) in &t.roles {
        for spec in ALERTS.iter().filter(|s| signals.contains_key(s.signal)) {
            alerting.entry("filesystem").or_default().extend(role_rules(
                t,
                scope,
                idx,
                spec,
                base[spec.name].clone(),
                role,
                &signals[spec.signal],
            ));
        }
    }
    let mut groups = Vec::new();
    if !recording.is_empty() {
        groups.push(Group {
            name: "vigie-thresholds".into(),
            interval: None,
            rules: recording,
        });
    }
    let mut monitoring = monitoring(t, scope);
    monitoring.rules = with_values_now(scope, std::mem::take(&mut monitoring.rules));
    let alerting: Vec<(&str, Vec<Rule>)> = alerting
        .into_iter()
        .map(|(section, rules)| (section, with_values_now(scope, rules)))
        .collect();
    if let Some(g) = summary_group(
        t,
        alerting
            .iter()
            .flat_map(|(_, r)| r)
            .chain(&monitoring.rules),
    ) {
        groups.push(g);
    }
    for (section, rules) in alerting {
        let slow = t
            .slow_interval_secs
            .filter(|_| SLOW_SECTIONS.contains(&section));
        groups.push(Group {
            name: format!("vigie-{section}"),
            interval: slow.map(prom_duration),
            rules,
        });
    }
    groups.push(monitoring);
    groups
}

/// `rules` after the values now they read over long windows
/// ([`signals::extreme_over`]), each recorded once per evaluation for all
/// of them: a group's rules run in order, each seeing what the ones
/// before it recorded at the same evaluation (in Prometheus; vmalert sees
/// it at its next evaluation).
fn with_values_now(scope: &Scope, rules: Vec<Rule>) -> Vec<Rule> {
    let now: BTreeSet<signals::RecordedExtreme> = rules
        .iter()
        .flat_map(|r| signals::recorded_read(r.expr.as_str()))
        .filter(|x| x.now)
        .collect();
    now.into_iter()
        .map(|x| Rule {
            record: Some(x.name()),
            alert: None,
            expr: x.expr(scope),
            for_: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        })
        .chain(rules)
        .collect()
}

/// The group that records, every [`signals::SUMMARY_STEP`], what the
/// alerting `rules` read over long windows ([`signals::extreme_over`]):
/// first each series' lows or highs over 15 minutes (the summaries), then
/// each long extreme the rules read, computed from the summaries and the
/// raw tail (so the alerts read one recorded sample and 15 raw minutes,
/// not every summary of the window, at each evaluation). A long extreme
/// does not need the summary recorded just before it in the same
/// evaluation (vmalert would not see it yet): the raw tail covers it.
/// None when the rules read none.
pub fn summary_group<'a>(
    t: &Thresholds,
    rules: impl IntoIterator<Item = &'a Rule>,
) -> Option<Group> {
    let scope = t.rule_scope();
    let mut long = BTreeSet::new();
    for r in rules {
        long.extend(
            signals::recorded_read(r.expr.as_str())
                .into_iter()
                .filter(|x| x.in_summary_group() && !x.is_summary()),
        );
    }
    let summaries: BTreeSet<_> = long
        .iter()
        .map(|x| signals::RecordedExtreme {
            range: signals::SUMMARY_RANGE,
            settled: false,
            now: false,
            ..x.clone()
        })
        .collect();
    let rules: Vec<Rule> = summaries
        .iter()
        .chain(&long)
        .map(|x| Rule {
            record: Some(x.name()),
            alert: None,
            expr: x.expr(&scope),
            for_: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        })
        .collect();
    (!rules.is_empty()).then(|| Group {
        name: SUMMARY_GROUP.into(),
        interval: Some(prom_duration(signals::SUMMARY_STEP)),
        rules,
    })
}

/// The name of the group [`summary_group`] writes.
pub const SUMMARY_GROUP: &str = "vigie-summaries";

/// `control-plane` -> `ControlPlane`.
pub fn camel(role: &str) -> String {
    role.split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The name of `spec`'s alert for a role: `VigieControlPlaneFilesystemAlmostFull`.
pub fn role_alert_name(spec: &AlertSpec, role: &str) -> String {
    format!(
        "Vigie{}{}",
        camel(role),
        spec.name.trim_start_matches("Vigie")
    )
}

/// The `runbook_url` of `spec`'s alert for `role`: a role vigie ships
/// (`control-plane`) has a page of its own; a role of the user's own links
/// to the generic alert's page, unless the file sets `runbook_url`.
pub fn role_runbook(t: &Thresholds, spec: &AlertSpec, role: &str) -> String {
    let name = role_alert_name(spec, role);
    let shipped = ROLE_DEFAULTS
        .iter()
        .any(|(r, id, _, _)| *r == role && *id == spec.signal);
    t.runbook(&name, if shipped { &name } else { spec.name })
}

/// The extra sentence of a role alert's description.
pub fn role_sentence(t: &Thresholds) -> &'static str {
    match t.language {
        Language::En => {
            "It holds {{ $labels.path }} ({{ $labels.role }}): when it is full, that service stops. "
        }
        Language::Fr => {
            "Il contient {{ $labels.path }} ({{ $labels.role }}) : quand il sera plein, ce service s'arrêtera. "
        }
    }
}

fn role_rules(
    t: &Thresholds,
    scope: &Scope,
    idx: &OverrideIndex,
    spec: &AlertSpec,
    (value, is_candidates): (Expr, bool),
    role: &str,
    levels: &Levels,
) -> Vec<Rule> {
    let sig = spec.sig();
    let scale = sig.scale;
    let op = firing_op(sig.direction);
    // The path info joined in, so the alert names the path.
    let value = signals::in_role(value, scope, role);
    let name = role_alert_name(spec, role);
    let text = match t.language {
        Language::En => spec.en,
        Language::Fr => spec.fr,
    };
    let mut out = Vec::new();
    for level in LEVELS {
        // An override that matches a filesystem of the role wins over the
        // role's levels, as it does over the generic ones.
        let keysets = override_keysets(idx, spec.signal, level, None);
        let Some(v) = level_of(levels, level).or(if keysets.is_empty() {
            None
        } else {
            Some(f64::NAN)
        }) else {
            continue;
        };
        let annotations = BTreeMap::from([
            ("summary".to_string(), text.summary.to_string()),
            (
                "description".to_string(),
                format!("{}{}", role_sentence(t), text.description),
            ),
            ("runbook_url".to_string(), role_runbook(t, spec, role)),
        ]);
        out.push(Rule {
            record: None,
            alert: Some(name.clone()),
            expr: alert_expr(
                op,
                gated(spec, scope, level, value.clone(), is_candidates),
                v * scale,
                keysets,
                &threshold_metric(spec.signal, level),
            ),
            for_: rule_for(spec.signal, levels.for_secs),
            labels: BTreeMap::from([("severity".to_string(), level.to_string())]),
            annotations,
        });
    }
    out
}

/// Monitoring of monitoring: Watchdog, target down, missing or absent,
/// collector failing.
fn monitoring(t: &Thresholds, scope: &Scope) -> Group {
    let en = t.language == Language::En;
    let mut rules = Vec::new();
    let mut push = |name: &str, expr: Expr, for_secs: Option<u64>, sev: &str, text: [&str; 4]| {
        let (summary, description) = if en {
            (text[0], text[1])
        } else {
            (text[2], text[3])
        };
        rules.push(Rule {
            record: None,
            alert: Some(name.into()),
            expr,
            for_: for_secs.map(prom_duration),
            labels: BTreeMap::from([("severity".to_string(), sev.to_string())]),
            annotations: BTreeMap::from([
                ("summary".to_string(), summary.to_string()),
                ("description".to_string(), description.to_string()),
                ("runbook_url".to_string(), t.runbook(name, name)),
            ]),
        });
    };
    if t.watchdog {
        push(
            "VigieWatchdog",
            Expr::call("vector", [Expr::num(1.0)]),
            None,
            "none",
            [
                "Always firing: proves the alerting pipeline works.",
                "Route this alert to a dead-man's-switch service; if it stops arriving, the monitoring itself is down.",
                "Toujours active : prouve que la chaîne d'alerte fonctionne.",
                "Envoyer cette alerte à un service « dead man's switch » ; si elle cesse d'arriver, c'est la surveillance elle-même qui est en panne.",
            ],
        );
    }
    let down = t.signals["monitoring.target_down"];
    let missing = t.signals["monitoring.target_missing"];
    // Before VigieDown: a target down that leaves service discovery stays
    // in VigieDown until this fires (it reads its ALERTS series, written
    // earlier in the same evaluation).
    if missing.critical.is_some() {
        push(
            MISSING,
            signals::target_missing(scope),
            Some(missing.for_secs),
            "critical",
            [
                "vigie on {{ $labels.instance }} has vanished from Prometheus' targets (service discovery): nothing about this host is watched any more.",
                "A host dropped from the targets file, or a vigie pod evicted and not rescheduled. If it was not deliberate, put the target back (file_sd, DaemonSet, ServiceMonitor); if it was (a decommission), silence this alert for the missing window: it then resolves on its own.",
                "vigie sur {{ $labels.instance }} a disparu des cibles de Prometheus (découverte de services) : plus rien n'est surveillé sur cette machine.",
                "Une machine retirée du fichier de cibles, ou un pod vigie évincé et pas relancé. Si ce n'était pas voulu, remettre la cible (file_sd, DaemonSet, ServiceMonitor) ; si c'était voulu (machine retirée), mettre cette alerte en silence pour la durée de la fenêtre : elle se résout ensuite seule.",
            ],
        );
    }
    if down.critical.is_some() {
        let expr = if missing.critical.is_some() {
            // Held past the missing alert's `for`, with room for one
            // evaluation, so the hand-over has no gap.
            let hold = missing.for_secs + 600;
            signals::target_down_until_missing(scope, hold, MISSING)
        } else {
            signals::target_down(scope)
        };
        push(
            "VigieDown",
            expr,
            Some(down.for_secs),
            "critical",
            [
                "vigie on {{ $labels.instance }} cannot be scraped: nothing else about this host is watched.",
                "Check that the host is up and that the vigie service runs (systemctl status vigie) and listens.",
                "vigie sur {{ $labels.instance }} ne répond pas : plus rien n'est surveillé sur cette machine.",
                "Vérifier que la machine est allumée et que le service vigie tourne (systemctl status vigie) et écoute.",
            ],
        );
        push(
            "VigieAbsent",
            signals::no_target(scope),
            Some(down.for_secs),
            "critical",
            [
                "Prometheus scrapes no vigie target at all.",
                "Check the scrape configuration of Prometheus (job and targets) and service discovery.",
                "Prometheus ne collecte aucune cible vigie.",
                "Vérifier la configuration de collecte de Prometheus (job et cibles) et la découverte de services.",
            ],
        );
    }
    let failing = t.signals["monitoring.collector_failing"];
    if failing.warning.is_some() {
        push(
            "VigieCollectorFailing",
            signals::collector_failing(scope),
            Some(failing.for_secs),
            "warning",
            [
                "The {{ $labels.collector }} collector of vigie on {{ $labels.instance }} is failing.",
                "Its alerts cannot fire while it fails. Read vigie's log (journalctl -u vigie) for the reason.",
                "Le collecteur {{ $labels.collector }} de vigie sur {{ $labels.instance }} est en échec.",
                "Ses alertes ne peuvent pas se déclencher tant qu'il échoue. Lire le journal de vigie (journalctl -u vigie) pour la cause.",
            ],
        );
    }
    Group {
        name: "vigie-monitoring".into(),
        interval: None,
        rules,
    }
}

/// The alert of a target gone from service discovery.
pub const MISSING: &str = "VigieTargetMissing";

#[derive(Serialize)]
struct RuleFileRef<'a> {
    groups: &'a [Group],
}

/// The groups as a Prometheus Operator `PrometheusRule` object, with the
/// namespace and extra labels of `operator` (they win over vigie's own).
pub fn to_prometheus_rule(
    groups: &[Group],
    operator: &super::Operator,
) -> Result<String, GenerateError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Object<'a> {
        api_version: &'static str,
        kind: &'static str,
        metadata: Metadata<'a>,
        spec: RuleFileRef<'a>,
    }
    #[derive(Serialize)]
    struct Metadata<'a> {
        name: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        labels: BTreeMap<&'a str, &'a str>,
    }
    let mut labels = BTreeMap::from([
        ("app.kubernetes.io/name", "vigie"),
        ("app.kubernetes.io/part-of", "vigie"),
    ]);
    for (k, v) in &operator.rule_labels {
        labels.insert(k, v);
    }
    serde_saphyr::to_string(&Object {
        api_version: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: Metadata {
            name: "vigie",
            namespace: operator.namespace.as_deref(),
            labels,
        },
        spec: RuleFileRef { groups },
    })
    .map_err(|e| GenerateError::yaml("the PrometheusRule object", e))
}

pub fn to_yaml(groups: &[Group]) -> Result<String, GenerateError> {
    serde_saphyr::to_string(&RuleFileRef { groups })
        .map_err(|e| GenerateError::yaml("the rule groups", e))
}
