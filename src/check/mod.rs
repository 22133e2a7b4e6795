//! `vigie check`: the thresholds file evaluated on this host, now.
//!
//! The collectors run in-process, once, each under its own timeout (the
//! runner of the exporter); their samples, labelled as Prometheus would
//! label them (`instance`, and the equality matchers of the file's
//! `selector`), are handed to a small PromQL evaluator ([`eval`]) that
//! evaluates the very expressions the alert rules compare: each alert of
//! [`crate::generate::alerts::ALERTS`] gives its value through the same
//! function of [`crate::promql::signals`], with the same role handling
//! (`outside_roles`/`in_role`) as [`crate::generate::rules`]. Each value is
//! compared with the signal's levels from the catalogue (`for:` does not
//! apply: a check looks at one instant). Range functions (the time-to-full
//! forecast, rates, growing counters) read the history kept by `--state`
//! ([`state`]).
//!
//! This module joins the two halves; neither imports it.

pub mod eval;
pub mod output;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::collect::{Runner, build};
use crate::config::Config;
use crate::generate::alerts::{ALERTS, AlertSpec};
use crate::metrics::Kind;
use crate::promql::signals::{self, metric};
use crate::thresholds::catalogue::Series;
use crate::thresholds::{Direction, Language, Levels, Thresholds};
use crate::units::{today, unix_now};
use eval::{Data, Labels, Sample};

/// The sections `--only` takes, each the collector that feeds it.
pub const SECTIONS: &[&str] = &["filesystem", "smart", "swap", "reboot", "dns"];

/// A row's level, in the Monitoring Plugins' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Level {
    /// The plugin exit code.
    pub fn code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }

    /// How bad, for the overall status: CRITICAL, then WARNING, then
    /// UNKNOWN (a part that could not be checked), then OK.
    fn rank(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Unknown => 1,
            Level::Warning => 2,
            Level::Critical => 3,
        }
    }
}

/// One line of the result: a signal on one filesystem, disk, resolver or
/// the host.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// The catalogue's signal (`filesystem.free_percent`), or
    /// `collector.<name>` for a collector that failed.
    pub signal: String,
    /// The alert the rules would raise.
    pub alert: String,
    /// Which of the signal's series, when several alerts share a signal
    /// (`smart.counter_growing`: the counter that grew).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The filesystem role, for rows of a watched path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Mount point, disk serial, resolver; empty for the host.
    #[serde(rename = "where")]
    pub where_: String,
    pub labels: BTreeMap<String, String>,
    /// In the unit of the thresholds file's value (percent, days, seconds...).
    pub value: Option<f64>,
    pub unit: &'static str,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// Whether a bigger value is better (free space) or worse.
    pub lower_is_worse: bool,
    pub level: Level,
    /// Why there is no value, or which override applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The alert's summary and its "what to do first", for rows not OK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub instance: String,
    #[serde(serialize_with = "ser_language")]
    pub language: Language,
    pub status: Level,
    pub rows: Vec<Row>,
    /// Overrides whose matchers name labels this host cannot decide.
    pub overrides_not_applicable: Vec<String>,
    /// Remarks on the thresholds file (expired overrides).
    pub warnings: Vec<String>,
}

fn ser_language<S: serde::Serializer>(l: &Language, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match l {
        Language::En => "en",
        Language::Fr => "fr",
    })
}

impl Report {
    fn finish(mut self) -> Report {
        self.status = self
            .rows
            .iter()
            .map(|r| r.level)
            .max_by_key(|l| l.rank())
            .unwrap_or(Level::Ok);
        self
    }
}

/// What `vigie check` runs with.
#[derive(Debug, Clone)]
pub struct Options {
    /// None: the built-in defaults.
    pub thresholds: Option<PathBuf>,
    /// The collectors' configuration (paths, settings, watched paths).
    pub config: Config,
    /// Sections to check; empty: all.
    pub only: Vec<String>,
    /// History for the forecast and rates.
    pub state: Option<PathBuf>,
    /// The `instance` label overrides are matched against.
    pub instance: String,
}

/// The check could not run at all (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Thresholds(#[from] crate::thresholds::ThresholdsError),
    #[error("--only: unknown section {0:?} (sections: {list})", list = SECTIONS.join(", "))]
    Section(String),
    #[error("{0}")]
    Other(String),
}

/// Loads the thresholds file, or the defaults.
pub fn load_thresholds(path: Option<&Path>) -> Result<Thresholds, CheckError> {
    Ok(match path {
        Some(p) => Thresholds::load(p)?,
        None => Thresholds::parse("", Path::new("(built-in defaults)"), today())?,
    })
}

/// The samples of one run, and each failed collector with its error.
pub type Collected = (Vec<Sample>, Vec<(String, String)>);

/// Runs the enabled collectors once (each under its timeout) and returns
/// their samples and the failures of those that failed.
pub fn collect(config: &Config, sections: &[&str]) -> Result<Collected, CheckError> {
    let regs: Vec<_> = build(config)
        .into_iter()
        .filter(|r| sections.contains(&r.collector.name()))
        .collect();
    collect_from(regs)
}

/// Runs these collectors once, each under its timeout, and returns their
/// samples and the failures of those that failed. A collector stuck in a
/// system call is left behind on its thread; the check does not wait for it.
pub fn collect_from(regs: Vec<crate::collect::Registration>) -> Result<Collected, CheckError> {
    let runner = Runner::new(regs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vigie-check")
        .enable_all()
        .build()
        .map_err(|e| CheckError::Other(format!("cannot start the async runtime: {e}")))?;
    let families = runtime.block_on(async {
        runner.refresh_background_now().await;
        runner.gather(Duration::from_secs(3600)).await
    });
    // A smartctl stuck on a disk runs in its own process group: end it; a
    // thread stuck in statfs must not keep the process alive.
    runner.stop();
    let failed: Vec<(String, String)> = runner
        .status()
        .into_iter()
        .filter(|s| s.success != Some(true))
        .map(|s| {
            (
                s.name.to_string(),
                s.last_error
                    .unwrap_or_else(|| "did not finish in time".into()),
            )
        })
        .collect();
    runtime.shutdown_timeout(Duration::from_millis(100));
    let mut samples = Vec::new();
    for fams in families {
        // The check's runner keeps families (no compact chunks).
        let Some(fams) = fams.families() else {
            continue;
        };
        for f in fams.iter() {
            if f.desc.kind == Kind::Histogram {
                continue;
            }
            let name = if f.desc.kind == Kind::Counter {
                format!("{}_total", f.desc.name)
            } else {
                f.desc.name.to_string()
            };
            for s in &f.samples {
                let mut labels: Labels = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                labels.insert("__name__".into(), name.clone());
                samples.push(Sample {
                    labels,
                    value: s.value,
                });
            }
        }
    }
    Ok((samples, failed))
}

/// The labels Prometheus would add to every sample scraped from this host:
/// `instance`, and what the file's selector fixes (`job="vigie"`).
pub fn target_labels(t: &Thresholds, instance: &str) -> Labels {
    let mut l: Labels = t.selector.equalities().into_iter().collect();
    l.insert("instance".into(), instance.to_string());
    l
}

/// `vigie check`.
pub fn run(opts: &Options) -> Result<Report, CheckError> {
    let t = load_thresholds(opts.thresholds.as_deref())?;
    for s in &opts.only {
        if !SECTIONS.contains(&s.as_str()) {
            return Err(CheckError::Section(s.clone()));
        }
    }
    let sections: Vec<&str> = SECTIONS
        .iter()
        .copied()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|o| o == s))
        .collect();
    let (samples, failed) = collect(&opts.config, &sections)?;
    let now = unix_now();
    let mut data = Data {
        now,
        current: samples,
        history: BTreeMap::new(),
    };
    let target = target_labels(&t, &opts.instance);
    for s in &mut data.current {
        for (k, v) in &target {
            s.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let kept = state::kept_metrics(&t);
    if let Some(path) = &opts.state {
        data.history = state::load(path, now, state::horizon(&t))
            .map_err(|e| CheckError::Other(format!("--state {}: {e}", path.display())))?;
    }
    let mut report = evaluate(&t, &data, &sections, &opts.instance, opts.state.is_some())?;
    for (name, why) in failed {
        report.rows.push(collector_row(&t, &name, &why));
    }
    if let Some(path) = &opts.state {
        state::save(path, &data, &kept, state::horizon(&t))
            .map_err(|e| CheckError::Other(format!("--state {}: {e}", path.display())))?;
    }
    Ok(report.finish())
}

fn collector_row(t: &Thresholds, name: &str, why: &str) -> Row {
    let (summary, advice) = match t.language {
        Language::En => (
            format!("The {name} collector could not run: {why}."),
            "Its signals were not checked. Run vigie check again; if it persists, look at what it reads (smartctl, the mounts, the resolvers).".to_string(),
        ),
        Language::Fr => (
            format!("Le collecteur {name} n'a pas pu s'exécuter : {why}."),
            "Ses signaux n'ont pas été vérifiés. Relancer vigie check ; si cela persiste, regarder ce qu'il lit (smartctl, les montages, les résolveurs).".to_string(),
        ),
    };
    Row {
        signal: format!("collector.{name}"),
        alert: "VigieCollectorFailing".into(),
        detail: None,
        role: None,
        where_: String::new(),
        labels: BTreeMap::from([("collector".to_string(), name.to_string())]),
        value: None,
        unit: "",
        warning: None,
        critical: None,
        lower_is_worse: false,
        level: Level::Unknown,
        note: Some(why.to_string()),
        summary: Some(summary),
        advice: Some(advice),
    }
}

/// The labels of a series that say where it is, for people.
fn where_of(series: Series, l: &Labels, role: Option<&str>) -> String {
    let get = |k: &str| l.get(k).cloned().unwrap_or_default();
    match series {
        Series::Filesystem => match role {
            Some(_) if l.contains_key("path") => format!("{} ({})", get("path"), get("mountpoint")),
            _ => get("mountpoint"),
        },
        Series::Disk => {
            let serial = get("serial");
            if serial.is_empty() {
                get("device")
            } else {
                serial
            }
        }
        Series::Probe => {
            let r = get("resolver");
            let q = get("query");
            if q.is_empty() {
                r
            } else {
                format!("{r} {q}/{}", get("type"))
            }
        }
        Series::Collector => get("collector"),
        Series::Path => get("path"),
        Series::Host => String::new(),
    }
}

/// The unit the value of a kind is shown in.
fn unit_of(spec: &AlertSpec) -> &'static str {
    use crate::thresholds::ValueKind::*;
    match spec.sig().kind {
        Percent | WearPercent => "%",
        Count => "",
        BytesPerSecond => "B/s",
        Celsius => "°C",
        Days => "d",
        Duration if spec.sig().scale != 1.0 => "d",
        Duration => "s",
        Condition => "",
    }
}

/// The level of `v` against levels (already in the value's unit).
fn level_of(v: f64, dir: Direction, w: Option<f64>, c: Option<f64>) -> Level {
    let fires = |t: Option<f64>| {
        t.is_some_and(|t| match dir {
            Direction::LowerIsWorse => v < t,
            Direction::HigherIsWorse => v >= t,
        })
    };
    if fires(c) {
        Level::Critical
    } else if fires(w) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// Renders an alert text for a row, as Prometheus would (the template forms
/// the catalogue uses).
fn render(
    template: &str,
    labels: &Labels,
    value: f64,
    avail: Option<f64>,
    dns_failing: &[Labels],
) -> String {
    let template = crate::generate::alerts::render_dns(template, labels, dns_failing);
    let mut s = match avail {
        Some(a) => template.replace(
            crate::generate::alerts::AVAIL,
            &format!("{}B", crate::generate::promtool_tests::humanize1024(a)),
        ),
        None => template,
    };
    s = s.replace("{{ printf \"%.1f\" $value }}", &format!("{value:.1}"));
    s = s.replace("{{ printf \"%.0f\" $value }}", &format!("{value:.0}"));
    for (k, v) in labels {
        s = s.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    // A label the series does not have (a disk without serial).
    while let Some(i) = s.find("{{ $labels.") {
        match s[i..].find("}}") {
            Some(j) => s.replace_range(i..i + j + 2, "?"),
            None => break,
        }
    }
    s
}

/// Evaluates every enabled signal of `sections` on `data`.
pub fn evaluate(
    t: &Thresholds,
    data: &Data,
    sections: &[&str],
    instance: &str,
    with_state: bool,
) -> Result<Report, CheckError> {
    // Every local sample is this host's: the file's selector (which may
    // hold regular expressions about the fleet) is not applied; its
    // equalities are labels of the samples instead ([`target_labels`]).
    let mut scope = local_scope(t);
    // A resolver's warning reads its probes over the signal's `for:` and
    // the one before (see `signals::dns_resolver_failing`); without that
    // in the `--state` history (no state, or runs further apart), the
    // check judges the current probe alone, as it has no `for:` either.
    let w = scope.windows.resolver_failing_secs as f64;
    let reaches_back = data.history.iter().any(|(l, h)| {
        l.get("__name__").map(String::as_str) == Some(metric::DNS_SUCCESS)
            && h.iter()
                .any(|(ts, _)| *ts <= data.now - w && *ts >= data.now - w - 300.0)
    });
    if !reaches_back {
        scope.windows.resolver_failing_secs = 0;
    }
    let mut report = Report {
        instance: instance.to_string(),
        language: t.language,
        status: Level::Ok,
        rows: Vec::new(),
        overrides_not_applicable: Vec::new(),
        warnings: t.warnings.clone(),
    };
    // Labels every local series may carry: target labels and series labels.
    let local: BTreeSet<String> = data
        .current
        .iter()
        .flat_map(|s| s.labels.keys().cloned())
        .collect();
    for o in &t.overrides {
        if let Some(k) = o.matchers.keys().find(|k| !local.contains(*k)) {
            let m: Vec<String> = o.matchers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            report.overrides_not_applicable.push(format!(
                "{{{}}} ({}): no local series has the label {k}",
                m.join(", "),
                o.reason
            ));
        }
    }
    // The alerts this check finds firing, as `ALERTS` samples the later
    // expressions read, in the catalogue's order as the rule groups run
    // (the per-resolver DNS alert hands over to the all-failing one once
    // it fires; a check has no `for:`, so at once).
    let mut data = data.clone();
    let ev = |e: &crate::promql::Expr, data: &Data| {
        eval::eval(e.as_str(), data).map_err(|e| CheckError::Other(format!("evaluating: {e}")))
    };
    // The failing DNS probes' last results, for the DNS alerts' texts.
    let dns_failing: Vec<Labels> = data
        .current
        .iter()
        .filter(|x| {
            x.labels.get("__name__").map(String::as_str) == Some(metric::DNS_LAST_RESULT)
                && x.labels.get("class").map(String::as_str) != Some("ok")
        })
        .map(|x| x.labels.clone())
        .collect();
    for spec in ALERTS {
        let section = spec.signal.split('.').next().unwrap_or("");
        if !sections.contains(&section) {
            continue;
        }
        // A stuck mount has no value to compare: its row is UNKNOWN
        // ([`stuck_rows`]), as the plugin convention says.
        if spec.signal == "filesystem.stuck" {
            continue;
        }
        let sig = spec.sig();
        let base = t.signals[spec.signal];
        let mut variants: Vec<(Option<&str>, Levels, crate::promql::Expr)> = Vec::new();
        let mut value = (spec.value)(&scope);
        let roles = t.roles_setting(spec.signal);
        if sig.by_role && !roles.is_empty() {
            value = signals::outside_roles(value, &scope, &roles);
        }
        variants.push((None, base, value));
        for (role, levels) in &t.roles {
            if let Some(l) = levels.get(spec.signal) {
                variants.push((
                    Some(role.as_str()),
                    *l,
                    signals::in_role((spec.value)(&scope), &scope, role),
                ));
            }
        }
        for (role, levels, expr) in variants {
            if levels.warning.is_none() && levels.critical.is_none() && role.is_none() {
                // Disabled, unless an override enables it somewhere.
                if !t
                    .overrides
                    .iter()
                    .any(|o| o.signals.contains_key(spec.signal))
                {
                    continue;
                }
            }
            let result = ev(&expr, &data)?;
            if result.is_empty() && spec.signal == "filesystem.full_in" {
                report
                    .rows
                    .extend(forecast_notes(t, spec, role, &data, with_state)?);
                continue;
            }
            if result.is_empty() && spec.signal == "swap.swap_in_bytes_per_second" && !with_state {
                continue;
            }
            for s in result {
                let mut levels = levels;
                let mut note = None;
                {
                    // The most specific override whose every matcher this
                    // sample decides, as the rules join them (the role
                    // alerts' too).
                    let best = t
                        .overrides
                        .iter()
                        .filter(|o| o.signals.contains_key(spec.signal))
                        .filter(|o| o.matchers.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
                        .max_by_key(|o| o.matchers.len());
                    if let Some(o) = best {
                        levels = o.signals[spec.signal];
                        note = Some(match t.language {
                            Language::En => format!("override: {}", o.reason),
                            Language::Fr => format!("dérogation : {}", o.reason),
                        });
                    }
                }
                let scale = sig.scale;
                let w = levels.warning.map(|v| v * scale);
                let c = levels.critical.map(|v| v * scale);
                let mut level = level_of(s.value, sig.direction, w, c);
                // A disk smartctl gave no data for could not be checked.
                if spec.signal == "smart.not_reporting" && s.value >= 1.0 {
                    level = Level::Unknown;
                }
                let text = match t.language {
                    Language::En => spec.en,
                    Language::Fr => spec.fr,
                };
                let avail = spec.avail.and_then(|_| {
                    data.current
                        .iter()
                        .find(|x| {
                            x.labels.get("__name__").map(String::as_str) == Some(metric::FS_AVAIL)
                                && x.labels.get("mountpoint") == s.labels.get("mountpoint")
                        })
                        .map(|x| x.value)
                });
                let (summary, advice) = if level == Level::Ok {
                    (None, None)
                } else {
                    let mut d = String::new();
                    if role.is_some() {
                        d.push_str(crate::generate::rules::role_sentence(t));
                    }
                    d.push_str(text.description);
                    (
                        Some(render(
                            text.summary,
                            &s.labels,
                            s.value,
                            avail,
                            &dns_failing,
                        )),
                        Some(render(&d, &s.labels, s.value, avail, &dns_failing)),
                    )
                };
                let alert = match role {
                    Some(r) => crate::generate::rules::role_alert_name(spec, r),
                    None => spec.name.to_string(),
                };
                let mut labels = s.labels.clone();
                labels.remove("__name__");
                let shared = ALERTS.iter().filter(|a| a.signal == spec.signal).count() > 1;
                let detail = spec
                    .inputs
                    .first()
                    .filter(|_| shared)
                    .map(|(m, _)| m.trim_start_matches("vigie_smart_").to_string());
                if matches!(level, Level::Warning | Level::Critical) {
                    let mut firing = labels.clone();
                    firing.insert("__name__".into(), metric::ALERTS.into());
                    firing.insert("alertname".into(), alert.clone());
                    firing.insert("alertstate".into(), "firing".into());
                    let severity = if level == Level::Critical {
                        "critical"
                    } else {
                        "warning"
                    };
                    firing.insert("severity".into(), severity.into());
                    data.current.push(Sample {
                        labels: firing,
                        value: 1.0,
                    });
                }
                report.rows.push(Row {
                    signal: spec.signal.to_string(),
                    alert,
                    detail,
                    role: role.map(str::to_string),
                    where_: where_of(sig.series, &s.labels, role),
                    labels,
                    value: Some(s.value),
                    unit: unit_of(spec),
                    warning: w,
                    critical: c,
                    lower_is_worse: sig.direction == Direction::LowerIsWorse,
                    level,
                    note,
                    summary,
                    advice,
                });
            }
        }
    }
    if sections.contains(&"filesystem") {
        report.rows.extend(stuck_rows(t, &data));
    }
    // Section by section, in the catalogue's order within each.
    report.rows.sort_by_key(|r| {
        let section = r.signal.split('.').next().unwrap_or("");
        SECTIONS
            .iter()
            .position(|s| *s == section)
            .unwrap_or(SECTIONS.len())
    });
    Ok(report)
}

/// The scope of a check: the file's windows, no selector.
fn local_scope(t: &Thresholds) -> crate::promql::Scope {
    crate::promql::Scope {
        sel: crate::promql::Selector::default(),
        ..t.scope()
    }
}

/// A filesystem whose statfs failed or hung has no value: UNKNOWN.
fn stuck_rows(t: &Thresholds, data: &Data) -> Vec<Row> {
    data.current
        .iter()
        .filter(|s| {
            s.labels.get("__name__").map(String::as_str) == Some(metric::FS_STAT_ERROR)
                && s.value >= 1.0
        })
        .map(|s| {
            let mut labels = s.labels.clone();
            labels.remove("__name__");
            let m = labels.get("mountpoint").cloned().unwrap_or_default();
            let (note, summary, advice) = match t.language {
                Language::En => (
                    "statfs failed or did not answer in time".to_string(),
                    format!("Filesystem {m} on {} could not be read: statfs failed or hung.", data_instance(&labels)),
                    "A hung mount (a dead NFS server) blocks every process that touches it. Check the server or network behind it, then umount -l if it is gone for good.".to_string(),
                ),
                Language::Fr => (
                    "statfs a échoué ou n'a pas répondu à temps".to_string(),
                    format!("Le système de fichiers {m} de {} n'a pas pu être lu : statfs a échoué ou est bloqué.", data_instance(&labels)),
                    "Un montage bloqué (serveur NFS mort) bloque tout processus qui y touche. Vérifier le serveur ou le réseau derrière, puis umount -l s'il a disparu pour de bon.".to_string(),
                ),
            };
            Row {
                signal: "filesystem.free_percent".into(),
                alert: "VigieFilesystemAlmostFull".into(),
                detail: None,
                role: None,
                where_: m,
                labels,
                value: None,
                unit: "%",
                warning: None,
                critical: None,
                lower_is_worse: true,
                level: Level::Unknown,
                note: Some(note),
                summary: Some(summary),
                advice: Some(advice),
            }
        })
        .collect()
}

fn data_instance(l: &Labels) -> String {
    l.get("instance").cloned().unwrap_or_default()
}

/// The forecast rows when it gives no value: for each filesystem in scope,
/// whether history is missing or the filesystem is not filling. These never
/// change the exit code.
fn forecast_notes(
    t: &Thresholds,
    spec: &AlertSpec,
    role: Option<&str>,
    data: &Data,
    with_state: bool,
) -> Result<Vec<Row>, CheckError> {
    let scope = local_scope(t);
    let roles = t.roles_setting(spec.signal);
    let avail = scope.metric(metric::FS_AVAIL);
    let series = match role {
        Some(r) => signals::in_role(avail, &scope, r),
        None if !roles.is_empty() => signals::outside_roles(avail, &scope, &roles),
        None => avail,
    };
    let series = eval::eval(series.as_str(), data).map_err(|e| CheckError::Other(e.0))?;
    let trend_start = data.now - t.windows.trend_secs as f64;
    let lang = t.language;
    let mut rows = Vec::new();
    for s in series {
        let key: Labels = data
            .current
            .iter()
            .find(|c| {
                c.labels.get("__name__").map(String::as_str) == Some(metric::FS_AVAIL)
                    && c.labels.get("mountpoint") == s.labels.get("mountpoint")
            })
            .map(|c| c.labels.clone())
            .unwrap_or_default();
        let n = data
            .history
            .get(&key)
            .map_or(0, |h| h.iter().filter(|(ts, _)| *ts >= trend_start).count());
        let note = match (n, with_state, lang) {
            (_, false, Language::En) => "no history: run with --state FILE to forecast",
            (_, false, Language::Fr) => {
                "pas d'historique : lancer avec --state FICHIER pour prévoir"
            }
            (0, true, Language::En) => "no history yet: forecast after the next runs",
            (0, true, Language::Fr) => {
                "pas encore d'historique : prévision après les prochains passages"
            }
            (_, true, Language::En) => "not filling",
            (_, true, Language::Fr) => "ne se remplit pas",
        };
        let levels = match role {
            Some(r) => t.roles[r][spec.signal],
            None => t.signals[spec.signal],
        };
        let scale = spec.sig().scale;
        let mut labels = s.labels.clone();
        labels.remove("__name__");
        rows.push(Row {
            signal: spec.signal.to_string(),
            alert: match role {
                Some(r) => crate::generate::rules::role_alert_name(spec, r),
                None => spec.name.to_string(),
            },
            detail: None,
            role: role.map(str::to_string),
            where_: where_of(Series::Filesystem, &s.labels, role),
            labels,
            value: None,
            unit: "d",
            warning: levels.warning.map(|v| v * scale),
            critical: levels.critical.map(|v| v * scale),
            lower_is_worse: true,
            level: Level::Ok,
            note: Some(note.to_string()),
            summary: None,
            advice: None,
        });
    }
    Ok(rows)
}
