//! Running smartctl: each run in its own process group, its output read
//! with a deadline and a size cap, killed with the group after its timeout
//! (even when smartctl exited but a child still holds its output) and
//! reaped (or handed to a reaper thread when SIGKILL cannot end it); the
//! groups in flight, ended at shutdown; and the device list of
//! `smartctl --scan-open`.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The process groups of the smartctl runs in flight, so that they can be
/// ended when vigie stops (a hung smartctl lives in its own group and would
/// otherwise outlive vigie). Once stopped, no new run starts.
#[derive(Debug, Default)]
pub struct ProcessGroups {
    running: Mutex<BTreeSet<i32>>,
    stopped: AtomicBool,
}

impl ProcessGroups {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<i32>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kills every run still in flight and refuses new ones.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        for pgid in std::mem::take(&mut *self.lock()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// smartctl exited and closed its output.
    Exited,
    /// Still running at the timeout: killed with its process group.
    TimedOut,
    /// smartctl exited, but its output was still held open at the timeout
    /// (a wrapper script left a background process on it): the group is
    /// killed and vigie stops reading.
    StdoutHeld,
    /// It printed more than [`MAX_OUTPUT`] bytes: killed, output dropped.
    TooLarge,
}

impl Ending {
    /// Why the run gave no usable output, in words, or None if it ended
    /// normally.
    pub fn error(self, timeout: Duration) -> Option<String> {
        let t = crate::units::human(timeout);
        match self {
            Ending::Exited => None,
            Ending::TimedOut => Some(format!("smartctl did not answer within {t}; killed")),
            Ending::StdoutHeld => Some(format!(
                "smartctl exited but its output was still held open after {t} \
                 (a wrapper script left a background process on it?); killed its process group"
            )),
            Ending::TooLarge => Some(format!(
                "smartctl printed more than {} MiB; killed, output dropped",
                MAX_OUTPUT >> 20
            )),
        }
    }
}

/// What running smartctl once gave.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    /// The process exit code (None if killed by a signal).
    pub code: Option<i32>,
    pub ending: Ending,
    pub duration: Duration,
    /// Set when the killed process could not be reaped yet (stuck in the
    /// kernel on a dying disk): a reaper thread waits for it and sets the
    /// flag to true once it is gone.
    pub unreaped: Option<Arc<AtomicBool>>,
}

/// How long a killed process may take to die before it is left to a reaper.
const REAP_GRACE: Duration = Duration::from_secs(5);

/// The most one smartctl run may print. The largest real outputs (SCT
/// temperature history, long error logs) are a few hundred kB; with
/// `--collector.smart.parallel` runs at once this bounds what smartctl can
/// make vigie hold.
pub const MAX_OUTPUT: usize = 4 << 20;

/// How often a silent run is checked for exit.
const TICK: Duration = Duration::from_millis(20);

/// Runs `cmd` in its own process group and reads its stdout, the whole of
/// it bounded by `timeout`: stdout is polled with the deadline on the
/// calling thread, so neither a silent smartctl nor a child that keeps the
/// pipe open after smartctl exited (a wrapper's background process, even
/// one that left the group) can hold the caller. At the deadline, or past
/// [`MAX_OUTPUT`] bytes, the group is killed and the pipe closed. A process
/// SIGKILL cannot end (uninterruptible I/O on a dying disk) never blocks the
/// caller for more than `timeout` plus a few seconds: it is handed to a
/// reaper thread. The group is recorded in `groups` while it runs.
pub fn run_with_timeout(
    mut cmd: Command,
    timeout: Duration,
    groups: &Arc<ProcessGroups>,
) -> std::io::Result<Run> {
    let start = Instant::now();
    let deadline = start + timeout;
    // Holding the lock while spawning orders this against `stop`: either
    // the group is recorded before `stop` takes the set, or the run is
    // refused.
    let mut running = groups.lock();
    if groups.stopped.load(Ordering::Acquire) {
        return Err(std::io::Error::other("vigie is stopping"));
    }
    // smartctl alone gets the disk capabilities vigie holds but does not
    // use (see crate::privileges).
    // SAFETY: raise_for_child makes prctl calls only (async-signal-safe).
    unsafe {
        cmd.pre_exec(crate::privileges::raise_for_child);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let pgid = child.id() as i32;
    running.insert(pgid);
    drop(running);
    let forget = {
        let groups = groups.clone();
        move || {
            groups.lock().remove(&pgid);
        }
    };
    let kill_group = || {
        let group = nix::unistd::Pid::from_raw(pgid);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    };
    let mut stdout = child.stdout.take();
    let mut buf: Vec<u8> = Vec::new();
    let mut status = None;
    let mut ending = Ending::Exited;
    loop {
        if status.is_none() {
            match child.try_wait() {
                Ok(s) => status = s,
                Err(e) => {
                    kill_group();
                    let _ = child.kill();
                    let _ = child.wait();
                    forget();
                    return Err(e);
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match (&stdout, status) {
            (None, Some(_)) => break,
            _ if left.is_zero() => {
                ending = if status.is_some() {
                    Ending::StdoutHeld
                } else {
                    Ending::TimedOut
                };
                break;
            }
            (None, None) => std::thread::sleep(left.min(TICK)),
            (Some(out), _) => match read_some(out, left.min(TICK), &mut buf) {
                Ok(true) => stdout = None,
                Ok(false) if buf.len() > MAX_OUTPUT => {
                    ending = Ending::TooLarge;
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    log::debug!("reading smartctl's output: {e}");
                    stdout = None;
                }
            },
        }
    }
    // Closing our end first: a writer still on the pipe gets EPIPE.
    drop(stdout);
    if ending == Ending::TooLarge {
        buf = Vec::new();
    }
    if ending != Ending::Exited {
        kill_group();
        if status.is_none() {
            let _ = child.kill();
        }
    }
    let killed_at = Instant::now();
    let status = loop {
        if let Some(s) = status {
            break Some(s);
        }
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if killed_at.elapsed() >= REAP_GRACE => break None,
            Ok(None) => std::thread::sleep(TICK),
            Err(_) => break None,
        }
    };
    let Some(status) = status else {
        // Still alive after SIGKILL: leave it to a reaper thread.
        let gone = Arc::new(AtomicBool::new(false));
        let flag = gone.clone();
        let _ = std::thread::Builder::new()
            .name("vigie-smartctl-reaper".into())
            .spawn(move || {
                let _ = child.wait();
                forget();
                flag.store(true, Ordering::Release);
            });
        return Ok(Run {
            stdout: String::new(),
            code: None,
            ending,
            duration: start.elapsed(),
            unreaped: Some(gone),
        });
    };
    forget();
    Ok(Run {
        stdout: String::from_utf8_lossy(&buf).into_owned(),
        code: status.code(),
        ending,
        duration: start.elapsed(),
        unreaped: None,
    })
}

/// Waits at most `wait` for `out` to be readable and reads what is there
/// into `buf` (at most one pipe's worth). True at end of file.
fn read_some(out: &ChildStdout, wait: Duration, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(out.as_fd(), PollFlags::POLLIN)];
    let wait = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, wait) {
        Ok(0) | Err(nix::errno::Errno::EINTR) => return Ok(false),
        Ok(_) => {}
        Err(e) => return Err(e.into()),
    }
    // Readable or hung up: one read returns without blocking.
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match nix::unistd::read(out.as_fd(), &mut chunk) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(false);
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Parses `smartctl --scan-open --json`: (device, type) pairs.
pub fn parse_scan(json: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("scan output is not JSON: {e}"))?;
    let devices = v
        .get("devices")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    Ok(devices
        .iter()
        .filter_map(|d| {
            let name = d.get("name")?.as_str()?.to_string();
            let kind = d
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("auto")
                .to_string();
            Some((name, kind))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_output() {
        let json = r#"{"smartctl":{"exit_status":0},"devices":[
            {"name":"/dev/sda","info_name":"/dev/sda [SAT]","type":"sat","protocol":"ATA"},
            {"name":"/dev/nvme0","info_name":"/dev/nvme0","type":"nvme","protocol":"NVMe"},
            {"info_name":"broken"}]}"#;
        assert_eq!(
            parse_scan(json).unwrap(),
            vec![
                ("/dev/sda".to_string(), "sat".to_string()),
                ("/dev/nvme0".to_string(), "nvme".to_string())
            ]
        );
        assert!(parse_scan("garbage").is_err());
        assert_eq!(parse_scan(r#"{"smartctl":{}}"#).unwrap(), vec![]);
    }

    #[test]
    fn a_background_child_holding_stdout_does_not_wedge_the_run() {
        // A wrapper script: prints, leaves a child that holds stdout, exits.
        for script in [
            "echo out; sleep 30 & exit 0",
            // The same child outside the run's process group.
            "echo out; setsid sleep 5 & exit 0",
        ] {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", script]);
            let groups = Arc::default();
            let t0 = Instant::now();
            let run = run_with_timeout(cmd, Duration::from_millis(300), &groups).unwrap();
            assert!(
                t0.elapsed() < Duration::from_secs(3),
                "{script}: {:?}",
                t0.elapsed()
            );
            assert_eq!(run.ending, Ending::StdoutHeld, "{script}");
            assert_eq!(run.stdout, "out\n");
        }
    }

    #[test]
    fn output_beyond_the_cap_ends_the_run() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done",
        ]);
        let groups = Arc::default();
        let run = run_with_timeout(cmd, Duration::from_secs(20), &groups).unwrap();
        assert_eq!(run.ending, Ending::TooLarge);
        assert!(run.duration < Duration::from_secs(15), "{:?}", run.duration);
        assert!(groups.lock().is_empty());
    }

    #[test]
    fn hung_child_is_killed_with_its_group() {
        let mut cmd = Command::new("sh");
        // The shell's child (sleep) holds stdout too: killing only the shell
        // would leave the reader waiting.
        cmd.args(["-c", "echo started; sleep 30; echo never"]);
        let groups = Arc::default();
        let run = run_with_timeout(cmd, Duration::from_millis(300), &groups).unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert!(run.duration < Duration::from_secs(5), "{:?}", run.duration);
        assert_eq!(run.stdout, "started\n");
    }
}
