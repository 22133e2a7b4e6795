//! The HTTP server's connection slots: every connection is accepted at once
//! (no slot is taken before accept), tracked in one of three phases with
//! its own deadline, and, when all `--web.max-connections` slots are taken,
//! the connection that is least likely to be a scraper is closed to make
//! room: the oldest that has not sent a full request header (slowloris),
//! else the longest idle. A connection handling a request is never evicted.
//!
//! Deadlines: a request header must be complete within the header-read
//! timeout of the connection's first byte after accept or after its last
//! response (so a slowloris is gone after 5 s); a keep-alive connection
//! that completed a request may then stay idle for the idle timeout
//! (5 minutes, longer than any scrape interval, so Prometheus keeps its
//! connection); a request may take the active limit.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The deadlines of each phase.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From accept (or the end of the last response plus the next byte)
    /// to a complete request header, TLS handshake included.
    pub header: Duration,
    /// Between requests on a keep-alive connection.
    pub idle: Duration,
    /// One request, from its header to the end of the handler.
    pub active: Duration,
}

const HEADER: u8 = 0;
const ACTIVE: u8 = 1;
const IDLE: u8 = 2;

/// One tracked connection.
pub struct Conn {
    phase: AtomicU8,
    /// Milliseconds since the tracker's epoch when the phase began.
    since: AtomicU64,
    changed: Notify,
    evicted: AtomicBool,
}

impl Conn {
    fn set(&self, phase: u8, now: u64) {
        self.since.store(now, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
        self.changed.notify_one();
    }
}

/// Every open connection.
pub struct Tracker {
    epoch: Instant,
    limits: Limits,
    max: usize,
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    evictions: AtomicU64,
}

impl Tracker {
    pub fn new(max: usize, limits: Limits) -> Arc<Tracker> {
        Arc::new(Tracker {
            epoch: Instant::now(),
            limits,
            max: max.max(1),
            next: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            evictions: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Connections closed to make room since start.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Open connections.
    pub fn open(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Registers a just-accepted connection, closing another to make room
    /// when every slot is taken. None when every slot is handling a request.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let now = self.now();
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        if conns.len() >= self.max {
            let victim = conns
                .iter()
                .filter_map(|(id, c)| {
                    let rank = match c.phase.load(Ordering::Acquire) {
                        HEADER => 0,
                        IDLE => 1,
                        _ => return None,
                    };
                    Some(((rank, c.since.load(Ordering::Relaxed)), *id))
                })
                .min()
                .map(|(_, id)| id)?;
            if let Some(c) = conns.remove(&victim) {
                c.evicted.store(true, Ordering::Release);
                c.changed.notify_one();
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            phase: AtomicU8::new(HEADER),
            since: AtomicU64::new(now),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        conns.insert(id, conn.clone());
        Some(Slot {
            tracker: self.clone(),
            id,
            conn,
        })
    }
}

/// A connection's place in the tracker, released when dropped.
pub struct Slot {
    tracker: Arc<Tracker>,
    id: u64,
    conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.tracker
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// Why [`Slot::run`] stopped a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    HeaderTimeout,
    IdleTimeout,
    ActiveTimeout,
    Evicted,
}

impl Slot {
    /// A handle for the request handler and the I/O wrapper.
    pub fn handle(&self) -> Phase {
        Phase {
            tracker: self.tracker.clone(),
            conn: self.conn.clone(),
        }
    }

    /// Drives `fut` (the connection) until it ends, its phase's deadline
    /// passes, or it is evicted.
    pub async fn run<F: std::future::Future>(&self, fut: F) -> Result<F::Output, Cut> {
        tokio::pin!(fut);
        let t = &self.tracker;
        loop {
            if self.conn.evicted.load(Ordering::Acquire) {
                return Err(Cut::Evicted);
            }
            let phase = self.conn.phase.load(Ordering::Acquire);
            let (limit, cut) = match phase {
                HEADER => (t.limits.header, Cut::HeaderTimeout),
                IDLE => (t.limits.idle, Cut::IdleTimeout),
                _ => (t.limits.active, Cut::ActiveTimeout),
            };
            let since = self.conn.since.load(Ordering::Relaxed);
            let deadline = t.epoch + Duration::from_millis(since) + limit;
            let changed = self.conn.changed.notified();
            tokio::select! {
                out = &mut fut => return Ok(out),
                _ = tokio::time::sleep_until(deadline.into()) => {
                    if self.conn.phase.load(Ordering::Acquire) == phase
                        && self.conn.since.load(Ordering::Relaxed) == since
                    {
                        return Err(cut);
                    }
                }
                _ = changed => {}
            }
        }
    }
}

/// What the handler and the I/O wrapper report.
#[derive(Clone)]
pub struct Phase {
    tracker: Arc<Tracker>,
    conn: Arc<Conn>,
}

impl Phase {
    /// A request header arrived: the handler runs.
    pub fn request(&self) {
        self.conn.set(ACTIVE, self.tracker.now());
    }

    /// The handler answered: the connection idles until the next byte.
    pub fn answered(&self) {
        self.conn.set(IDLE, self.tracker.now());
    }

    /// Bytes arrived: an idle connection starts a new request header.
    fn bytes(&self) {
        if self.conn.phase.load(Ordering::Acquire) == IDLE {
            self.conn.set(HEADER, self.tracker.now());
        }
    }
}

/// The connection's I/O, reporting reads to its [`Phase`].
pub struct Tracked<I> {
    pub inner: I,
    pub phase: Phase,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.phase.bytes();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header: Duration::from_secs(5),
            idle: Duration::from_secs(300),
            active: Duration::from_secs(120),
        }
    }

    #[test]
    fn a_full_tracker_evicts_the_oldest_pending_then_the_longest_idle_never_an_active_one() {
        let t = Tracker::new(3, limits());
        let a = t.admit().unwrap();
        let b = t.admit().unwrap();
        let c = t.admit().unwrap();
        a.handle().request(); // active: never evicted
        b.handle().request();
        b.handle().answered(); // idle
        // c is pending (no header yet): the first victim.
        let d = t.admit().unwrap();
        assert!(c.conn.evicted.load(Ordering::Acquire));
        assert!(!b.conn.evicted.load(Ordering::Acquire));
        d.handle().request();
        let _e = t.admit().unwrap();
        assert!(b.conn.evicted.load(Ordering::Acquire), "then the idle one");
        assert!(!a.conn.evicted.load(Ordering::Acquire));
        assert_eq!(t.evictions(), 2);
        // Every slot busy with a request: refused.
        _e.handle().request();
        assert!(t.admit().is_none());
        drop(a);
        assert!(t.admit().is_some());
    }

    #[tokio::test]
    async fn deadlines_follow_the_phase() {
        let t = Tracker::new(
            8,
            Limits {
                header: Duration::from_millis(50),
                idle: Duration::from_millis(400),
                active: Duration::from_secs(60),
            },
        );
        let s = t.admit().unwrap();
        let started = Instant::now();
        let r = s.run(std::future::pending::<()>()).await;
        assert_eq!(r, Err(Cut::HeaderTimeout));
        assert!(started.elapsed() < Duration::from_millis(300));
        // After a request: the idle limit, not the header one.
        let s = t.admit().unwrap();
        let p = s.handle();
        p.request();
        p.answered();
        let started = Instant::now();
        let r = s.run(std::future::pending::<()>()).await;
        assert_eq!(r, Err(Cut::IdleTimeout));
        assert!(started.elapsed() >= Duration::from_millis(380));
        // An evicted connection stops at once.
        let t = Tracker::new(1, limits());
        let s = t.admit().unwrap();
        let _other = t.admit().unwrap();
        assert_eq!(s.run(std::future::pending::<()>()).await, Err(Cut::Evicted));
    }
}
