//! The snapshot model: what a collector gathers, before any encoding.
//!
//! Collectors never touch an encoder. They fill a [`Families`] value, which the
//! runner keeps as the collector's last snapshot; a scrape joins the snapshots
//! and hands them to [`crate::expo`], which writes the Prometheus text format
//! or OpenMetrics. Keeping gathering and encoding apart is what lets slow
//! collectors refresh in the background while scrapes stay fast.

use std::borrow::Cow;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    /// A monotonically increasing total. The family name carries no `_total`
    /// suffix; both encoders add it to the sample name.
    Counter,
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

/// A metric family: name, help, type, unit and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: Cow<'static, str>,
    pub help: Cow<'static, str>,
    pub kind: Kind,
    pub unit: Option<Unit>,
    pub samples: Vec<Sample>,
}

impl Family {
    /// Adds a sample. Label values are copied.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Self {
        self.samples.push(Sample {
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
            value,
        });
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

    /// Returns the family `name`, creating it (empty) if this is its first use.
    ///
    /// Declaring a family that ends up with no sample is harmless: encoders
    /// skip empty families.
    pub fn family(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        unit: Option<Unit>,
    ) -> &mut Family {
        debug_assert!(
            unit.is_none_or(|u| name.ends_with(&format!("_{}", u.as_str()))),
            "family {name} must end with its unit"
        );
        debug_assert!(
            kind != Kind::Counter || !name.ends_with("_total"),
            "counter {name} must be named without _total"
        );
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            return &mut self.families[i];
        }
        self.families.push(Family {
            name: Cow::Borrowed(name),
            help: Cow::Borrowed(help),
            kind,
            unit,
            samples: Vec::new(),
        });
        self.families.last_mut().expect("just pushed")
    }

    /// A gauge family without a unit.
    pub fn gauge(&mut self, name: &'static str, help: &'static str) -> &mut Family {
        self.family(name, help, Kind::Gauge, None)
    }

    /// A gauge family whose name ends with `_bytes`.
    pub fn gauge_bytes(&mut self, name: &'static str, help: &'static str) -> &mut Family {
        self.family(name, help, Kind::Gauge, Some(Unit::Bytes))
    }

    /// A gauge family whose name ends with `_seconds`.
    pub fn gauge_seconds(&mut self, name: &'static str, help: &'static str) -> &mut Family {
        self.family(name, help, Kind::Gauge, Some(Unit::Seconds))
    }

    /// A counter family (named without `_total`).
    pub fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
    ) -> &mut Family {
        self.family(name, help, Kind::Counter, unit)
    }

    /// Appends every family of `other`, merging samples into families of the
    /// same name.
    pub fn extend(&mut self, other: &Families) {
        for f in &other.families {
            if let Some(mine) = self.families.iter_mut().find(|m| m.name == f.name) {
                mine.samples.extend(f.samples.iter().cloned());
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
        self.families.iter().find(|f| f.name == name)
    }

    /// The value of the first sample of `name` whose labels include all of
    /// `labels`. A convenience for tests and for `vigie check`.
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
        self.families.iter().all(|f| f.samples.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_is_reused_by_name_and_extend_merges() {
        let mut a = Families::new();
        a.gauge("x", "help").sample(&[("k", "1")], 1.0);
        a.gauge("x", "help").sample(&[("k", "2")], 2.0);
        assert_eq!(a.get("x").unwrap().samples.len(), 2);

        let mut b = Families::new();
        b.gauge("x", "help").sample(&[("k", "3")], 3.0);
        b.gauge("y", "help").sample(&[], 4.0);
        a.extend(&b);
        assert_eq!(a.get("x").unwrap().samples.len(), 3);
        assert_eq!(a.value("x", &[("k", "3")]), Some(3.0));
        assert_eq!(a.value("y", &[]), Some(4.0));
        assert_eq!(a.value("y", &[("k", "nope")]), None);
    }
}
