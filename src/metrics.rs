//! The snapshot model: what a collector gathers, before any encoding.
//!
//! Collectors never touch an encoder. They fill a [`Families`] value, through
//! the descriptors of [`crate::schema`], which the
//! runner keeps as the collector's last snapshot; a scrape joins the snapshots
//! and hands them to [`crate::expo`], which writes the Prometheus text format
//! or OpenMetrics. Keeping gathering and encoding apart is what lets slow
//! collectors refresh in the background while scrapes stay fast.

use crate::schema::Desc;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    /// A monotonically increasing total. The family name carries no `_total`
    /// suffix; both encoders add it to the sample name.
    Counter,
    /// Observations in buckets; samples live in [`Family::histograms`].
    Histogram,
}

/// The unit of a family, when it has one. The family name must end with
/// `_<unit>` (e.g. `vigie_filesystem_size_bytes`), as OpenMetrics requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Seconds => "seconds",
        }
    }
}

/// One sample: its labels (in order) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// One histogram: per-bucket (not cumulative) counts for each finite upper
/// bound, then the `+Inf` bucket, with the sum and count of observations.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    pub labels: Vec<(&'static str, String)>,
    /// Finite upper bounds, ascending.
    pub bounds: Vec<f64>,
    /// `bounds.len() + 1` counts; the last is the `+Inf` bucket.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// A histogram being filled (kept by collectors between runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
        self.count += 1;
    }

    /// The histogram as a sample with these labels.
    pub fn sample(&self, labels: &[(&'static str, &str)]) -> HistogramSample {
        HistogramSample {
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
            bounds: self.bounds.to_vec(),
            counts: self.counts.clone(),
            sum: self.sum,
            count: self.count,
        }
    }
}

/// A metric family: its declaration in the schema, and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub desc: &'static Desc,
    pub samples: Vec<Sample>,
    /// Samples of a [`Kind::Histogram`] family.
    pub histograms: Vec<HistogramSample>,
}

impl Family {
    /// Checks, in debug builds, that `labels` are the declared label names,
    /// in order.
    fn check_labels(&self, labels: &[(&'static str, &str)]) {
        debug_assert!(
            labels.len() == self.desc.labels.len()
                && labels
                    .iter()
                    .zip(self.desc.labels)
                    .all(|((k, _), d)| k == d),
            "{}: labels {:?} given, {:?} declared",
            self.desc.name,
            labels.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            self.desc.labels
        );
    }

    /// True when the family has no sample (encoders skip it).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.histograms.is_empty()
    }

    /// Adds a sample when there is a value (a field the source did not
    /// provide leaves no series).
    pub fn sample_some(
        &mut self,
        labels: &[(&'static str, &str)],
        value: Option<f64>,
    ) -> &mut Self {
        match value {
            Some(v) => self.sample(labels, v),
            None => self,
        }
    }

    /// Adds a sample. Label values are copied; label names must be the
    /// declared ones (checked in debug builds).
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Self {
        debug_assert!(self.desc.kind != Kind::Histogram, "{}", self.desc.name);
        self.check_labels(labels);
        self.samples.push(Sample {
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
            value,
        });
        self
    }

    /// Adds a histogram sample (label names checked as for [`Self::sample`]).
    pub fn histogram(&mut self, h: HistogramSample) -> &mut Self {
        debug_assert!(self.desc.kind == Kind::Histogram, "{}", self.desc.name);
        let labels: Vec<(&'static str, &str)> =
            h.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.check_labels(&labels);
        self.histograms.push(h);
        self
    }
}

/// An ordered set of metric families, as gathered by one collector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Families {
    families: Vec<Family>,
}

impl Families {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the family `desc` declares, creating it (empty) if this is
    /// its first use.
    ///
    /// Declaring a family that ends up with no sample is harmless: encoders
    /// skip empty families.
    pub fn family(&mut self, desc: &'static Desc) -> &mut Family {
        if let Some(i) = self.families.iter().position(|f| f.desc.name == desc.name) {
            debug_assert_eq!(self.families[i].desc, desc, "two declarations of one name");
            return &mut self.families[i];
        }
        self.families.push(Family {
            desc,
            samples: Vec::new(),
            histograms: Vec::new(),
        });
        self.families.last_mut().expect("just pushed")
    }

    /// Appends every family of `other`, merging samples into families of the
    /// same name.
    pub fn extend(&mut self, other: &Families) {
        for f in &other.families {
            if let Some(mine) = self
                .families
                .iter_mut()
                .find(|m| m.desc.name == f.desc.name)
            {
                mine.samples.extend(f.samples.iter().cloned());
                mine.histograms.extend(f.histograms.iter().cloned());
            } else {
                self.families.push(f.clone());
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Family> {
        self.families.iter()
    }

    /// The family called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.desc.name == name)
    }

    /// The value of the first sample of `name` whose labels include all of
    /// `labels`. A convenience for tests.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.get(name)?
            .samples
            .iter()
            .find(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|s| s.value)
    }

    /// True when no family holds a sample.
    pub fn is_empty(&self) -> bool {
        self.families.iter().all(Family::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets() {
        const B: &[f64] = &[0.1, 1.0];
        let mut h = Histogram::new(B);
        for v in [0.05, 0.1, 0.5, 3.0] {
            h.observe(v);
        }
        let s = h.sample(&[]);
        assert_eq!(s.counts, vec![2, 1, 1]);
        assert_eq!(s.count, 4);
        assert!((s.sum - 3.65).abs() < 1e-9);
    }

    const X: Desc = Desc::gauge("x", "Help.", &["k"]);
    const Y: Desc = Desc::gauge("y", "Help.", &[]);

    #[test]
    fn family_is_reused_by_name_and_extend_merges() {
        let mut a = Families::new();
        a.family(&X).sample(&[("k", "1")], 1.0);
        a.family(&X).sample(&[("k", "2")], 2.0);
        assert_eq!(a.get("x").unwrap().samples.len(), 2);

        let mut b = Families::new();
        b.family(&X).sample(&[("k", "3")], 3.0);
        b.family(&Y).sample(&[], 4.0);
        a.extend(&b);
        assert_eq!(a.get("x").unwrap().samples.len(), 3);
        assert_eq!(a.value("x", &[("k", "3")]), Some(3.0));
        assert_eq!(a.value("y", &[]), Some(4.0));
        assert_eq!(a.value("y", &[("k", "nope")]), None);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "labels [\"j\"] given, [\"k\"] declared")]
    fn undeclared_labels_are_caught() {
        Families::new().family(&X).sample(&[("j", "1")], 1.0);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "declared")]
    fn missing_labels_are_caught() {
        Families::new().family(&X).sample(&[], 1.0);
    }
}
