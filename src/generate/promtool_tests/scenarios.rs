//! Scenario tests written beside the per-alert ones: the DNS hand-over
//! minute by minute, and a read-only filesystem across a vigie restart.

use std::collections::BTreeMap;

use super::{
    AlertTest, ExpAlert, INSTANCE, InputSeries, TestGroup, render, render_with, series_name,
};
use crate::thresholds::Thresholds;
use crate::units::prom_duration;

/// The DNS hand-over, minute by minute: resolver A stops answering, its
/// warning fires after its `for:`; then resolver B says the probed name
/// does not exist, so all fail: A's warning keeps firing until the
/// all-failing critical fires (after its own `for:`), and from then on
/// that critical alone, whose text says what each resolver did. No minute
/// without an alert once A's warning fired, and never a warning per
/// resolver beside the critical.
pub(super) fn dns_handover_test(t: &Thresholds) -> Option<TestGroup> {
    let warn = t.signals["dns.resolver_failing"];
    let crit = t.signals["dns.all_resolvers_failing"];
    if warn.warning.is_none() || crit.critical.is_none() {
        return None;
    }
    let (fw, fc) = (warn.for_secs.div_ceil(60), crit.for_secs.div_ceil(60));
    // B fails once A's warning has fired; the critical fires `fc` later.
    let b_fails = fw + 2;
    let end = b_fails + fc + 3;
    let groups = crate::generate::rules::groups(t);
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
    let mut host = t.selector.equalities();
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
    let (a, b) = (probe("192.0.2.53:53"), probe("198.51.100.53:53"));
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
    // Values per minute 0..=end: `before` until B fails, `after` from then.
    let timeline = |before: &str, after: &str| {
        (0..=end)
            .map(|m| if m < b_fails { before } else { after })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let series = |metric: &str, labels: &BTreeMap<String, String>, values: String| InputSeries {
        series: series_name(metric, labels),
        values,
    };
    use crate::promql::signals::metric::{
        DNS_LAST_RESULT, DNS_RESOLVERS, DNS_RESOLVERS_FAILING, DNS_SUCCESS,
    };
    let input_series = vec![
        series(DNS_RESOLVERS, &host, timeline("2", "2")),
        series(DNS_RESOLVERS_FAILING, &host, timeline("1", "2")),
        series(DNS_SUCCESS, &a, timeline("0", "0")),
        series(DNS_SUCCESS, &b, timeline("1", "0")),
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
        let failing: Vec<BTreeMap<String, String>> = if m < b_fails {
            vec![a_result.clone()]
        } else {
            vec![a_result.clone(), b_result.clone()]
        };
        let critical = m >= b_fails + fc;
        let mut warnings = Vec::new();
        if m >= fw && !critical {
            warnings.push(expect(&warning_rule, a.clone(), &failing));
        }
        if m >= b_fails + fw && !critical {
            warnings.push(expect(&warning_rule, b.clone(), &failing));
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
        name: "DNS hand-over: one resolver down is a warning naming it, all down is one critical, no gap in between".into(),
        interval: "1m",
        input_series,
        alert_rule_test,
    })
}

/// A filesystem remounted read-only (mount and superblock both `ro`, as
/// `mount -o remount,ro` leaves them): vigie saw the turn, the alert fires
/// after its `for:`; vigie restarts (a missed scrape, then it no longer
/// knows the filesystem was writable): the alert keeps firing while the
/// filesystem stays read-only; writable again, it resolves. A filesystem
/// mounted read-only from the start, beside it, never alerts.
pub(super) fn readonly_restart_test(t: &Thresholds) -> Option<TestGroup> {
    use crate::promql::signals::metric::{
        FS_MOUNT_READONLY, FS_READONLY, FS_SUPERBLOCK_READONLY, FS_TURNED_READONLY,
    };
    let l = t.signals["filesystem.readonly"];
    l.critical?;
    let rule = crate::generate::rules::groups(t)
        .into_iter()
        .flat_map(|g| g.rules)
        .find(|r| {
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
    let mut fs = t.selector.equalities();
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
    // Per minute: `_` at the restart, else `ro` while read-only.
    let values = |ro: &str, rw: &str, turned: bool| {
        (0..=end)
            .map(|m| {
                if m == restart {
                    "_"
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
    })
}
