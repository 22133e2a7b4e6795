//! Collectors: one file per collector behind the small [`Collector`] trait,
//! the [`registry`] that lists them, and the [`Runner`] that schedules, times
//! and reports them.
//!
//! Adding a collector means: a file here that implements [`Collector`] and
//! declares its `COLLECTOR` entry (name, default state, summary, its flags
//! as a clap `Args` struct, its registration, the descriptors of the
//! families it exports), and one line in `collectors!`.
//!
//! The runner owns every schedule: it runs each collector's refresh on the
//! collector's own worker thread, either on each scrape
//! ([`Refresh::OnScrape`]; [`Refresh::Inline`] runs on the scrape's own task,
//! for cheap reads of `/proc`) or in the background on
//! its own interval ([`Refresh::Every`], for anything that can be slow), with
//! a timeout, and exports `vigie_collector_success`,
//! `vigie_collector_duration_seconds`,
//! `vigie_collector_last_success_timestamp_seconds` and
//! `vigie_collector_refresh_interval_seconds` for it.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::metrics::Families;

pub mod dns_probe;
pub mod mountinfo;
pub mod registry;
pub mod resolv_conf;
pub(crate) mod runner;
pub mod smart_json;
mod smart_series;
pub mod smartctl;
pub(crate) mod stuck_pool;

pub use registry::Entry;
pub use runner::{CollectorStatus, Runner};

/// Declares each collector module and [`ALL`], the list of their entries.
macro_rules! collectors {
    ($($name:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// Every collector, in the order they are exported: the one list
        /// that drives `--collector.NAME`, `--help`, the default
        /// configuration, [`build`] and the landing page. Each file declares
        /// its own `COLLECTOR` entry.
        pub const ALL: &[Entry] = &[$($name::COLLECTOR),*];
    };
}

collectors! {
    filesystem,
    swap,
    smart,
    dns,
    reboot,
}

/// A source of metrics, in two parts: slow refreshing and cheap rendering.
///
/// [`refresh`](Collector::refresh) does the slow work: reading `/proc`,
/// statting mounts, running smartctl, probing resolvers. The [`Runner`] calls
/// it on the collector's own worker thread (never two at once), on the
/// collector's schedule ([`Refresh`]) and under its timeout: a refresh that
/// overruns counts as failed, and no second one starts while it is stuck.
/// The worker thread is inside the Tokio runtime's context, so a refresh may
/// spawn tasks and wait for them. Whatever `refresh` writes into `out` is
/// kept by the runner as the collector's snapshot, whatever it wrote before
/// returning an error included (partial data); the error sets
/// `vigie_collector_success` to 0. Failures of one item inside a collector
/// (one mount, one disk, one resolver) should be exported as metrics of
/// their own and not fail the whole refresh.
///
/// [`render`](Collector::render) runs on every scrape, on the scrape's own
/// task, after the snapshot: it writes the state a collector keeps itself
/// (SMART's per-device cache, DNS's per-resolver results), and must only
/// read memory.
///
/// [`stop`](Collector::stop) is called once, at shutdown: it ends work that
/// would outlive vigie (smartctl processes).
pub trait Collector: Send + Sync + 'static {
    /// The stable name: the `collector` label and the `--collector.NAME` flag.
    fn name(&self) -> &'static str;

    /// Does the slow work once; writes the families to keep as the snapshot.
    fn refresh(&self, out: &mut Families) -> anyhow::Result<()>;

    /// Writes the families of the state the collector keeps itself.
    fn render(&self, _out: &mut Families) {}

    /// A number that changes whenever what [`render`](Collector::render)
    /// would write changes (e.g. bumped each time a disk's reading or a
    /// probe's result is stored), or None to render on every scrape. While
    /// it stays the same, scrapes reuse the last rendering, already encoded
    /// and compressed.
    fn render_version(&self) -> Option<u64> {
        None
    }

    /// Ends any work still in flight (called at shutdown).
    fn stop(&self) {}

    /// What is wrong with what the collector watches although it runs
    /// (a resolver failing, a disk giving no data, no disk found where the
    /// host has some), in one line for the landing page; None when all is
    /// well. A collector that runs is not a collector whose news is good.
    fn trouble(&self) -> Option<String> {
        None
    }

    /// What a refresh re-reads from the host that a SIGHUP should make
    /// current at once (e.g. "resolv.conf"), or None when SIGHUP has
    /// nothing to re-read for this collector.
    fn rereads_on_sighup(&self) -> Option<&'static str> {
        None
    }
}

/// When a collector refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// On every scrape, on the collector's worker thread: the scrape waits
    /// for it (at most the timeout).
    OnScrape,
    /// On every scrape, on the scrape's own task, with no thread hand-off
    /// and no timeout: only for reads of `/proc` files that the kernel
    /// answers from memory and that cannot block (meminfo, vmstat, swaps).
    Inline,
    /// In the background, once per interval; scrapes encode the last snapshot
    /// and never wait.
    Every(Duration),
}

/// A collector with its schedule.
pub struct Registration {
    pub collector: Arc<dyn Collector>,
    pub refresh: Refresh,
    /// How long one run may take before it counts as failed. A run that
    /// overruns keeps its thread (a hung system call cannot be cancelled) but
    /// no second run of the same collector starts until it returns.
    pub timeout: Duration,
}

/// Builds the collectors the configuration enables, in its order.
pub fn build(config: &Config) -> Vec<Registration> {
    let context = registry::Context {
        paths: &config.paths,
        scrape_timeout: config.scrape_timeout,
    };
    config
        .collectors
        .iter()
        .map(|c| c.register(&context))
        .collect()
}

/// A collector's own state behind a mutex, with a version that every
/// [`write`](Versioned::write) lock bumps: what
/// [`Collector::render_version`] returns, so that scrapes reuse the last
/// rendering until the state may have changed.
#[derive(Debug, Default)]
pub(crate) struct Versioned<T> {
    inner: std::sync::Mutex<T>,
    version: std::sync::atomic::AtomicU64,
}

impl<T> Versioned<T> {
    /// Locks for a change. A poisoned lock is still used: the collectors'
    /// states stay consistent field by field.
    pub(crate) fn write(&self) -> std::sync::MutexGuard<'_, T> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        g
    }

    /// Locks to read (rendering): no version change.
    pub(crate) fn read(&self) -> std::sync::MutexGuard<'_, T> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Errors met by a collector that goes on after them: it exports what it
/// could read and reports the first failure at the end, as partial data.
#[derive(Default)]
pub(crate) struct Partial {
    first: Option<anyhow::Error>,
}

impl Partial {
    /// Remembers `e` if it is the first error.
    pub(crate) fn note(&mut self, e: anyhow::Error) {
        self.first.get_or_insert(e);
    }

    /// The value of `r`, or None after noting its error.
    pub(crate) fn ok<T>(&mut self, r: anyhow::Result<T>) -> Option<T> {
        r.map_err(|e| self.note(e)).ok()
    }

    /// The collector's result: the first error, if any.
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        self.first.map_or(Ok(()), Err)
    }
}

/// Reads a whole file under procfs or rootfs, naming the file in the error.
pub(crate) fn read_file(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}
