//! The README documents every metric of the schema (what vigie exports)
//! and every collector of the registry, and no other.

use std::collections::BTreeSet;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// Family names as exposed (`# TYPE` lines: `_total` on counters), from
/// the metric schema. `exposition::the_fixture_host_exports_exactly_the_schema`
/// proves the fixture host exports exactly these.
fn exported_families() -> BTreeSet<String> {
    vigie::schema::families()
        .iter()
        .map(|d| d.exposed_name())
        .collect()
}

/// The README's metric table: (name, type) per row.
fn documented() -> Vec<(String, String)> {
    readme()
        .lines()
        .filter(|l| l.starts_with("| `vigie_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn every_exported_metric_is_in_the_readme() {
    let families = exported_families();
    assert!(families.len() > 20, "{families:?}");
    let documented: BTreeSet<String> = documented().into_iter().map(|(n, _)| n).collect();
    let missing: Vec<_> = families
        .iter()
        .filter(|f| !documented.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics missing from README.md's table: {missing:?}"
    );
}

#[test]
fn every_readme_metric_exists_with_its_type() {
    let schema = vigie::schema::families();
    for (name, kind) in documented() {
        let desc = schema
            .iter()
            .find(|d| d.exposed_name() == name)
            .unwrap_or_else(|| {
                panic!("README.md documents {name}, which the schema does not declare")
            });
        assert_eq!(
            format!("{:?}", desc.kind).to_lowercase(),
            kind,
            "README.md gives {name} the wrong type"
        );
    }
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
