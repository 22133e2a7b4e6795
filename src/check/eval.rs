//! A small in-process PromQL evaluator: the subset the value functions of
//! [`crate::promql::signals`] write, evaluated as an instant query over the
//! samples the collectors just produced (and, for range selectors, the
//! history of the `--state` file).
//!
//! What it understands: number literals (`NaN`, `1e-9`), selectors
//! `name{l="v", l!="v", l=~"re", l!~"re"}` with an optional range `[6h]`,
//! parentheses, unary minus, the binary operators `+ - * / == != < > <= >=`
//! (filtering, or with `bool`), `and`, `or`, `unless`, `on(...)` and
//! `group_left()` matching, the aggregations `min max sum count group` with
//! `by(...)` or `without(...)`, `offset` (an instant selector with one
//! reads the history: each series' latest point in the 5m lookback), and
//! the functions `time`, `deriv`, `delta`, `rate`, `min_over_time`,
//! `max_over_time`, `clamp_max`, `clamp_min`. Anything else is an error naming what is not
//! supported, so a value function written with something new fails the
//! check's tests instead of being evaluated wrongly.
//!
//! The semantics are Prometheus' (2.x, range selectors closed on both ends):
//! arithmetic drops the metric name, one-to-one matching with `on` keeps
//! only the `on` labels, `group_left` keeps the left side's labels, a
//! filtering comparison keeps the left side's sample, `delta` and `rate`
//! extrapolate as Prometheus' `extrapolatedRate`, `deriv` is the slope of
//! the least-squares line. `tests/integration/check.rs` runs the same
//! expressions through `promtool test rules` on the same samples.

use std::collections::BTreeMap;

/// Labels of one series, `__name__` included while it has one.
pub type Labels = BTreeMap<String, String>;

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// One stored point of a series: (unix seconds, value).
pub type Point = (f64, f64);

/// The data a query reads: the current samples (at `now`) and older points
/// per series.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub now: f64,
    pub current: Vec<Sample>,
    /// Older points of each series (by its full labels, name included),
    /// ascending in time, all before `now`.
    pub history: BTreeMap<Labels, Vec<Point>>,
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(s.into()))
}

// ---- Syntax ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchOp {
    Eq,
    Ne,
    Re,
    Nre,
}

#[derive(Debug, Clone)]
struct LabelMatcher {
    name: String,
    op: MatchOp,
    value: String,
    re: Option<regex::Regex>,
}

impl LabelMatcher {
    fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Ne => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::Nre => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
    Unless,
}

impl BinOp {
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div => 5,
        }
    }
    fn is_comparison(self) -> bool {
        self.precedence() == 3
    }
    fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
}

#[derive(Debug, Clone)]
enum Node {
    Num(f64),
    Selector {
        name: String,
        matchers: Vec<LabelMatcher>,
        range: Option<f64>,
        /// `offset DURATION`, in seconds (0 without).
        offset: f64,
    },
    Neg(Box<Node>),
    Call(String, Vec<Node>),
    Agg {
        op: String,
        /// The `by` labels, or with `without` the labels dropped.
        by: Vec<String>,
        without: bool,
        arg: Box<Node>,
    },
    Bin {
        op: BinOp,
        bool_: bool,
        on: Option<Vec<String>>,
        group_left: bool,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(c) = self.s[self.i..].chars().next() {
            if c.is_whitespace() {
                self.i += c.len_utf8();
            } else {
                break;
            }
        }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.rest().starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &str) -> Result<(), EvalError> {
        if self.eat(t) {
            Ok(())
        } else {
            err(format!("expected {t:?} at {:?}", self.rest()))
        }
    }
    fn ident(&mut self) -> Option<&'a str> {
        self.ws();
        let r = self.rest();
        let n = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(r.len());
        if n == 0 || r.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        self.i += n;
        Some(&r[..n])
    }
    /// A keyword that is a whole word.
    fn keyword(&mut self, k: &str) -> bool {
        self.ws();
        let r = self.rest();
        if r.starts_with(k)
            && !r[k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            self.i += k.len();
            true
        } else {
            false
        }
    }
    fn label_list(&mut self) -> Result<Vec<String>, EvalError> {
        self.expect("(")?;
        let mut v = Vec::new();
        if self.eat(")") {
            return Ok(v);
        }
        loop {
            let n = self
                .ident()
                .ok_or_else(|| EvalError(format!("expected a label at {:?}", self.rest())))?;
            v.push(n.to_string());
            if self.eat(")") {
                return Ok(v);
            }
            self.expect(",")?;
        }
    }

    fn expr(&mut self, min_prec: u8) -> Result<Node, EvalError> {
        let mut lhs = self.unary()?;
        loop {
            self.ws();
            let ops: [(&str, BinOp); 13] = [
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
                ("+", BinOp::Add),
                ("-", BinOp::Sub),
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("and", BinOp::And),
                ("or", BinOp::Or),
                ("unless", BinOp::Unless),
            ];
            let save = self.i;
            let Some((text, op)) = ops.iter().find(|(t, _)| {
                let r = self.rest();
                r.starts_with(t)
                    && (!t.starts_with(|c: char| c.is_ascii_alphabetic())
                        || !r[t.len()..]
                            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
            }) else {
                return Ok(lhs);
            };
            if op.precedence() < min_prec {
                return Ok(lhs);
            }
            self.i += text.len();
            let bool_ = op.is_comparison() && self.keyword("bool");
            let on = if self.keyword("on") {
                Some(self.label_list()?)
            } else if self.keyword("ignoring") {
                self.i = save;
                return err("ignoring() is not supported");
            } else {
                None
            };
            let group_left = if self.keyword("group_left") {
                if !self.label_list()?.is_empty() {
                    return err("group_left with labels is not supported");
                }
                true
            } else if self.keyword("group_right") {
                return err("group_right is not supported");
            } else {
                false
            };
            // All binary operators here are left-associative.
            let rhs = self.expr(op.precedence() + 1)?;
            lhs = Node::Bin {
                op: *op,
                bool_,
                on,
                group_left,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
    }

    fn unary(&mut self) -> Result<Node, EvalError> {
        if self.eat("-") {
            // Unary minus binds tighter than * and /, as in Prometheus.
            return Ok(Node::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, EvalError> {
        self.ws();
        if self.eat("(") {
            let e = self.expr(0)?;
            self.expect(")")?;
            return Ok(e);
        }
        let r = self.rest();
        if r.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            let n = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '+' || c == '-'))
                .unwrap_or(r.len());
            // Only take +/- right after an exponent marker.
            let mut end = 0;
            let b = r.as_bytes();
            while end < n {
                let c = b[end] as char;
                if (c == '+' || c == '-') && !(end > 0 && matches!(b[end - 1], b'e' | b'E')) {
                    break;
                }
                end += 1;
            }
            let v: f64 = r[..end]
                .parse()
                .map_err(|_| EvalError(format!("bad number {:?}", &r[..end])))?;
            self.i += end;
            return Ok(Node::Num(v));
        }
        let Some(name) = self.ident() else {
            return err(format!("unexpected {:?}", self.rest()));
        };
        match name {
            "NaN" => return Ok(Node::Num(f64::NAN)),
            "Inf" => return Ok(Node::Num(f64::INFINITY)),
            "min" | "max" | "sum" | "count" | "group" => {
                let (by, without) = if self.keyword("by") {
                    (self.label_list()?, false)
                } else if self.keyword("without") {
                    (self.label_list()?, true)
                } else {
                    (Vec::new(), false)
                };
                self.expect("(")?;
                let arg = self.expr(0)?;
                self.expect(")")?;
                return Ok(Node::Agg {
                    op: name.to_string(),
                    by,
                    without,
                    arg: Box::new(arg),
                });
            }
            _ => {}
        }
        self.ws();
        if self.rest().starts_with('(') {
            self.i += 1;
            let mut args = Vec::new();
            if !self.eat(")") {
                loop {
                    args.push(self.expr(0)?);
                    if self.eat(")") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            return Ok(Node::Call(name.to_string(), args));
        }
        let mut matchers = Vec::new();
        if self.eat("{") {
            while !self.eat("}") {
                let l = self
                    .ident()
                    .ok_or_else(|| EvalError(format!("expected a label at {:?}", self.rest())))?
                    .to_string();
                self.ws();
                let op = [
                    ("=~", MatchOp::Re),
                    ("!~", MatchOp::Nre),
                    ("!=", MatchOp::Ne),
                    ("=", MatchOp::Eq),
                ]
                .into_iter()
                .find(|(t, _)| self.rest().starts_with(t))
                .ok_or_else(|| EvalError(format!("expected a matcher at {:?}", self.rest())))?;
                self.i += op.0.len();
                self.expect("\"")?;
                let value = self.string_body()?;
                let re = match op.1 {
                    MatchOp::Re | MatchOp::Nre => Some(
                        regex::Regex::new(&format!("^(?:{value})$"))
                            .map_err(|e| EvalError(format!("bad regex {value:?}: {e}")))?,
                    ),
                    _ => None,
                };
                matchers.push(LabelMatcher {
                    name: l,
                    op: op.1,
                    value,
                    re,
                });
                self.eat(",");
            }
        }
        let range = if self.eat("[") {
            let end = self
                .rest()
                .find(']')
                .ok_or_else(|| EvalError("unclosed range".into()))?;
            let d = crate::units::parse_duration(self.rest()[..end].trim())
                .map_err(|e| EvalError(format!("bad range: {e}")))?;
            self.i += end + 1;
            Some(d.as_secs_f64())
        } else {
            None
        };
        let offset = if self.eat("offset ") {
            self.ws();
            let rest = self.rest();
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let d = crate::units::parse_duration(&rest[..end])
                .map_err(|e| EvalError(format!("bad offset: {e}")))?;
            self.i += end;
            d.as_secs_f64()
        } else {
            0.0
        };
        Ok(Node::Selector {
            name: name.to_string(),
            matchers,
            range,
            offset,
        })
    }

    /// The body of a double-quoted string whose quote is consumed.
    fn string_body(&mut self) -> Result<String, EvalError> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.i += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|x| x.1) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(o) => out.push(o),
                    None => break,
                },
                c => out.push(c),
            }
        }
        err("unclosed string")
    }
}

fn parse(text: &str) -> Result<Node, EvalError> {
    let mut p = Parser { s: text, i: 0 };
    let n = p.expr(0)?;
    p.ws();
    if !p.rest().is_empty() {
        return err(format!("unexpected {:?}", p.rest()));
    }
    Ok(n)
}

// ---- Evaluation --------------------------------------------------------------

#[derive(Debug, Clone)]
enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
    /// Series with their points within the range, ascending.
    Matrix(Vec<(Labels, Vec<Point>)>),
}

/// Evaluates `expr` at `data.now`: an instant vector (a scalar result is
/// given as one sample without labels).
pub fn eval(expr: &str, data: &Data) -> Result<Vec<Sample>, EvalError> {
    let node = parse(expr).map_err(|e| EvalError(format!("{e} (in {expr})")))?;
    match eval_node(&node, data)? {
        Value::Scalar(v) => Ok(vec![Sample {
            labels: Labels::new(),
            value: v,
        }]),
        Value::Vector(v) => Ok(v),
        Value::Matrix(_) => err("a range vector cannot be the result"),
    }
}

/// How far back an instant selector looks for a series' latest sample
/// (Prometheus' default `--query.lookback-delta`).
const LOOKBACK_DELTA: f64 = 300.0;

/// How far back `expr` reads, in seconds: the largest range plus offset of
/// its range selectors, or offset plus the lookback of its instant
/// selectors with an offset (0 without any).
pub fn lookback(expr: &str) -> Result<f64, EvalError> {
    fn walk(n: &Node) -> f64 {
        match n {
            Node::Selector {
                range: Some(r),
                offset,
                ..
            } => r + offset,
            Node::Selector { offset, .. } if *offset > 0.0 => offset + LOOKBACK_DELTA,
            Node::Num(_) | Node::Selector { .. } => 0.0,
            Node::Neg(a) => walk(a),
            Node::Call(_, args) => args.iter().map(walk).fold(0.0, f64::max),
            Node::Agg { arg, .. } => walk(arg),
            Node::Bin { lhs, rhs, .. } => walk(lhs).max(walk(rhs)),
        }
    }
    Ok(walk(&parse(expr)?))
}

/// The metric names `expr` reads through range selectors or an offset
/// (the series the history must keep).
pub fn range_metrics(expr: &str) -> Result<Vec<String>, EvalError> {
    fn walk(n: &Node, out: &mut Vec<String>) {
        match n {
            Node::Selector {
                name,
                range: Some(_),
                ..
            } => out.push(name.clone()),
            Node::Selector { name, offset, .. } if *offset > 0.0 => out.push(name.clone()),
            Node::Num(_) | Node::Selector { .. } => {}
            Node::Neg(a) => walk(a, out),
            Node::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            Node::Agg { arg, .. } => walk(arg, out),
            Node::Bin { lhs, rhs, .. } => {
                walk(lhs, out);
                walk(rhs, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&parse(expr)?, &mut out);
    out.sort();
    out.dedup();
    Ok(out)
}

/// The labels as Prometheus stores them: a label with an empty value is
/// no label.
fn scraped(l: &Labels) -> Labels {
    l.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn selects(labels: &Labels, name: &str, matchers: &[LabelMatcher]) -> bool {
    labels.get("__name__").map(String::as_str) == Some(name)
        && matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).map_or("", String::as_str)))
}

fn drop_name(mut l: Labels) -> Labels {
    l.remove("__name__");
    l
}

fn eval_node(n: &Node, d: &Data) -> Result<Value, EvalError> {
    Ok(match n {
        Node::Num(v) => Value::Scalar(*v),
        Node::Selector {
            name,
            matchers,
            range: None,
            offset,
        } if *offset > 0.0 => {
            // Each series' latest point within the lookback before
            // `now - offset`, from the history.
            let end = d.now - offset;
            Value::Vector(
                d.history
                    .iter()
                    .filter(|(l, _)| selects(l, name, matchers))
                    .filter_map(|(l, h)| {
                        h.iter()
                            .filter(|(t, _)| *t <= end && *t >= end - LOOKBACK_DELTA)
                            .max_by(|a, b| a.0.total_cmp(&b.0))
                            .map(|&(_, value)| Sample {
                                labels: scraped(l),
                                value,
                            })
                    })
                    .collect(),
            )
        }
        Node::Selector {
            name,
            matchers,
            range: None,
            ..
        } => Value::Vector(
            d.current
                .iter()
                .filter(|s| selects(&s.labels, name, matchers))
                .map(|s| Sample {
                    labels: scraped(&s.labels),
                    value: s.value,
                })
                .collect(),
        ),
        Node::Selector {
            name,
            matchers,
            range: Some(r),
            offset,
        } => {
            // Closed on both ends, `offset` earlier; the current sample is
            // the point at `now`.
            let end = d.now - offset;
            let start = end - r;
            let mut out = Vec::new();
            for s in d
                .current
                .iter()
                .filter(|s| selects(&s.labels, name, matchers))
            {
                let mut pts: Vec<Point> = d
                    .history
                    .get(&s.labels)
                    .map(|h| {
                        h.iter()
                            .copied()
                            .filter(|(t, _)| *t >= start && *t <= end && *t < d.now)
                            .collect()
                    })
                    .unwrap_or_default();
                if *offset == 0.0 {
                    pts.push((d.now, s.value));
                }
                out.push((scraped(&s.labels), pts));
            }
            Value::Matrix(out)
        }
        Node::Neg(a) => match eval_node(a, d)? {
            Value::Scalar(v) => Value::Scalar(-v),
            Value::Vector(v) => Value::Vector(
                v.into_iter()
                    .map(|s| Sample {
                        labels: drop_name(s.labels),
                        value: -s.value,
                    })
                    .collect(),
            ),
            Value::Matrix(_) => return err("unary minus of a range vector"),
        },
        Node::Call(f, args) => call(f, args, d)?,
        Node::Agg {
            op,
            by,
            without,
            arg,
        } => {
            let Value::Vector(v) = eval_node(arg, d)? else {
                return err(format!("{op}() needs an instant vector"));
            };
            let mut groups: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
            for s in v {
                let key: Labels = s
                    .labels
                    .into_iter()
                    .filter(|(k, _)| {
                        if *without {
                            k != "__name__" && !by.contains(k)
                        } else {
                            by.contains(k)
                        }
                    })
                    .collect();
                groups.entry(key).or_default().push(s.value);
            }
            Value::Vector(
                groups
                    .into_iter()
                    .map(|(labels, vals)| {
                        let value = match op.as_str() {
                            "sum" => vals.iter().sum(),
                            "count" => vals.len() as f64,
                            "group" => 1.0,
                            // Prometheus: NaN only when every value is NaN.
                            "max" => vals
                                .iter()
                                .copied()
                                .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a }),
                            _ => vals
                                .iter()
                                .copied()
                                .fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a }),
                        };
                        Sample { labels, value }
                    })
                    .collect(),
            )
        }
        Node::Bin {
            op,
            bool_,
            on,
            group_left,
            lhs,
            rhs,
        } => binary(
            *op,
            *bool_,
            on.as_deref(),
            *group_left,
            eval_node(lhs, d)?,
            eval_node(rhs, d)?,
        )?,
    })
}

fn call(f: &str, args: &[Node], d: &Data) -> Result<Value, EvalError> {
    let vals: Vec<Value> = args
        .iter()
        .map(|a| eval_node(a, d))
        .collect::<Result<_, _>>()?;
    let matrix = |name: &str| -> Result<&Vec<(Labels, Vec<Point>)>, EvalError> {
        match vals.as_slice() {
            [Value::Matrix(m)] => Ok(m),
            _ => err(format!("{name}() needs one range vector")),
        }
    };
    let range_of = |name: &str| -> Result<f64, EvalError> {
        match args {
            [
                Node::Selector {
                    range: Some(r),
                    offset,
                    ..
                },
            ] if *offset == 0.0 => Ok(*r),
            _ => err(format!("{name}() needs a range selector")),
        }
    };
    let per_series = |m: &Vec<(Labels, Vec<Point>)>, g: &dyn Fn(&[Point]) -> Option<f64>| {
        Value::Vector(
            m.iter()
                .filter_map(|(l, pts)| {
                    g(pts).map(|value| Sample {
                        labels: drop_name(l.clone()),
                        value,
                    })
                })
                .collect(),
        )
    };
    Ok(match f {
        "time" if args.is_empty() => Value::Scalar(d.now),
        "deriv" => per_series(matrix(f)?, &deriv),
        "min_over_time" => per_series(matrix(f)?, &|p: &[Point]| {
            p.iter().map(|(_, v)| *v).reduce(f64::min)
        }),
        "max_over_time" => per_series(matrix(f)?, &|p: &[Point]| {
            p.iter().map(|(_, v)| *v).reduce(f64::max)
        }),
        "last_over_time" => per_series(matrix(f)?, &|p: &[Point]| p.last().map(|(_, v)| *v)),
        "delta" | "rate" => {
            let r = range_of(f)?;
            let (start, end) = (d.now - r, d.now);
            let is_rate = f == "rate";
            per_series(matrix(f)?, &|p: &[Point]| {
                extrapolated_rate(p, start, end, is_rate, is_rate)
            })
        }
        "clamp_max" | "clamp_min" => match vals.as_slice() {
            [Value::Vector(v), Value::Scalar(c)] => Value::Vector(
                v.iter()
                    .map(|s| Sample {
                        labels: drop_name(s.labels.clone()),
                        value: if f == "clamp_max" {
                            s.value.min(*c)
                        } else {
                            s.value.max(*c)
                        },
                    })
                    .collect(),
            ),
            _ => return err(format!("{f}() needs a vector and a number")),
        },
        _ => return err(format!("function {f}() is not supported")),
    })
}

/// The least-squares slope per second (Prometheus' `deriv`); None under two points.
pub fn deriv(p: &[Point]) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    // Times relative to the first point, as Prometheus does, for precision.
    let t0 = p[0].0;
    let n = p.len() as f64;
    let (mut sx, mut sy, mut sxy, mut sxx) = (0.0, 0.0, 0.0, 0.0);
    for (t, v) in p {
        let x = t - t0;
        sx += x;
        sy += v;
        sxy += x * v;
        sxx += x * x;
    }
    let cov = sxy - sx * sy / n;
    let var = sxx - sx * sx / n;
    if var == 0.0 {
        return Some(0.0);
    }
    Some(cov / var)
}

/// Prometheus' `extrapolatedRate` (delta, or rate of a counter).
fn extrapolated_rate(p: &[Point], start: f64, end: f64, counter: bool, rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (first, last) = (p[0], p[p.len() - 1]);
    let mut result = last.1 - first.1;
    if counter {
        for w in p.windows(2) {
            if w[1].1 < w[0].1 {
                result += w[0].1;
            }
        }
    }
    let mut to_start = first.0 - start;
    let mut to_end = end - last.0;
    let sampled = last.0 - first.0;
    let avg = sampled / (p.len() - 1) as f64;
    let threshold = avg * 1.1;
    let mut interval = sampled;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    interval += to_start;
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    interval += to_end;
    let mut factor = interval / sampled;
    if rate {
        factor /= end - start;
    }
    Some(result * factor)
}

fn arith(op: BinOp, a: f64, b: f64) -> Option<f64> {
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Eq => return Some(f64::from(u8::from(a == b))),
        BinOp::Ne => return Some(f64::from(u8::from(a != b))),
        BinOp::Lt => return Some(f64::from(u8::from(a < b))),
        BinOp::Gt => return Some(f64::from(u8::from(a > b))),
        BinOp::Le => return Some(f64::from(u8::from(a <= b))),
        BinOp::Ge => return Some(f64::from(u8::from(a >= b))),
        BinOp::And | BinOp::Or | BinOp::Unless => return None,
    })
}

/// `lhs op rhs` for two numbers, a vector and a number, or two vectors.
fn binary(
    op: BinOp,
    bool_: bool,
    on: Option<&[String]>,
    group_left: bool,
    lhs: Value,
    rhs: Value,
) -> Result<Value, EvalError> {
    let cmp = op.is_comparison();
    // The value of one pair: None drops the sample (a false filter).
    let pair = |a: f64, b: f64, keep: f64| -> Option<f64> {
        let r = arith(op, a, b)?;
        if cmp && !bool_ {
            (r == 1.0).then_some(keep)
        } else {
            Some(r)
        }
    };
    let drops_name = !cmp || bool_;
    let relabel = |l: &Labels| {
        if drops_name {
            drop_name(l.clone())
        } else {
            l.clone()
        }
    };
    match (lhs, rhs) {
        (Value::Scalar(a), Value::Scalar(b)) => {
            if cmp && !bool_ {
                return err("comparison of two numbers needs bool");
            }
            Ok(Value::Scalar(arith(op, a, b).unwrap_or(f64::NAN)))
        }
        (Value::Vector(v), Value::Scalar(b)) if !op.is_set() => Ok(Value::Vector(
            v.iter()
                .filter_map(|s| {
                    pair(s.value, b, s.value).map(|value| Sample {
                        labels: relabel(&s.labels),
                        value,
                    })
                })
                .collect(),
        )),
        (Value::Scalar(a), Value::Vector(v)) if !op.is_set() => Ok(Value::Vector(
            v.iter()
                .filter_map(|s| {
                    pair(a, s.value, s.value).map(|value| Sample {
                        labels: relabel(&s.labels),
                        value,
                    })
                })
                .collect(),
        )),
        (Value::Vector(l), Value::Vector(r)) => {
            let sig = |labels: &Labels| -> Labels {
                match on {
                    Some(on) => labels
                        .iter()
                        .filter(|(k, _)| on.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    None => drop_name(labels.clone()),
                }
            };
            let mut right: BTreeMap<Labels, Vec<&Sample>> = BTreeMap::new();
            for s in &r {
                right.entry(sig(&s.labels)).or_default().push(s);
            }
            match op {
                BinOp::And => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|s| right.contains_key(&sig(&s.labels)))
                        .collect(),
                )),
                BinOp::Unless => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|s| !right.contains_key(&sig(&s.labels)))
                        .collect(),
                )),
                BinOp::Or => {
                    let left: std::collections::BTreeSet<Labels> =
                        l.iter().map(|s| sig(&s.labels)).collect();
                    let mut out = l;
                    out.extend(r.into_iter().filter(|s| !left.contains(&sig(&s.labels))));
                    Ok(Value::Vector(out))
                }
                _ => {
                    let mut out = Vec::new();
                    let mut seen_left: BTreeMap<Labels, usize> = BTreeMap::new();
                    for s in &l {
                        let key = sig(&s.labels);
                        let Some(rs) = right.get(&key) else { continue };
                        if rs.len() > 1 {
                            return err(
                                "many-to-many matching: several series on the right side match",
                            );
                        }
                        if !group_left {
                            let c = seen_left.entry(key).or_default();
                            *c += 1;
                            if *c > 1 {
                                return err("many-to-one matching needs group_left");
                            }
                        }
                        let Some(value) = pair(s.value, rs[0].value, s.value) else {
                            continue;
                        };
                        let mut labels = relabel(&s.labels);
                        if !group_left && let Some(on) = on {
                            labels.retain(|k, _| on.contains(k));
                        }
                        out.push(Sample { labels, value });
                    }
                    Ok(Value::Vector(out))
                }
            }
        }
        _ => err("unsupported operand types"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    /// The values `e` gives on `d`, in order.
    fn values_of(e: &str, d: &Data) -> Vec<f64> {
        eval(e, d).unwrap().iter().map(|x| x.value).collect()
    }

    /// An instant selector with `offset` takes each series' latest point
    /// within the 5m lookback before `now - offset`, from the history.
    #[test]
    fn instant_offset_reads_the_latest_point_in_the_lookback() {
        let l = s(&[("__name__", "a"), ("m", "/")], 0.0).labels;
        let d = Data {
            now: 1000.0,
            current: vec![s(&[("__name__", "a"), ("m", "/")], 7.0)],
            history: BTreeMap::from([(l, vec![(500.0, 1.0), (600.0, 2.0), (800.0, 3.0)])]),
        };
        let at = |e: &str| values_of(e, &d);
        assert_eq!(at("a offset 5m"), vec![2.0]);
        assert_eq!(at("a offset 3m"), vec![3.0]);
        assert_eq!(at("a offset 8m"), vec![1.0]);
        assert_eq!(at("a offset 16m"), Vec::<f64>::new());
        assert_eq!(lookback("a offset 5m").unwrap(), 600.0);
        assert_eq!(range_metrics("a offset 5m").unwrap(), vec!["a".to_string()]);
    }

    /// `last_over_time` takes the newest point of the range: the current
    /// reading when there is one, the history's newest otherwise.
    #[test]
    fn last_over_time_takes_the_newest_point() {
        let l = s(&[("__name__", "a"), ("m", "/")], 0.0).labels;
        let d = Data {
            now: 1000.0,
            current: vec![s(&[("__name__", "a"), ("m", "/")], 7.0)],
            history: BTreeMap::from([(l, vec![(800.0, 3.0), (900.0, 9.0)])]),
        };
        assert_eq!(values_of("last_over_time(a[5m])", &d), vec![7.0]);
        assert_eq!(values_of("max_over_time(a[5m])", &d), vec![9.0]);
    }

    fn data() -> Data {
        Data {
            now: 1000.0,
            current: vec![
                s(&[("__name__", "a"), ("m", "/"), ("i", "h")], 10.0),
                s(&[("__name__", "a"), ("m", "/srv"), ("i", "h")], 30.0),
                s(&[("__name__", "b"), ("m", "/"), ("i", "h")], 100.0),
                s(&[("__name__", "b"), ("m", "/srv"), ("i", "h")], 60.0),
                s(
                    &[("__name__", "info"), ("m", "/"), ("i", "h"), ("p", "/x")],
                    1.0,
                ),
                s(
                    &[("__name__", "info"), ("m", "/"), ("i", "h"), ("p", "/y")],
                    1.0,
                ),
            ],
            history: BTreeMap::new(),
        }
    }

    fn values(e: &str) -> Vec<(String, f64)> {
        eval(e, &data())
            .unwrap()
            .into_iter()
            .map(|s| {
                (
                    s.labels.get("m").cloned().unwrap_or_default()
                        + s.labels.get("p").map_or("", |p| p),
                    s.value,
                )
            })
            .collect()
    }

    #[test]
    fn arithmetic_matching_and_filters() {
        assert_eq!(
            values("100 * a{i=\"h\"} / b{i=\"h\"}"),
            [("/".into(), 10.0), ("/srv".into(), 50.0)]
        );
        assert_eq!(values("100 * a / b < 20"), [("/".into(), 10.0)]);
        assert_eq!(
            values("a < bool 20"),
            [("/".into(), 1.0), ("/srv".into(), 0.0)]
        );
        assert_eq!(values("-a"), [("/".into(), -10.0), ("/srv".into(), -30.0)]);
        assert_eq!(
            values("2 - -a"),
            [("/".into(), 12.0), ("/srv".into(), 32.0)]
        );
        assert_eq!(
            values("(a) unless on(i, m) info{p=~\"/x|/z\"}"),
            [("/srv".into(), 30.0)]
        );
        assert_eq!(values("a and on(m) (b > 80)"), [("/".into(), 10.0)]);
        assert_eq!(
            values("info * on(i, m) group_left() (a)"),
            [("//x".into(), 10.0), ("//y".into(), 10.0)]
        );
        assert_eq!(values("max by(i) (a)").len(), 1);
        assert_eq!(eval("max by(i) (a)", &data()).unwrap()[0].value, 30.0);
        assert_eq!(
            values("clamp_max(a, 20)"),
            [("/".into(), 10.0), ("/srv".into(), 20.0)]
        );
        assert_eq!(values("(time() - a) / 10")[0].1, 99.0);
        assert_eq!(
            values("a > 15 or b"),
            [("/srv".into(), 30.0), ("/".into(), 100.0)]
        );
        assert_eq!(values("1e-9 * 0 + a == 10"), [("/".into(), 10.0)]);
    }

    #[test]
    fn unsupported_is_an_error() {
        for bad in ["absent(a)", "a / ignoring(m) b", "a +", "a{m=\"x}"] {
            assert!(eval(bad, &data()).is_err(), "{bad}");
        }
        assert!(
            eval("info / on(i) a", &data())
                .unwrap_err()
                .0
                .contains("many")
        );
    }

    #[test]
    fn range_functions() {
        let mut d = data();
        let key = d.current[0].labels.clone();
        d.history
            .insert(key, vec![(400.0, 70.0), (600.0, 50.0), (800.0, 30.0)]);
        let r = eval("deriv(a[10m])", &d).unwrap();
        assert_eq!(r.len(), 1, "one series has history");
        assert!((r[0].value + 0.1).abs() < 1e-12, "{r:?}");
        let r = eval("deriv(a[5m])", &d).unwrap();
        assert!((r[0].value + 0.1).abs() < 1e-12);
        assert!(eval("deriv(a[1m])", &d).unwrap().is_empty());
        // delta over 10m: 60 over 600s sampled, start 0s away, end 0s: no extrapolation.
        let r = eval("delta(a[10m])", &d).unwrap();
        assert!((r[0].value + 60.0).abs() < 1e-9, "{r:?}");
        assert_eq!(
            range_metrics("deriv(a[5m]) and b and rate(c[1m])").unwrap(),
            ["a", "c"]
        );
    }
}
