//! The Go templates a user may write in `runbook_url`: a strict checker and
//! the matching evaluator (for the generated promtool tests, which must
//! expect exactly what Prometheus expands).
//!
//! Only the forms vigie can evaluate are accepted, so that a URL the
//! checker lets through is one whose expansion the tests predict:
//! `{{ $labels.NAME }}` or `{{ .Labels.NAME }}`, optionally piped through
//! `toLower`, `toUpper` or `urlquery`. Anything else (an unclosed `{{`, an
//! unknown function, `$value`, trim markers, comments) is refused with a
//! message saying what is accepted.

use std::collections::BTreeMap;

use crate::promql::is_label_name;

/// One part of a template: literal text or a label through functions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Label { name: String, funcs: Vec<Func> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    ToLower,
    ToUpper,
    UrlQuery,
}

const ACCEPTED: &str = "write {{ $labels.NAME }} or {{ .Labels.NAME }}, optionally followed by | toLower, | toUpper or | urlquery";

fn parse(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            format!(
                "the template action at {:?} is not closed by }}}}; {ACCEPTED}",
                clip(&rest[open..])
            )
        })?;
        let action = &after[..close];
        parts.push(action_part(action)?);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

fn clip(s: &str) -> String {
    s.chars().take(30).collect()
}

fn action_part(action: &str) -> Result<Part, String> {
    let bad = || format!("{{{{{action}}}}} is not a template vigie accepts here: {ACCEPTED}");
    if action.starts_with('-') || action.ends_with('-') || action.contains("{{") {
        return Err(bad());
    }
    let mut stages = action.split('|').map(str::trim);
    let head = stages.next().unwrap_or("");
    let name = head
        .strip_prefix("$labels.")
        .or_else(|| head.strip_prefix(".Labels."))
        .filter(|n| is_label_name(n))
        .ok_or_else(bad)?;
    let funcs = stages
        .map(|f| match f {
            "toLower" => Ok(Func::ToLower),
            "toUpper" => Ok(Func::ToUpper),
            "urlquery" => Ok(Func::UrlQuery),
            _ => Err(bad()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Part::Label {
        name: name.to_string(),
        funcs,
    })
}

/// Checks `text` (a `runbook_url`, `{alert}` included): what is wrong, in
/// words, when Prometheus would refuse it or vigie could not predict it.
pub fn check(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}

/// What Prometheus expands `text` to for an alert with `labels` (a label
/// the alert lacks expands to nothing, as Prometheus' `missingkey=zero`).
/// `text` must have passed [`check`]; otherwise it is returned as is.
pub fn expand(text: &str, labels: &BTreeMap<String, String>) -> String {
    let Ok(parts) = parse(text) else {
        return text.to_string();
    };
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(&t),
            Part::Label { name, funcs } => {
                let mut v = labels.get(&name).cloned().unwrap_or_default();
                for f in funcs {
                    v = match f {
                        Func::ToLower => v.to_lowercase(),
                        Func::ToUpper => v.to_uppercase(),
                        Func::UrlQuery => query_escape(&v),
                    };
                }
                out.push_str(&v);
            }
        }
    }
    out
}

/// Go's `url.QueryEscape` (what the template function `urlquery` does).
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_expand_as_prometheus_does() {
        let labels = BTreeMap::from([
            ("instance".to_string(), "Host.example.org:7361".to_string()),
            ("mountpoint".to_string(), "/srv/a b".to_string()),
        ]);
        for (t, want) in [
            ("https://w/x", "https://w/x"),
            (
                "https://w/{{ $labels.instance }}",
                "https://w/Host.example.org:7361",
            ),
            (
                "https://w/{{.Labels.instance|toLower}}/",
                "https://w/host.example.org:7361/",
            ),
            (
                "https://w/?m={{ $labels.mountpoint | urlquery }}",
                "https://w/?m=%2Fsrv%2Fa+b",
            ),
            ("https://w/{{ $labels.device }}", "https://w/"),
            ("https://w/}}", "https://w/}}"),
        ] {
            assert_eq!(check(t), Ok(()), "{t}");
            assert_eq!(expand(t, &labels), want, "{t}");
        }
    }

    #[test]
    fn other_forms_are_refused_with_what_is_accepted() {
        for t in [
            "https://w/{{",
            "https://w/{{ $labels.instance",
            "https://w/{{ $value }}",
            "https://w/{{ $labels.instance | humanize }}",
            "https://w/{{- $labels.instance }}",
            "https://w/{{/* c */}}",
            "https://w/{{ $labels.9x }}",
            "https://w/{{ printf \"%s\" $labels.instance }}",
        ] {
            let e = check(t).unwrap_err();
            assert!(e.contains("{{ $labels.NAME }}"), "{t}: {e}");
        }
    }
}
