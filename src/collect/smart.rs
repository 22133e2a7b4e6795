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
//! This file owns the collector: its entry and flags, the per-device cache
//! and the rounds that fill it. Running smartctl is in [`super::smartctl`],
//! the series a device's cache gives in `smart_series`, and the parsing of
//! smartctl's JSON in [`super::smart_json`].
//!
//! A sleeping disk is not woken: smartctl skips it (exit bit 1 with a
//! "STANDBY mode" message), vigie reports `vigie_smart_device_standby 1` and
//! keeps the device's last values. Exit bits 0-1 otherwise mean no usable
//! data: a device error, with smartctl's message in the log. Bits 2-7 are
//! facts about the disk and are exported as `vigie_smart_exit_status_bit`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::registry::{self, Context, Entry, Settings, entry};
use super::smart_json::{self, ExitFlag, SmartReport};
use super::smart_series;
use super::smartctl::{ProcessGroups, parse_scan, run_with_timeout};
use super::{Collector, Refresh, Registration};
use crate::metrics::Families;
use crate::units::{human, parse_flag_duration, unix_now};

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "smart",
    SmartConfig,
    default_enabled: true,
    summary: "SMART health and pre-fail counters of every disk",
    details: "SMART health and pre-fail counters of every disk (ATA attributes, NVMe health log, \
              SCSI defect and error counters), read with smartctl without waking sleeping disks",
    metrics: smart_series::FAMILIES,
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

    // `all` adds the whole ATA attribute table (vigie_smart_attribute_raw,
    // _value, _worst, _threshold for every attribute the disk lists: 72 of
    // the 93 series of a typical SATA disk); `named` keeps only the named
    // pre-fail counters the alerts read, for a Prometheus on a small VM.
    /// ATA attributes to export: all (the whole attribute table too) or named (only the pre-fail counters the alerts read)
    #[arg(id = "collector.smart.attributes", long = "collector.smart.attributes",
          value_name = "SET", default_value = "all")]
    pub attributes: Attributes,
}

/// The `--collector.smart.attributes` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Attributes {
    // The named pre-fail counters and the whole attribute table.
    All,
    // The named pre-fail counters only.
    Named,
}

impl Default for SmartConfig {
    fn default() -> Self {
        registry::defaults()
    }
}

impl Settings for SmartConfig {
    fn register(&self, context: &Context) -> Registration {
        // A round reads every disk, each smartctl run under its own timeout;
        // a scrape only renders the per-device cache.
        if self.timeout >= self.interval {
            log::warn!(
                "smart: --collector.smart.timeout ({}) is not shorter than --collector.smart.interval ({}): \
                 a disk that never answers will make its round overrun and the collector report a failure",
                human(self.timeout),
                human(self.interval)
            );
        }
        Registration {
            collector: Arc::new(
                SmartCollector::new(self.clone()).expecting_disks_of(context.paths.sys("block")),
            ),
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
pub(super) struct DeviceState {
    /// The last report with data (kept while the disk sleeps or fails to answer).
    pub(super) report: Option<SmartReport>,
    /// The type smartctl used (from discovery, the flag, or the report).
    pub(super) kind: String,
    pub(super) standby: bool,
    /// Why the last run gave no data, if it did not.
    pub(super) error: Option<String>,
    pub(super) last_success: Option<f64>,
    pub(super) duration: Duration,
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
    /// The host's `/sys/block`, whose physical disks (sd*, nvme*, hd*) are
    /// expected to be found by discovery (see [`Collector::trouble`]).
    sys_block: Option<std::path::PathBuf>,
    shared: Arc<super::Versioned<Shared>>,
    groups: Arc<ProcessGroups>,
}

/// Locks the state for a change (bumps the render version).
fn lock(m: &super::Versioned<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.write()
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

impl SmartCollector {
    pub fn new(config: SmartConfig) -> Self {
        SmartCollector {
            config,
            sys_block: None,
            shared: Arc::default(),
            groups: Arc::default(),
        }
    }

    /// Expects the physical disks listed in `sys_block` to be found.
    pub fn expecting_disks_of(mut self, sys_block: std::path::PathBuf) -> Self {
        self.sys_block = Some(sys_block);
        self
    }

    /// The physical disks (sd*, nvme*, hd*) the host's sysfs lists.
    fn expected_disks(&self) -> Vec<String> {
        let Some(dir) = &self.sys_block else {
            return Vec::new();
        };
        let mut disks: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| ["sd", "nvme", "hd"].iter().any(|p| n.starts_with(p)))
                    .collect()
            })
            .unwrap_or_default();
        disks.sort();
        disks
    }

    /// How long a round may run before the runner reports it stuck: until
    /// the next one is due. A hung disk costs its round the per-run timeout
    /// (then smartctl is killed), so with the defaults (5 min, 30 s) only a
    /// round that stops making progress overruns.
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
        if let Some(e) = run.ending.error(self.config.timeout) {
            return Err(format!("smartctl --scan-open: {e}"));
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
                if let Some(e) = run.ending.error(self.config.timeout) {
                    st.error = Some(e);
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
                                let bad = report.out_of_range.join(", ");
                                let was = st.report.as_ref().map(|r| r.out_of_range.join(", "));
                                if !bad.is_empty() && was.as_deref() != Some(bad.as_str()) {
                                    log::warn!(
                                        "smart {}: values out of range dropped: {bad}",
                                        dev.name
                                    );
                                }
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

impl Collector for SmartCollector {
    fn name(&self) -> &'static str {
        "smart"
    }

    /// One round of smartctl runs; the series come from [`Self::render`].
    fn refresh(&self, _out: &mut Families) -> anyhow::Result<()> {
        self.round()
    }

    fn render_version(&self) -> Option<u64> {
        Some(self.shared.version())
    }

    fn render(&self, out: &mut Families) {
        let sh = self.shared.read();
        for (dev, st) in &sh.devices {
            smart_series::render_device(
                out,
                &dev.name,
                st,
                self.config.attributes == Attributes::All,
            );
        }
        out.family(&smart_series::SMART_DEVICES)
            .sample(&[], sh.devices.len() as f64);
    }

    /// No disk found while the host has physical disks, or disks that give
    /// no data (asleep is fine).
    fn trouble(&self) -> Option<String> {
        let sh = lock(&self.shared);
        if sh.devices.is_empty() {
            let expected = self.expected_disks();
            return (!expected.is_empty()).then(|| {
                format!(
                    "smartctl finds no disk, but the host has {} (run smartctl --scan-open as vigie's user)",
                    expected.join(", ")
                )
            });
        }
        let silent: Vec<String> = sh
            .devices
            .iter()
            .filter(|(_, st)| !st.standby)
            .filter_map(|(dev, st)| st.error.as_ref().map(|e| format!("{} ({e})", dev.name)))
            .collect();
        (!silent.is_empty()).then(|| {
            format!(
                "{} of {} disks give no data: {}",
                silent.len(),
                sh.devices.len(),
                silent.join("; ")
            )
        })
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


}
