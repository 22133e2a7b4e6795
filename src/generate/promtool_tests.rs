//! promtool unit tests for the generated rules: for every alert and level,
//! a series that fires it (with the exact labels and annotations expected)
//! and one just on the safe side of the threshold that must not.

mod scenarios;

use std::collections::BTreeMap;

use serde::Serialize;

use super::GenerateError;
use super::alerts::{ALERTS, AlertSpec};
use super::rules::{Group, LEVELS, level_of};
use crate::promql::signals::metric::{COLLECTOR_SUCCESS, PATH_INFO, UP};
use crate::promql::{Expr, Matcher, Selector};
use crate::thresholds::catalogue::Series;
use crate::thresholds::template;
use crate::thresholds::{Direction, Language, Levels, Signal, Thresholds, ValueKind};
use crate::units::prom_duration;

/// The instance of every test series.
const INSTANCE: &str = "host.example.org:7361";

/// The labels of a test series of `series` besides job and instance, with
/// example values.
fn example_labels(series: Series) -> &'static [(&'static str, &'static str)] {
    let labels: &[(&str, &str)] = match series {
        Series::Host => &[],
        Series::Filesystem => &[
            ("mountpoint", "/srv/data"),
            ("device", "/dev/sdb1"),
            ("fstype", "ext4"),
        ],
        Series::Disk => &[
            ("device", "/dev/sda"),
            ("type", "sat"),
            ("model", "TEST DISK"),
            ("serial", "SN123"),
            ("wwn", "0x5000c500075bcd15"),
        ],
        Series::Probe => &[
            ("resolver", "192.0.2.53:53"),
            ("source", "resolv.conf"),
            ("query", "example.org"),
            ("type", "MX"),
        ],
        Series::Collector => &[("collector", "smart")],
        Series::Path => &[("path", "/var/lib/etcd"), ("role", "control-plane")],
    };
    labels
}

#[cfg(test)]
mod humanize_tests {
    use super::humanize1024;

    #[test]
    fn like_prometheus() {
        assert_eq!(humanize1024(100.0), "100");
        assert_eq!(humanize1024(1024.0), "1ki");
        assert_eq!(humanize1024(34_560_000.0), "32.96Mi");
        assert_eq!(humanize1024(1e9), "953.7Mi");
        assert_eq!(humanize1024(13_207_024_435.0), "12.3Gi");
        assert_eq!(humanize1024(0.5), "0.5");
    }
}

#[derive(Serialize)]
struct TestFile<'a> {
    rule_files: Vec<&'a str>,
    evaluation_interval: &'static str,
    tests: Vec<TestGroup>,
}

#[derive(Serialize)]
struct TestGroup {
    name: String,
    interval: &'static str,
    input_series: Vec<InputSeries>,
    alert_rule_test: Vec<AlertTest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    promql_expr_test: Vec<ExprTest>,
}

#[derive(Serialize)]
struct ExprTest {
    expr: String,
    eval_time: String,
    exp_samples: Vec<ExpSample>,
}

#[derive(Serialize)]
struct ExpSample {
    labels: String,
    value: f64,
}

#[derive(Serialize)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct AlertTest {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Serialize)]
struct ExpAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<String, String>,
}

/// A series in promtool's notation: `metric{a="b",c="d"}`.
fn series_name(metric: &str, labels: &BTreeMap<String, String>) -> String {
    let sel = labels
        .iter()
        .fold(Selector::default(), |s, (k, v)| s.with(Matcher::eq(k, v)));
    Expr::metric(metric, &sel).into_string()
}

/// Go's `%.4g` for 1 <= |v| < 10000 (what humanize1024 prints): four
/// significant digits, trailing zeros dropped.
fn g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (3 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Prometheus' `humanize1024`.
pub fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 {
        return g4(v);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// Renders the template forms the catalogue uses; `avail` is the value the
/// [`super::alerts::AVAIL`] query returns in the test.
fn render(
    template: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
    avail: Option<f64>,
) -> String {
    render_with(template, labels, value, avail, &[])
}

/// As [`render`], with `dns_failing` the failing DNS probe results in the
/// test's series (see [`super::alerts::render_dns`]).
fn render_with(
    template: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
    avail: Option<f64>,
    dns_failing: &[BTreeMap<String, String>],
) -> String {
    let template = super::alerts::render_dns(template, labels, dns_failing);
    let mut s = match avail {
        Some(a) => template.replace(super::alerts::AVAIL, &format!("{}B", humanize1024(a))),
        None => template,
    };
    s = s.replace("{{ printf \"%.1f\" $value }}", &format!("{value:.1}"));
    s = s.replace("{{ printf \"%.0f\" $value }}", &format!("{value:.0}"));
    for (k, v) in labels {
        s = s.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    s
}

/// A value that fires `level` (and the levels below it) but not the next.
fn firing_value(
    dir: Direction,
    kind: ValueKind,
    w: Option<f64>,
    c: Option<f64>,
    level: &str,
) -> f64 {
    if kind == ValueKind::Condition {
        return 1.0;
    }
    let whole = |v: f64| {
        if kind == ValueKind::Count {
            v.ceil()
        } else {
            v
        }
    };
    // Well inside the band, so that computed values (rates, divisions) do
    // not sit on the threshold.
    match (dir, level) {
        (Direction::HigherIsWorse, "warning") => match (w, c) {
            (Some(w), Some(c)) => whole((w + c) / 2.0),
            (Some(w), None) => whole(w * 1.5),
            _ => 0.0,
        },
        (Direction::HigherIsWorse, _) => {
            let c = c.unwrap_or(0.0);
            if kind == ValueKind::Percent {
                (c + 100.0) / 2.0
            } else {
                whole(c * 1.5)
            }
        }
        (Direction::LowerIsWorse, "warning") => match c {
            Some(c) => whole((w.unwrap_or(c) + c) / 2.0),
            None => w.unwrap_or(0.0) / 2.0,
        },
        (Direction::LowerIsWorse, _) => c.unwrap_or(0.0) / 2.0,
    }
}

/// A value just on the safe side of the lowest level.
fn quiet_value(dir: Direction, kind: ValueKind, first: f64) -> f64 {
    if kind == ValueKind::Condition {
        return 0.0;
    }
    let step = match kind {
        ValueKind::Count
        | ValueKind::Days
        | ValueKind::Percent
        | ValueKind::WearPercent
        | ValueKind::Celsius => 1.0,
        _ => first.abs() * 0.05,
    };
    match dir {
        Direction::HigherIsWorse => (first - step).max(0.0),
        Direction::LowerIsWorse => first + step,
    }
}

/// When a test evaluates (seconds) and how many one-minute samples its series
/// hold: `for` plus ten minutes, enough for 5-minute rates to settle, plus
/// the history the value needs (the fill forecast's days).
/// Tests with history (days) sample and evaluate every [`LONG_STEP`]
/// seconds instead of every minute, in their own file
/// ([`super::LONG_TESTS_FILE`]), so promtool does not evaluate every rule
/// minute by minute over days.
fn span(for_secs: u64, history_secs: u64) -> (u64, u64) {
    let step = step_of(history_secs);
    let eval = (for_secs + 600 + history_secs).div_ceil(step) * step;
    (eval, eval / step + 1)
}

/// Seconds between samples and evaluations in the long tests.
const LONG_STEP: u64 = 600;

/// Seconds between samples of a test whose value needs `history_secs`.
fn step_of(history_secs: u64) -> u64 {
    if history_secs > 0 { LONG_STEP } else { 60 }
}

/// The history `spec`'s value needs before it can fire.
fn history(t: &Thresholds, spec: &AlertSpec) -> u64 {
    spec.history.map_or(0, |h| h(&t.windows))
}

fn one_test(
    t: &Thresholds,
    spec: &AlertSpec,
    v: f64,
    for_secs: u64,
    expected_levels: &[&str],
    name: String,
) -> TestGroup {
    one_test_with(
        t,
        spec,
        v,
        for_secs,
        expected_levels,
        name,
        &BTreeMap::new(),
    )
}

/// The path a role's test filesystem holds.
const ROLE_PATH: &str = "/var/lib/etcd";

/// As [`one_test`], for `spec`'s alert of `role`: the filesystem holds a
/// watched path of that role.
fn role_test(
    t: &Thresholds,
    spec: &AlertSpec,
    role: &str,
    v: f64,
    for_secs: u64,
    expected_levels: &[&str],
    what: &str,
) -> TestGroup {
    let alert = super::rules::role_alert_name(spec, role);
    let mut g = one_test_with(
        t,
        spec,
        v,
        for_secs,
        expected_levels,
        format!("{alert} {what}"),
        &BTreeMap::new(),
    );
    g.input_series.push(path_info(t, spec, role, for_secs));
    for test in &mut g.alert_rule_test {
        test.alertname = alert.clone();
        for a in &mut test.exp_alerts {
            a.exp_labels.insert("path".into(), ROLE_PATH.into());
            a.exp_labels.insert("role".into(), role.into());
            let prefix = render(super::rules::role_sentence(t), &a.exp_labels, v, None);
            if let Some(d) = a.exp_annotations.get_mut("description") {
                *d = format!("{prefix}{d}");
            }
            // The link names the role's alert, not the generic one.
            a.exp_annotations.insert(
                "runbook_url".into(),
                template::expand(&super::rules::role_runbook(t, spec, role), &a.exp_labels),
            );
        }
    }
    g
}

/// The labels of a test series of `spec`: the selector's, the instance,
/// and example values of its series' labels.
fn series_labels(t: &Thresholds, spec: &AlertSpec) -> BTreeMap<String, String> {
    let mut labels = t.selector.example_labels();
    labels.insert("instance".into(), INSTANCE.into());
    labels.extend(
        example_labels(spec.sig().series)
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    labels
}

/// The info series of a watched path of `role` on the filesystem of
/// `spec`'s test series.
fn path_info(t: &Thresholds, spec: &AlertSpec, role: &str, for_secs: u64) -> InputSeries {
    let mut info = series_labels(t, spec);
    info.insert("path".into(), ROLE_PATH.into());
    info.insert("role".into(), role.into());
    let (_, minutes) = span(for_secs, history(t, spec));
    InputSeries {
        series: series_name(PATH_INFO, &info),
        values: format!("1+0x{minutes}"),
    }
}

/// For a role whose name holds a `.`: the generic alerts leave its
/// filesystems to the role's alerts, but not those of a lookalike role
/// (`dataX1` for `data.1`) that the file does not set, which a `.` read as
/// "any character" would also match.
fn lookalike_role_tests(t: &Thresholds) -> Vec<TestGroup> {
    let mut out = Vec::new();
    for role in t.roles.keys().filter(|r| r.contains('.')) {
        let lookalike = role.replace('.', "X");
        if t.roles.contains_key(&lookalike) {
            continue;
        }
        // The signals the role sets: the others keep their generic alert.
        for spec in ALERTS
            .iter()
            .filter(|s| s.sig().by_role && t.roles[role].contains_key(s.signal))
        {
            let sig = spec.sig();
            let l = t.signals[spec.signal];
            // The value that fires the most levels.
            let Some((v, levels, _)) = cases(sig, &l, sig.scale)
                .into_iter()
                .rfind(|(_, levels, _)| !levels.is_empty())
            else {
                continue;
            };
            for (holder, expected) in [(lookalike.as_str(), levels), (role.as_str(), vec![])] {
                let what = if expected.is_empty() {
                    "leaves to the role's alert"
                } else {
                    "still fires on"
                };
                let mut g = one_test(
                    t,
                    spec,
                    v,
                    l.for_secs,
                    &expected,
                    format!(
                        "{} {what} a filesystem holding a path of role {holder}",
                        spec.name
                    ),
                );
                g.input_series.push(path_info(t, spec, holder, l.for_secs));
                out.push(g);
            }
        }
    }
    out
}

/// As [`one_test`], with labels (an override's matchers) replacing those of
/// the test series.
fn one_test_with(
    t: &Thresholds,
    spec: &AlertSpec,
    v: f64,
    for_secs: u64,
    expected_levels: &[&str],
    name: String,
    replace: &BTreeMap<String, String>,
) -> TestGroup {
    let (eval, minutes) = span(for_secs, history(t, spec));
    // Per sample rather than per minute in the long tests.
    let per_sample = (step_of(history(t, spec)) / 60) as f64;
    let mut alert_labels = series_labels(t, spec);
    alert_labels.extend(replace.clone());
    let inputs = spec
        .inputs
        .iter()
        .map(|(metric, f)| {
            let (start, step) = f(v, eval as f64);
            let step = step * per_sample;
            let values = if step < 0.0 {
                format!("{start}-{}x{minutes}", -step)
            } else {
                format!("{start}+{step}x{minutes}")
            };
            InputSeries {
                series: series_name(metric, &alert_labels),
                values,
            }
        })
        .collect();
    let text = match t.language {
        Language::En => spec.en,
        Language::Fr => spec.fr,
    };
    let exp_alerts = expected_levels
        .iter()
        .map(|level| {
            let mut labels = alert_labels.clone();
            labels.insert("severity".into(), level.to_string());
            let avail = spec.avail.map(|f| f(v, eval as f64));
            let mut ann = BTreeMap::from([
                (
                    "summary".to_string(),
                    render(text.summary, &labels, v, avail),
                ),
                (
                    "description".to_string(),
                    render(text.description, &labels, v, avail),
                ),
            ]);
            ann.insert(
                "runbook_url".into(),
                template::expand(&t.runbook(spec.name, spec.name), &labels),
            );
            ExpAlert {
                exp_labels: labels,
                exp_annotations: ann,
            }
        })
        .collect();
    TestGroup {
        name,
        interval: if per_sample > 1.0 { "10m" } else { "1m" },
        input_series: inputs,
        alert_rule_test: vec![AlertTest {
            eval_time: prom_duration(eval),
            alertname: spec.name.to_string(),
            exp_alerts,
        }],
        promql_expr_test: vec![],
    }
}

/// The test cases of one alert: for each level set, a value that fires it
/// (with the levels expected to fire), then a value just on the safe side.
fn cases(sig: &Signal, l: &Levels, scale: f64) -> Vec<(f64, Vec<&'static str>, String)> {
    let (w, c) = (l.warning.map(|v| v * scale), l.critical.map(|v| v * scale));
    let present: Vec<&'static str> = LEVELS
        .iter()
        .copied()
        .filter(|lv| level_of(l, lv).is_some())
        .collect();
    let mut out = Vec::new();
    for (i, level) in present.iter().enumerate() {
        let v = firing_value(sig.direction, sig.kind, w, c, level);
        out.push((v, present[..=i].to_vec(), format!("fires at {level} ({v})")));
    }
    if let Some(first) = present
        .first()
        .and_then(|lv| level_of(l, lv))
        .map(|v| v * scale)
    {
        let v = quiet_value(sig.direction, sig.kind, first);
        out.push((
            v,
            vec![],
            format!("stays quiet just before the threshold ({v})"),
        ));
    }
    out
}

/// The promtool test files for the rules of `t`: the tests evaluated every
/// minute, and those of values that need days of history (the fill
/// forecast), evaluated every ten minutes.
pub fn to_yaml(
    t: &Thresholds,
    groups: &[Group],
    rules_file: &str,
) -> Result<(String, String), GenerateError> {
    let mut tests = Vec::new();
    for spec in ALERTS {
        let sig = spec.sig();
        let scale = sig.scale;
        let l = t.signals[spec.signal];
        for (v, levels, what) in cases(sig, &l, scale) {
            tests.push(one_test(
                t,
                spec,
                v,
                l.for_secs,
                &levels,
                format!("{} {what}", spec.name),
            ));
        }
    }
    for (role, signals) in &t.roles {
        for spec in ALERTS.iter().filter(|s| signals.contains_key(s.signal)) {
            let sig = spec.sig();
            let scale = sig.scale;
            let l = signals[spec.signal];
            for (v, levels, what) in cases(sig, &l, scale) {
                tests.push(role_test(t, spec, role, v, l.for_secs, &levels, &what));
            }
        }
    }
    tests.extend(lookalike_role_tests(t));
    tests.extend(override_tests(t));
    tests.extend(monitoring_tests(t, groups));
    tests.extend(scenarios::dns_handover_test(t, groups));
    tests.extend(scenarios::readonly_restart_test(t, groups));
    tests.extend(scenarios::summaries_test(t, groups));
    let (long, short): (Vec<TestGroup>, Vec<TestGroup>) =
        tests.into_iter().partition(|g| g.interval != "1m");
    let file = |tests, evaluation_interval| {
        serde_saphyr::to_string(&TestFile {
            rule_files: vec![rules_file],
            evaluation_interval,
            tests,
        })
        .map_err(|e| GenerateError::yaml("the promtool tests", e))
    };
    Ok((file(short, "1m")?, file(long, "10m")?))
}

/// For every override of a threshold alert: a series it matches fires at
/// the override's level, or stays quiet when the override turns the alert
/// off, where the defaults would say otherwise.
///
/// One test per distinct override shape (signal, label names matched,
/// levels and `for:`), the first override of that shape: thousands of
/// overrides that differ only in their label values would otherwise give
/// thousands of identical tests, each evaluating every recorded threshold
/// (quadratic in promtool).
fn override_tests(t: &Thresholds) -> Vec<TestGroup> {
    let mut out = Vec::new();
    let mut shapes = std::collections::HashSet::new();
    for (n, o) in t.overrides.iter().enumerate() {
        for spec in ALERTS {
            let sig = spec.sig();
            let scale = sig.scale;
            let Some(ol) = o.signals.get(spec.signal) else {
                continue;
            };
            let shape = (
                spec.name,
                o.matchers.keys().collect::<Vec<_>>(),
                ol.warning.map(f64::to_bits),
                ol.critical.map(f64::to_bits),
                ol.for_secs,
            );
            if !shapes.insert(shape) {
                continue;
            }
            let (w, c) = (
                ol.warning.map(|v| v * scale),
                ol.critical.map(|v| v * scale),
            );
            let present: Vec<&str> = LEVELS
                .iter()
                .copied()
                .filter(|lv| level_of(ol, lv).is_some())
                .collect();
            let name = format!("{} with override {} ({})", spec.name, n + 1, o.reason);
            match present.first() {
                Some(first) => {
                    let v = firing_value(sig.direction, sig.kind, w, c, first);
                    out.push(one_test_with(
                        t,
                        spec,
                        v,
                        ol.for_secs,
                        &present[..1],
                        format!("{name}: fires at {first}"),
                        &o.matchers,
                    ));
                }
                None => {
                    // Off: a value past the default critical stays quiet.
                    let d = t.signals[spec.signal];
                    let (dw, dc) = (d.warning.map(|v| v * scale), d.critical.map(|v| v * scale));
                    let v = firing_value(sig.direction, sig.kind, dw, dc, "critical");
                    out.push(one_test_with(
                        t,
                        spec,
                        v,
                        ol.for_secs.max(d.for_secs),
                        &[],
                        format!("{name}: turned off"),
                        &o.matchers,
                    ));
                }
            }
        }
    }
    out
}

/// (series, values) pairs.
type SeriesValues = Vec<(String, String)>;

fn monitoring_tests(t: &Thresholds, groups: &[Group]) -> Vec<TestGroup> {
    let mut out = Vec::new();
    let sel = t.selector.equalities();
    let mut inst = t.selector.example_labels();
    inst.insert("instance".into(), INSTANCE.into());
    let expect =
        |labels: BTreeMap<String, String>, summary: &str, description: &str, url: &str| ExpAlert {
            exp_annotations: BTreeMap::from([
                ("summary".to_string(), render(summary, &labels, 0.0, None)),
                (
                    "description".to_string(),
                    render(description, &labels, 0.0, None),
                ),
                ("runbook_url".to_string(), template::expand(url, &labels)),
            ]),
            exp_labels: labels,
        };
    // The texts are those of `rules::monitoring`; read them back from the
    // generated groups so the tests and the rules cannot drift apart.
    let Some(g) = groups.iter().find(|g| g.name == "vigie-monitoring") else {
        return out;
    };
    for rule in &g.rules {
        let Some(name) = &rule.alert else { continue };
        let for_secs = rule.for_.as_deref().map_or(0, |f| {
            crate::units::parse_duration(f).map_or(0, |d| d.as_secs())
        });
        let (eval, minutes) = span(for_secs, 0);
        let (s, d) = (
            rule.annotations["summary"].as_str(),
            rule.annotations["description"].as_str(),
        );
        let sev = rule.labels["severity"].clone();
        let with_sev = |mut l: BTreeMap<String, String>| {
            l.insert("severity".into(), sev.clone());
            l
        };
        let (inputs, quiet_inputs, labels): (SeriesValues, SeriesValues, BTreeMap<String, String>) =
            match name.as_str() {
                "VigieWatchdog" => (vec![], vec![], with_sev(BTreeMap::new())),
                "VigieDown" => (
                    vec![(series_name(UP, &inst), format!("0+0x{minutes}"))],
                    vec![(series_name(UP, &inst), format!("1+0x{minutes}"))],
                    with_sev(inst.clone()),
                ),
                // Scraped twice, then gone from the targets (a stale
                // marker, as Prometheus writes when discovery drops it).
                "VigieTargetMissing" => (
                    vec![(series_name(UP, &inst), "1 1 stale".to_string())],
                    vec![(series_name(UP, &inst), format!("1+0x{minutes}"))],
                    with_sev(inst.clone()),
                ),
                "VigieAbsent" => (
                    vec![],
                    vec![(series_name(UP, &inst), format!("1+0x{minutes}"))],
                    with_sev(sel.clone()),
                ),
                "VigieCollectorFailing" => {
                    let mut l = inst.clone();
                    l.insert("collector".into(), "smart".into());
                    (
                        vec![(series_name(COLLECTOR_SUCCESS, &l), format!("0+0x{minutes}"))],
                        vec![(series_name(COLLECTOR_SUCCESS, &l), format!("1+0x{minutes}"))],
                        with_sev(l),
                    )
                }
                _ => continue,
            };
        let mk = |inputs: &[(String, String)], fires: bool, what: &str| TestGroup {
            name: format!("{name} {what}"),
            interval: "1m",
            input_series: inputs
                .iter()
                .map(|(s, v)| InputSeries {
                    series: s.clone(),
                    values: v.clone(),
                })
                .collect(),
            alert_rule_test: vec![AlertTest {
                eval_time: prom_duration(eval),
                alertname: name.clone(),
                exp_alerts: if fires {
                    vec![expect(
                        labels.clone(),
                        s,
                        d,
                        &rule.annotations["runbook_url"],
                    )]
                } else {
                    vec![]
                },
            }],
            promql_expr_test: vec![],
        };
        out.push(mk(&inputs, true, "fires"));
        if name != "VigieWatchdog" {
            out.push(mk(&quiet_inputs, false, "stays quiet"));
        }
    }
    out
}
