//! The contract between the two halves: every metric the generated rules and
//! dashboards read is one the exporter declares in its schema (and so
//! exports), for the shipped thresholds file and every fixture.

use std::collections::BTreeSet;

use crate::common::fixture;
use vigie::thresholds::Thresholds;

/// Every series name the exporter can expose (`_total`, `_bucket`... included).
fn exported_series() -> BTreeSet<String> {
    vigie::schema::families()
        .iter()
        .flat_map(|d| d.series_names())
        .collect()
}

/// The shipped thresholds file and every valid fixture.
fn thresholds_files() -> Vec<std::path::PathBuf> {
    let mut files = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/thresholds.yaml"
    ))];
    let dir = fixture("thresholds");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 5, "{fixtures:?}");
    files.extend(fixtures);
    files
}

#[test]
fn rules_and_dashboards_read_only_exported_metrics() {
    let exported = exported_series();
    assert!(exported.len() > 70, "{exported:?}");
    for path in thresholds_files() {
        let t = Thresholds::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let read = vigie::generate::metrics_read(&t);
        assert!(read.len() >= 30, "{}: {read:?}", path.display());
        let unknown: Vec<_> = read.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{}: the rules or dashboards read metrics vigie does not export: {unknown:?}",
            path.display()
        );
    }
}

/// The check above must be able to fail: a metric the exporter does not
/// declare is caught.
#[test]
fn an_unexported_metric_would_be_caught() {
    let exported = exported_series();
    let read = vigie::promql::vigie_metric_names(
        "vigie_filesystem_avail_bytes{job=\"vigie\"} / vigie_filesystem_size_bytez",
    );
    let unknown: Vec<_> = read.difference(&exported).cloned().collect();
    assert_eq!(unknown, vec!["vigie_filesystem_size_bytez".to_string()]);
}
