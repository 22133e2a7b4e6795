//! The metric schema: every family vigie exports is declared once, as a
//! `const` [`Desc`] (name, help, type, unit, label names), in the file that
//! emits it: each collector file declares its own and lists them in its
//! registry entry (`metrics`), the runner declares vigie's own
//! (`SELF_FAMILIES`). Collectors emit through these descriptors
//! ([`crate::metrics::Families::family`]), which check the label names of
//! every sample against the declaration in debug builds. [`families`] lists
//! them all, for guard tests that compare the README, the generated rules or
//! the dashboards with what vigie exports.
//!
//! Names follow the metric contract: prefix `vigie_`, base units, the unit
//! as the name's suffix; counters are named without `_total` (the encoders
//! add it); the unit tests below check it for every family.

use crate::metrics::{Kind, Unit};

/// The declaration of one metric family.
#[derive(Debug, PartialEq, Eq)]
pub struct Desc {
    /// The family name (a counter's without `_total`).
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub unit: Option<Unit>,
    /// The label names of every sample, in order.
    pub labels: &'static [&'static str],
}

impl Desc {
    pub const fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            name,
            help,
            kind: Kind::Gauge,
            unit: None,
            labels,
        }
    }

    pub const fn counter(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            kind: Kind::Counter,
            ..Desc::gauge(name, help, labels)
        }
    }

    pub const fn histogram(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Desc {
        Desc {
            kind: Kind::Histogram,
            ..Desc::gauge(name, help, labels)
        }
    }

    /// The same family with a unit (its name must end with `_<unit>`).
    pub const fn unit(self, unit: Unit) -> Desc {
        Desc {
            unit: Some(unit),
            ..self
        }
    }

    /// The names of the series the family exposes in the Prometheus text
    /// format: `NAME_total` for a counter, `NAME_bucket`, `NAME_sum` and
    /// `NAME_count` for a histogram, `NAME` for a gauge.
    pub fn series_names(&self) -> Vec<String> {
        match self.kind {
            Kind::Gauge => vec![self.name.to_string()],
            Kind::Counter => vec![format!("{}_total", self.name)],
            Kind::Histogram => ["bucket", "sum", "count"]
                .iter()
                .map(|s| format!("{}_{s}", self.name))
                .collect(),
        }
    }

    /// The family's name as `# TYPE` lines show it (`_total` on counters).
    pub fn exposed_name(&self) -> String {
        match self.kind {
            Kind::Counter => format!("{}_total", self.name),
            Kind::Gauge | Kind::Histogram => self.name.to_string(),
        }
    }
}

/// Every family of the schema, in export order: each collector's (the
/// `metrics` of its registry entry, in [`crate::collect::ALL`]'s order),
/// then vigie's own.
pub fn families() -> Vec<&'static Desc> {
    crate::collect::ALL
        .iter()
        .flat_map(|e| e.metrics.iter().copied())
        .chain(crate::collect::runner::SELF_FAMILIES.iter().copied())
        .chain(crate::server::WEB_FAMILIES.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_follow_the_contract() {
        let mut seen = BTreeSet::new();
        for d in families() {
            assert!(seen.insert(d.name), "{} declared twice", d.name);
            assert!(d.name.starts_with("vigie_"), "{}", d.name);
            if let Some(u) = d.unit {
                assert!(d.name.ends_with(&format!("_{}", u.as_str())), "{}", d.name);
            }
            assert!(
                d.kind != Kind::Counter || !d.name.ends_with("_total"),
                "counter {} must be declared without _total",
                d.name
            );
            assert!(d.help.ends_with('.'), "{}", d.name);
            let labels: BTreeSet<_> = d.labels.iter().collect();
            assert_eq!(labels.len(), d.labels.len(), "{}: a label twice", d.name);
            assert!(!d.labels.contains(&"le"), "{}", d.name);
        }
    }
}
