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
//!
//! Encoding is done once per [`Chunk`] (the families of one collector run)
//! and cached in it, for each format, plain and deflated: a collector that
//! refreshes every few minutes is encoded and compressed once per round, and
//! a scrape only stitches the cached pieces together. The gzip body is one
//! gzip member whose deflate stream is pieces end to end (each piece is
//! compressed alone and ends on a sync flush, so it is byte-aligned and
//! refers to nothing before it), with the CRC-32 of the whole combined from
//! the pieces' CRCs. A kept chunk is one piece, cached; the chunks made for
//! one scrape ([`Chunk::once`]: an inline collector's run, vigie's own
//! state) are written after the kept ones and compressed together with the
//! final `# EOF`, as one piece, not cached: one compressor run per scrape.
//! Compressors are pooled and reset, not allocated (and zeroed) for each
//! piece.

use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::{BufMut, Bytes, BytesMut};
use miniz_oxide::DataFormat;
use miniz_oxide::deflate::CompressionLevel;
use miniz_oxide::deflate::core::{CompressorOxide, TDEFLFlush, TDEFLStatus, compress};

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

    fn index(self) -> usize {
        match self {
            Format::Prometheus => 0,
            Format::OpenMetrics => 1,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The families of one collector run (or of one scrape's own state), with
/// their encodings made on first use and kept while the chunk lives.
#[derive(Debug)]
pub struct Chunk {
    /// None for a compact chunk ([`Chunk::compact`]).
    families: Option<Arc<Families>>,
    /// Indexed by [`Format::index`].
    encoded: [OnceLock<Encoded>; 2],
    /// A compact chunk's only content: each format compressed, indexed by
    /// [`Format::index`].
    compact: Option<[Deflated; 2]>,
    /// Made for one scrape ([`Chunk::once`]): its compressed form is made
    /// with its neighbours' and not kept.
    once: bool,
    empty: bool,
}

/// No families: nothing to encode.
impl Default for Chunk {
    fn default() -> Self {
        Chunk {
            families: Some(Arc::default()),
            encoded: Default::default(),
            compact: None,
            once: false,
            empty: true,
        }
    }
}

#[derive(Debug)]
struct Encoded {
    text: Bytes,
    deflated: OnceLock<Deflated>,
}

/// A raw deflate stream of one chunk's text, ending on a sync flush (not a
/// final block), with the CRC-32 of the text.
#[derive(Debug, Default)]
struct Deflated {
    data: Bytes,
    crc: crc32fast::Hasher,
    plain_len: usize,
}

impl Chunk {
    /// A chunk kept across scrapes (a background collector's snapshot, a
    /// rendered state): each encoding is made once and kept, with the
    /// families.
    pub fn new(families: Families) -> Arc<Chunk> {
        Arc::new(Chunk {
            empty: families.is_empty(),
            families: Some(Arc::new(families)),
            encoded: Default::default(),
            compact: None,
            once: false,
        })
    }

    /// A chunk kept across scrapes that holds only its two encodings,
    /// compressed: made at once, the families and the plain texts then
    /// freed (a 96-disk SMART state is about 2 MB of families and 2 MB of
    /// text, against some 50 kB compressed). A scrape that does not accept
    /// gzip gets the text decompressed for it.
    pub fn compact(families: Families) -> Arc<Chunk> {
        let families = Arc::new(families);
        let pieces = [Format::Prometheus, Format::OpenMetrics].map(|format| {
            let text = match format {
                Format::Prometheus => prometheus_text(&families),
                Format::OpenMetrics => openmetrics_text(&families),
            };
            deflate(&[text.as_bytes()], Level::Kept)
        });
        let empty = families.is_empty();
        drop(families);
        if pieces.iter().map(|p| p.plain_len).sum::<usize>() >= TRIM_AFTER {
            release_freed_memory();
        }
        Arc::new(Chunk {
            empty,
            families: None,
            encoded: Default::default(),
            compact: Some(pieces),
            once: false,
        })
    }

    /// A chunk made for one scrape (an inline collector's run, vigie's own
    /// state): compressed together with the neighbouring chunks of its kind,
    /// its compressed form not kept.
    pub fn once(families: Families) -> Arc<Chunk> {
        Arc::new(Chunk {
            empty: families.is_empty(),
            families: Some(Arc::new(families)),
            encoded: Default::default(),
            compact: None,
            once: true,
        })
    }

    /// The families, unless the chunk is compact.
    pub fn families(&self) -> Option<&Families> {
        self.families.as_deref()
    }

    /// Has the chunk no sample at all?
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    fn encoded(&self, format: Format) -> &Encoded {
        self.encoded[format.index()].get_or_init(|| {
            // (A compact chunk is never encoded again: see `text`.)
            let families = self.families.clone().unwrap_or_default();
            Encoded {
                text: Bytes::from(match format {
                    Format::Prometheus => prometheus_text(&families),
                    Format::OpenMetrics => openmetrics_text(&families),
                }),
                deflated: OnceLock::new(),
            }
        })
    }

    /// The chunk's text in `format` (no OpenMetrics `# EOF`).
    pub fn text(&self, format: Format) -> Bytes {
        match &self.compact {
            Some(pieces) => inflate(&pieces[format.index()]),
            None => self.encoded(format).text.clone(),
        }
    }

    fn deflated(&self, format: Format) -> &Deflated {
        if let Some(pieces) = &self.compact {
            return &pieces[format.index()];
        }
        let e = self.encoded(format);
        e.deflated.get_or_init(|| deflate(&[&e.text], Level::Kept))
    }
}

/// Texts this long (both formats) leave, once compressed, their families
/// and texts as freed memory in the middle of the allocator's heaps, which
/// stays resident: some 4 MB for a 96-disk SMART state, 0.8 MB for a
/// 24-disk one (400 kB of text), while 10 to 60 kB is kept.
const TRIM_AFTER: usize = 128 * 1024;

/// Gives the freed pages of every malloc arena back to the system
/// (glibc's `malloc_trim`); at most once per large compaction, i.e. once
/// per change of a large state, never per scrape.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reads and changes the allocator's own state,
    // under its locks; 0 keeps no extra padding.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The text of a compressed piece.
fn inflate(d: &Deflated) -> Bytes {
    let mut out = Vec::with_capacity(d.plain_len);
    inflate_into(d, &mut out);
    Bytes::from(out)
}

/// Appends the text of a compressed piece to `out`.
fn inflate_into(d: &Deflated, out: &mut Vec<u8>) {
    let mut z = flate2::Decompress::new(false);
    let end = out.len() + d.plain_len;
    out.reserve(d.plain_len);
    while out.len() < end {
        let before = (z.total_in(), z.total_out());
        let at = z.total_in() as usize;
        if z.decompress_vec(&d.data[at..], out, flate2::FlushDecompress::Sync)
            .is_err()
            || (z.total_in(), z.total_out()) == before
        {
            // Cannot happen with a piece made by `deflate`; a short text
            // rather than a loop.
            log::error!("a compressed chunk did not decompress to its length");
            break;
        }
        out.reserve(end.saturating_sub(out.len()));
    }
}

const OPENMETRICS_EOF: &str = "# EOF\n";

/// Encodes a snapshot (the chunks of every collector) in `format`, in the
/// order of [`body`].
pub fn encode(snapshot: &[Arc<Chunk>], format: Format) -> String {
    String::from_utf8(body(snapshot, format, false).to_vec()).unwrap_or_default()
}

/// The chunks of a snapshot in the order they are written: the kept ones as
/// given, then those made for this scrape, so that the latter are
/// compressed as one piece (the order of families means nothing to a
/// scraper; each family is whole in one chunk).
fn body_order(snapshot: &[Arc<Chunk>]) -> impl Iterator<Item = &Arc<Chunk>> {
    let kept = snapshot.iter().filter(|c| !c.once);
    kept.chain(snapshot.iter().filter(|c| c.once))
}

/// The response body for a snapshot in `format`, gzip-compressed when
/// `gzip` is set. Only the chunks never encoded before are encoded (and
/// compressed) here.
pub fn body(snapshot: &[Arc<Chunk>], format: Format, gzip: bool) -> Bytes {
    let eof = match format {
        Format::Prometheus => "",
        Format::OpenMetrics => OPENMETRICS_EOF,
    };
    if !gzip {
        // A compact chunk is decompressed straight into the body.
        let len = snapshot
            .iter()
            .map(|c| match &c.compact {
                Some(pieces) => pieces[format.index()].plain_len,
                None => c.encoded(format).text.len(),
            })
            .sum::<usize>()
            + eof.len();
        let mut out = Vec::with_capacity(len);
        for c in body_order(snapshot) {
            match &c.compact {
                Some(pieces) => inflate_into(&pieces[format.index()], &mut out),
                None => out.extend_from_slice(&c.encoded(format).text),
            }
        }
        out.extend_from_slice(eof.as_bytes());
        return Bytes::from(out);
    }
    // RFC 1952: header (no name, no time, OS unknown), the deflate stream,
    // CRC-32 and length of the uncompressed data, little-endian.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // A final, empty block with fixed Huffman codes: ends the stream.
    const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];
    // `# EOF` alone, after a kept chunk: the same piece every time.
    static EOF_PIECE: OnceLock<Deflated> = OnceLock::new();
    // The kept chunks' cached pieces, then the one-scrape chunks and the
    // `# EOF` compressed together here.
    let mut parts: Vec<&Deflated> = Vec::with_capacity(snapshot.len() + 1);
    let mut run: Vec<&[u8]> = Vec::new();
    for c in body_order(snapshot) {
        if c.once {
            let t = &c.encoded(format).text;
            if !t.is_empty() {
                run.push(t);
            }
        } else {
            parts.push(c.deflated(format));
        }
    }
    let made;
    if !run.is_empty() {
        run.push(eof.as_bytes());
        made = deflate(&run, Level::Once);
        parts.push(&made);
    } else if !eof.is_empty() {
        parts.push(EOF_PIECE.get_or_init(|| deflate(&[OPENMETRICS_EOF.as_bytes()], Level::Kept)));
    }
    let len = HEADER.len() + parts.iter().map(|d| d.data.len()).sum::<usize>() + 2 + 8;
    let mut out = BytesMut::with_capacity(len);
    out.put_slice(&HEADER);
    let mut crc = crc32fast::Hasher::new();
    let mut plain_len = 0usize;
    for d in &parts {
        out.put_slice(&d.data);
        crc.combine(&d.crc);
        plain_len += d.plain_len;
    }
    out.put_slice(&FINAL_BLOCK);
    out.put_u32_le(crc.finalize());
    out.put_u32_le(plain_len as u32);
    out.freeze()
}

/// How hard a piece is compressed.
#[derive(Clone, Copy)]
enum Level {
    /// A kept chunk, compressed once and sent many times: zlib's default
    /// level.
    Kept,
    /// Chunks made for one scrape (a few kB), compressed on each: the
    /// fastest level (greedy matching), whose output is a little larger.
    Once,
}

/// Compressors ready for use (reset), shared by both [`Level`]s (the level
/// is set on each use), so that a piece does not allocate and zero a new
/// one (some 300 kB of tables): with compressing, what profiling showed
/// most of a gzip scrape's own CPU went to. miniz_oxide is flate2's own
/// backend, used directly for this: flate2 cannot change the level of a
/// compressor.
static COMPRESSORS: Mutex<Vec<Box<CompressorOxide>>> = Mutex::new(Vec::new());

/// At most this many idle compressors are kept, each holding some 300 kB,
/// all of it written by its reset: scrapes are served by one thread, and
/// background collectors compress once per round (one made for the
/// occasional overlap is freed after use).
const POOLED_COMPRESSORS: usize = 1;

/// Compresses `texts`, one after the other, as raw deflate blocks ending on
/// a sync flush: byte-aligned, not final, and referring to nothing before
/// them, so that the piece can be followed by any other such piece.
fn deflate(texts: &[&[u8]], level: Level) -> Deflated {
    let mut c = COMPRESSORS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop()
        .unwrap_or_else(|| Box::new(CompressorOxide::new(0)));
    c.set_format_and_level(
        DataFormat::Raw,
        match level {
            Level::Kept => CompressionLevel::DefaultLevel as u8,
            Level::Once => CompressionLevel::BestSpeed as u8,
        },
    );
    let plain_len: usize = texts.iter().map(|t| t.len()).sum();
    let mut crc = crc32fast::Hasher::new();
    let mut out: Vec<u8> = Vec::with_capacity(plain_len / 4 + 64);
    for (i, text) in texts.iter().enumerate() {
        crc.update(text);
        let last = i + 1 == texts.len();
        let flush = if last {
            TDEFLFlush::Sync
        } else {
            TDEFLFlush::None
        };
        let mut done = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(64));
            }
            let at = out.len();
            out.resize(out.capacity(), 0);
            let room = out.len() - at;
            let (status, read, wrote) = compress(&mut c, &text[done..], &mut out[at..], flush);
            out.truncate(at + wrote);
            done += read;
            if matches!(status, TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed) {
                // Cannot happen with the parameters above; a short piece
                // (caught by the length check of every reader) rather than
                // a loop.
                log::error!("deflate failed: {status:?}");
                break;
            }
            // A sync flush is complete once all input is in and the output
            // was not filled up (zlib's rule: room left after a flush call);
            // without a flush, once all input is in.
            if done == text.len() && (!last || wrote < room) {
                break;
            }
        }
    }
    c.reset();
    let mut pool = COMPRESSORS.lock().unwrap_or_else(|p| p.into_inner());
    if pool.len() < POOLED_COMPRESSORS {
        pool.push(c);
    }
    Deflated {
        data: Bytes::from(out),
        crc,
        plain_len,
    }
}

/// Does the scraper accept gzip (`Accept-Encoding`, quality above zero)?
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|h| {
        h.split(',').any(|part| {
            let mut params = part.split(';').map(str::trim);
            let coding = params.next().unwrap_or("");
            (coding.eq_ignore_ascii_case("gzip") || coding == "*")
                && !params.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f64>().ok())
                        .is_some_and(|q| q <= 0.0)
                })
        })
    })
}

/// One chunk's families in the Prometheus text format, version 0.0.4.
fn prometheus_text(families: &Families) -> String {
    let mut out = String::with_capacity(4 * 1024);
    for f in families.iter().filter(|f| !f.is_empty()) {
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

/// One chunk's families in OpenMetrics, through prometheus-client, without
/// the final `# EOF` (added once per body).
fn openmetrics_text(families: &Arc<Families>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(families.clone())));
    let mut out = String::with_capacity(4 * 1024);
    // Writing to a String cannot fail; an error here would be a bug in the
    // encoder, and an empty chunk is the least harmful answer.
    if prometheus_client::encoding::text::encode_registry(&mut out, &registry).is_err() {
        out.clear();
    }
    out
}

/// One chunk's families, registered as a prometheus-client collector.
#[derive(Debug)]
struct Snapshot(Arc<Families>);

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for f in self.0.iter().filter(|f| !f.is_empty()) {
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
        let text = encode(&[Chunk::new(sample_families())], Format::Prometheus);
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
        let fams = [Chunk::new(sample_families())];
        let prom = encode(&fams, Format::Prometheus);
        let om = encode(&fams, Format::OpenMetrics);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE vigie_test_ops counter\n"), "{om}");
        assert!(om.contains("# UNIT vigie_test_size_bytes bytes\n"), "{om}");
        assert!(!om.contains("vigie_empty"));
        assert_eq!(samples(&prom), samples(&om));
    }

    /// The chunks made for one scrape are written after the kept ones,
    /// whatever their place in the snapshot, and each chunk's text is whole.
    #[test]
    fn the_chunks_made_for_a_scrape_come_after_the_kept_ones() {
        let mut ops = Families::new();
        ops.family(&OPS).sample(&[], 7.0);
        let chunks = [
            Chunk::once(ops),
            Chunk::new(sample_families()),
            Chunk::once(sample_families()),
        ];
        let kept = encode(&[chunks[1].clone()], Format::Prometheus);
        let ops = encode(&[chunks[0].clone()], Format::Prometheus);
        let all = encode(&chunks, Format::Prometheus);
        assert_eq!(all, format!("{kept}{ops}{kept}"));
    }

    /// Text that does not compress (its deflate output is longer than the
    /// room first reserved for it), in several pieces and at both levels,
    /// round-trips: the output buffer is grown and the sync flush completed.
    #[test]
    fn incompressible_text_round_trips() {
        use std::io::Read;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let texts: [&[u8]; 3] = [&noise[..1], &noise[1..200_000], &noise[200_000..]];
        for level in [Level::Kept, Level::Once] {
            let d = deflate(&texts, level);
            assert_eq!(d.plain_len, noise.len());
            let mut stream = d.data.to_vec();
            stream.extend_from_slice(&[0x03, 0x00]);
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(&stream[..])
                .read_to_end(&mut out)
                .unwrap();
            assert!(out == noise, "{} bytes out", out.len());
            assert_eq!(d.crc.clone().finalize(), crc32fast::hash(&noise));
        }
    }

    /// Several chunks (one empty), each format: the gzip body is one valid
    /// gzip member that decodes to exactly the plain body.
    #[test]
    fn gzip_body_decodes_to_the_plain_body() {
        use std::io::Read;
        let mut big = Families::new();
        for i in 0..2000 {
            big.family(&SIZE).sample(
                &[("mountpoint", &format!("/srv/{i}")), ("device", "/dev/sdb")],
                i as f64,
            );
        }
        let mut ops = Families::new();
        ops.family(&OPS).sample(&[], 7.0);
        // Kept chunks and runs of one-scrape ones (compressed together,
        // with the `# EOF` when they end the body), empty ones among them.
        let chunks = [
            Chunk::once(sample_families()),
            Chunk::new(sample_families()),
            Chunk::new(Families::new()),
            Chunk::once(Families::new()),
            Chunk::once(ops),
            Chunk::new(big),
            Chunk::once(sample_families()),
        ];
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let plain = body(&chunks, format, false);
            let gz = body(&chunks, format, true);
            assert!(
                gz.len() * 5 < plain.len(),
                "{} vs {}",
                gz.len(),
                plain.len()
            );
            let mut d = flate2::read::GzDecoder::new(&gz[..]);
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            assert_eq!(out, plain, "{format:?}");
            // One member: a single-member decoder reads it whole too.
            let mut d = flate2::bufread::GzDecoder::new(&gz[..]);
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            assert_eq!(out, plain);
            // Cached: the same bytes again.
            assert_eq!(body(&chunks, format, true), gz);
        }
        // Only kept chunks: the `# EOF` is a piece of its own.
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let kept_last = &[chunks[1].clone(), chunks[2].clone(), chunks[5].clone()];
            let gz = body(kept_last, format, true);
            let mut d = flate2::read::GzDecoder::new(&gz[..]);
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            assert_eq!(out, body(kept_last, format, false), "{format:?}");
        }
        assert!(encode(&chunks, Format::OpenMetrics).ends_with("# EOF\n"));
        assert_eq!(
            encode(&chunks, Format::OpenMetrics)
                .matches("# EOF")
                .count(),
            1
        );
    }

    /// A compact chunk (only its two compressed encodings kept) answers
    /// exactly as the chunk that keeps its families, plain and gzip, in
    /// both formats, among other chunks.
    #[test]
    fn a_compact_chunk_answers_as_a_full_one() {
        use std::io::Read;
        let mut big = Families::new();
        for i in 0..500 {
            big.family(&SIZE).sample(
                &[("mountpoint", &format!("/srv/{i}")), ("device", "/dev/sdb")],
                i as f64,
            );
        }
        let full = [
            Chunk::new(sample_families()),
            Chunk::once(sample_families()),
            Chunk::new(big.clone()),
            Chunk::new(Families::new()),
        ];
        let compact = [
            Chunk::compact(sample_families()),
            Chunk::once(sample_families()),
            Chunk::compact(big),
            Chunk::compact(Families::new()),
        ];
        assert!(compact[0].families().is_none() && full[0].families().is_some());
        assert!(compact[3].is_empty() && !compact[2].is_empty());
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let plain = body(&full, format, false);
            assert_eq!(body(&compact, format, false), plain, "{format:?}");
            for c in [&compact[0], &compact[2]] {
                assert!(!c.text(format).is_empty());
            }
            let gz = body(&compact, format, true);
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, plain, "{format:?}");
        }
    }

    #[test]
    fn gzip_negotiation() {
        assert!(!accepts_gzip(None));
        assert!(accepts_gzip(Some("gzip")));
        // What Prometheus sends.
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=1.0, *;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(accepts_gzip(Some("br, *")));
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
