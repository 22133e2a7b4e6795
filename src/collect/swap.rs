//! `swap`: how full swap is and, more telling, how fast pages move in and out
//! of it (incident 4: swap at 100% on a server not rebooted for 33 weeks).
//!
//! Sources: `{procfs}/meminfo` (SwapTotal, SwapFree, SwapCached, MemTotal,
//! MemAvailable), `{procfs}/vmstat` (`pswpin`, `pswpout`: pages swapped in and
//! out since boot, exported in bytes using this kernel's page size),
//! `{procfs}/swaps` (one row per swap device or file) and
//! `{procfs}/pressure/memory` (PSI; kernels without it, or booted with
//! `psi=0`, simply have no such series).
//!
//! Run on every scrape, so read cheaply ([`ProcFile`]): each file in as few
//! `read`s as the kernel allows into a reused buffer (the kernel generates
//! the whole of `/proc/vmstat` again, summing every CPU's counters, at each
//! `read`; `std::fs::read_to_string` made ten of them, starting at 32
//! bytes), `/proc/vmstat` only up to the `pswpout` line, and a file that is
//! on procfs kept open and read again from offset 0 (which makes the kernel
//! generate it afresh), so that no `open`/`close` is paid per scrape. Every
//! value is read from the kernel at each scrape; nothing is cached.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Args;

use super::registry::{Context, Entry, Settings, entry};
use super::{Collector, Partial, Refresh, Registration};
use crate::metrics::{Families, Unit};
use crate::paths::Paths;
use crate::schema::Desc;

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "swap",
    SwapConfig,
    default_enabled: true,
    summary: "swap usage, swap-in/out and memory pressure",
    details: "swap size, free and cached bytes, swap-in/out totals, per-device rows, \
              memory pressure (PSI)",
    metrics: FAMILIES,
);

// The families this file emits: the metric schema's part for the swap collector.

const SWAP_DEVICE: &[&str] = &["device", "type"];

pub const SWAP_IN_BYTES: Desc = Desc::counter(
    "vigie_swap_in_bytes",
    "Bytes read back in from swap since boot (pswpin x page size). A sustained rate means the host is short of RAM.",
    &[],
).unit(Unit::Bytes);
pub const SWAP_OUT_BYTES: Desc = Desc::counter(
    "vigie_swap_out_bytes",
    "Bytes written out to swap since boot (pswpout x page size).",
    &[],
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_swap_device_size_bytes",
    "Size of one swap device or file.",
    SWAP_DEVICE,
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_USED_BYTES: Desc = Desc::gauge(
    "vigie_swap_device_used_bytes",
    "Used space of one swap device or file.",
    SWAP_DEVICE,
)
.unit(Unit::Bytes);
pub const SWAP_DEVICE_PRIORITY: Desc = Desc::gauge(
    "vigie_swap_device_priority",
    "Priority of one swap device or file (higher is used first).",
    SWAP_DEVICE,
);
pub const PRESSURE_MEMORY_WAITING_SECONDS: Desc = Desc::counter(
    "vigie_pressure_memory_waiting_seconds",
    "Time in which at least one task was stalled waiting for memory (PSI 'some').",
    &[],
)
.unit(Unit::Seconds);
pub const PRESSURE_MEMORY_STALLED_SECONDS: Desc = Desc::counter(
    "vigie_pressure_memory_stalled_seconds",
    "Time in which all non-idle tasks were stalled waiting for memory (PSI 'full').",
    &[],
)
.unit(Unit::Seconds);
pub const SWAP_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_swap_size_bytes",
    "Total swap space (SwapTotal); 0 when the host has no swap.",
    &[],
)
.unit(Unit::Bytes);
pub const SWAP_FREE_BYTES: Desc = Desc::gauge(
    "vigie_swap_free_bytes",
    "Unused swap space (SwapFree).",
    &[],
)
.unit(Unit::Bytes);
pub const SWAP_CACHED_BYTES: Desc = Desc::gauge(
    "vigie_swap_cached_bytes",
    "Memory that is both in RAM and in swap (SwapCached).",
    &[],
)
.unit(Unit::Bytes);
pub const MEMORY_TOTAL_BYTES: Desc =
    Desc::gauge("vigie_memory_total_bytes", "Usable RAM (MemTotal).", &[]).unit(Unit::Bytes);
pub const MEMORY_AVAILABLE_BYTES: Desc = Desc::gauge(
    "vigie_memory_available_bytes",
    "RAM available for new work without swapping (MemAvailable).",
    &[],
)
.unit(Unit::Bytes);

/// The families this collector exports, in export order.
pub const FAMILIES: &[&Desc] = &[
    &SWAP_IN_BYTES,
    &SWAP_OUT_BYTES,
    &SWAP_DEVICE_SIZE_BYTES,
    &SWAP_DEVICE_USED_BYTES,
    &SWAP_DEVICE_PRIORITY,
    &PRESSURE_MEMORY_WAITING_SECONDS,
    &PRESSURE_MEMORY_STALLED_SECONDS,
    &SWAP_SIZE_BYTES,
    &SWAP_FREE_BYTES,
    &SWAP_CACHED_BYTES,
    &MEMORY_TOTAL_BYTES,
    &MEMORY_AVAILABLE_BYTES,
];

/// Settings of the swap collector: it has no flags.
#[derive(Debug, Clone, Default, Args)]
pub struct SwapConfig {}

impl Settings for SwapConfig {
    fn register(&self, context: &Context) -> Registration {
        Registration {
            collector: Arc::new(SwapCollector::new(context.paths.clone())),
            refresh: Refresh::Inline,
            timeout: context.scrape_timeout,
        }
    }
}

pub struct SwapCollector {
    paths: Paths,
    page_size: u64,
    meminfo: ProcFile,
    vmstat: ProcFile,
    swaps: ProcFile,
    psi: ProcFile,
}

impl SwapCollector {
    pub fn new(paths: Paths) -> Self {
        SwapCollector {
            page_size: page_size(),
            meminfo: ProcFile::new(paths.proc("meminfo")),
            vmstat: ProcFile::new(paths.proc("vmstat")),
            swaps: ProcFile::new(paths.proc("swaps")),
            psi: ProcFile::new(paths.proc("pressure/memory")),
            paths,
        }
    }
}

/// The first read's size: the kernel gives at most one page of a
/// seq_file per `read`, a regular file (a fixture) all of it.
const READ_SIZE: usize = 16 * 1024;

thread_local! {
    /// The buffer the swap files are read into, reused from scrape to
    /// scrape on each thread.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A file read on every scrape. On procfs it is kept open and read from
/// offset 0 each time (the kernel then generates its text again: every
/// value is current); anywhere else (a fixture tree given as
/// `--path.procfs`, which may be replaced between reads) it is opened
/// for each read.
pub struct ProcFile {
    path: PathBuf,
    /// The open file, when it is on procfs; None before the first read and
    /// for other file systems.
    kept: Mutex<Option<File>>,
}

impl ProcFile {
    pub fn new(path: PathBuf) -> Self {
        ProcFile {
            path,
            kept: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Is the file kept open between reads (it is on procfs)?
    pub fn is_kept(&self) -> bool {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Reads the file from its start into `buf`, until end of file or
    /// until `enough` says what was read so far suffices; returns how many
    /// bytes were read (`buf` keeps its length: it is storage, zeroed once,
    /// and grown when a file does not fit).
    pub fn read(&self, buf: &mut Vec<u8>, enough: impl Fn(&[u8]) -> bool) -> io::Result<usize> {
        // Another scrape reading the kept file right now: open a fresh one
        // rather than wait (or interleave offsets on one seq_file).
        let mut guard = self.kept.try_lock().ok();
        if let Some(Some(f)) = guard.as_deref() {
            return read_from(f, buf, &enough);
        }
        let f = File::open(&self.path)?;
        let n = read_from(&f, buf, &enough)?;
        if let Some(slot) = guard.as_deref_mut()
            && nix::sys::statfs::fstatfs(&f)
                .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
        {
            *slot = Some(f);
        }
        Ok(n)
    }
}

/// `pread`s `f` from offset 0 into `buf` until end of file or `enough`;
/// returns the bytes read.
fn read_from(f: &File, buf: &mut Vec<u8>, enough: &impl Fn(&[u8]) -> bool) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if buf.len() - len < READ_SIZE / 4 {
            buf.resize((buf.len() * 2).max(READ_SIZE), 0);
        }
        let n = match f.read_at(&mut buf[len..], len as u64) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n == 0 || enough(&buf[..len]) {
            return Ok(len);
        }
    }
}

/// Has `/proc/vmstat` been read far enough: are both the `pswpin` and the
/// `pswpout` lines complete? (They come before the middle of the file.)
fn vmstat_has_swap_lines(text: &[u8]) -> bool {
    let Ok(t) = std::str::from_utf8(text) else {
        return false;
    };
    let complete = |key: &str| {
        t.find(key)
            .is_some_and(|i| t[i + key.len()..].contains('\n'))
    };
    complete("\npswpin ") && complete("\npswpout ")
}

/// Reads `file` with the thread's buffer and hands its text to `f`.
fn with_text<T>(
    file: &ProcFile,
    enough: impl Fn(&[u8]) -> bool,
    f: impl FnOnce(&str) -> T,
) -> anyhow::Result<T> {
    BUFFER.with_borrow_mut(|buf| {
        let n = file
            .read(buf, enough)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.path().display()))?;
        let text = std::str::from_utf8(&buf[..n]).map_err(|e| {
            anyhow::anyhow!("reading {}: not UTF-8: {e}", file.path().display())
        })?;
        Ok(f(text))
    })
}

/// The kernel's page size; 4096 if it cannot be read.
pub fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(4096)
}

/// The values of `/proc/meminfo` vigie uses, in bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Meminfo {
    pub swap_total: Option<u64>,
    pub swap_free: Option<u64>,
    pub swap_cached: Option<u64>,
    pub mem_total: Option<u64>,
    pub mem_available: Option<u64>,
    /// Lines whose value does not fit in u64 bytes (kB x 1024 overflows):
    /// their field is left out, never wrapped.
    pub overflows: Vec<String>,
}

/// Parses `/proc/meminfo` (values in kB, i.e. KiB).
pub fn parse_meminfo(text: &str) -> Meminfo {
    let mut m = Meminfo::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let Some(v) = parts.next().and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let bytes = match parts.next() {
            Some("kB") => v.checked_mul(1024),
            _ => Some(v),
        };
        let slot = match key {
            "SwapTotal" => &mut m.swap_total,
            "SwapFree" => &mut m.swap_free,
            "SwapCached" => &mut m.swap_cached,
            "MemTotal" => &mut m.mem_total,
            "MemAvailable" => &mut m.mem_available,
            _ => continue,
        };
        match bytes {
            Some(b) => *slot = Some(b),
            None => m
                .overflows
                .push(format!("{key}: {v} kB overflows a 64-bit byte count")),
        }
    }
    m
}

/// `pswpin` and `pswpout` from `/proc/vmstat`, in pages.
pub fn parse_vmstat(text: &str) -> (Option<u64>, Option<u64>) {
    let (mut pin, mut pout) = (None, None);
    for line in text.lines() {
        // Most of the file's lines are other counters: skip them cheaply.
        if !line.trim_start().starts_with("pswp") {
            continue;
        }
        let mut it = line.split_whitespace();
        match (it.next(), it.next().and_then(|v| v.parse::<u64>().ok())) {
            (Some("pswpin"), Some(v)) => pin = Some(v),
            (Some("pswpout"), Some(v)) => pout = Some(v),
            _ => {}
        }
    }
    (pin, pout)
}

/// One row of `/proc/swaps`; sizes in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct SwapDevice {
    pub filename: String,
    pub kind: String,
    pub size: u64,
    pub used: u64,
    pub priority: i64,
}

/// Parses `/proc/swaps` (sizes in KiB). The header line and malformed rows
/// are skipped; malformed rows are returned as errors.
pub fn parse_swaps(text: &str) -> (Vec<SwapDevice>, Vec<String>) {
    let mut devs = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line.starts_with("Filename") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = (f.len() == 5)
            .then(|| {
                Some(SwapDevice {
                    filename: super::mountinfo::unescape(f[0]),
                    kind: f[1].to_string(),
                    size: f[2].parse::<u64>().ok()?.checked_mul(1024)?,
                    used: f[3].parse::<u64>().ok()?.checked_mul(1024)?,
                    priority: f[4].parse().ok()?,
                })
            })
            .flatten();
        match parsed {
            Some(d) => devs.push(d),
            None => errors.push(format!("line {}: unexpected format: {line:?}", i + 1)),
        }
    }
    (devs, errors)
}

/// Totals of `/proc/pressure/memory`, in seconds: `(some, full)`.
pub fn parse_psi(text: &str) -> (Option<f64>, Option<f64>) {
    let total = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))?
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("total="))?
            .parse::<u64>()
            .ok()
            .map(|us| us as f64 / 1e6)
    };
    (total("some "), total("full "))
}

/// Reads a file that may legitimately be missing (PSI): `Ok(None)` when it
/// is absent or the kernel refuses it (`psi=0` gives EOPNOTSUPP).
fn read_optional<T>(file: &ProcFile, f: impl FnOnce(&str) -> T) -> anyhow::Result<Option<T>> {
    BUFFER.with_borrow_mut(|buf| match file.read(buf, |_| false) {
        Ok(n) => std::str::from_utf8(&buf[..n]).map(|t| Some(f(t))).map_err(|e| {
            anyhow::anyhow!("reading {}: not UTF-8: {e}", file.path().display())
        }),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                || e.raw_os_error() == Some(nix::libc::EOPNOTSUPP) =>
        {
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", file.path().display())),
    })
}

impl Collector for SwapCollector {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        // Each source is independent: export what could be read, report the
        // first failure after.
        let mut errors = Partial::default();

        match with_text(&self.meminfo, |_| false, parse_meminfo) {
            Ok(m) => {
                for (desc, v) in [
                    (&SWAP_SIZE_BYTES, m.swap_total),
                    (&SWAP_FREE_BYTES, m.swap_free),
                    (&SWAP_CACHED_BYTES, m.swap_cached),
                    (&MEMORY_TOTAL_BYTES, m.mem_total),
                    (&MEMORY_AVAILABLE_BYTES, m.mem_available),
                ] {
                    if let Some(v) = v {
                        out.family(desc).sample(&[], v as f64);
                    }
                }
                if let Some(e) = m.overflows.first() {
                    errors.note(anyhow::anyhow!(
                        "{}: {e}",
                        self.paths.proc("meminfo").display()
                    ));
                }
                if m.swap_total.is_none() || m.swap_free.is_none() {
                    errors.note(anyhow::anyhow!(
                        "{}: no SwapTotal/SwapFree line",
                        self.paths.proc("meminfo").display()
                    ));
                }
            }
            Err(e) => errors.note(e),
        }

        match with_text(&self.vmstat, vmstat_has_swap_lines, parse_vmstat) {
            Ok(counts) => match counts {
                (Some(pin), Some(pout)) => {
                    // A page count whose bytes overflow u64 is an error and
                    // no series, never a wrapped (and falling) counter.
                    for (desc, key, pages) in
                        [(&SWAP_IN_BYTES, "pswpin", pin), (&SWAP_OUT_BYTES, "pswpout", pout)]
                    {
                        match pages.checked_mul(self.page_size) {
                            Some(b) => {
                                out.family(desc).sample(&[], b as f64);
                            }
                            None => errors.note(anyhow::anyhow!(
                                "{}: {key} {pages} pages of {} bytes overflows a 64-bit byte count",
                                self.paths.proc("vmstat").display(),
                                self.page_size
                            )),
                        }
                    }
                }
                _ => errors.note(anyhow::anyhow!(
                    "{}: no pswpin/pswpout line",
                    self.paths.proc("vmstat").display()
                )),
            },
            Err(e) => errors.note(e),
        }

        match with_text(&self.swaps, |_| false, parse_swaps) {
            Ok((devs, bad_rows)) => {
                for d in &devs {
                    let l = [("device", d.filename.as_str()), ("type", d.kind.as_str())];
                    out.family(&SWAP_DEVICE_SIZE_BYTES)
                    .sample(&l, d.size as f64);
                    out.family(&SWAP_DEVICE_USED_BYTES)
                    .sample(&l, d.used as f64);
                    out.family(&SWAP_DEVICE_PRIORITY)
                    .sample(&l, d.priority as f64);
                }
                if let Some(e) = bad_rows.first() {
                    errors.note(anyhow::anyhow!(
                        "{}: {e}",
                        self.paths.proc("swaps").display()
                    ));
                }
            }
            Err(e) => errors.note(e),
        }

        match read_optional(&self.psi, parse_psi) {
            Ok(Some((some, full))) => {
                if let Some(v) = some {
                    out.family(&PRESSURE_MEMORY_WAITING_SECONDS)
                    .sample(&[], v);
                }
                if let Some(v) = full {
                    out.family(&PRESSURE_MEMORY_STALLED_SECONDS)
                    .sample(&[], v);
                }
            }
            Ok(None) => {}
            Err(e) => errors.note(e),
        }

        errors.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_with_escaped_name_and_bad_row() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
                    /swap\\040file file 1024 512 -2\n\
                    /dev/sda2 partition 2048 0 10\n\
                    broken row\n";
        let (d, e) = parse_swaps(text);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].filename, "/swap file");
        assert_eq!(d[0].size, 1024 * 1024);
        assert_eq!(d[0].used, 512 * 1024);
        assert_eq!(d[0].priority, -2);
        assert_eq!(d[1].priority, 10);
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn psi() {
        let text = "some avg10=0.00 avg60=0.10 avg300=0.05 total=1234567\n\
                    full avg10=0.00 avg60=0.00 avg300=0.00 total=89\n";
        assert_eq!(parse_psi(text), (Some(1.234567), Some(0.000089)));
        // Old kernels have only the 'some' line.
        assert_eq!(
            parse_psi("some avg10=0 avg60=0 avg300=0 total=5\n"),
            (Some(0.000005), None)
        );
    }

    fn read_string(file: &ProcFile, enough: impl Fn(&[u8]) -> bool) -> String {
        let mut buf = Vec::new();
        let n = file.read(&mut buf, enough).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// A procfs file stays open and each read is the kernel's text of now:
    /// /proc/uptime moves every 10 ms, so two reads 50 ms apart differ.
    #[test]
    fn a_procfs_file_is_kept_open_and_read_afresh() {
        let f = ProcFile::new(PathBuf::from("/proc/uptime"));
        let first = read_string(&f, |_| false);
        assert!(f.is_kept(), "procfs file not kept open");
        std::thread::sleep(std::time::Duration::from_millis(50));
        let second = read_string(&f, |_| false);
        assert_ne!(first, second, "a kept file must be read again, not cached");
        assert!(second.ends_with('\n') && second.split_whitespace().count() == 2, "{second:?}");
    }

    /// Anywhere else (a fixture tree) the file is opened at each read, so a
    /// file replaced between scrapes is seen; a file larger than the first
    /// read's buffer is read whole.
    #[test]
    fn a_regular_file_is_reopened_and_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vmstat");
        let big: String = (0..3000).map(|i| format!("counter_{i} {i}\n")).collect();
        assert!(big.len() > 2 * READ_SIZE);
        std::fs::write(&path, &big).unwrap();
        let f = ProcFile::new(path.clone());
        let mut buf = Vec::new();
        let n = f.read(&mut buf, |_| false).unwrap();
        assert_eq!(&buf[..n], big.as_bytes());
        assert!(!f.is_kept());
        let tmp = dir.path().join("vmstat.new");
        std::fs::write(&tmp, "pswpin 1\npswpout 2\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        // The same buffer: the shorter new file, nothing of the old after it.
        let n = f.read(&mut buf, |_| false).unwrap();
        assert_eq!(&buf[..n], b"pswpin 1\npswpout 2\n");
    }

    /// /proc/vmstat is read only up to complete pswpin and pswpout lines,
    /// and those give the same counters as the whole file (on this host's
    /// kernel, read right after).
    #[test]
    fn vmstat_is_read_up_to_the_swap_lines() {
        let f = ProcFile::new(PathBuf::from("/proc/vmstat"));
        let part = read_string(&f, vmstat_has_swap_lines);
        let whole = std::fs::read_to_string("/proc/vmstat").unwrap();
        let (pin, pout) = parse_vmstat(&part);
        let (win, wout) = parse_vmstat(&whole);
        assert!(pin.is_some() && pout.is_some(), "{part}");
        // Counters only grow between the two reads.
        assert!(pin <= win && pout <= wout);
        // Stopped before the end: /proc/vmstat is longer than one read.
        assert!(part.len() < whole.len(), "{} of {}", part.len(), whole.len());
        assert!(!vmstat_has_swap_lines(b"nr_free_pages 1\npswpin 3\npswpout 4"));
        assert!(vmstat_has_swap_lines(b"nr_free_pages 1\npswpin 3\npswpout 4\n"));
    }

    #[test]
    fn vmstat() {
        assert_eq!(
            parse_vmstat("pgfault 1\npswpin 10\npswpout 20\n"),
            (Some(10), Some(20))
        );
        assert_eq!(parse_vmstat("pgfault 1\n"), (None, None));
    }
}
