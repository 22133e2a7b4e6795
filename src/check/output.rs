//! The three outputs of `vigie check`: a table for people (in the file's
//! language, coloured on a terminal), one line with performance data for
//! Nagios/Icinga (Monitoring Plugins guidelines), and a stable JSON
//! document.

use std::fmt::Write;

use super::{Level, Report, Row};
use crate::generate::promtool_tests::humanize1024;
use crate::thresholds::Language;

/// The value of a row as people read it.
pub fn value_text(row: &Row, lang: Language) -> String {
    let Some(v) = row.value else {
        return "-".into();
    };
    if v.is_nan() {
        return "NaN".into();
    }
    match row.unit {
        "%" => format!("{v:.1} %"),
        "d" if v.abs() < 1.0 => format!("{:.1} h", v * 24.0),
        "d" => format!("{v:.1} d"),
        "s" if v < 1.0 => format!("{:.0} ms", v * 1000.0),
        "s" => format!("{v:.2} s"),
        "B/s" => format!("{}B/s", humanize1024(v)),
        "°C" => format!("{v:.0} °C"),
        _ if row.signal.starts_with("smart.") && !is_condition(row) => format!("{v:.0}"),
        // A share (the failing resolvers): as a number.
        _ if v != 0.0 && v != 1.0 => format!("{v:.2}"),
        _ => match (v != 0.0, lang) {
            (true, Language::En) => "yes".into(),
            (false, Language::En) => "no".into(),
            (true, Language::Fr) => "oui".into(),
            (false, Language::Fr) => "non".into(),
        },
    }
}

fn is_condition(row: &Row) -> bool {
    crate::thresholds::signal(&row.signal)
        .is_some_and(|s| s.kind == crate::thresholds::ValueKind::Condition)
}

fn signal_text(row: &Row) -> String {
    let mut s = row.signal.clone();
    if let Some(d) = &row.detail {
        s = format!("{s}:{d}");
    }
    match &row.role {
        Some(r) => format!("{s} [{r}]"),
        None => s,
    }
}

fn paint(level: Level, text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match level {
        Level::Ok => "32",
        Level::Warning => "33",
        Level::Critical => "1;31",
        Level::Unknown => "35",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The table for people.
pub fn table(r: &Report, color: bool) -> String {
    let fr = r.language == Language::Fr;
    let head = if fr {
        ["SIGNAL", "OÙ", "VALEUR", "NIVEAU"]
    } else {
        ["SIGNAL", "WHERE", "VALUE", "LEVEL"]
    };
    let cells: Vec<[String; 4]> = r
        .rows
        .iter()
        .map(|row| {
            let mut value = value_text(row, r.language);
            if let Some(n) = &row.note {
                value = if row.value.is_some() {
                    format!("{value} ({n})")
                } else {
                    n.clone()
                };
            }
            [
                signal_text(row),
                if row.where_.is_empty() {
                    "-".into()
                } else {
                    row.where_.clone()
                },
                value,
                row.level.as_str().to_string(),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([head[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let w = [width(0), width(1), width(2)];
    let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n.saturating_sub(s.chars().count())));
    let mut out = String::new();
    let counts = |l: Level| r.rows.iter().filter(|x| x.level == l).count();
    let status = paint(r.status, r.status.as_str(), color);
    let _ = if fr {
        writeln!(
            out,
            "vigie check sur {} : {status} ({} critique, {} avertissement, {} inconnu, {} OK)",
            r.instance,
            counts(Level::Critical),
            counts(Level::Warning),
            counts(Level::Unknown),
            counts(Level::Ok)
        )
    } else {
        writeln!(
            out,
            "vigie check on {}: {status} ({} critical, {} warning, {} unknown, {} OK)",
            r.instance,
            counts(Level::Critical),
            counts(Level::Warning),
            counts(Level::Unknown),
            counts(Level::Ok)
        )
    };
    out.push('\n');
    let _ = writeln!(
        out,
        "{}  {}  {}  {}",
        pad(head[0], w[0]),
        pad(head[1], w[1]),
        pad(head[2], w[2]),
        head[3]
    );
    for (row, c) in r.rows.iter().zip(&cells) {
        let _ = writeln!(
            out,
            "{}  {}  {}  {}",
            pad(&c[0], w[0]),
            pad(&c[1], w[1]),
            pad(&c[2], w[2]),
            paint(row.level, &c[3], color)
        );
    }
    let bad: Vec<&Row> = r.rows.iter().filter(|x| x.level != Level::Ok).collect();
    if !bad.is_empty() {
        out.push('\n');
        out.push_str(if fr {
            "À faire d'abord :\n"
        } else {
            "What to do first:\n"
        });
        for row in bad {
            let _ = writeln!(
                out,
                "- {} {}",
                paint(row.level, row.level.as_str(), color),
                row.summary.as_deref().unwrap_or("")
            );
            if let Some(a) = &row.advice {
                let _ = writeln!(out, "  {a}");
            }
        }
    }
    for o in &r.overrides_not_applicable {
        let _ = writeln!(
            out,
            "{} {o}",
            if fr {
                "Dérogation non applicable ici :"
            } else {
                "Override not applicable here:"
            }
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// A number as performance data writes it: no exponent, at most six
/// decimals, trailing zeros dropped.
fn perf_num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A performance data label: quoted when it holds anything but letters,
/// digits and `_.-/:`, single quotes doubled.
fn perf_label(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A threshold in the guidelines' range format: a lower-is-worse level `t`
/// alerts below it (`t:`), a higher-is-worse level alerts at it or above
/// (`@t:`, inside [t, +inf)).
fn perf_range(t: Option<f64>, lower_is_worse: bool) -> String {
    match t {
        None => String::new(),
        Some(t) if t.is_nan() => String::new(),
        Some(t) if lower_is_worse => format!("{}:", perf_num(t)),
        Some(t) => format!("@{}:", perf_num(t)),
    }
}

/// One line for Nagios/Icinga: status, the rows not OK, and performance
/// data for every row with a value.
pub fn nagios(r: &Report) -> String {
    let bad: Vec<String> = r
        .rows
        .iter()
        .filter(|x| x.level != Level::Ok)
        .map(|x| {
            let w = if x.where_.is_empty() {
                String::new()
            } else {
                format!(" {}", x.where_)
            };
            let v = match (&x.note, x.value) {
                (Some(n), None) => n.clone(),
                _ => value_text(x, Language::En),
            };
            format!("{} {}{w} {v}", x.level.as_str(), signal_text(x))
        })
        .collect();
    let text = if bad.is_empty() {
        let n = r.rows.iter().filter(|x| x.value.is_some()).count();
        format!("{n} values within thresholds")
    } else {
        bad.join(", ")
    };
    let mut perf = Vec::new();
    for x in &r.rows {
        let Some(v) = x.value else { continue };
        let mut label = signal_text(x);
        if !x.where_.is_empty() {
            label = format!("{label} {}", x.where_);
        }
        let (uom, min, max) = match x.unit {
            "%" if x.signal != "smart.nvme_wear_percent" => ("%", "0", "100"),
            "%" => ("%", "0", ""),
            "s" => ("s", "0", ""),
            _ => ("", "", ""),
        };
        let value = if v.is_finite() {
            perf_num(v)
        } else {
            "U".into()
        };
        perf.push(format!(
            "{}={value}{uom};{};{};{min};{max}",
            perf_label(&label),
            perf_range(x.warning, x.lower_is_worse),
            perf_range(x.critical, x.lower_is_worse),
        ));
    }
    let mut out = format!("VIGIE {} - {text}", r.status.as_str());
    if !perf.is_empty() {
        out.push_str(" | ");
        out.push_str(&perf.join(" "));
    }
    out.push('\n');
    out
}

/// The JSON document (`version` 1).
pub fn json(r: &Report) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        version: u32,
        exit_code: u8,
        #[serde(flatten)]
        report: &'a Report,
    }
    let mut s = serde_json::to_string_pretty(&Doc {
        version: 1,
        exit_code: r.status.code(),
        report: r,
    })
    .expect("a report serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_bits() {
        assert_eq!(perf_num(12.5), "12.5");
        assert_eq!(perf_num(3.0), "3");
        assert_eq!(perf_num(-0.0000001), "0");
        assert_eq!(
            perf_label("filesystem.free_percent /srv"),
            "'filesystem.free_percent /srv'"
        );
        assert_eq!(perf_label("a'b c"), "'a''b c'");
        assert_eq!(perf_range(Some(15.0), true), "15:");
        assert_eq!(perf_range(Some(1.0), false), "@1:");
        assert_eq!(perf_range(None, false), "");
    }
}
