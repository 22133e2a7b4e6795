//! The pool that runs blocking jobs which can hang (statfs on a dead NFS
//! server, resolving a path through it) with one deadline for them all: a
//! stuck job costs one thread and an error naming it, never the others.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// A job run on its own thread with a timeout.
pub type Job<T> = Box<dyn FnOnce() -> Result<T, String> + Send>;

/// A job waiting for a thread: its index, its in-flight key, the job.
type Queued<T> = (usize, String, Job<T>);

/// Threads that stat mounts at once (more are started for stuck ones).
const POOL: usize = 8;

/// A thread busy on one job for this long is taken as stuck (a hung mount)
/// and replaced.
const SLOW_JOB: Duration = Duration::from_millis(200);

/// The state of a pool thread that has ended.
const EXITED: u64 = u64::MAX;

/// Runs jobs on threads, remembering across runs which have not returned.
#[derive(Default)]
pub struct StuckPool {
    /// Jobs ("statfs PATH", "resolving PATH") that have not returned yet.
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl StuckPool {
    /// Runs every job on a small pool of threads and waits at most
    /// `timeout` in all. A thread busy on one job for longer than
    /// [`SLOW_JOB`] (a stuck mount) is replaced, so the other jobs go on:
    /// each stuck mount costs one thread, as if every job had its own, but
    /// ten thousand healthy mounts cost [`POOL`] threads, not ten thousand.
    /// A job whose key is still running from an earlier refresh (a stuck
    /// mount) is not started again. `what` names the operation in errors
    /// ("statfs", "resolving").
    pub fn run<T: Send + 'static>(
        &self,
        what: &str,
        jobs: Vec<(String, Job<T>)>,
        timeout: Duration,
    ) -> Vec<Result<T, String>> {
        let start = Instant::now();
        let mut results: Vec<Option<Result<T, String>>> = (0..jobs.len()).map(|_| None).collect();
        let mut keys: Vec<String> = Vec::with_capacity(jobs.len());
        let mut queue: VecDeque<Queued<T>> = VecDeque::with_capacity(jobs.len());
        {
            let mut in_flight = lock(&self.in_flight);
            for (i, (key, job)) in jobs.into_iter().enumerate() {
                let full_key = format!("{what} {key}");
                if in_flight.insert(full_key.clone()) {
                    queue.push_back((i, full_key, job));
                } else {
                    results[i] = Some(Err(format!(
                        "{what} {key} has not returned since an earlier refresh (stuck mount?)"
                    )));
                }
                keys.push(key);
            }
        }
        let mut waiting = queue.len();
        let queue = Arc::new(Mutex::new(queue));
        let (tx, rx) = mpsc::channel::<(usize, Result<T, String>)>();
        // Per worker: 0 idle, EXITED, or 1 + the milliseconds (since
        // `start`) at which its current job began.
        let mut workers: Vec<Arc<AtomicU64>> = Vec::new();
        let mut spawn_error: Option<String> = None;
        let mut spawn = |workers: &mut Vec<Arc<AtomicU64>>| {
            let state = Arc::new(AtomicU64::new(0));
            let (queue, in_flight, tx, st) = (
                queue.clone(),
                self.in_flight.clone(),
                tx.clone(),
                state.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name("vigie-statfs".into())
                .spawn(move || {
                    loop {
                        let next = lock(&queue).pop_front();
                        let Some((i, key, job)) = next else { break };
                        st.store(1 + start.elapsed().as_millis() as u64, Ordering::Relaxed);
                        let r = job();
                        lock(&in_flight).remove(&key);
                        st.store(0, Ordering::Relaxed);
                        if tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                    st.store(EXITED, Ordering::Relaxed);
                });
            match spawned {
                Ok(_) => workers.push(state),
                Err(e) => spawn_error = Some(format!("cannot start a thread: {e}")),
            }
        };
        for _ in 0..waiting.min(POOL) {
            spawn(&mut workers);
        }
        let deadline = start + timeout;
        let mut last_check = Instant::now();
        while waiting > 0 && !workers.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout((deadline - now).min(SLOW_JOB / 2)) {
                Ok((i, r)) => {
                    waiting -= 1;
                    results[i] = Some(r);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if last_check.elapsed() >= SLOW_JOB / 2 && !lock(&queue).is_empty() {
                last_check = Instant::now();
                // Keep POOL threads that are not stuck on one job.
                let now_ms = 1 + start.elapsed().as_millis() as u64;
                let slow_ms = SLOW_JOB.as_millis() as u64;
                workers.retain(|w| w.load(Ordering::Relaxed) != EXITED);
                let healthy = workers
                    .iter()
                    .filter(|w| {
                        let since = w.load(Ordering::Relaxed);
                        since == 0 || now_ms.saturating_sub(since) < slow_ms
                    })
                    .count();
                for _ in healthy..POOL {
                    spawn(&mut workers);
                }
            }
        }
        // Jobs no thread took: give them back.
        let never_started: Vec<Queued<T>> = lock(&queue).drain(..).collect();
        {
            let mut in_flight = lock(&self.in_flight);
            for (i, full_key, _) in never_started {
                in_flight.remove(&full_key);
                results[i] = Some(Err(match &spawn_error {
                    Some(e) if workers.is_empty() => e.clone(),
                    _ => format!(
                        "{what} {} not started within {}: too many stuck mounts",
                        keys[i],
                        crate::units::human(timeout)
                    ),
                }));
            }
        }
        let timeout = crate::units::human(timeout);
        results
            .into_iter()
            .zip(keys)
            .map(|(r, key)| {
                r.unwrap_or_else(|| {
                    Err(format!(
                        "{what} {key} did not return within {timeout} (stuck mount?)"
                    ))
                })
            })
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
