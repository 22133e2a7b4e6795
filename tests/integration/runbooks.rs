//! A runbook behind every alert: for every alert that `vigie gen-rules`
//! writes from the shipped `rules/thresholds.yaml`, in English and in
//! French (generated through the binary, not from a list written here),
//! `docs/runbooks/<lang>/<Alert>.md` exists with the fixed sections of its
//! language in order, names the incident that taught it (or says none),
//! and every relative link of the runbooks and of the README's runbook
//! links resolves. When the rules carry a `runbook_url`, every alert has
//! one and its path ends in `docs/runbooks/<lang>/<Alert>.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The sections every page has, in this order, per language.
const HEADINGS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "## What it means",
            "## How bad it is",
            "## What to check first",
            "## How to make it go away for good",
            "## Which incident taught it",
        ],
    ),
    (
        "fr",
        &[
            "## Ce que ça veut dire",
            "## Gravité et urgence",
            "## Que vérifier d'abord",
            "## Régler le problème pour de bon",
            "## L'incident qui nous l'a appris",
        ],
    ),
];

/// How the last section says that no incident taught the alert.
fn says_none(lang: &str, text: &str) -> bool {
    match lang {
        "en" => text.contains("None of the incidents"),
        _ => text.contains("Aucun des incidents"),
    }
}

/// The alerts `vigie gen-rules` writes from the shipped thresholds file in
/// `lang`: name to the `runbook_url` annotations of its rules (one per
/// severity; `None` where a rule has none).
fn generated_alerts(lang: &str) -> BTreeMap<String, Vec<Option<String>>> {
    let shipped = std::fs::read_to_string(repo("rules/thresholds.yaml")).unwrap();
    assert!(
        shipped.contains("\nlanguage: en\n"),
        "rules/thresholds.yaml no longer sets `language: en` on a line of its own"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("thresholds.yaml");
    std::fs::write(
        &file,
        shipped.replace("\nlanguage: en\n", &format!("\nlanguage: {lang}\n")),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("gen-rules")
        .arg("--thresholds")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "gen-rules ({lang}): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join(vigie::generate::RULES_FILE)).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let mut alerts: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for group in doc["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                let url = rule["annotations"]["runbook_url"]
                    .as_str()
                    .map(str::to_string);
                alerts.entry(name.to_string()).or_default().push(url);
            }
        }
    }
    assert!(alerts.len() > 30, "{lang}: only {alerts:?}");
    alerts
}

/// The `## ` sections of a page: heading to body.
fn sections(page: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in page.lines() {
        if line.starts_with("## ") {
            out.push((line.trim_end().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The incidents of `/work/shared/incidents.md` a text names ("incident 3",
/// "l'incident 3", "incidents 1 and 2" count their first number).
fn incidents_named(text: &str) -> BTreeSet<u32> {
    let lower = text.to_lowercase();
    lower
        .match_indices("incident")
        .filter_map(|(i, _)| {
            let rest = lower[i + "incident".len()..].trim_start_matches('s');
            let rest = rest.trim_start();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn every_generated_alert_has_a_runbook_in_both_languages() {
    let mut problems = Vec::new();
    let mut pages = 0;
    for (lang, headings) in HEADINGS {
        let alerts = generated_alerts(lang);
        let with_url = alerts.values().flatten().filter(|u| u.is_some()).count();
        for (alert, urls) in &alerts {
            let rel = format!("docs/runbooks/{lang}/{alert}.md");
            let Ok(page) = std::fs::read_to_string(repo(&rel)) else {
                problems.push(format!("{rel}: missing"));
                continue;
            };
            pages += 1;
            if page.lines().next() != Some(&format!("# {alert}")) {
                problems.push(format!("{rel}: the first line is not `# {alert}`"));
            }
            let found: Vec<String> = sections(&page).into_iter().map(|(h, _)| h).collect();
            if found != *headings {
                problems.push(format!(
                    "{rel}: sections {found:?}, expected exactly {headings:?}"
                ));
            }
            for (heading, body) in sections(&page) {
                if body.trim().is_empty() {
                    problems.push(format!("{rel}: `{heading}` is empty"));
                }
            }
            let last = sections(&page)
                .into_iter()
                .find(|(h, _)| h == headings.last().unwrap())
                .map(|(_, b)| b)
                .unwrap_or_default();
            let named = incidents_named(&last);
            if named.is_empty() && !says_none(lang, &last) {
                problems.push(format!(
                    "{rel}: `{}` names no incident and does not say none",
                    headings.last().unwrap()
                ));
            }
            if let Some(n) = named.iter().find(|n| !(1..=7).contains(*n)) {
                problems.push(format!("{rel}: incident {n} is not in incidents.md (1-7)"));
            }
            // The annotation: absent everywhere today, or on every rule and
            // pointing at this page.
            if with_url > 0 {
                for url in urls {
                    match url {
                        None => problems.push(format!(
                            "{lang}: {alert} has a rule without runbook_url while others have one"
                        )),
                        Some(u) if !url_path(u).ends_with(&rel) => problems.push(format!(
                            "{lang}: {alert}'s runbook_url {u} does not end in {rel}"
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(pages > 60, "{pages} pages");
}

/// The path part of a URL: without scheme, host, query and fragment.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or_default()
}

/// Relative link targets of a Markdown text: `](target)`, without the
/// `#fragment`, skipping absolute URLs and in-page anchors.
fn relative_links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split_whitespace().next().unwrap_or_default();
            let external = target.contains("://") || target.starts_with("mailto:");
            let path = target.split('#').next().unwrap_or_default();
            (!external && !path.is_empty()).then(|| path.to_string())
        })
        .collect()
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            markdown_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "md") {
            out.push(p);
        }
    }
}

#[test]
fn every_relative_link_of_the_runbooks_resolves() {
    let mut files = vec![repo("README.md")];
    markdown_files(&repo("docs/runbooks"), &mut files);
    assert!(files.len() > 60, "{files:?}");
    let mut broken = Vec::new();
    let mut links = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in relative_links(&text) {
            links += 1;
            let target = file.parent().unwrap().join(&link);
            if !target.exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken links:\n  {}",
        broken.join("\n  ")
    );
    assert!(links > 100, "only {links} relative links");
    // The README links the index, and the index links every page.
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    assert!(
        relative_links(&readme)
            .iter()
            .any(|l| l == "docs/runbooks/README.md"),
        "README.md does not link docs/runbooks/README.md"
    );
    let index = std::fs::read_to_string(repo("docs/runbooks/README.md")).unwrap();
    let linked: BTreeSet<String> = relative_links(&index).into_iter().collect();
    for f in &files {
        if let Ok(rel) = f.strip_prefix(repo("docs/runbooks")) {
            let rel = rel.to_string_lossy().into_owned();
            if rel != "README.md" {
                assert!(
                    linked.contains(&rel),
                    "docs/runbooks/README.md does not link {rel}"
                );
            }
        }
    }
}

#[test]
fn the_link_parser_sees_what_it_must() {
    let text =
        "[a](en/X.md) [b](https://x.org/a.md) [c](#here) [d](../fr/Y.md#sec) [e](mailto:a@b)";
    assert_eq!(relative_links(text), ["en/X.md", "../fr/Y.md"]);
    assert_eq!(
        url_path("https://git.example.org/vigie/blob/v0.1.0/docs/runbooks/en/VigieDown.md?x=1#y"),
        "/vigie/blob/v0.1.0/docs/runbooks/en/VigieDown.md"
    );
    assert_eq!(
        incidents_named("Incident 3 and incidents 1, 2; l'incident 5"),
        BTreeSet::from([3, 1, 5])
    );
}

/// The `yaml` blocks of a page that are thresholds-file fragments (they
/// start with `overrides:`).
fn override_examples(page: &str) -> Vec<String> {
    page.split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.trim_start().starts_with("overrides:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_override_example_of_the_runbooks_is_a_valid_thresholds_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    markdown_files(&repo("docs/runbooks"), &mut files);
    let mut checked = 0;
    let mut bad = Vec::new();
    for f in &files {
        let page = std::fs::read_to_string(f).unwrap();
        for example in override_examples(&page) {
            checked += 1;
            let file = dir.path().join(format!("example{checked}.yaml"));
            std::fs::write(&file, &example).unwrap();
            if let Err(e) = vigie::thresholds::Thresholds::load(&file) {
                bad.push(format!("{}: {e}\n{example}", f.display()));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(checked > 30, "only {checked} override examples");
}
