//! The DNS alerts' text about what each failing resolver did ("does not
//! answer" is not "says example.org does not exist"): the Go template
//! snippets the rules carry, and the same text rendered here for `vigie
//! check` and the promtool tests.

use std::collections::BTreeMap;

/// Template text: what a failing resolver did, from a sample of
/// `vigie_dns_probe_last_result` bound to `.` (its `class` and `result`
/// labels): "does not answer" is not "says example.org does not exist".
#[macro_export]
macro_rules! dns_what_en {
    () => {
        "{{ if eq .Labels.class \"no_answer\" }}does not answer ({{ .Labels.result }}){{ else if eq .Labels.result \"NXDOMAIN\" }}says {{ .Labels.query }} does not exist (NXDOMAIN){{ else if eq .Labels.result \"NODATA\" }}says {{ .Labels.query }} has no {{ .Labels.type }} record{{ else if eq .Labels.result \"malformed\" }}answers another question than {{ .Labels.query }} {{ .Labels.type }}, or garbage{{ else if eq .Labels.class \"error_answer\" }}answers {{ .Labels.query }} with an error ({{ .Labels.result }}){{ else }}answers {{ .Labels.result }} to {{ .Labels.query }}, not what that query expects{{ end }}"
    };
}

/// [`dns_what_en!`] in French.
#[macro_export]
macro_rules! dns_what_fr {
    () => {
        "{{ if eq .Labels.class \"no_answer\" }}ne répond pas ({{ .Labels.result }}){{ else if eq .Labels.result \"NXDOMAIN\" }}dit que {{ .Labels.query }} n'existe pas (NXDOMAIN){{ else if eq .Labels.result \"NODATA\" }}dit que {{ .Labels.query }} n'a pas d'enregistrement {{ .Labels.type }}{{ else if eq .Labels.result \"malformed\" }}répond à une autre question que {{ .Labels.query }} {{ .Labels.type }}, ou n'importe quoi{{ else if eq .Labels.class \"error_answer\" }}répond à {{ .Labels.query }} par une erreur ({{ .Labels.result }}){{ else }}répond {{ .Labels.result }} à {{ .Labels.query }}, pas ce qu'attend cette requête{{ end }}"
    };
}

/// What the per-resolver alert says when the probe's last result is not
/// there to read.
#[macro_export]
macro_rules! dns_fallback_en {
    () => {
        "fails to resolve {{ $labels.query }} ({{ $labels.type }})"
    };
}

/// [`dns_fallback_en!`] in French.
#[macro_export]
macro_rules! dns_fallback_fr {
    () => {
        "ne résout plus {{ $labels.query }} ({{ $labels.type }})"
    };
}

/// Template text: the last result of the alert's own probe, as `.`.
#[macro_export]
macro_rules! dns_probe_result {
    ($what:expr, $fallback:expr) => {
        concat!(
            "{{ with printf \"vigie_dns_probe_last_result{instance=%q,resolver=%q,query=%q,type=%q,class!=\\\"ok\\\"}\" $labels.instance $labels.resolver $labels.query $labels.type | query }}{{ with first . }}",
            $what,
            "{{ end }}{{ else }}",
            $fallback,
            "{{ end }}"
        )
    };
}

/// Template text: each failing probe of the alert's host, as `.`, then
/// `sep`.
#[macro_export]
macro_rules! dns_each_failing {
    ($what:expr, $sep:expr) => {
        concat!(
            "{{ range printf \"vigie_dns_probe_last_result{instance=%q,class!=\\\"ok\\\"}\" $labels.instance | query | sortByLabel \"resolver\" }}{{ .Labels.resolver }} ",
            $what,
            $sep,
            "{{ end }}"
        )
    };
}

/// The per-resolver snippet, in English and French.
pub const DNS_PROBE_EN: &str = dns_probe_result!(dns_what_en!(), dns_fallback_en!());
pub const DNS_PROBE_FR: &str = dns_probe_result!(dns_what_fr!(), dns_fallback_fr!());
/// The all-failing snippet, in English and French.
pub const DNS_EACH_EN: &str = dns_each_failing!(dns_what_en!(), "; ");
pub const DNS_EACH_FR: &str = dns_each_failing!(dns_what_fr!(), " ; ");

/// [`dns_what_en!`] (or `fr`) as Prometheus renders it for the labels
/// `l` of one `vigie_dns_probe_last_result` sample.
pub fn dns_what(l: &BTreeMap<String, String>, fr: bool) -> String {
    let g = |k: &str| l.get(k).map_or("", String::as_str);
    let (q, ty, result) = (g("query"), g("type"), g("result"));
    match (g("class"), result, fr) {
        ("no_answer", r, false) => format!("does not answer ({r})"),
        ("no_answer", r, true) => format!("ne répond pas ({r})"),
        (_, "NXDOMAIN", false) => format!("says {q} does not exist (NXDOMAIN)"),
        (_, "NXDOMAIN", true) => format!("dit que {q} n'existe pas (NXDOMAIN)"),
        (_, "NODATA", false) => format!("says {q} has no {ty} record"),
        (_, "NODATA", true) => format!("dit que {q} n'a pas d'enregistrement {ty}"),
        (_, "malformed", false) => format!("answers another question than {q} {ty}, or garbage"),
        (_, "malformed", true) => {
            format!("répond à une autre question que {q} {ty}, ou n'importe quoi")
        }
        ("error_answer", r, false) => format!("answers {q} with an error ({r})"),
        ("error_answer", r, true) => format!("répond à {q} par une erreur ({r})"),
        (_, r, false) => format!("answers {r} to {q}, not what that query expects"),
        (_, r, true) => format!("répond {r} à {q}, pas ce qu'attend cette requête"),
    }
}

/// Renders the DNS snippets of `template` for an alert with `labels`, as
/// Prometheus would with `failing` (the `vigie_dns_probe_last_result`
/// samples of class other than ok on the alert's host) in its database.
pub fn render_dns(
    template: &str,
    labels: &BTreeMap<String, String>,
    failing: &[BTreeMap<String, String>],
) -> String {
    let mut failing: Vec<&BTreeMap<String, String>> = failing
        .iter()
        .filter(|f| f.get("instance") == labels.get("instance"))
        .collect();
    failing.sort_by(|a, b| (a.get("resolver"), *a).cmp(&(b.get("resolver"), *b)));
    let own = failing.iter().find(|f| {
        ["resolver", "query", "type"]
            .iter()
            .all(|k| f.get(*k) == labels.get(*k))
    });
    let each = |fr: bool, sep: &str| {
        failing
            .iter()
            .map(|f| {
                format!(
                    "{} {}{sep}",
                    f.get("resolver").map_or("", String::as_str),
                    dns_what(f, fr)
                )
            })
            .collect::<String>()
    };
    template
        .replace(
            DNS_PROBE_EN,
            &own.map_or(dns_fallback_en!().to_string(), |f| dns_what(f, false)),
        )
        .replace(
            DNS_PROBE_FR,
            &own.map_or(dns_fallback_fr!().to_string(), |f| dns_what(f, true)),
        )
        .replace(DNS_EACH_EN, &each(false, "; "))
        .replace(DNS_EACH_FR, &each(true, " ; "))
}
