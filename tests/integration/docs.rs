//! The README documents every metric vigie exports and every collector.

use std::collections::BTreeSet;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// Family names in a golden exposition (its `# TYPE` lines).
fn exported_families() -> BTreeSet<String> {
    let snap = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/snapshots/integration__exposition__exposition_prometheus.snap"
    ))
    .unwrap();
    snap.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn every_exported_metric_is_in_the_readme() {
    let readme = readme();
    let families = exported_families();
    assert!(families.len() > 20, "{families:?}");
    let missing: Vec<_> = families
        .iter()
        .filter(|f| !readme.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics missing from README.md: {missing:?}"
    );
}

#[test]
fn every_readme_metric_exists() {
    let readme = readme();
    let families = exported_families();
    let documented: BTreeSet<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| `vigie_"))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    let unknown: Vec<_> = documented
        .iter()
        .filter(|d| !families.contains(**d))
        .collect();
    assert!(
        unknown.is_empty(),
        "README.md documents metrics the fixture run does not export: {unknown:?}"
    );
}

#[test]
fn every_collector_is_in_the_readme_table() {
    let readme = readme();
    for c in vigie::collect::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", c.name)),
            "collector {} missing",
            c.name
        );
    }
}
