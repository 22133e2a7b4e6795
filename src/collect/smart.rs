//! `smart`: pre-fail counters of every disk, from `smartctl --json`
//! (incident 3: a disk with pre-fail read errors on a server without RAID,
//! which nobody could confirm).
//!
//! Devices come from `smartctl --scan-open --json`, or from
//! `--collector.smart.device` (`/dev/sda`, `/dev/bus/0:megaraid,4`: a type
//! after `:` is passed as `-d`). Each device is read with one
//! `smartctl --json=c --all --nocheck=standby` per round, a few devices at
//! a time. The runner schedules the rounds (one per interval, on the
//! collector's worker thread) and bounds each by the interval: a round that
//! has not ended when the next one is due is stuck, and reported as a
//! failing collector. Within a round, a smartctl run that exceeds the
//! timeout is killed (with its whole process group) and reaped. Scrapes
//! render the per-device cache and never wait for smartctl. The process
//! groups in flight are the collector's own state; `stop` kills them.
//!
//! A sleeping disk is not woken: smartctl skips it (exit bit 1 with a
//! "STANDBY mode" message), vigie reports `vigie_smart_device_standby 1` and
//! keeps the device's last values. Exit bits 0-1 otherwise mean no usable
//! data: a device error, with smartctl's message in the log. Bits 2-7 are
//! facts about the disk and are exported as `vigie_smart_exit_status_bit`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use super::registry::{self, Context, Entry, Settings, entry};
use super::smart_json::{self, ExitFlag, SmartReport};
use super::{Collector, Refresh, Registration};
use crate::schema::{self, Desc};
use crate::metrics::Families;
use crate::units::{parse_flag_duration, unix_now};

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "smart",
    SmartConfig,
    default_enabled: true,
    summary: "SMART health and pre-fail counters of every disk",
    details: "SMART health and pre-fail counters of every disk (ATA attributes, NVMe health log, \
              SCSI defect and error counters), read with smartctl without waking sleeping disks",
);

/// Settings of the SMART collector: its flags.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "SMART collector")]
pub struct SmartConfig {
    /// The smartctl program (from smartmontools).
    #[arg(
        id = "collector.smart.smartctl-path",
        long = "collector.smart.smartctl-path",
        value_name = "PATH",
        default_value = "smartctl"
    )]
    pub smartctl: PathBuf,

    /// How often every disk is read.
    #[arg(id = "collector.smart.interval", long = "collector.smart.interval",
          value_name = "DURATION", default_value = "5m", value_parser = parse_flag_duration)]
    pub interval: Duration,

    /// How long one smartctl run may take; then it is killed and the disk reported in error.
    #[arg(id = "collector.smart.timeout", long = "collector.smart.timeout",
          value_name = "DURATION", default_value = "30s", value_parser = parse_flag_duration)]
    pub timeout: Duration,

    /// Leave disks in this power mode or lower alone (smartctl --nocheck): never, sleep,
    /// standby or idle. The default keeps sleeping disks asleep.
    #[arg(id = "collector.smart.powermode", long = "collector.smart.powermode",
          value_name = "MODE", default_value = "standby",
          value_parser = ["never", "sleep", "standby", "idle"])]
    pub powermode: String,

    /// Disks to read instead of discovering them; empty means discovery
    /// with `--scan-open`.
    #[arg(
        id = "collector.smart.device",
        long = "collector.smart.device",
        value_name = "DEVICE[:TYPE]",
        help = "A disk to read instead of discovering them with smartctl --scan-open, e.g. /dev/sda or \
                  /dev/bus/0:megaraid,4 (the type after ':' is passed as -d). Repeatable"
    )]
    pub devices: Vec<SmartDevice>,

    /// Disks read at the same time.
    #[arg(id = "collector.smart.parallel", long = "collector.smart.parallel",
          value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,
}

impl Default for SmartConfig {
    fn default() -> Self {
        registry::defaults()
    }
}

impl Settings for SmartConfig {
    fn register(&self, _context: &Context) -> Registration {
        // A round reads every disk, each smartctl run under its own timeout;
        // a scrape only renders the per-device cache.
        Registration {
            collector: Arc::new(SmartCollector::new(self.clone())),
            refresh: Refresh::Every(self.interval),
            timeout: SmartCollector::round_timeout(self),
        }
    }
}

/// A device to read: its path and, optionally, its `-d` type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SmartDevice {
    pub name: String,
    pub kind: Option<String>,
}

impl std::str::FromStr for SmartDevice {
    type Err = String;

    /// `/dev/sda` or `/dev/bus/0:megaraid,4` (the part after the last `:`
    /// is smartctl's `-d` type).
    fn from_str(s: &str) -> Result<Self, String> {
        if !s.starts_with('/') {
            return Err(format!(
                "{s:?}: a device is an absolute path such as /dev/sda"
            ));
        }
        let is_type = |k: &str| {
            k.starts_with(|c: char| c.is_ascii_lowercase())
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_,+".contains(c))
        };
        Ok(match s.rsplit_once(':') {
            Some((name, kind)) if is_type(kind) => SmartDevice {
                name: name.into(),
                kind: Some(kind.into()),
            },
            _ => SmartDevice {
                name: s.into(),
                kind: None,
            },
        })
    }
}

/// What vigie knows of one device.
#[derive(Debug, Clone, Default)]
struct DeviceState {
    /// The last report with data (kept while the disk sleeps or fails to answer).
    report: Option<SmartReport>,
    /// The type smartctl used (from discovery, the flag, or the report).
    kind: String,
    standby: bool,
    /// Why the last run gave no data, if it did not.
    error: Option<String>,
    last_success: Option<f64>,
    duration: Duration,
    /// A killed smartctl of an earlier round that has not died yet.
    unreaped: Option<Arc<AtomicBool>>,
}

#[derive(Default)]
struct Shared {
    /// Keyed by path and type: disks behind one RAID controller share a path
    /// (`/dev/bus/0` with `-d megaraid,0`, `-d megaraid,1`...).
    devices: BTreeMap<SmartDevice, DeviceState>,
    discovery_error: Option<String>,
    /// Runs finished since start (tests wait on it).
    rounds: u64,
}

pub struct SmartCollector {
    config: SmartConfig,
    shared: Arc<Mutex<Shared>>,
    groups: Arc<ProcessGroups>,
}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

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

/// True when smartctl skipped a sleeping disk (`--nocheck`): exit bit 1
/// with smartctl's "Device is in <MODE> mode" message (STANDBY, SLEEP,
/// IDLE, IDLE_A, STANDBY_Y...).
fn is_standby(report: &SmartReport) -> bool {
    report.exit().has(ExitFlag::DeviceOpen)
        && report.messages.iter().any(|m| {
            m.split_once("Device is in ").is_some_and(|(_, rest)| {
                rest.split_whitespace()
                    .nth(1)
                    .is_some_and(|w| w.starts_with("mode"))
            })
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

impl SmartCollector {
    pub fn new(config: SmartConfig) -> Self {
        SmartCollector {
            config,
            shared: Arc::default(),
            groups: Arc::default(),
        }
    }

    /// How long a round may run before the runner reports it stuck: until
    /// the next one is due.
    pub fn round_timeout(config: &SmartConfig) -> Duration {
        config.interval
    }

    fn smartctl(&self) -> Command {
        Command::new(&self.config.smartctl)
    }

    /// Why smartctl could not be started, in words a person can act on.
    fn spawn_error(&self, e: &std::io::Error) -> String {
        match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{} not found: install smartmontools (apt-get install smartmontools) or set --collector.smart.smartctl-path",
                self.config.smartctl.display()
            ),
            std::io::ErrorKind::PermissionDenied => {
                format!("{} cannot be run: {e}", self.config.smartctl.display())
            }
            _ => format!("running {}: {e}", self.config.smartctl.display()),
        }
    }

    /// The devices to read this round.
    fn devices(&self) -> Result<Vec<SmartDevice>, String> {
        if !self.config.devices.is_empty() {
            return Ok(self.config.devices.clone());
        }
        let mut cmd = self.smartctl();
        cmd.args(["--scan-open", "--json=c"]);
        let run = run_with_timeout(cmd, self.config.timeout, &self.groups)
            .map_err(|e| self.spawn_error(&e))?;
        if run.timed_out {
            return Err(format!(
                "smartctl --scan-open did not finish within {:?}",
                self.config.timeout
            ));
        }
        Ok(parse_scan(&run.stdout)?
            .into_iter()
            .map(|(name, kind)| SmartDevice {
                name,
                kind: Some(kind),
            })
            .collect())
    }

    /// Reads one device and updates its state.
    fn read_device(&self, dev: &SmartDevice) {
        {
            let mut sh = lock(&self.shared);
            let st = sh.devices.entry(dev.clone()).or_default();
            if st
                .unreaped
                .as_ref()
                .is_some_and(|gone| !gone.load(Ordering::Acquire))
            {
                let e =
                    "an earlier smartctl on this disk is still stuck in the kernel after SIGKILL \
                         (the disk or its controller does not answer); not starting another"
                        .to_string();
                if st.error.as_deref() != Some(e.as_str()) {
                    log::warn!("smart {}: {e}", dev.name);
                }
                st.error = Some(e);
                return;
            }
            st.unreaped = None;
        }
        let mut cmd = self.smartctl();
        cmd.args([
            "--json=c",
            "--all",
            &format!("--nocheck={}", self.config.powermode),
        ]);
        if let Some(k) = &dev.kind {
            cmd.args(["-d", k]);
        }
        cmd.arg(&dev.name);
        let outcome = run_with_timeout(cmd, self.config.timeout, &self.groups);
        let mut sh = lock(&self.shared);
        let st = sh.devices.entry(dev.clone()).or_default();
        if let Some(k) = &dev.kind {
            st.kind = k.clone();
        } else if st.kind.is_empty() {
            st.kind = "auto".into();
        }
        let previous_error = st.error.take();
        st.standby = false;
        match outcome {
            Err(e) => st.error = Some(self.spawn_error(&e)),
            Ok(run) => {
                st.duration = run.duration;
                st.unreaped = run.unreaped;
                if run.timed_out {
                    st.error = Some(format!(
                        "smartctl did not answer within {:?}; killed",
                        self.config.timeout
                    ));
                } else {
                    match smart_json::parse(&run.stdout) {
                        Err(e) => {
                            st.error = Some(format!(
                                "unreadable smartctl output (exit code {}): {e}",
                                run.code.map_or("none".into(), |c| c.to_string())
                            ))
                        }
                        Ok(report) if is_standby(&report) => st.standby = true,
                        Ok(report) => match report.device_error() {
                            Some(e) => st.error = Some(e),
                            None => {
                                if st.kind == "auto"
                                    && let Some(t) = &report.device_type
                                {
                                    st.kind = t.clone();
                                }
                                st.last_success = Some(unix_now());
                                st.report = Some(report);
                            }
                        },
                    }
                }
            }
        }
        if st.error != previous_error {
            match &st.error {
                Some(e) => log::warn!("smart {}: {e}", dev.name),
                None if previous_error.is_some() => {
                    log::info!("smart {}: readable again", dev.name)
                }
                None => {}
            }
        }
    }

    /// One round: discovery, then every device, `parallel` at a time. A
    /// discovery failure fails the round; a failing device does not.
    pub fn round(&self) -> anyhow::Result<()> {
        let devices = match self.devices() {
            Ok(d) => {
                let mut sh = lock(&self.shared);
                if sh.discovery_error.take().is_some() {
                    log::info!("smart: device discovery works again");
                }
                // A disk that vanished from the scan (dead, or unplugged) is
                // kept, flagged as an error: a dying disk must not simply
                // disappear from the dashboards. Restart vigie after
                // removing a disk on purpose.
                for (dev, st) in sh.devices.iter_mut() {
                    if !d.contains(dev) && st.error.as_deref() != Some(VANISHED) {
                        log::warn!("smart {}: {VANISHED}", dev.name);
                        st.error = Some(VANISHED.into());
                        st.standby = false;
                    }
                }
                if d.is_empty() && sh.rounds == 0 {
                    log::info!(
                        "smart: smartctl --scan-open found no disk that speaks SMART \
                         (virtual disks such as virtio have none); vigie_smart_devices is 0"
                    );
                }
                d
            }
            Err(e) => {
                let mut sh = lock(&self.shared);
                if sh.discovery_error.as_deref() != Some(e.as_str()) {
                    log::warn!("smart: {e}");
                }
                sh.discovery_error = Some(e.clone());
                sh.rounds += 1;
                anyhow::bail!("{e}");
            }
        };
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..(self.config.parallel as usize).clamp(1, devices.len().max(1)) {
                s.spawn(|| {
                    while let Some(dev) = devices.get(next.fetch_add(1, Ordering::Relaxed)) {
                        self.read_device(dev);
                    }
                });
            }
        });
        lock(&self.shared).rounds += 1;
        Ok(())
    }

    /// Rounds finished since start.
    pub fn rounds(&self) -> u64 {
        lock(&self.shared).rounds
    }
}

/// The error of a disk smartctl no longer finds.
const VANISHED: &str = "no longer found by smartctl --scan-open (disk dead or removed?)";

/// NVMe critical_warning bits (NVMe base specification, SMART / Health log).
const NVME_WARNINGS: [(u8, &str); 6] = [
    (0, "spare_below_threshold"),
    (1, "temperature"),
    (2, "reliability_degraded"),
    (3, "read_only"),
    (4, "volatile_memory_backup_failed"),
    (5, "persistent_memory_read_only"),
];

/// The ATA pre-fail counters exported under their own names.
const ATA_COUNTERS: [(u8, &Desc); 6] = [
    (5, &schema::SMART_REALLOCATED_SECTORS),
    (187, &schema::SMART_REPORTED_UNCORRECTABLE),
    // The low 16 bits of the raw value, which Seagate packs with two other
    // counters.
    (188, &schema::SMART_COMMAND_TIMEOUTS),
    (197, &schema::SMART_PENDING_SECTORS),
    (198, &schema::SMART_OFFLINE_UNCORRECTABLE),
    (199, &schema::SMART_UDMA_CRC_ERRORS),
];

impl SmartCollector {
    fn render_device(&self, out: &mut Families, name: &str, st: &DeviceState) {
        let none = SmartReport::default();
        let r = st.report.as_ref().unwrap_or(&none);
        let (model, serial, wwn) = (
            r.model.clone().unwrap_or_default(),
            r.serial.clone().unwrap_or_default(),
            r.wwn.clone().unwrap_or_default(),
        );
        let l: [(&'static str, &str); 5] = [
            ("device", name),
            ("type", st.kind.as_str()),
            ("model", model.as_str()),
            ("serial", serial.as_str()),
            ("wwn", wwn.as_str()),
        ];
        let b = |v: bool| if v { 1.0 } else { 0.0 };
        out.family(&schema::SMART_DEVICE_ERROR)
        .sample(&l, b(st.error.is_some()));
        out.family(&schema::SMART_DEVICE_STANDBY)
            .sample(&l, b(st.standby));
        out.family(&schema::SMART_LAST_SUCCESS_TIMESTAMP_SECONDS)
        .sample(&l, st.last_success.unwrap_or(0.0));
        out.family(&schema::SMART_RUN_DURATION_SECONDS)
        .sample(&l, st.duration.as_secs_f64());
        if st.report.is_none() {
            return;
        }
        let firmware = r.firmware.clone().unwrap_or_default();
        let protocol = r.protocol.clone().unwrap_or_default();
        out.family(&schema::SMART_DEVICE_INFO)
        .sample(
            &[
                l[0],
                l[1],
                l[2],
                l[3],
                l[4],
                ("firmware", firmware.as_str()),
                ("protocol", protocol.as_str()),
            ],
            1.0,
        );
        for flag in ExitFlag::ALL.into_iter().filter(|f| !f.is_fatal()) {
            let bit = flag.bit().to_string();
            out.family(&schema::SMART_EXIT_STATUS_BIT)
            .sample(&[l[0], l[1], l[2], l[3], l[4], ("bit", bit.as_str()), ("meaning", flag.name())], b(r.exit().has(flag)));
        }
        out.family(&schema::SMART_HEALTHY)
            .sample_some(&l, r.healthy.map(b));
        out.family(&schema::SMART_CAPACITY_BYTES)
            .sample_some(&l, r.capacity_bytes.map(|v| v as f64));
        out.family(&schema::SMART_ROTATION_RATE_RPM)
        .sample_some(&l, r.rotation_rate.map(|v| v as f64));
        out.family(&schema::SMART_POWER_ON_SECONDS)
        .sample_some(&l, r.power_on_hours.map(|v| v as f64 * 3600.0));
        out.family(&schema::SMART_TEMPERATURE_CELSIUS)
        .sample_some(&l, r.temperature_celsius);
        let mut seen = [false; 256];
        for a in &r.ata_attributes {
            // Firmware that lists an attribute twice would give duplicate
            // series: the first row wins.
            if std::mem::replace(&mut seen[a.id as usize], true) {
                continue;
            }
            let id = a.id.to_string();
            let al = [
                l[0],
                l[1],
                l[2],
                l[3],
                l[4],
                ("id", id.as_str()),
                ("name", a.name.as_str()),
                ("prefail", if a.prefail { "1" } else { "0" }),
            ];
            out.family(&schema::SMART_ATTRIBUTE_RAW)
                .sample_some(&al, a.raw.map(|v| v as f64));
            out.family(&schema::SMART_ATTRIBUTE_VALUE)
            .sample_some(&al, a.value.map(|v| v as f64));
            out.family(&schema::SMART_ATTRIBUTE_WORST)
            .sample_some(&al, a.worst.map(|v| v as f64));
            out.family(&schema::SMART_ATTRIBUTE_THRESHOLD)
                .sample_some(&al, a.thresh.map(|v| v as f64));
        }
        for (id, desc) in ATA_COUNTERS {
            if let Some(raw) = r.attribute(id).and_then(|a| a.raw) {
                let v = if id == 188 { raw & 0xffff } else { raw };
                out.family(desc).sample(&l, v as f64);
            }
        }
        out.family(&schema::SMART_ERROR_LOG_ENTRIES)
        .sample_some(&l, r.ata_error_count.map(|v| v as f64));
        out.family(&schema::SMART_SELF_TEST_FAILED)
        .sample_some(&l, r.self_test_failed_count.map(|v| v as f64));
        out.family(&schema::SMART_SELF_TEST_LATEST_PASSED)
        .sample_some(&l, r.self_test_latest_passed.map(b));
        if let Some(n) = &r.nvme {
            if let Some(cw) = n.critical_warning {
                out.family(&schema::SMART_NVME_CRITICAL_WARNING)
                .sample(&l, cw as f64);
                for (bit, meaning) in NVME_WARNINGS {
                    let bs = bit.to_string();
                    out.family(&schema::SMART_NVME_CRITICAL_WARNING_BIT)
                    .sample(
                        &[
                            l[0],
                            l[1],
                            l[2],
                            l[3],
                            l[4],
                            ("bit", bs.as_str()),
                            ("meaning", meaning),
                        ],
                        b(cw & (1 << bit) != 0),
                    );
                }
            }
            for (desc, v, scale) in [
                (&schema::SMART_NVME_MEDIA_ERRORS, n.media_errors, 1.0),
                (&schema::SMART_NVME_ERROR_LOG_ENTRIES, n.num_err_log_entries, 1.0),
                (&schema::SMART_NVME_WEAR_RATIO, n.percentage_used, 0.01),
                (&schema::SMART_NVME_AVAILABLE_SPARE_RATIO, n.available_spare, 0.01),
                (
                    &schema::SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO,
                    n.available_spare_threshold,
                    0.01,
                ),
                (&schema::SMART_NVME_UNSAFE_SHUTDOWNS, n.unsafe_shutdowns, 1.0),
            ] {
                out.family(desc)
                    .sample_some(&l, v.map(|v| v as f64 * scale));
            }
        }
        if let Some(s) = &r.scsi {
            out.family(&schema::SMART_SCSI_GROWN_DEFECTS)
                .sample_some(&l, s.grown_defect_list.map(|v| v as f64));
            for (op, v) in [
                ("read", s.read_uncorrected),
                ("write", s.write_uncorrected),
                ("verify", s.verify_uncorrected),
            ] {
                if let Some(v) = v {
                    out.family(&schema::SMART_SCSI_UNCORRECTED_ERRORS)
                    .sample(&[l[0], l[1], l[2], l[3], l[4], ("operation", op)], v as f64);
                }
            }
        }
    }
}

impl Collector for SmartCollector {
    fn name(&self) -> &'static str {
        "smart"
    }

    /// One round of smartctl runs; the series come from [`Self::render`].
    fn refresh(&self, _out: &mut Families) -> anyhow::Result<()> {
        self.round()
    }

    fn render(&self, out: &mut Families) {
        let sh = lock(&self.shared);
        for (dev, st) in &sh.devices {
            self.render_device(out, &dev.name, st);
        }
        out.family(&schema::SMART_DEVICES)
            .sample(&[], sh.devices.len() as f64);
    }

    /// Kills the smartctl runs in flight and refuses new ones.
    fn stop(&self) {
        self.groups.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_standby_messages() {
        for mode in ["STANDBY", "STANDBY_Y", "SLEEP", "IDLE_A", "IDLE"] {
            let json = format!(
                r#"{{"smartctl":{{"exit_status":2,"messages":[{{"string":"Device is in {mode} mode, exit(2)","severity":"information"}}]}}}}"#
            );
            assert!(is_standby(&smart_json::parse(&json).unwrap()), "{mode}");
        }
    }

    #[test]
    fn device_paths_with_colons_are_not_types() {
        let d: SmartDevice = "/dev/disk/by-path/pci-0000:00:17.0-ata-1".parse().unwrap();
        assert_eq!(d.kind, None);
        assert_eq!(d.name, "/dev/disk/by-path/pci-0000:00:17.0-ata-1");
        let d: SmartDevice = "/dev/sda:sat,12".parse().unwrap();
        assert_eq!(d.kind.as_deref(), Some("sat,12"));
    }

    #[test]
    fn device_syntax() {
        let d: SmartDevice = "/dev/sda".parse().unwrap();
        assert_eq!(
            d,
            SmartDevice {
                name: "/dev/sda".into(),
                kind: None
            }
        );
        let d: SmartDevice = "/dev/bus/0:megaraid,4".parse().unwrap();
        assert_eq!(
            d,
            SmartDevice {
                name: "/dev/bus/0".into(),
                kind: Some("megaraid,4".into())
            }
        );
        assert!("sda".parse::<SmartDevice>().is_err());
    }

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
    fn standby_is_recognised() {
        let r = smart_json::parse(
            r#"{"smartctl":{"exit_status":2,"messages":[{"string":"Device is in STANDBY mode, exit(2)","severity":"information"}]},"device":{"name":"/dev/sdb"}}"#,
        )
        .unwrap();
        assert!(is_standby(&r));
        let r = smart_json::parse(
            r#"{"smartctl":{"exit_status":2,"messages":[{"string":"Smartctl open device: /dev/sdb failed: Permission denied","severity":"error"}]}}"#,
        )
        .unwrap();
        assert!(!is_standby(&r));
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
