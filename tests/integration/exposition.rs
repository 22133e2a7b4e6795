//! The whole exposition of the real binary on the `host` fixture tree, as an
//! insta snapshot (statfs figures, durations and timestamps filtered), and
//! `promtool check metrics` on it.

use crate::common::{Vigie, promtool_check_metrics, request};

fn start_on_fixture() -> (tempfile::TempDir, tempfile::TempDir, Vigie) {
    crate::common::vigie_on_fixture_host()
}

/// Scrapes once every collector succeeded, the resolver of the fixture's
/// resolv.conf has been probed and the three disks read.
fn dns_probed(v: &Vigie) -> String {
    v.scrape_ready();
    v.scrape_until(|b| {
        b.contains("vigie_dns_probe_success{") && b.matches("vigie_smart_device_info{").count() == 3
    })
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"(vigie_filesystem_(?:size|free|avail)_bytes\{[^}]*\}) \d+",
            "$1 [bytes]",
        ),
        (
            r"(vigie_filesystem_files(?:_free)?\{[^}]*\}) \d+",
            "$1 [inodes]",
        ),
        (
            r"((?:vigie_collector|vigie_dns_probe|vigie_smart_run)_duration_seconds\{[^}]*\}) \S+",
            "$1 [duration]",
        ),
        (
            r"((?:vigie_collector|vigie_smart)_(?:last_success|data)_timestamp_seconds\{[^}]*\}) \S+",
            "$1 [timestamp]",
        ),
        (
            r"(?m)^(vigie_start_time_seconds(?:\{\})?) \S+$",
            "$1 [timestamp]",
        ),
        // Connections still open from earlier requests vary.
        (
            r"(?m)^(vigie_http_connections(?:\{\})?) \S+$",
            "$1 [connections]",
        ),
        (r#"revision="[^"]*""#, r#"revision="[revision]""#),
        (r#"rustc="[^"]*""#, r#"rustc="[rustc]""#),
    ]
}

#[test]
fn exposition_on_fixture_root() {
    let (_dir, _disks, v) = start_on_fixture();
    let body = dns_probed(&v);
    promtool_check_metrics(&body).unwrap();
    // The page size of this kernel scales the swap byte counters; the
    // snapshot assumes 4 KiB pages.
    let page = vigie::collect::swap::page_size();
    assert_eq!(
        crate::common::value(&body, "vigie_swap_in_bytes_total"),
        Some(5242880.0 * page as f64)
    );
    insta::with_settings!({ filters => filters() }, {
        if page == 4096 {
            insta::assert_snapshot!("exposition_prometheus", body);
        }
    });
}

#[test]
fn openmetrics_exposition_on_fixture_root() {
    let (_dir, _disks, v) = start_on_fixture();
    dns_probed(&v);
    let r = request(
        v.addr,
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert!(r.body.ends_with("# EOF\n"));
    let mut filters = filters();
    // OpenMetrics floats carry a decimal part.
    filters.push((
        r"(vigie_filesystem_\w+\{[^}]*\}) \[(bytes|inodes)\]\.0",
        "$1 [$2]",
    ));
    filters[0] = (
        r"(vigie_filesystem_(?:size|free|avail)_bytes\{[^}]*\}) [\d.e+]+",
        "$1 [bytes]",
    );
    filters[1] = (
        r"(vigie_filesystem_files(?:_free)?\{[^}]*\}) [\d.e+]+",
        "$1 [inodes]",
    );
    insta::with_settings!({ filters => filters }, {
        if vigie::collect::swap::page_size() == 4096 {
            insta::assert_snapshot!("exposition_openmetrics", r.body);
        }
    });
}

/// The label names of a sample line (`le` included), in order.
fn label_names(line: &str) -> Vec<String> {
    let Some((_, rest)) = line.split_once('{') else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut chars = rest.chars();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() || name.starts_with('}') {
            return names;
        }
        names.push(name.trim_start_matches(',').to_string());
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut escaped = false;
        for c in chars.by_ref() {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => break,
                _ => escaped = false,
            }
        }
        match chars.next() {
            Some(',') => continue,
            _ => return names,
        }
    }
}

/// Every collector on the fixture host (three disks, a resolver, a pending
/// reboot) exports exactly the schema: each family is declared with the
/// type it has on the wire, each sample carries the declared label names in
/// order, and each declared family is exported. The binary under test is a
/// debug build, where emitting undeclared labels also panics.
#[test]
fn the_fixture_host_exports_exactly_the_schema() {
    let (_dir, _disks, v) = start_on_fixture();
    let body = dns_probed(&v);
    let schema = vigie::schema::families();
    let mut exported = std::collections::BTreeSet::new();
    for line in body.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let (name, kind) = t.split_once(' ').unwrap();
            let desc = schema
                .iter()
                .find(|d| d.exposed_name() == name)
                .unwrap_or_else(|| panic!("{name} is not in the schema"));
            assert_eq!(format!("{:?}", desc.kind).to_lowercase(), kind, "{name}");
            exported.insert(desc.name);
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let series = line.split(['{', ' ']).next().unwrap();
        let desc = schema
            .iter()
            .find(|d| d.series_names().iter().any(|s| s == series))
            .unwrap_or_else(|| panic!("{series} is not in the schema"));
        let mut names = label_names(line);
        if series.ends_with("_bucket") {
            assert_eq!(names.pop().as_deref(), Some("le"), "{line}");
        }
        assert_eq!(names, desc.labels, "{line}");
    }
    let missing: Vec<_> = schema
        .iter()
        .map(|d| d.name)
        .filter(|n| !exported.contains(n))
        .collect();
    assert!(missing.is_empty(), "declared, not exported: {missing:?}");
}
