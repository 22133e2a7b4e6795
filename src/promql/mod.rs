//! PromQL as the generator writes it: typed label selectors with escaped
//! values, the trend windows, and a small expression builder. Every
//! expression in the rules, their promtool tests and the dashboards is
//! built here ([`signals`] names each signal's value); nothing else in
//! the generator assembles PromQL from strings.
//!
//! [`Expr`] renders exactly the text it is built from (operators spaced,
//! label lists as `on(a, b)`, aggregations as `max by(a) (e)`), so the
//! generated files stay stable; grouping is explicit ([`Expr::paren`]).

pub mod records;
pub mod signals;

use std::collections::BTreeMap;
use std::fmt;

use crate::units::prom_duration;

// ---- Selectors ---------------------------------------------------------------

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One label matcher: `name op "value"`; the value is kept unescaped and
/// escaped when written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

impl Matcher {
    /// `name="value"`.
    pub fn eq(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
        }
    }

    /// `name=~"regex"`, a regular expression written by vigie itself (a
    /// Grafana variable such as `$job`, or `Vigie.+`).
    pub fn regex(name: &str, regex: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::Regex,
            value: regex.into(),
        }
    }

    /// `name=~"a|b"` matching exactly the values given, each taken
    /// literally (`data.1` does not match `dataX1`).
    pub fn any_of<S: AsRef<str>>(name: &str, values: &[S]) -> Matcher {
        let alternatives: Vec<String> = values.iter().map(|v| regex_literal(v.as_ref())).collect();
        Matcher::regex(name, &alternatives.join("|"))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.name,
            self.op.as_str(),
            string_literal(&self.value)
        )
    }
}

/// A regular expression (RE2, as Prometheus) matching exactly `s`: its
/// metacharacters backslash-escaped.
pub fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A PromQL double-quoted string literal for `s`.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The label matchers inside `{...}`: those of the thresholds file's
/// `selector` and any vigie adds (a role, the dashboards' variables).
///
/// The matchers the user wrote are written back as they spelled them (so
/// a new vigie does not respell every generated query); added matchers
/// follow, comma-separated and escaped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    matchers: Vec<Matcher>,
    /// The user's text for the first `.1` matchers.
    written: Option<(String, usize)>,
}

/// A selector that cannot be parsed: what was expected, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(String);

impl Selector {
    /// Parses the body of a selector, `job="vigie", env!~"test|dev"`
    /// (an empty text selects everything). Regular expressions are checked
    /// with the `regex` crate, whose syntax is RE2's, as Prometheus'.
    ///
    /// The text is also parsed by a real PromQL parser (`promql-parser`)
    /// as Prometheus would read it in a rule, so that what it refuses
    /// (an unknown escape such as `\q`, a bad regular expression) is
    /// refused here; the values are taken as that parser unescapes them.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let err = |s: String| SelectorError(s);
        let mut matchers = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if !is_label_name(name) {
                return Err(err(format!("expected a label name at {rest:?}")));
            }
            rest = rest[name_len..].trim_start();
            let op = [
                MatchOp::Regex,
                MatchOp::NotRegex,
                MatchOp::NotEqual,
                MatchOp::Equal,
            ]
            .into_iter()
            .find(|op| rest.starts_with(op.as_str()))
            .ok_or_else(|| err(format!("expected =, !=, =~ or !~ after {name}")))?;
            rest = rest[op.as_str().len()..].trim_start();
            let quoted = rest
                .strip_prefix('"')
                .ok_or_else(|| err(format!("the value of {name} must be in double quotes")))?;
            let (value, used) = unquote(quoted).ok_or_else(|| {
                err(format!(
                    "the value of {name} is not closed by a double quote"
                ))
            })?;
            if matches!(op, MatchOp::Regex | MatchOp::NotRegex) {
                regex::Regex::new(&format!("^(?:{value})$")).map_err(|e| {
                    err(format!(
                        "the value of {name} is not a valid regular expression: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ))
                })?;
            }
            matchers.push(Matcher {
                name: name.to_string(),
                op,
                value,
            });
            rest = quoted[used..].trim_start();
            if rest.is_empty() {
                break;
            }
            rest = rest
                .strip_prefix(',')
                .ok_or_else(|| err(format!("expected a comma after the matcher on {name}")))?
                .trim_start();
        }
        if matchers.iter().any(|m: &Matcher| m.name == "__name__") {
            return Err(err(
                "__name__ cannot be used: vigie chooses the metric of each expression; select on other labels such as job or instance".into(),
            ));
        }
        let parsed = parse_promql(&format!("vigie_build_info{{{text}}}"))
            .map_err(|e| err(format!("Prometheus would refuse it: {e}")))?;
        let promql_parser::parser::Expr::VectorSelector(vs) = parsed else {
            return Err(err("expected label matchers such as job=\"vigie\"".into()));
        };
        if !vs.matchers.or_matchers.is_empty() {
            return Err(err(
                "\"or\" is not supported here; use comma-separated matchers".into(),
            ));
        }
        if matchers.len() != vs.matchers.matchers.len()
            || matchers
                .iter()
                .zip(&vs.matchers.matchers)
                .any(|(a, b)| a.name != b.name)
        {
            return Err(err(
                "expected comma-separated matchers such as job=\"vigie\", env!=\"test\"".into(),
            ));
        }
        for (m, p) in matchers.iter_mut().zip(&vs.matchers.matchers) {
            m.value = p.value.clone();
        }
        let written = text.trim().trim_end_matches(',').trim_end().to_string();
        let n = matchers.len();
        Ok(Selector {
            matchers,
            written: Some((written, n)),
        })
    }

    /// This selector and `m`.
    pub fn with(&self, m: Matcher) -> Selector {
        let mut s = self.clone();
        s.matchers.push(m);
        s
    }

    /// Whether a series with label `name` = `value` can pass this selector
    /// (the matchers on `name` accept `value`).
    pub fn admits(&self, name: &str, value: &str) -> bool {
        self.admitter()(name, value)
    }

    /// [`Selector::admits`] for many labels (every override of a
    /// thresholds file): each regular expression compiled once.
    pub fn admitter(&self) -> impl Fn(&str, &str) -> bool + '_ {
        let compiled: Vec<(&Matcher, Option<regex::Regex>)> = self
            .matchers
            .iter()
            .map(|m| {
                let re = matches!(m.op, MatchOp::Regex | MatchOp::NotRegex)
                    .then(|| regex::Regex::new(&format!("^(?:{})$", m.value)).ok())
                    .flatten();
                (m, re)
            })
            .collect();
        move |name, value| {
            compiled
                .iter()
                .filter(|(m, _)| m.name == name)
                .all(|(m, re)| {
                    let re = || re.as_ref().is_some_and(|r| r.is_match(value));
                    match m.op {
                        MatchOp::Equal => m.value == value,
                        MatchOp::NotEqual => m.value != value,
                        MatchOp::Regex => re(),
                        MatchOp::NotRegex => !re(),
                    }
                })
        }
    }

    /// Labels a series selected by this selector can carry, for generated
    /// test series: every equality's value, a value each regex matcher
    /// accepts, and a value for a negative matcher that refuses a missing
    /// label (`env!=""`). A matcher no simple value satisfies is left out
    /// (the tests of such a selector cannot be generated faithfully).
    pub fn example_labels(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for m in &self.matchers {
            let accepts = |v: &str| match m.op {
                MatchOp::Equal => v == m.value,
                MatchOp::NotEqual => v != m.value,
                MatchOp::Regex | MatchOp::NotRegex => {
                    let full = regex::Regex::new(&format!("^(?:{})$", m.value))
                        .is_ok_and(|re| re.is_match(v));
                    full == (m.op == MatchOp::Regex)
                }
            };
            if m.op != MatchOp::Equal && accepts("") {
                continue;
            }
            let literal: String = m
                .value
                .split('|')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_alphanumeric() || "-_:/".contains(*c))
                .collect();
            let candidates = [
                m.value.clone(),
                literal.clone(),
                format!("{literal}x"),
                format!("{literal}1"),
                "vigie".into(),
                "x".into(),
                "1".into(),
            ];
            if let Some(v) = candidates.into_iter().find(|v| accepts(v)) {
                out.insert(m.name.clone(), v);
            }
        }
        out
    }

    /// The labels the equality matchers fix (`job="vigie"` gives job).
    pub fn equalities(&self) -> BTreeMap<String, String> {
        self.matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal)
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut first, skip) = match &self.written {
            Some((text, n)) => {
                f.write_str(text)?;
                (text.is_empty(), *n)
            }
            None => (true, 0),
        };
        for m in &self.matchers[skip..] {
            if !first {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
            first = false;
        }
        Ok(())
    }
}

/// The value of a double-quoted string whose opening quote is already
/// consumed, and how many bytes it took with its closing quote.
fn unquote(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Parses `expr` with a real PromQL parser (`promql-parser`, which follows
/// Prometheus' grammar): what it refuses, Prometheus would refuse when
/// loading the rule. The error is the parser's, on one line.
pub fn parse_promql(expr: &str) -> Result<promql_parser::parser::Expr, String> {
    promql_parser::parser::parse(expr)
        .map_err(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A Prometheus label name.
pub fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---- Windows -----------------------------------------------------------------

/// The ranges the rules look back over: the "day" whose lowest and highest
/// free space the filesystem alerts read (a day and a bit, so a nightly
/// job that starts a little later than the night before is still seen),
/// how far back the fill forecast compares that day with, and the growth
/// of SMART counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub day_secs: u64,
    pub trend_secs: u64,
    pub growth_secs: u64,
    /// How long something seen and then gone (a vigie target, a watched
    /// path) keeps alerting.
    pub missing_secs: u64,
    /// How long a resolver must have failed at every probe before its
    /// warning (the `for:` of `dns.resolver_failing`, applied in the
    /// expression: see [`signals::dns_resolver_failing`]).
    pub resolver_failing_secs: u64,
}

/// Free bytes under which the free-space percentage may alert, at the
/// warning and critical levels: a large disk with more left than this is
/// left to the fill forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeFloor {
    pub warning_bytes: u64,
    pub critical_bytes: u64,
}

/// How a value reads the lowest or highest value of a series over a long
/// window (a day's free space, a week of a SMART counter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reads {
    /// Every raw sample of the window: `vigie check`, the dashboards.
    #[default]
    Raw,
    /// Through records: the value now, recorded at each evaluation at the
    /// head of the alerts' group from the long extremes the summary group
    /// records every [`signals::SUMMARY_STEP`] and the raw samples of the
    /// last [`signals::SUMMARY_RANGE`]; the long extremes alone for a
    /// window that ends in the past. For the alerting rules, which would
    /// otherwise read every sample of every window, often several times,
    /// at each evaluation (see [`signals::extreme_over`]).
    Recorded,
}

/// What a signal's value is computed over: which series (the selector),
/// which windows, and how long windows are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub sel: Selector,
    pub windows: Windows,
    pub free_floor: FreeFloor,
    pub reads: Reads,
}

impl Scope {
    /// `name{selector}`.
    pub fn metric(&self, name: &str) -> Expr {
        Expr::metric(name, &self.sel)
    }
}

// ---- Expressions -------------------------------------------------------------

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Lt,
    Gt,
    Ge,
    /// `< bool`: 1 or 0 instead of filtering.
    LtBool,
    And,
    Or,
    Unless,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Eq => "==",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::LtBool => "< bool",
            Op::And => "and",
            Op::Or => "or",
            Op::Unless => "unless",
        }
    }
}

/// An aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Min,
    Max,
    Sum,
    Count,
    Group,
}

impl Agg {
    fn as_str(self) -> &'static str {
        match self {
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Sum => "sum",
            Agg::Count => "count",
            Agg::Group => "group",
        }
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr(String);

impl Expr {
    /// `name{selector}`.
    pub fn metric(name: &str, sel: &Selector) -> Expr {
        Expr(format!("{name}{{{sel}}}"))
    }

    /// A number literal (`NaN` for an unset override level; tiny numbers
    /// in exponent form, `1e-9`).
    pub fn num(v: f64) -> Expr {
        Expr(if v.is_nan() {
            "NaN".into()
        } else if v != 0.0 && v.abs() < 1e-4 {
            format!("{v:e}")
        } else {
            format!("{v}")
        })
    }

    /// A string literal.
    pub fn string(s: &str) -> Expr {
        Expr(string_literal(s))
    }

    /// `self[window]`, for a selector.
    pub fn over(self, secs: u64) -> Expr {
        Expr(format!("{}[{}]", self.0, prom_duration(secs)))
    }

    /// `self offset d`, for a selector or a range.
    pub fn offset(self, secs: u64) -> Expr {
        Expr(format!("{} offset {}", self.0, prom_duration(secs)))
    }

    /// `self[$__rate_interval]`: Grafana's range for rates.
    pub fn over_rate_interval(self) -> Expr {
        Expr(format!("{}[$__rate_interval]", self.0))
    }

    /// `f(a, b)`.
    pub fn call(f: &str, args: impl IntoIterator<Item = Expr>) -> Expr {
        let args: Vec<String> = args.into_iter().map(|a| a.0).collect();
        Expr(format!("{f}({})", args.join(", ")))
    }

    /// `(self)`.
    pub fn paren(self) -> Expr {
        Expr(format!("({})", self.0))
    }

    /// `-self`.
    pub fn negated(self) -> Expr {
        Expr(format!("-{}", self.0))
    }

    /// `self op rhs`.
    pub fn bin(self, op: Op, rhs: Expr) -> Expr {
        Expr(format!("{} {} {}", self.0, op.as_str(), rhs.0))
    }

    /// `self op on(labels) rhs`.
    pub fn on<S: AsRef<str>>(self, op: Op, labels: &[S], rhs: Expr) -> Expr {
        Expr(format!(
            "{} {} on({}) {}",
            self.0,
            op.as_str(),
            label_list(labels),
            rhs.0
        ))
    }

    /// `self op on(labels) group_left() rhs`: many on the left to one on
    /// the right, keeping the left's labels.
    pub fn on_group_left<S: AsRef<str>>(self, op: Op, labels: &[S], rhs: Expr) -> Expr {
        Expr(format!(
            "{} {} on({}) group_left() {}",
            self.0,
            op.as_str(),
            label_list(labels),
            rhs.0
        ))
    }

    /// `agg by(labels) (e)`, or `agg(e)` without labels.
    pub fn agg(agg: Agg, by: &[&str], e: Expr) -> Expr {
        if by.is_empty() {
            Expr(format!("{}({})", agg.as_str(), e.0))
        } else {
            Expr(format!("{} by({}) ({})", agg.as_str(), by.join(", "), e.0))
        }
    }

    /// `agg without(labels) (e)`: keeps every other label (the selector's too).
    pub fn agg_without(agg: Agg, without: &[&str], e: Expr) -> Expr {
        Expr(format!(
            "{} without({}) ({})",
            agg.as_str(),
            without.join(", "),
            e.0
        ))
    }

    /// As [`Expr::agg`] with `e` on lines of its own (for long unions).
    pub fn agg_block(agg: Agg, by: &[&str], e: Expr) -> Expr {
        Expr(format!(
            "{} by({}) (\n{}\n)",
            agg.as_str(),
            by.join(", "),
            e.0
        ))
    }

    /// `a or b or c` on one line.
    pub fn any(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        exprs.into_iter().reduce(|a, b| a.bin(Op::Or, b))
    }

    /// `a\nor\nb`: a union, one operand per block of lines.
    pub fn union(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        exprs
            .into_iter()
            .reduce(|a, b| Expr(format!("{}\nor\n{}", a.0, b.0)))
    }

    /// `label_replace(self, "label", "value", "", "")`: sets a constant
    /// label (a `$` in `value` written `$$`, which `label_replace` would
    /// otherwise read as a capture group).
    pub fn with_label(self, label: &str, value: &str) -> Expr {
        Expr::call(
            "label_replace",
            [
                self,
                Expr::string(label),
                Expr::string(&value.replace('$', "$$")),
                Expr::string(""),
                Expr::string(""),
            ],
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// `a, b`.
fn label_list<S: AsRef<str>>(labels: &[S]) -> String {
    let names: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
    names.join(", ")
}

/// Grafana's `label_values(e, label)` (a template variable's query).
pub fn label_values(e: Expr, label: &str) -> String {
    format!("label_values({e}, {label})")
}

/// Every metric name (`vigie_...`) that `text` reads: a token scan, for
/// expressions already written out (a dashboard's queries, with Grafana's
/// variables, are not PromQL a parser takes). Strings and the label lists
/// of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`
/// hold label names, not metrics.
pub fn vigie_metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = std::collections::BTreeSet::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("vigie_") {
        let i = from + found;
        // A name starts a token: not inside another identifier.
        let before = text[..i].chars().next_back();
        let tail = &text[i..];
        let len = tail.find(|c: char| !ident(c)).unwrap_or(tail.len());
        let name = &tail[..len];
        let after = tail[len..].chars().next();
        if !before.is_some_and(ident)
            && after != Some('"')
            && !name.contains(':')
            && !in_label_list(&text[..i])
        {
            out.insert(name.to_string());
        }
        from = i + len;
    }
    out
}

/// Whether the text that follows `before` is inside the label list of a
/// grouping or matching clause: `without(`, `on(instance, `...
fn in_label_list(before: &str) -> bool {
    let Some(open) = before.rfind('(') else {
        return false;
    };
    if before[open..].contains(')') {
        return false;
    }
    let head = before[..open].trim_end();
    let word = &head[head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |k| k + 1)..];
    matches!(
        word,
        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_or_say_why() {
        for ok in [
            "job=\"vigie\"",
            " job = \"vigie\" , env!~\"test|dev\" ",
            "a=\"b\\\"c\",",
            "",
        ] {
            assert!(Selector::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("job=vigie", "must be in double quotes"),
            ("job", "expected =, !=, =~ or !~ after job"),
            ("job==\"x\"", "must be in double quotes"),
            ("9a=\"x\"", "expected a label name"),
            ("job=\"x", "not closed"),
            ("a=\"b\" c=\"d\"", "expected a comma"),
            ("a=~\"(\"", "not a valid regular expression"),
            ("job=\"\\q\"", "Prometheus would refuse it"),
            ("__name__=\"up\"", "__name__ cannot be used"),
            ("a=\"b\" or c=\"d\"", "expected a comma"),
        ] {
            let e = Selector::parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn selectors_keep_the_users_spelling_and_escape_what_is_added() {
        let s = Selector::parse("job=\"vigie\", env=\"prod\",").unwrap();
        assert_eq!(s.to_string(), "job=\"vigie\", env=\"prod\"");
        let s = s.with(Matcher::eq("path", "C:\\x \"y\""));
        assert_eq!(
            s.to_string(),
            "job=\"vigie\", env=\"prod\",path=\"C:\\\\x \\\"y\\\"\""
        );
        let e = Selector::parse("").unwrap().with(Matcher::eq("a", "b"));
        assert_eq!(e.to_string(), "a=\"b\"");
    }

    /// Values are unescaped as Prometheus does (Go's escapes).
    #[test]
    fn selector_values_are_unescaped_as_prometheus_does() {
        let s = Selector::parse("a=\"\\x41\\u00e9\\\\\"").unwrap();
        assert_eq!(s.equalities()["a"], "A\u{e9}\\");
        assert_eq!(s.to_string(), "a=\"\\x41\\u00e9\\\\\"");
    }

    #[test]
    fn example_labels_satisfy_every_matcher() {
        let s = Selector::parse("job=~\"vi.+\", env!=\"test\", team=~\"a|b\", zone!=\"\", q=\"x\"")
            .unwrap();
        let l = s.example_labels();
        assert!(
            regex::Regex::new("^vi.+$").unwrap().is_match(&l["job"]),
            "{l:?}"
        );
        assert!(!l.contains_key("env"), "a missing env is not \"test\"");
        assert_eq!(l["team"], "a");
        assert!(!l["zone"].is_empty());
        assert_eq!(l["q"], "x");
    }

    #[test]
    fn equalities_are_the_fixed_labels() {
        let s =
            Selector::parse("job=\"vi,gie\", env!=\"x\", a=~\"b\", q=\"say \\\"hi\\\"\"").unwrap();
        assert_eq!(
            s.equalities(),
            BTreeMap::from([
                ("job".to_string(), "vi,gie".to_string()),
                ("q".to_string(), "say \"hi\"".to_string()),
            ])
        );
    }

    #[test]
    fn an_alternation_matches_its_members_literally() {
        let m = Matcher::any_of("role", &["control-plane", "data.1", "a+(b)"]);
        assert_eq!(
            m.to_string(),
            "role=~\"control-plane|data\\\\.1|a\\\\+\\\\(b\\\\)\""
        );
        let re = regex::Regex::new(&format!("^(?:{})$", m.value)).unwrap();
        for yes in ["control-plane", "data.1", "a+(b)"] {
            assert!(re.is_match(yes), "{yes}");
        }
        for no in ["dataX1", "aab", "control-plane|data.1"] {
            assert!(!re.is_match(no), "{no}");
        }
    }

    #[test]
    fn metric_names_are_scanned_from_expressions() {
        let names = vigie_metric_names(
            "100 * vigie_a_bytes{job=\"vigie_x\"} / on(instance) vigie:threshold:b and ALERTS{alertname=~\"Vigie.+\"} or vigie_c[5m]",
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["vigie_a_bytes", "vigie_c"]
        );
        // Label names in grouping and matching clauses are not metrics.
        let names = vigie_metric_names(
            "min without(vigie_operand) (label_replace(vigie_d, \"vigie_operand\", \"a\", \"\", \"\") \
             or vigie_e) and on(instance, vigie_l) group_left(vigie_m) sum by (vigie_n) (vigie_f)",
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["vigie_d", "vigie_e", "vigie_f"]
        );
    }
}
