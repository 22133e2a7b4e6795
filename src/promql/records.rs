//! The records the alerting rules read long windows through: the
//! 15-minute summaries and the long extremes the summary group records
//! every 10 minutes, and the values now each alert group records at its
//! head ([`RecordedExtreme`]); and [`extreme_over`], the lowest or highest
//! of a series over a window, read raw or through them.

use super::{Agg, Expr, Op, Reads, Scope};

/// Seconds between two evaluations of the summary group, which records the
/// lows and highs the alerting rules read over long windows: 156 points
/// per 26 hours instead of 6,240 samples at a 15 s scrape interval.
pub const SUMMARY_STEP: u64 = 600;

/// The range each summary reads: its step and 5 minutes more, so that a
/// late evaluation or a short Prometheus restart leaves no sample unread
/// between two summaries.
pub const SUMMARY_RANGE: u64 = 900;

/// The lowest or the highest value over a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Extreme {
    Min,
    Max,
}

impl Extreme {
    fn function(self) -> &'static str {
        match self {
            Extreme::Min => "min_over_time",
            Extreme::Max => "max_over_time",
        }
    }
}

/// How far back the alerting rules look for the latest long extremes
/// ([`long_metric`]), recorded every [`SUMMARY_STEP`]: a step and 5
/// minutes more, so a late evaluation, a short Prometheus restart or
/// vmalert's write-then-read lag still finds one. The raw tail read beside
/// it covers as long, so no sample falls between the two.
pub const RECORDED_LOOKBACK: u64 = SUMMARY_RANGE;

/// One series the summary group records: the lowest or highest of
/// `metric` over `range` seconds; settled, only once the summaries cover
/// the older half of the range (see [`extreme_over_settled`]). A range of
/// [`SUMMARY_RANGE`] is a summary (read raw); a longer one a long extreme
/// (read through the summaries).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordedExtreme {
    pub metric: String,
    pub e: Extreme,
    pub range: u64,
    pub settled: bool,
    /// The value now, recorded at every evaluation at the head of the
    /// alerts' group (the long extreme and the raw tail since), where the
    /// others are recorded every [`SUMMARY_STEP`] by the summary group.
    pub now: bool,
}

impl RecordedExtreme {
    /// Its series' name: `vigie_filesystem_avail_bytes:min_over_time_15m`,
    /// `vigie_filesystem_avail_bytes:max_over_time_26h_settled`.
    pub fn name(&self) -> String {
        format!(
            "{}:{}_{}{}{}",
            self.metric,
            self.e.function(),
            crate::units::prom_duration(self.range),
            if self.settled { "_settled" } else { "" },
            if self.now { "_now" } else { "" }
        )
    }

    /// The record a name written by [`RecordedExtreme::name`] stands for.
    pub fn parse(name: &str) -> Option<RecordedExtreme> {
        let (metric, rest) = name.split_once(':')?;
        let (e, rest) = [Extreme::Min, Extreme::Max].into_iter().find_map(|e| {
            rest.strip_prefix(e.function())
                .and_then(|r| r.strip_prefix('_'))
                .map(|r| (e, r))
        })?;
        let (rest, now) = match rest.strip_suffix("_now") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        let (dur, settled) = match rest.strip_suffix("_settled") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        let range = crate::units::parse_duration(dur).ok()?.as_secs();
        let r = RecordedExtreme {
            metric: metric.to_string(),
            e,
            range,
            settled,
            now,
        };
        // Only the names this module writes.
        (range >= SUMMARY_RANGE && r.name() == name && (range > SUMMARY_RANGE || !(settled || now)))
            .then_some(r)
    }

    /// A 15-minute summary.
    pub fn is_summary(&self) -> bool {
        self.range == SUMMARY_RANGE
    }

    /// Recorded every [`SUMMARY_STEP`] by the summary group (not a value
    /// now).
    pub fn in_summary_group(&self) -> bool {
        !self.now
    }

    /// The long extreme a value now is read from.
    fn long(&self) -> RecordedExtreme {
        RecordedExtreme {
            now: false,
            ..self.clone()
        }
    }

    /// The expression that records it. A summary: the raw lowest (highest)
    /// over [`SUMMARY_RANGE`]. A long extreme: the more extreme of the
    /// summaries over the range (each covers the [`SUMMARY_RANGE`] before
    /// it) and of the raw samples of the last [`SUMMARY_RANGE`] (those the
    /// summary of this same evaluation covers: on vmalert, which sees a
    /// record only once written and read back, that one is not visible
    /// yet), either alone when the other has none (a new series, a gap).
    /// Settled: nothing while no summary is older than half the range.
    pub fn expr(&self, s: &Scope) -> Expr {
        let e = self.e;
        let recent = Expr::call(e.function(), [s.metric(&self.metric).over(SUMMARY_RANGE)]);
        if self.is_summary() {
            return recent;
        }
        if self.now {
            // The long extremes recorded over the lookback, and the raw
            // tail.
            let long = Expr::call(
                e.function(),
                [Expr::metric(&self.long().name(), &s.sel).over(RECORDED_LOOKBACK)],
            );
            return either(e, long, recent);
        }
        let summaries = || Expr::metric(&summary_metric(&self.metric, e), &s.sel);
        let recorded = Expr::call(e.function(), [summaries().over(self.range)]);
        let v = either(e, recorded, recent);
        if !self.settled {
            return v;
        }
        let half = self.range / 2;
        let settled = Expr::call(
            "last_over_time",
            [summaries().over(self.range - half).offset(half)],
        );
        v.bin(Op::And, settled).paren()
    }
}

/// The label that keeps [`either`]'s two operands apart until they are
/// aggregated.
const OPERAND_LABEL: &str = "vigie_operand";

/// The more extreme of `a` and `b` for each series, or either alone when
/// the other has no value for it: `min without(vigie_operand)
/// (label_replace(a, "vigie_operand", "a", "", "") or b)`, which reads each
/// operand once (`a < b or b or a` read both twice, and PromQL reads every
/// operand it is given: the raw tail is most of what the rules read).
fn either(e: Extreme, a: Expr, b: Expr) -> Expr {
    let agg = match e {
        Extreme::Min => Agg::Min,
        Extreme::Max => Agg::Max,
    };
    Expr::agg_without(
        agg,
        &[OPERAND_LABEL],
        a.with_label(OPERAND_LABEL, "a").bin(Op::Or, b),
    )
}

/// The name of the recorded lows (highs) of `metric` over
/// [`SUMMARY_RANGE`]: `vigie_filesystem_avail_bytes:min_over_time_15m`.
pub fn summary_metric(metric: &str, e: Extreme) -> String {
    RecordedExtreme {
        metric: metric.to_string(),
        e,
        range: SUMMARY_RANGE,
        settled: false,
        now: false,
    }
    .name()
}

/// The name of the recorded lowest (highest) of `metric` over `range`
/// (settled or not): recorded every [`SUMMARY_STEP`] from the summaries,
/// or (`now`) at every evaluation from those and the raw tail.
pub fn long_metric(metric: &str, e: Extreme, range: u64, settled: bool, now: bool) -> String {
    RecordedExtreme {
        metric: metric.to_string(),
        e,
        range,
        settled,
        now,
    }
    .name()
}

/// The recorded series `text` (expressions already written out) reads, by
/// name.
pub fn recorded_read(text: &str) -> std::collections::BTreeSet<RecordedExtreme> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter_map(RecordedExtreme::parse)
        .collect()
}

/// `metric`'s lowest (`Min`) or highest (`Max`) value over `range`
/// seconds ending `offset` seconds ago.
///
/// With [`Reads::Raw`], every raw sample of the range. With
/// [`Reads::Recorded`] and no offset, the value now recorded at the head
/// of the alerts' group (at each evaluation, once for all the alerts that
/// read it): the more extreme of the long extremes the summary group
/// recorded over the last [`RECORDED_LOOKBACK`] (every [`SUMMARY_STEP`]:
/// one or two of them) and of the raw samples of the last
/// [`SUMMARY_RANGE`] (those they may not cover yet: a sudden fill is not
/// delayed), either alone when the other has none (a new series, the
/// first minutes after the rules are loaded). That covers the same range
/// extended by 5 to 40 minutes at its old end, never less, so a low or
/// high leaves the window up to 40 minutes later and none is ever missed.
/// (`min_over_time`/`max_over_time` of the long extremes rather than
/// `last_over_time`, which keeps the metric name in Prometheus and drops
/// it in VictoriaMetrics: the value has no name on either.) With an
/// offset, the long extremes recorded in the [`RECORDED_LOOKBACK`] before
/// then, alone: the range ends up to that much earlier (a day's high
/// three days ago, for a trend), and there is none until the rules have
/// run that long. Ranges no longer than [`SUMMARY_RANGE`] are read raw
/// either way.
pub fn extreme_over(s: &Scope, metric: &str, e: Extreme, range: u64, offset: u64) -> Expr {
    let shifted = |x: Expr| if offset > 0 { x.offset(offset) } else { x };
    if s.reads == Reads::Raw || range <= SUMMARY_RANGE {
        return Expr::call(e.function(), [shifted(s.metric(metric).over(range))]);
    }
    if offset > 0 {
        return Expr::call(
            e.function(),
            [shifted(
                Expr::metric(&long_metric(metric, e, range, false, false), &s.sel)
                    .over(RECORDED_LOOKBACK),
            )],
        );
    }
    Expr::metric(&long_metric(metric, e, range, false, true), &s.sel)
}

/// [`extreme_over`] (offset 0) that gives nothing while the summaries are
/// younger than half the range (the first hours after the rules are
/// loaded, when they cover only part of it), for a value that a partial
/// range would make worse than it is. The summaries' age is read from the
/// older half of the range (any summary there), so a Prometheus outage
/// shorter than half the range does not silence it later. Through the
/// records: the settled long extreme must exist (the raw tail alone gives
/// nothing).
pub fn extreme_over_settled(s: &Scope, metric: &str, e: Extreme, range: u64) -> Expr {
    if s.reads == Reads::Raw || range <= SUMMARY_RANGE {
        return extreme_over(s, metric, e, range, 0);
    }
    // The value now where the settled long extreme was recorded lately:
    // equal to the long extreme whenever that exists, so the value now is
    // this one's (never the raw tail alone).
    let settled = Expr::call(
        e.function(),
        [
            Expr::metric(&long_metric(metric, e, range, true, false), &s.sel)
                .over(RECORDED_LOOKBACK),
        ],
    );
    extreme_over(s, metric, e, range, 0)
        .bin(Op::And, settled)
        .paren()
}
