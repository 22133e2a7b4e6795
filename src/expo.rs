//! Exposition: a snapshot of [`Families`] written as OpenMetrics or as the
//! Prometheus text format (0.0.4).
//!
//! OpenMetrics goes through prometheus-client: a custom
//! [`prometheus_client::collector::Collector`] encodes the snapshot with
//! `encode_descriptor` / `encode_family`. prometheus-client only speaks
//! OpenMetrics, whose counter and unit conventions (`# TYPE x counter`
//! followed by `x_total`, `# UNIT`, `# EOF`) the 0.0.4 parser reads as a
//! different family, so the Prometheus text format is written here by a small
//! encoder of its own. A test parses both outputs and checks they carry the
//! same samples.

use std::fmt::Write;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::metrics::{Families, Kind, Unit};

/// Which format a scraper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    /// Picks the format from an HTTP `Accept` header: OpenMetrics when the
    /// client lists it (with a non-zero quality), the Prometheus text format
    /// otherwise.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Prometheus;
        };
        for part in accept.split(',') {
            let mut params = part.split(';').map(str::trim);
            let media = params.next().unwrap_or("");
            if !media.eq_ignore_ascii_case("application/openmetrics-text") {
                continue;
            }
            let q_zero = params.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if !q_zero {
                return Format::OpenMetrics;
            }
        }
        Format::Prometheus
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Encodes a snapshot (the families of every collector, in order) in `format`.
pub fn encode(snapshot: &[Arc<Families>], format: Format) -> String {
    match format {
        Format::Prometheus => encode_prometheus(snapshot),
        Format::OpenMetrics => encode_openmetrics(snapshot),
    }
}

/// The Prometheus text format, version 0.0.4.
pub fn encode_prometheus(snapshot: &[Arc<Families>]) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let families = snapshot.iter().flat_map(|f| f.iter());
    for f in families.filter(|f| !f.is_empty()) {
        let (name, kind) = match f.desc.kind {
            Kind::Gauge => (f.desc.name.to_string(), "gauge"),
            Kind::Counter => (format!("{}_total", f.desc.name), "counter"),
            Kind::Histogram => (f.desc.name.to_string(), "histogram"),
        };
        out.push_str("# HELP ");
        out.push_str(&name);
        out.push(' ');
        escape_help(&mut out, f.desc.help);
        out.push_str("\n# TYPE ");
        out.push_str(&name);
        out.push(' ');
        out.push_str(kind);
        out.push('\n');
        for s in &f.samples {
            write_sample(&mut out, &name, &s.labels, None, s.value);
        }
        for h in &f.histograms {
            let bucket = format!("{name}_bucket");
            let mut cumulative = 0u64;
            for (i, c) in h.counts.iter().enumerate() {
                cumulative += c;
                let le = h
                    .bounds
                    .get(i)
                    .map_or("+Inf".to_string(), |b| format!("{b}"));
                write_sample(&mut out, &bucket, &h.labels, Some(&le), cumulative as f64);
            }
            write_sample(&mut out, &format!("{name}_sum"), &h.labels, None, h.sum);
            write_sample(
                &mut out,
                &format!("{name}_count"),
                &h.labels,
                None,
                h.count as f64,
            );
        }
    }
    out
}

fn write_sample(
    out: &mut String,
    name: &str,
    labels: &[(&'static str, String)],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let le = le.map(|v| ("le", v));
        for (i, (k, v)) in labels
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(le)
            .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_label_value(out, v);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    write_value(out, value);
    out.push('\n');
}

fn escape_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// OpenMetrics, through prometheus-client.
pub fn encode_openmetrics(snapshot: &[Arc<Families>]) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(snapshot.to_vec())));
    let mut out = String::with_capacity(16 * 1024);
    // Writing to a String cannot fail; an error here would be a bug in the
    // encoder, and an empty body is the least harmful answer.
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        out.clear();
    }
    out
}

/// A gathered snapshot, registered as a prometheus-client collector.
#[derive(Debug)]
struct Snapshot(Vec<Arc<Families>>);

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let families = self.0.iter().flat_map(|f| f.iter());
        for f in families.filter(|f| !f.is_empty()) {
            let unit = f.desc.unit.map(|u| match u {
                Unit::Bytes => prometheus_client::registry::Unit::Bytes,
                Unit::Seconds => prometheus_client::registry::Unit::Seconds,
            });
            // prometheus-client appends `_<unit>` itself.
            let base = match f.desc.unit {
                Some(u) => f
                    .desc
                    .name
                    .strip_suffix(&format!("_{}", u.as_str()))
                    .unwrap_or(f.desc.name),
                None => f.desc.name,
            };
            let metric_type = match f.desc.kind {
                Kind::Gauge => MetricType::Gauge,
                Kind::Counter => MetricType::Counter,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut metric =
                encoder.encode_descriptor(base, f.desc.help, unit.as_ref(), metric_type)?;
            for s in &f.samples {
                let labels: Vec<(&str, &str)> =
                    s.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let sample = metric.encode_family(&labels)?;
                match f.desc.kind {
                    Kind::Counter => ConstCounter::new(s.value).encode(sample)?,
                    Kind::Gauge | Kind::Histogram => ConstGauge::new(s.value).encode(sample)?,
                }
            }
            for h in &f.histograms {
                let labels: Vec<(&str, &str)> =
                    h.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut sample = metric.encode_family(&labels)?;
                let buckets: Vec<(f64, u64)> = h
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (h.bounds.get(i).copied().unwrap_or(f64::INFINITY), *c))
                    .collect();
                sample.encode_histogram::<Vec<(String, String)>>(h.sum, h.count, &buckets, None)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Desc;
    use std::collections::BTreeMap;

    const SIZE: Desc = Desc::gauge(
        "vigie_test_size_bytes",
        "Size of a thing.",
        &["mountpoint", "device"],
    )
    .unit(Unit::Bytes);
    const OPS: Desc = Desc::counter("vigie_test_ops", "Operations.", &[]);
    const EMPTY: Desc = Desc::gauge("vigie_empty", "Never filled.", &[]);
    const LATENCY: Desc = Desc::histogram("vigie_test_latency_seconds", "Latency.", &["resolver"])
        .unit(Unit::Seconds);
    const TIME: Desc =
        Desc::gauge("vigie_test_time_seconds", "A timestamp.", &[]).unit(Unit::Seconds);

    fn sample_families() -> Families {
        let mut f = Families::new();
        f.family(&SIZE)
            .sample(&[("mountpoint", "/"), ("device", "/dev/sda1")], 1024.0)
            .sample(&[("mountpoint", "/a \"b\"\\c\nd"), ("device", "x")], 0.5);
        f.family(&OPS).sample(&[], 42.0);
        f.family(&EMPTY);
        const B: &[f64] = &[0.01, 0.5];
        let mut h = crate::metrics::Histogram::new(B);
        h.observe(0.002);
        h.observe(0.3);
        h.observe(9.0);
        f.family(&LATENCY)
            .histogram(h.sample(&[("resolver", "127.0.0.1:53")]));
        f.family(&TIME).sample(&[], 1_418_183_276.0);
        f
    }

    /// Parses sample lines into name{labels} -> value, ignoring comments.
    fn samples(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                // prometheus-client writes `name{}` for an empty label set,
                // and puts `le` first; order labels for the comparison.
                let k = k.strip_suffix("{}").unwrap_or(k);
                let k = match k.split_once('{') {
                    Some((name, labels)) => {
                        let labels = labels.strip_suffix('}').unwrap();
                        let mut parts: Vec<String> = labels
                            .split("\",")
                            .map(|p| p.trim_end_matches('"').to_string())
                            .collect();
                        parts.sort();
                        format!("{name}{{{}}}", parts.join(","))
                    }
                    None => k.to_string(),
                };
                (k, v.trim_end_matches(".0").to_string())
            })
            .collect()
    }

    #[test]
    fn prometheus_text_is_exact() {
        let text = encode_prometheus(&[Arc::new(sample_families())]);
        assert_eq!(
            text,
            "# HELP vigie_test_size_bytes Size of a thing.\n\
             # TYPE vigie_test_size_bytes gauge\n\
             vigie_test_size_bytes{mountpoint=\"/\",device=\"/dev/sda1\"} 1024\n\
             vigie_test_size_bytes{mountpoint=\"/a \\\"b\\\"\\\\c\\nd\",device=\"x\"} 0.5\n\
             # HELP vigie_test_ops_total Operations.\n\
             # TYPE vigie_test_ops_total counter\n\
             vigie_test_ops_total 42\n\
             # HELP vigie_test_latency_seconds Latency.\n\
             # TYPE vigie_test_latency_seconds histogram\n\
             vigie_test_latency_seconds_bucket{resolver=\"127.0.0.1:53\",le=\"0.01\"} 1\n\
             vigie_test_latency_seconds_bucket{resolver=\"127.0.0.1:53\",le=\"0.5\"} 2\n\
             vigie_test_latency_seconds_bucket{resolver=\"127.0.0.1:53\",le=\"+Inf\"} 3\n\
             vigie_test_latency_seconds_sum{resolver=\"127.0.0.1:53\"} 9.302\n\
             vigie_test_latency_seconds_count{resolver=\"127.0.0.1:53\"} 3\n\
             # HELP vigie_test_time_seconds A timestamp.\n\
             # TYPE vigie_test_time_seconds gauge\n\
             vigie_test_time_seconds 1418183276\n"
        );
    }

    #[test]
    fn both_formats_carry_the_same_samples() {
        let fams = [Arc::new(sample_families())];
        let prom = encode_prometheus(&fams);
        let om = encode_openmetrics(&fams);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE vigie_test_ops counter\n"), "{om}");
        assert!(om.contains("# UNIT vigie_test_size_bytes bytes\n"), "{om}");
        assert!(!om.contains("vigie_empty"));
        assert_eq!(samples(&prom), samples(&om));
    }

    #[test]
    fn negotiation() {
        assert_eq!(Format::negotiate(None), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Prometheus);
        // What Prometheus 2.x sends.
        let prom2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prom2)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text; q=0, text/plain")),
            Format::Prometheus
        );
    }
}
