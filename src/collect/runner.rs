//! The runner: owns every collector's schedule, runs each refresh on the
//! collector's own worker thread under its timeout (or inline on the scrape
//! for cheap `/proc` reads), keeps the last snapshot as an encoded
//! [`Chunk`], re-renders a collector's own state only when it changed, and
//! exports how each collector is doing (`vigie_collector_*`).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{Refresh, Registration};
use crate::expo::Chunk;
use crate::metrics::{Families, Unit};
use crate::schema::Desc;
use crate::units::{human, unix_now};

// The families this file emits: the metric schema's part for vigie itself.

const COLLECTOR: &[&str] = &["collector"];
const BUILD: &[&str] = &["version", "revision", "rustc"];

pub const COLLECTOR_SUCCESS: Desc = Desc::gauge(
    "vigie_collector_success",
    "1 if the collector's last run succeeded, 0 if it failed, timed out or has not run yet.",
    COLLECTOR,
);
pub const COLLECTOR_DURATION_SECONDS: Desc = Desc::gauge(
    "vigie_collector_duration_seconds",
    "How long the collector's last run took (its timeout if it overran).",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const COLLECTOR_LAST_SUCCESS_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_collector_last_success_timestamp_seconds",
    "Unix time of the collector's last successful run; 0 if it never succeeded.",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const COLLECTOR_DATA_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_collector_data_timestamp_seconds",
    "Unix time at which the collector's last finished run ended: the age of the data served for it. \
     A run that overruns keeps the last data served, so this stops moving; 0 if no run has finished.",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const COLLECTOR_ERRORS: Desc = Desc::counter(
    "vigie_collector_errors",
    "Failed, timed-out or stuck runs of the collector since vigie started.",
    COLLECTOR,
);
pub const COLLECTOR_REFRESH_INTERVAL_SECONDS: Desc = Desc::gauge(
    "vigie_collector_refresh_interval_seconds",
    "How often the collector refreshes in the background; 0 if it runs on each scrape.",
    COLLECTOR,
)
.unit(Unit::Seconds);
pub const BUILD_INFO: Desc = Desc::gauge(
    "vigie_build_info",
    "A metric with a constant 1 value labelled by vigie's version, git revision and rustc version.",
    BUILD,
);
pub const START_TIME_SECONDS: Desc = Desc::gauge(
    "vigie_start_time_seconds",
    "Unix time at which this vigie process started.",
    &[],
)
.unit(Unit::Seconds);

/// vigie's own families, after every collector's.
pub const SELF_FAMILIES: &[&Desc] = &[
    &COLLECTOR_SUCCESS,
    &COLLECTOR_DURATION_SECONDS,
    &COLLECTOR_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &COLLECTOR_DATA_TIMESTAMP_SECONDS,
    &COLLECTOR_ERRORS,
    &COLLECTOR_REFRESH_INTERVAL_SECONDS,
    &BUILD_INFO,
    &START_TIME_SECONDS,
];

/// What the landing page and logs show of one collector.
#[derive(Debug, Clone)]
pub struct CollectorStatus {
    pub name: &'static str,
    pub refresh: Refresh,
    /// None until the first run finished (or timed out).
    pub success: Option<bool>,
    pub last_error: Option<String>,
    pub duration: Duration,
    /// [`super::Collector::trouble`], for a collector that runs.
    pub trouble: Option<String>,
}

/// A run request for a collector's worker: when it was asked for, and whom
/// to tell when it is done.
type Job = (Instant, tokio::sync::oneshot::Sender<()>);

struct Slot {
    reg: Registration,
    /// The collector's own thread (a plain thread, not Tokio's blocking pool:
    /// a run stuck in a system call must never hold up the runtime, and
    /// reusing one thread keeps thread creation off the scrape path). Started
    /// on first use; a job is only sent when no run is in flight.
    worker: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    /// A run is in flight (possibly stuck in a system call).
    running: AtomicBool,
    /// Signalled when a run finishes.
    done: Notify,
    state: Mutex<State>,
    /// The last rendered state, with the collector's
    /// [`render_version`](super::Collector::render_version) it was rendered
    /// at: reused (with its encodings) until the version changes.
    rendered: Mutex<Option<(u64, Arc<Chunk>)>>,
    /// Kept chunks are [`Chunk::compact`].
    compact: bool,
}

#[derive(Default)]
struct State {
    families: Arc<Chunk>,
    /// None until a first attempt ended.
    success: Option<bool>,
    duration: Duration,
    last_success: Option<f64>,
    /// When the run whose families are served ended.
    data_time: Option<f64>,
    errors_total: u64,
    last_error: Option<String>,
    /// When the run in flight started.
    running_since: Option<Instant>,
}

impl Slot {
    /// The worker's channel, starting the thread on first use. The thread
    /// holds the slot weakly and ends when the slot is dropped.
    fn worker(self: &Arc<Self>) -> std::io::Result<std::sync::mpsc::Sender<Job>> {
        let mut w = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = &*w {
            return Ok(tx.clone());
        }
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let weak = Arc::downgrade(self);
        // Refreshes run inside the runtime's context, so that they may spawn
        // tasks (the DNS probes) and wait for them.
        let runtime = tokio::runtime::Handle::try_current().ok();
        std::thread::Builder::new()
            .name(format!("vigie-{}", self.name()))
            .spawn(move || {
                let _context = runtime.as_ref().map(|h| h.enter());
                while let Ok((started, done)) = rx.recv() {
                    let Some(slot) = weak.upgrade() else { break };
                    run_collector(&slot, started);
                    drop(slot);
                    let _ = done.send(());
                }
            })?;
        *w = Some(tx.clone());
        Ok(tx)
    }

    fn name(&self) -> &'static str {
        self.reg.collector.name()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State inconsistent
        // (every field is replaced whole), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the outcome of a finished run.
    fn finish(&self, families: Families, result: anyhow::Result<()>, duration: Duration) {
        let mut st = self.lock();
        // The previous snapshot is freed after the lock is released (below):
        // with tens of thousands of mounts that takes long enough to hold
        // up scrapes, which take this lock.
        // An inline collector's run serves one scrape: it is compressed with
        // its neighbours, not on its own.
        let chunk = if self.reg.refresh == Refresh::Inline {
            Chunk::once(families)
        } else {
            self.kept(families)
        };
        let _previous = std::mem::replace(&mut st.families, chunk);
        st.data_time = Some(unix_now());
        st.duration = duration;
        st.running_since = None;
        match result {
            Ok(()) => {
                if st.success == Some(false) {
                    log::info!("collector {}: recovered", self.name());
                }
                st.success = Some(true);
                st.last_success = Some(unix_now());
                st.last_error = None;
            }
            Err(e) => self.failed(&mut st, format!("{e:#}")),
        }
        drop(st);
    }

    /// Records a failed attempt; logs only when the error changes, so a
    /// collector failing the same way on every scrape does not flood the log.
    fn failed(&self, st: &mut State, message: String) {
        st.errors_total += 1;
        st.success = Some(false);
        if st.last_error.as_deref() != Some(message.as_str()) {
            log::warn!("collector {}: {message}", self.name());
        }
        st.last_error = Some(message);
    }

    /// A run that did not return in time: the collector fails, and the data
    /// of the last finished run is still served, its age visible in
    /// `vigie_collector_data_timestamp_seconds` (a refresh that overruns on
    /// a huge or slow host must not make `/` vanish from the dashboards).
    fn overran(&self, run: Instant, waited: Duration, message: String) {
        let mut st = self.lock();
        if st.running_since != Some(run) {
            // The run finished just as the wait gave up: its data is fresh.
            return;
        }
        st.duration = waited;
        // (No age in the message: it would change at every overrun and
        // defeat the log-once of `failed`; the age is the metric's.)
        let message = match st.data_time {
            Some(_) => format!(
                "{message}; still serving the data of its last finished run \
                 (vigie_collector_data_timestamp_seconds)"
            ),
            None => message,
        };
        self.failed(&mut st, message);
    }
}

impl Slot {
    /// A chunk kept across scrapes: compact when the runner serves
    /// ([`Runner::compact_chunks`]).
    fn kept(&self, families: Families) -> Arc<Chunk> {
        if self.compact && !families.is_empty() {
            Chunk::compact(families)
        } else {
            Chunk::new(families)
        }
    }

    /// The collector's rendered state: the cached chunk while its render
    /// version is unchanged, else a new rendering (None when empty or when
    /// rendering panicked).
    fn render(&self) -> Option<Arc<Chunk>> {
        let version = self.reg.collector.render_version();
        if let Some(v) = version {
            let cached = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, chunk)) = &*cached
                && *at == v
            {
                return (!chunk.is_empty()).then(|| chunk.clone());
            }
        }
        let mut rendered = Families::new();
        let render = AssertUnwindSafe(|| self.reg.collector.render(&mut rendered));
        if let Err(panic) = std::panic::catch_unwind(render) {
            log::error!(
                "collector {}: rendering panicked: {}",
                self.name(),
                panic_message(panic.as_ref())
            );
            return None;
        }
        // Rendered for this scrape only when the collector gives no version.
        let chunk = match version {
            Some(_) => self.kept(rendered),
            None => Chunk::once(rendered),
        };
        if let Some(v) = version {
            *self.rendered.lock().unwrap_or_else(|p| p.into_inner()) = Some((v, chunk.clone()));
        }
        (!chunk.is_empty()).then_some(chunk)
    }
}

/// Schedules the collectors and serves their snapshots.
pub struct Runner {
    slots: Vec<Arc<Slot>>,
    start_time: f64,
}

impl Runner {
    pub fn new(regs: Vec<Registration>) -> Self {
        Runner {
            slots: regs
                .into_iter()
                .map(|reg| {
                    Arc::new(Slot {
                        reg,
                        worker: Mutex::new(None),
                        running: AtomicBool::new(false),
                        done: Notify::new(),
                        state: Mutex::new(State::default()),
                        rendered: Mutex::new(None),
                        compact: false,
                    })
                })
                .collect(),
            start_time: unix_now(),
        }
    }

    /// Keeps the snapshots and rendered states of background collectors
    /// only compressed, in both formats ([`Chunk::compact`]): what a server
    /// wants (its RSS grew by some 75 kB per SMART disk otherwise); `vigie
    /// check`, which reads the families, does not. Call before any run.
    pub fn compact_chunks(mut self) -> Self {
        for slot in &mut self.slots {
            if let Some(s) = Arc::get_mut(slot) {
                s.compact = true;
            }
        }
        self
    }

    /// Starts one background task per [`Refresh::Every`] collector (the first
    /// run starts at once). Must be called from inside a Tokio runtime.
    pub fn start_background(&self) {
        for slot in &self.slots {
            if let Refresh::Every(interval) = slot.reg.refresh {
                let slot = slot.clone();
                tokio::spawn(async move {
                    let mut ticker = tokio::time::interval(interval);
                    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        ticker.tick().await;
                        let timeout = slot.reg.timeout;
                        run_once(&slot, timeout).await;
                    }
                });
            }
        }
    }

    /// Runs every background collector once, now, and waits for them (at
    /// most their timeout). Used by tests and benchmarks before their first
    /// scrape.
    pub async fn refresh_background_now(&self) {
        join_all(
            self.slots
                .iter()
                .filter(|s| matches!(s.reg.refresh, Refresh::Every(_)))
                .map(|s| run_once(s, s.reg.timeout))
                .collect(),
        )
        .await;
    }

    /// On SIGHUP: refreshes now every collector that has something to
    /// re-read ([`super::Collector::rereads_on_sighup`]) and logs what was
    /// re-read. Flags are not re-read: they need a restart.
    pub async fn reload(&self) {
        let slots: Vec<&Arc<Slot>> = self
            .slots
            .iter()
            .filter(|s| s.reg.collector.rereads_on_sighup().is_some())
            .collect();
        let what: Vec<String> = slots
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    s.reg.collector.rereads_on_sighup().unwrap_or_default(),
                    s.name()
                )
            })
            .collect();
        log::info!(
            "SIGHUP received: re-reading {}; flags need a restart",
            if what.is_empty() {
                "nothing (no enabled collector reads a file SIGHUP should refresh)".to_string()
            } else {
                what.join(", ")
            }
        );
        join_all(slots.iter().map(|s| run_once(s, s.reg.timeout)).collect()).await;
        for s in slots {
            let st = s.lock();
            match (&st.success, &st.last_error) {
                (Some(false), Some(e)) => log::warn!("SIGHUP: collector {}: {e}", s.name()),
                _ => log::info!("SIGHUP: collector {} re-read", s.name()),
            }
        }
    }

    /// Ends the work of every collector that could outlive vigie
    /// ([`super::Collector::stop`]). Called once, at shutdown.
    pub fn stop(&self) {
        for slot in &self.slots {
            slot.reg.collector.stop();
        }
    }

    /// Gathers a snapshot for one scrape: runs the on-scrape collectors
    /// (concurrently, each for at most `min(its timeout, budget)`) and the
    /// inline ones (on this task), then returns every collector's latest
    /// snapshot and rendered state, in order, followed by vigie's own
    /// families. Snapshots and rendered states that did not change since the
    /// last scrape are the same [`Chunk`]s, already encoded.
    pub async fn gather(&self, budget: Duration) -> Vec<Arc<Chunk>> {
        for slot in self
            .slots
            .iter()
            .filter(|s| s.reg.refresh == Refresh::Inline)
        {
            run_collector(slot, Instant::now());
        }
        join_all(
            self.slots
                .iter()
                .filter(|s| s.reg.refresh == Refresh::OnScrape)
                .map(|s| run_once(s, s.reg.timeout.min(budget)))
                .collect(),
        )
        .await;
        let mut out: Vec<Arc<Chunk>> = Vec::with_capacity(self.slots.len() + 1);
        for slot in &self.slots {
            out.push(slot.lock().families.clone());
            if let Some(rendered) = slot.render() {
                out.push(rendered);
            }
        }
        out.push(Chunk::once(self.self_metrics()));
        out
    }

    /// vigie's own health: per-collector success, duration, last success,
    /// errors and interval; build info; start time.
    fn self_metrics(&self) -> Families {
        let mut f = Families::new();
        for slot in &self.slots {
            let name = slot.name();
            let st = slot.lock();
            let l = [("collector", name)];
            f.family(&COLLECTOR_SUCCESS)
                .sample(&l, if st.success == Some(true) { 1.0 } else { 0.0 });
            f.family(&COLLECTOR_DURATION_SECONDS)
                .sample(&l, st.duration.as_secs_f64());
            f.family(&COLLECTOR_LAST_SUCCESS_TIMESTAMP_SECONDS)
                .sample(&l, st.last_success.unwrap_or(0.0));
            f.family(&COLLECTOR_DATA_TIMESTAMP_SECONDS)
                .sample(&l, st.data_time.unwrap_or(0.0));
            f.family(&COLLECTOR_ERRORS)
                .sample(&l, st.errors_total as f64);
            let interval = match slot.reg.refresh {
                Refresh::OnScrape | Refresh::Inline => 0.0,
                Refresh::Every(d) => d.as_secs_f64(),
            };
            f.family(&COLLECTOR_REFRESH_INTERVAL_SECONDS)
                .sample(&l, interval);
        }
        f.family(&BUILD_INFO).sample(
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", env!("VIGIE_GIT_REVISION")),
                ("rustc", env!("VIGIE_RUSTC_VERSION")),
            ],
            1.0,
        );
        f.family(&START_TIME_SECONDS).sample(&[], self.start_time);
        f
    }

    /// The status of every collector, in export order.
    pub fn status(&self) -> Vec<CollectorStatus> {
        self.slots
            .iter()
            .map(|s| {
                let st = s.lock();
                let trouble = match st.success {
                    Some(true) => s.reg.collector.trouble(),
                    _ => None,
                };
                let mut status = CollectorStatus {
                    name: s.name(),
                    refresh: s.reg.refresh,
                    success: st.success,
                    last_error: st.last_error.clone(),
                    duration: st.duration,
                    trouble: None,
                };
                status.trouble = trouble;
                status
            })
            .collect()
    }
}

/// Refreshes `slot`'s collector once on its worker thread and waits at most
/// `wait` for it. When a previous run is still in flight, no new run starts:
/// this waits (at most `wait`) for that run instead, so a hung collector
/// costs one stuck thread, never a growing pile of them.
async fn run_once(slot: &Arc<Slot>, wait: Duration) {
    let finished = slot.done.notified();
    tokio::pin!(finished);
    // Register interest before looking at `running`, so a run that ends in
    // between still wakes us.
    finished.as_mut().enable();
    if slot.running.swap(true, Ordering::AcqRel) {
        // Share the run in flight (another scrape started it), unless it has
        // already overrun its timeout: then it is stuck and waiting again
        // would only slow this scrape down.
        let since = slot.lock().running_since.unwrap_or_else(Instant::now);
        let left = slot.reg.timeout.saturating_sub(since.elapsed()).min(wait);
        if left.is_zero() || tokio::time::timeout(left, finished).await.is_err() {
            slot.overran(
                since,
                since.elapsed(),
                format!(
                    "a previous run is still in progress (stuck for more than {}); not starting another",
                    human(slot.reg.timeout.min(since.elapsed()))
                ),
            );
        }
        return;
    }
    let started = Instant::now();
    slot.lock().running_since = Some(started);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let sent = slot.worker().and_then(|w| {
        w.send((started, done_tx))
            .map_err(|_| std::io::Error::other("worker gone"))
    });
    if let Err(e) = sent {
        *slot.worker.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let mut st = slot.lock();
        st.running_since = None;
        slot.failed(&mut st, format!("cannot start the collector's thread: {e}"));
        slot.running.store(false, Ordering::Release);
        return;
    }
    match tokio::time::timeout(wait, done_rx).await {
        Ok(Ok(())) => {}
        // The worker dropped the job without running it: it is gone.
        Ok(Err(_)) => {
            *slot.worker.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let mut st = slot.lock();
            st.running_since = None;
            slot.failed(
                &mut st,
                "the collector's thread ended; it is restarted on the next run".into(),
            );
            slot.running.store(false, Ordering::Release);
        }
        Err(_) => slot.overran(started, wait, format!("timed out after {}", human(wait))),
    }
}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|m| m.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Refreshes the collector once, on its worker thread, and records the
/// outcome.
fn run_collector(s: &Slot, started: Instant) {
    let mut families = Families::new();
    let result =
        std::panic::catch_unwind(AssertUnwindSafe(|| s.reg.collector.refresh(&mut families)))
            .unwrap_or_else(|panic| {
                Err(anyhow::anyhow!(
                    "collector panicked: {}",
                    panic_message(panic.as_ref())
                ))
            });
    s.finish(families, result, started.elapsed());
    s.running.store(false, Ordering::Release);
    s.done.notify_waiters();
}

/// Polls every future until all are done, on the calling task (no task
/// spawn, so no extra wake-up between threads on the scrape path).
async fn join_all<F: std::future::Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<Option<std::pin::Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in futures.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await
}
