//! Running smartctl: each run in its own process group, killed with the
//! group after its timeout and reaped (or handed to a reaper thread when
//! SIGKILL cannot end it); the groups in flight, ended at shutdown; and the
//! device list of `smartctl --scan-open`.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
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

/// What running smartctl once gave.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    /// The process exit code (None if killed by a signal).
    pub code: Option<i32>,
    pub timed_out: bool,
    pub duration: Duration,
    /// Set when the killed process could not be reaped yet (stuck in the
    /// kernel on a dying disk): a reaper thread waits for it and sets the
    /// flag to true once it is gone.
    pub unreaped: Option<Arc<AtomicBool>>,
}

/// How long a killed process may take to die before it is left to a reaper.
const REAP_GRACE: Duration = Duration::from_secs(5);

/// Runs `cmd` in its own process group; kills the group after `timeout`
/// and reaps it. stdout is read on a helper thread so a chatty child cannot
/// block on a full pipe. A process SIGKILL cannot end (uninterruptible I/O
/// on a dying disk) never blocks the caller for more than `timeout` plus a
/// few seconds: it is handed to a reaper thread.
/// The group is recorded in `groups` while it runs.
pub fn run_with_timeout(
    mut cmd: Command,
    timeout: Duration,
    groups: &Arc<ProcessGroups>,
) -> std::io::Result<Run> {
    let start = Instant::now();
    // Holding the lock while spawning orders this against `stop`: either
    // the group is recorded before `stop` takes the set, or the run is
    // refused.
    let mut running = groups.lock();
    if groups.stopped.load(Ordering::Acquire) {
        return Err(std::io::Error::other("vigie is stopping"));
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
    let Some(mut stdout) = child.stdout.take() else {
        forget();
        return Err(std::io::Error::other("no stdout pipe"));
    };
    let reader = std::thread::Builder::new()
        .name("vigie-smartctl-out".into())
        .spawn(move || {
            let mut buf = Vec::new();
            // Cap what a broken smartctl can make vigie hold.
            let _ = (&mut stdout).take(16 << 20).read_to_end(&mut buf);
            buf
        })?;
    let mut timed_out = false;
    let mut killed_at: Option<Instant> = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(e) => {
                forget();
                return Err(e);
            }
        }
        match killed_at {
            None if start.elapsed() >= timeout => {
                timed_out = true;
                let group = nix::unistd::Pid::from_raw(pgid);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                let _ = child.kill();
                killed_at = Some(Instant::now());
            }
            Some(t) if t.elapsed() >= REAP_GRACE => break None,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let Some(status) = status else {
        // Still alive after SIGKILL: leave it to a reaper thread.
        let gone = Arc::new(AtomicBool::new(false));
        let flag = gone.clone();
        let _ = std::thread::Builder::new()
            .name("vigie-smartctl-reaper".into())
            .spawn(move || {
                let _ = child.wait();
                let _ = reader.join();
                forget();
                flag.store(true, Ordering::Release);
            });
        return Ok(Run {
            stdout: String::new(),
            code: None,
            timed_out: true,
            duration: start.elapsed(),
            unreaped: Some(gone),
        });
    };
    forget();
    // The group is gone (or exited): the pipe closes and the reader ends.
    let bytes = reader.join().unwrap_or_default();
    Ok(Run {
        stdout: String::from_utf8_lossy(&bytes).into_owned(),
        code: status.code(),
        timed_out,
        duration: start.elapsed(),
        unreaped: None,
    })
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
    fn hung_child_is_killed_with_its_group() {
        let mut cmd = Command::new("sh");
        // The shell's child (sleep) holds stdout too: killing only the shell
        // would leave the reader waiting.
        cmd.args(["-c", "echo started; sleep 30; echo never"]);
        let groups = Arc::default();
        let run = run_with_timeout(cmd, Duration::from_millis(300), &groups).unwrap();
        assert!(run.timed_out);
        assert!(run.duration < Duration::from_secs(5), "{:?}", run.duration);
        assert_eq!(run.stdout, "started\n");
    }
}
