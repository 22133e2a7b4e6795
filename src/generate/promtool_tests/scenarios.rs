//! Scenario tests written beside the per-alert ones: the DNS hand-over
//! (both ways) minute by minute, a read-only filesystem across a vigie
//! restart, and the summaries (recorded lows and highs) read as the raw
//! samples would be.

use std::collections::BTreeMap;

use super::{
    AlertTest, ExpAlert, ExpSample, ExprTest, INSTANCE, InputSeries, TestGroup, render,
    render_with, series_name,
};
use crate::generate::rules::Group;
use crate::promql::signals::{self, Extreme, SUMMARY_RANGE};
use crate::promql::{Expr, Matcher, Reads, Selector};
use crate::thresholds::Thresholds;
use crate::units::prom_duration;

/// The DNS hand-over, minute by minute: resolver A stops answering, its
/// warning fires after its `for:`; resolver C blips meanwhile for less
/// than that `for:` and stays quiet; then resolver B says the probed name
/// does not exist and C stops answering, so all fail: A's warning keeps firing until the
/// all-failing critical fires (after its own `for:`), and from then on
/// that critical alone, whose text says what each resolver did. Then B
/// and C answer again while A still fails: the critical resolves and A's
/// warning fires at the same minute (A has failed for longer than the
/// warning's `for:`; its suppression during the critical must not start
/// that count again). No minute without an alert once A's warning fired,
/// and never a warning per resolver beside the critical.
pub(super) fn dns_handover_test(t: &Thresholds, groups: &[Group]) -> Option<TestGroup> {
    let warn = t.signals["dns.resolver_failing"];
    let crit = t.signals["dns.all_resolvers_failing"];
    if warn.warning.is_none() || crit.critical.is_none() {
        return None;
    }
    let (fw, fc) = (warn.for_secs.div_ceil(60), crit.for_secs.div_ceil(60));
    // B fails once A's warning has fired; the critical fires `fc` later.
    let b_fails = fw + 2;
    // B answers again a few minutes after the critical fired; the test
    // runs on past a warning's `for:` after that.
    let b_back = b_fails + fc + 3;
    let end = b_back + fw + 2;
    let b_failing = |m: u64| (b_fails..b_back).contains(&m);
    // Resolver C blips for one minute less than the warning's `for:`
    // while A alone fails (quiet), then fails and comes back with B.
    let c_failing = |m: u64| (1..fw).contains(&m) || b_failing(m);
    let rule = |name: &str, sev: &str| {
        groups
            .iter()
            .flat_map(|g| &g.rules)
            .find(|r| {
                r.alert.as_deref() == Some(name)
                    && r.labels.get("severity").map(String::as_str) == Some(sev)
            })
            .cloned()
    };
    let (warning_rule, critical_rule) = (
        rule("VigieDnsResolverFailing", "warning")?,
        rule(crate::promql::signals::DNS_ALL_FAILING_ALERT, "critical")?,
    );
    let mut host = t.selector.example_labels();
    host.insert("instance".into(), INSTANCE.into());
    let probe = |resolver: &str| {
        let mut l = host.clone();
        for (k, v) in [
            ("resolver", resolver),
            ("source", "resolv.conf"),
            ("query", "."),
            ("type", "NS"),
        ] {
            l.insert(k.into(), v.into());
        }
        l
    };
    let (a, b, c) = (
        probe("192.0.2.53:53"),
        probe("198.51.100.53:53"),
        probe("203.0.113.53:53"),
    );
    let with = |l: &BTreeMap<String, String>, extra: &[(&str, &str)]| {
        let mut l = l.clone();
        for (k, v) in extra {
            l.insert(k.to_string(), v.to_string());
        }
        l
    };
    let a_result = with(&a, &[("class", "no_answer"), ("result", "timeout")]);
    let b_ok = with(&b, &[("class", "ok"), ("result", "NOERROR")]);
    let b_result = with(&b, &[("class", "wrong_answer"), ("result", "NXDOMAIN")]);
    let c_ok = with(&c, &[("class", "ok"), ("result", "NOERROR")]);
    let c_result = with(&c, &[("class", "no_answer"), ("result", "timeout")]);
    // Values per minute 0..=end: `failing` while B fails, `ok` otherwise.
    let timeline = |ok: &str, failing: &str| {
        (0..=end)
            .map(|m| if b_failing(m) { failing } else { ok })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let c_timeline = |ok: &str, failing: &str| {
        (0..=end)
            .map(|m| if c_failing(m) { failing } else { ok })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let failing_count = (0..=end)
        .map(|m| (1 + u64::from(b_failing(m)) + u64::from(c_failing(m))).to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let series = |metric: &str, labels: &BTreeMap<String, String>, values: String| InputSeries {
        series: series_name(metric, labels),
        values,
    };
    use crate::promql::signals::metric::{
        DNS_LAST_RESULT, DNS_RESOLVERS, DNS_RESOLVERS_FAILING, DNS_SUCCESS,
    };
    let input_series = vec![
        series(DNS_RESOLVERS, &host, timeline("3", "3")),
        series(DNS_RESOLVERS_FAILING, &host, failing_count),
        series(DNS_SUCCESS, &a, timeline("0", "0")),
        series(DNS_SUCCESS, &b, timeline("1", "0")),
        series(DNS_SUCCESS, &c, c_timeline("1", "0")),
        series(DNS_LAST_RESULT, &c_ok, c_timeline("1", "_")),
        series(DNS_LAST_RESULT, &c_result, c_timeline("_", "1")),
        series(DNS_LAST_RESULT, &a_result, timeline("1", "1")),
        series(DNS_LAST_RESULT, &b_ok, timeline("1", "_")),
        series(DNS_LAST_RESULT, &b_result, timeline("_", "1")),
    ];
    let expect = |rule: &crate::generate::rules::Rule,
                  labels: BTreeMap<String, String>,
                  failing: &[BTreeMap<String, String>]| {
        let mut labels = labels;
        labels.insert("severity".into(), rule.labels["severity"].clone());
        let exp_annotations = rule
            .annotations
            .iter()
            .map(|(k, v)| {
                let text = if k == "runbook_url" {
                    crate::thresholds::template::expand(v, &labels)
                } else {
                    render_with(v, &labels, 0.0, None, failing)
                };
                (k.clone(), text)
            })
            .collect();
        ExpAlert {
            exp_labels: labels,
            exp_annotations,
        }
    };
    let mut alert_rule_test = Vec::new();
    for m in 0..=end {
        let mut failing = vec![a_result.clone()];
        if b_failing(m) {
            failing.push(b_result.clone());
        }
        if c_failing(m) {
            failing.push(c_result.clone());
        }
        let critical = m >= b_fails + fc && m < b_back;
        let mut warnings = Vec::new();
        if m >= fw && !critical {
            warnings.push(expect(&warning_rule, a.clone(), &failing));
        }
        if b_failing(m) && m >= b_fails + fw && !critical {
            warnings.push(expect(&warning_rule, b.clone(), &failing));
            warnings.push(expect(&warning_rule, c.clone(), &failing));
        }
        let criticals = if critical {
            vec![expect(&critical_rule, host.clone(), &failing)]
        } else {
            vec![]
        };
        for (alertname, exp_alerts) in [
            ("VigieDnsResolverFailing", warnings),
            (crate::promql::signals::DNS_ALL_FAILING_ALERT, criticals),
        ] {
            alert_rule_test.push(AlertTest {
                eval_time: prom_duration(m * 60),
                alertname: alertname.to_string(),
                exp_alerts,
            });
        }
    }
    Some(TestGroup {
        name: "DNS hand-over: one resolver down is a warning naming it, all down is one critical, no gap in between, neither going up nor coming back".into(),
        interval: "1m",
        input_series,
        alert_rule_test,
        promql_expr_test: vec![],
    })
}

/// A filesystem remounted read-only (mount and superblock both `ro`, as
/// `mount -o remount,ro` leaves them): vigie saw the turn, the alert fires
/// after its `for:`; vigie restarts (a failed scrape, then it no longer
/// knows the filesystem was writable): the alert keeps firing while the
/// filesystem stays read-only; writable again, it resolves. A filesystem
/// mounted read-only from the start, beside it, never alerts.
pub(super) fn readonly_restart_test(t: &Thresholds, groups: &[Group]) -> Option<TestGroup> {
    use crate::promql::signals::metric::{
        FS_MOUNT_READONLY, FS_READONLY, FS_SUPERBLOCK_READONLY, FS_TURNED_READONLY,
    };
    let l = t.signals["filesystem.readonly"];
    l.critical?;
    let rule = groups.iter().flat_map(|g| &g.rules).find(|r| {
        r.alert.as_deref() == Some("VigieFilesystemReadOnly")
            && r.labels.get("severity").map(String::as_str) == Some("critical")
    })?;
    let f = l.for_secs.div_ceil(60);
    // Minutes: read-only from `turn`, vigie restarts at `restart` (one
    // missed scrape), writable again at `writable`.
    let turn = 2;
    let restart = turn + f + 3;
    let writable = restart + 6;
    let end = writable + 2;
    let mut fs = t.selector.example_labels();
    fs.insert("instance".into(), INSTANCE.into());
    let mut fixed = fs.clone();
    for (k, v) in [
        ("mountpoint", "/srv/data"),
        ("device", "/dev/sdb1"),
        ("fstype", "ext4"),
    ] {
        fs.insert(k.into(), v.into());
    }
    for (k, v) in [
        ("mountpoint", "/srv/iso"),
        ("device", "/dev/sr0"),
        ("fstype", "ext4"),
    ] {
        fixed.insert(k.into(), v.into());
    }
    // Per minute: a stale marker at the restart (what Prometheus writes
    // for a scrape that failed while vigie was down), else `ro` while
    // read-only.
    let values = |ro: &str, rw: &str, turned: bool| {
        (0..=end)
            .map(|m| {
                if m == restart {
                    "stale"
                } else if (turn..writable).contains(&m) {
                    if turned && m > restart { "0" } else { ro }
                } else {
                    rw
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let series = |metric: &str, labels: &BTreeMap<String, String>, values: String| InputSeries {
        series: series_name(metric, labels),
        values,
    };
    let all_ones = (0..=end).map(|_| "1").collect::<Vec<_>>().join(" ");
    let zeros = (0..=end).map(|_| "0").collect::<Vec<_>>().join(" ");
    let input_series = vec![
        series(FS_READONLY, &fs, values("1", "0", false)),
        series(FS_MOUNT_READONLY, &fs, values("1", "0", false)),
        series(FS_SUPERBLOCK_READONLY, &fs, values("1", "0", false)),
        series(FS_TURNED_READONLY, &fs, values("1", "0", true)),
        series(FS_READONLY, &fixed, all_ones.clone()),
        series(FS_MOUNT_READONLY, &fixed, all_ones.clone()),
        series(FS_SUPERBLOCK_READONLY, &fixed, all_ones),
        series(FS_TURNED_READONLY, &fixed, zeros),
    ];
    let mut labels = fs.clone();
    labels.insert("severity".into(), "critical".into());
    let alert = ExpAlert {
        exp_annotations: rule
            .annotations
            .iter()
            .map(|(k, v)| {
                let text = if k == "runbook_url" {
                    crate::thresholds::template::expand(v, &labels)
                } else {
                    render(v, &labels, 1.0, None)
                };
                (k.clone(), text)
            })
            .collect(),
        exp_labels: labels,
    };
    let alert_rule_test = (0..=end)
        .map(|m| AlertTest {
            eval_time: prom_duration(m * 60),
            alertname: "VigieFilesystemReadOnly".into(),
            exp_alerts: if m >= turn + f && m < writable {
                vec![ExpAlert {
                    exp_labels: alert.exp_labels.clone(),
                    exp_annotations: alert.exp_annotations.clone(),
                }]
            } else {
                vec![]
            },
        })
        .collect();
    Some(TestGroup {
        name: "VigieFilesystemReadOnly: remounted read-only, fires, keeps firing across a vigie restart, resolves once writable; mounted read-only from the start: quiet".into(),
        interval: "1m",
        input_series,
        alert_rule_test,
        promql_expr_test: vec![],
    })
}

/// Every record of the summary group
/// ([`crate::generate::rules::summary_group`]), against the raw series: a
/// steady series with one sample far off (down for a low, up for a high).
/// Each summary and each long extreme holds it once an evaluation covers
/// it; the long-window reading the alerts use ([`signals::extreme_over`]
/// with [`Reads::Recorded`]: the value now that the alerts' group records
/// at its head) gives the same value as the raw one, with the raw reading
/// written beside it as the reference: while the sample is inside the
/// window (at the first evaluation after it, and later through the long
/// extreme alone), read an hour back (the long extreme alone), and the
/// steady value once it is out. These times are away from the window's old end, where the
/// recorded reading covers 5 to 40 minutes more than the raw one (never
/// less): there the two may differ. A settled long extreme (the
/// forecast's high of today, [`signals::extreme_over_settled`]) gives
/// nothing while the summaries are younger than half the window. Sampled
/// every 5 minutes and evaluated every 10 (the long tests' file), so a
/// sample half-way between two summaries exists; over each metric's
/// longest window and an hour.
pub(super) fn summaries_test(t: &Thresholds, groups: &[Group]) -> Option<TestGroup> {
    const STEP: u64 = 300;
    const BACK: u64 = 3600;
    let group = groups
        .iter()
        .find(|g| g.name == crate::generate::rules::SUMMARY_GROUP)?;
    let records: Vec<signals::RecordedExtreme> = group
        .rules
        .iter()
        .filter_map(|r| {
            r.record
                .as_deref()
                .and_then(signals::RecordedExtreme::parse)
        })
        .collect();
    let off_at = 2 * 3600;
    // The far-off samples, each between two evaluations.
    let at = |e: Extreme| match e {
        Extreme::Min => off_at + STEP,
        Extreme::Max => off_at + 3 * STEP,
    };
    let mut labels = t.selector.example_labels();
    labels.insert("instance".into(), INSTANCE.into());
    let result = series_name("", &labels);
    let sel = labels
        .iter()
        .fold(Selector::default(), |s, (k, v)| s.with(Matcher::eq(k, v)));
    let raw_scope = crate::promql::Scope {
        sel: sel.clone(),
        ..t.scope()
    };
    let rec_scope = crate::promql::Scope {
        reads: Reads::Recorded,
        ..raw_scope.clone()
    };
    let sample = |labels: &str, value: f64| ExpSample {
        labels: labels.to_string(),
        value,
    };
    let levels = |e: Extreme| match e {
        Extreme::Min => (1000.0, 10.0),
        Extreme::Max => (1000.0, 5000.0),
    };
    let mut input_series = Vec::new();
    let metrics: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.metric.as_str()).collect();
    for metric in metrics {
        // Its low, then its high, each only when that summary is
        // recorded; over its longest window.
        let summarised = |x: Extreme| records.iter().any(|r| r.metric == metric && r.e == x);
        let span = records
            .iter()
            .filter(|r| r.metric == metric)
            .map(|r| r.range)
            .max()
            .unwrap_or(SUMMARY_RANGE);
        let end = off_at + span + 3600;
        let values: Vec<String> = (0..=end / STEP)
            .map(|i| {
                let now = i * STEP;
                if now == at(Extreme::Min) && summarised(Extreme::Min) {
                    "10".to_string()
                } else if now == at(Extreme::Max) && summarised(Extreme::Max) {
                    "5000".to_string()
                } else {
                    "1000".to_string()
                }
            })
            .collect();
        input_series.push(InputSeries {
            series: series_name(metric, &labels),
            values: values.join(" "),
        });
    }
    let mut promql_expr_test = Vec::new();
    for r in &records {
        let (steady, off) = levels(r.e);
        let (metric, e, range) = (r.metric.as_str(), r.e, r.range);
        // The record itself, once one covers the sample (a settled one
        // late in its window).
        let when = if r.settled {
            off_at + range - 6 * STEP
        } else {
            off_at + 4 * STEP
        };
        promql_expr_test.push(ExprTest {
            expr: Expr::metric(&r.name(), &sel).into_string(),
            eval_time: prom_duration(when),
            exp_samples: vec![sample(&series_name(&r.name(), &labels), off)],
        });
        if r.is_summary() {
            continue;
        }
        if r.settled {
            // Nothing while the summaries are younger than half the
            // window, where the raw reading already gives a value; then
            // the same value.
            promql_expr_test.push(ExprTest {
                expr: Expr::metric(&r.name(), &sel).into_string(),
                eval_time: prom_duration(range / 2 - 6 * STEP),
                exp_samples: vec![],
            });
            let now = series_name(
                &signals::long_metric(metric, e, range, false, true),
                &labels,
            );
            for (when, exp) in [
                (range / 2 - 6 * STEP, vec![]),
                (off_at + range - 6 * STEP, vec![sample(&now, off)]),
            ] {
                promql_expr_test.push(ExprTest {
                    expr: signals::extreme_over_settled(&rec_scope, metric, e, range).into_string(),
                    eval_time: prom_duration(when),
                    exp_samples: exp,
                });
            }
            continue;
        }
        // The long window read both ways: at the first evaluation after
        // the sample (the raw tail covers it), well after it (the long
        // extreme alone), read an hour back, and once it is out.
        for (when, offset, v) in [
            (at(e) + STEP, 0, off),
            (off_at + SUMMARY_RANGE + 6 * STEP, 0, off),
            (off_at + 4 * STEP + BACK, BACK, off),
            (off_at + range - 6 * STEP, 0, off),
            (off_at + range + 10 * STEP, 0, steady),
        ] {
            // The value now is a recorded series, read with its name.
            let now = series_name(
                &signals::long_metric(metric, e, range, false, true),
                &labels,
            );
            for (scope, labels) in [
                (&rec_scope, if offset == 0 { &now } else { &result }),
                (&raw_scope, &result),
            ] {
                promql_expr_test.push(ExprTest {
                    expr: signals::extreme_over(scope, metric, e, range, offset).into_string(),
                    eval_time: prom_duration(when),
                    exp_samples: vec![sample(labels, v)],
                });
            }
        }
    }
    Some(TestGroup {
        name: format!(
            "{}: each recorded low and high, and the long windows' lows and highs read through them equal the raw ones",
            crate::generate::rules::SUMMARY_GROUP
        ),
        interval: "5m",
        input_series,
        alert_rule_test: vec![],
        promql_expr_test,
    })
}
