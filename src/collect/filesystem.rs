//! `filesystem`: size, free and available bytes, inodes and the read-only
//! flag of every real mounted filesystem, plus the filesystem that holds each
//! watched path (incidents 1 and 2: a data disk that filled up, and `/` of a
//! control-plane VM that took etcd down with it).
//!
//! The mount table is `{procfs}/self/mountinfo` (then `{procfs}/1/mountinfo`,
//! then `{procfs}/mounts`, whichever exists first); when `--path.procfs` is
//! not `/proc`, `1/mountinfo` is tried first, since `self` would then be the
//! container's view rather than the host's. Each mount is statted on
//! its own thread with a timeout: a hung NFS server costs one stuck thread per
//! mount, shows as `vigie_filesystem_stat_error 1`, and never delays a scrape
//! (the collector refreshes in the background) nor the other mounts.
//!
//! Where a mount is statted: if `--path.rootfs` is not `/` and the mount
//! table lists mounts under it (vigie in a container with the host's `/`
//! bind-mounted there), only those mounts are used and the prefix is removed
//! from the `mountpoint` label. Otherwise the table is taken as the host's
//! own and each mount is statted at `{rootfs}{mountpoint}`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use regex::Regex;

use super::registry::{self, Context, Entry, Settings, entry};
use super::{Collector, Refresh, Registration};
use super::mountinfo::{self, Mount};
use super::stuck_pool::{Job, StuckPool};
use crate::metrics::{Families, Unit};
use crate::schema::Desc;
use crate::paths::Paths;
use crate::units::parse_flag_duration;

/// Mount points skipped by default: kernel and container plumbing, and the
/// per-pod volumes kubelet mounts by the hundred.
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str = "^/(dev|proc|sys|run/credentials/.+|run/user/.+|run/netns/.+|run/containerd/.+|run/k3s/.+|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+|snap/.+)($|/)";

/// Filesystem types skipped by default: pseudo filesystems that hold no user
/// data, and read-only images (squashfs snaps, ISO) that are always full.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|efivarfs|fusectl|fuse\\.lxcfs|fuse\\.portal|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|ramfs|rootfs|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$";

/// A path to watch, with the role it plays (e.g. `/var/lib/etcd`,
/// `control-plane`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchPath {
    pub path: PathBuf,
    pub role: String,
}

impl std::str::FromStr for WatchPath {
    type Err = String;

    /// `PATH` or `PATH=ROLE` (the role defaults to `watched`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (path, role) = match s.rsplit_once('=') {
            Some((p, r)) => (p, r),
            None => (s, "watched"),
        };
        if !path.starts_with('/') {
            return Err(format!("{path:?} is not an absolute path"));
        }
        if role.is_empty()
            || !role
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "role {role:?} must be letters, digits, '-', '_' or '.' (e.g. control-plane)"
            ));
        }
        Ok(WatchPath {
            path: PathBuf::from(path),
            role: role.to_string(),
        })
    }
}

/// The collector's registry entry.
pub const COLLECTOR: Entry = entry!(
    "filesystem",
    FilesystemConfig,
    default_enabled: true,
    summary: "usage of every real filesystem and of watched paths",
    details: "size, free and available bytes, inodes and read-only flag of every real \
              mounted filesystem; watched paths (e.g. /var/lib/etcd) mapped to their filesystem",
    metrics: FAMILIES,
);

// The families this file emits: the metric schema's part for the filesystem collector.

const MOUNT: &[&str] = &["mountpoint", "device", "fstype"];
const PATH: &[&str] = &["path", "role"];
const PATH_FILESYSTEM: &[&str] = &["path", "role", "mountpoint", "device", "fstype"];

pub const FILESYSTEM_STAT_ERROR: Desc = Desc::gauge(
    "vigie_filesystem_stat_error",
    "1 if statfs on the filesystem failed or did not return in time (stuck mount), else 0.",
    MOUNT,
);
pub const FILESYSTEM_SIZE_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_size_bytes",
    "Size of the filesystem in bytes.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_FREE_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_free_bytes",
    "Free bytes, including those reserved for root.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_AVAIL_BYTES: Desc = Desc::gauge(
    "vigie_filesystem_avail_bytes",
    "Bytes available to unprivileged users: what applications can still write.",
    MOUNT,
)
.unit(Unit::Bytes);
pub const FILESYSTEM_FILES: Desc = Desc::gauge(
    "vigie_filesystem_files",
    "Total inodes (file nodes) of the filesystem.",
    MOUNT,
);
pub const FILESYSTEM_FILES_FREE: Desc = Desc::gauge(
    "vigie_filesystem_files_free",
    "Free inodes of the filesystem.",
    MOUNT,
);
pub const FILESYSTEM_READONLY: Desc = Desc::gauge(
    "vigie_filesystem_readonly",
    "1 if writes fail through this mount (its own ro option or its superblock's), else 0. A state, not a fault: \
     see vigie_filesystem_superblock_readonly and vigie_filesystem_turned_readonly.",
    MOUNT,
);
pub const FILESYSTEM_MOUNT_READONLY: Desc = Desc::gauge(
    "vigie_filesystem_mount_readonly",
    "1 if the mount's own options say ro (what was asked for at this mount point), else 0.",
    MOUNT,
);
pub const FILESYSTEM_SUPERBLOCK_READONLY: Desc = Desc::gauge(
    "vigie_filesystem_superblock_readonly",
    "1 if the filesystem's superblock options say ro (ext4 errors=remount-ro after an error leaves the mount rw and this 1), else 0.",
    MOUNT,
);
pub const FILESYSTEM_TURNED_READONLY: Desc = Desc::gauge(
    "vigie_filesystem_turned_readonly",
    "1 if this vigie process saw this mount (same kernel mount id) writable and it is read-only now, else 0. \
     A filesystem mounted read-only from the start stays 0; vigie forgets on restart.",
    MOUNT,
);
pub const FILESYSTEM_MOUNT_TABLE_UNPARSED_LINES: Desc = Desc::gauge(
    "vigie_filesystem_mount_table_unparsed_lines",
    "Lines of the mount table (mountinfo) vigie could not parse at its last refresh: their mounts are missing from the filesystem series.",
    &[],
);
pub const PATH_RESOLVE_ERROR: Desc = Desc::gauge(
    "vigie_path_resolve_error",
    "1 if the watched path could not be resolved to a filesystem (symlink loop, permission), else 0.",
    PATH,
);
pub const PATH_EXISTS: Desc = Desc::gauge(
    "vigie_path_exists",
    "1 if the watched path exists (after following symlinks), else 0.",
    PATH,
);
pub const PATH_FILESYSTEM_INFO: Desc = Desc::gauge(
    "vigie_path_filesystem_info",
    "Always 1: maps a watched path and its role to the filesystem that holds it (join on mountpoint).",
    PATH_FILESYSTEM,
);

/// The families this collector exports, in export order.
pub const FAMILIES: &[&Desc] = &[
    &FILESYSTEM_STAT_ERROR,
    &FILESYSTEM_SIZE_BYTES,
    &FILESYSTEM_FREE_BYTES,
    &FILESYSTEM_AVAIL_BYTES,
    &FILESYSTEM_FILES,
    &FILESYSTEM_FILES_FREE,
    &FILESYSTEM_READONLY,
    &FILESYSTEM_MOUNT_READONLY,
    &FILESYSTEM_SUPERBLOCK_READONLY,
    &FILESYSTEM_TURNED_READONLY,
    &FILESYSTEM_MOUNT_TABLE_UNPARSED_LINES,
    &PATH_RESOLVE_ERROR,
    &PATH_EXISTS,
    &PATH_FILESYSTEM_INFO,
];

/// Settings of the filesystem collector: its flags.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Filesystem collector")]
pub struct FilesystemConfig {
    /// How often filesystems are statted.
    #[arg(id = "collector.filesystem.interval", long = "collector.filesystem.interval",
          value_name = "DURATION", default_value = "15s", value_parser = parse_flag_duration)]
    pub interval: Duration,

    /// How long statfs on one mount may take before it is reported stuck
    /// (vigie_filesystem_stat_error 1). A stuck mount never delays scrapes.
    #[arg(id = "collector.filesystem.stat-timeout", long = "collector.filesystem.stat-timeout",
          value_name = "DURATION", default_value = "5s", value_parser = parse_flag_duration)]
    pub stat_timeout: Duration,

    /// Only mount points matching this regex are reported.
    #[arg(id = "collector.filesystem.mount-points-include",
          long = "collector.filesystem.mount-points-include", value_name = "REGEX",
          value_parser = regex)]
    pub mount_points_include: Option<Regex>,

    /// Mount points matching this regex are skipped.
    #[arg(id = "collector.filesystem.mount-points-exclude",
          long = "collector.filesystem.mount-points-exclude", value_name = "REGEX",
          default_value = DEFAULT_MOUNT_POINTS_EXCLUDE, value_parser = regex)]
    pub mount_points_exclude: Regex,

    /// Only filesystem types matching this regex are reported.
    #[arg(id = "collector.filesystem.fs-types-include",
          long = "collector.filesystem.fs-types-include", value_name = "REGEX",
          value_parser = regex)]
    pub fs_types_include: Option<Regex>,

    /// Filesystem types matching this regex are skipped.
    #[arg(id = "collector.filesystem.fs-types-exclude",
          long = "collector.filesystem.fs-types-exclude", value_name = "REGEX",
          default_value = DEFAULT_FS_TYPES_EXCLUDE, value_parser = regex)]
    pub fs_types_exclude: Regex,

    /// Paths whose filesystem is reported, each with a role.
    #[arg(
        id = "collector.filesystem.watch-path",
        long = "collector.filesystem.watch-path",
        value_name = "PATH[=ROLE]",
        help = "PATH[=ROLE]: report which filesystem holds PATH (following symlinks inside --path.rootfs), \
                  e.g. /var/lib/etcd=control-plane. Repeatable. That filesystem is reported even if the \
                  filters above skip it"
    )]
    pub watch_paths: Vec<WatchPath>,
}

impl Default for FilesystemConfig {
    fn default() -> Self {
        registry::defaults()
    }
}

impl Settings for FilesystemConfig {
    fn register(&self, context: &Context) -> Registration {
        Registration {
            collector: Arc::new(FilesystemCollector::new(
                context.paths.clone(),
                self.clone(),
            )),
            refresh: Refresh::Every(self.interval),
            // Mounts are statted in parallel, each with its own timeout; the
            // collector's own budget only has to cover reading mountinfo.
            timeout: self.stat_timeout + Duration::from_secs(5),
        }
    }
}

fn regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}

/// What statfs says of one filesystem, in bytes and inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStat {
    pub size: u64,
    pub free: u64,
    pub avail: u64,
    pub files: u64,
    pub files_free: u64,
    pub read_only: bool,
}

/// The statfs function; replaceable so tests can inject slow, hung or failing
/// mounts.
pub type StatFn = Arc<dyn Fn(&Path) -> io::Result<FsStat> + Send + Sync>;

/// statvfs(3) on `path`.
pub fn statvfs(path: &Path) -> io::Result<FsStat> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let s = statvfs(path).map_err(io::Error::from)?;
    let frag = s.fragment_size() as u64;
    Ok(FsStat {
        size: (s.blocks() as u64).saturating_mul(frag),
        free: (s.blocks_free() as u64).saturating_mul(frag),
        avail: (s.blocks_available() as u64).saturating_mul(frag),
        files: s.files() as u64,
        files_free: s.files_free() as u64,
        read_only: s.flags().contains(FsFlags::ST_RDONLY),
    })
}

pub struct FilesystemCollector {
    paths: Paths,
    config: FilesystemConfig,
    stat: StatFn,
    /// Runs the statfs and path-resolving jobs, which can hang.
    pool: StuckPool,
    /// The last error logged per item ("filesystem /x", "watched path /y").
    logged: Mutex<HashMap<String, String>>,
    /// Per mount (kernel mount id, mount point): whether vigie has seen it
    /// writable. Mounts that left the table are forgotten.
    seen_writable: Mutex<HashMap<(u64, PathBuf), bool>>,
}

/// A mount as vigie reports it.
#[derive(Debug, Clone)]
struct Target {
    /// The `mountpoint` label: the host's path.
    label: PathBuf,
    /// Where to stat it from here.
    stat_path: PathBuf,
    mount: Mount,
}

/// A watched path, resolved for one refresh.
struct Watched<'a> {
    watch: &'a WatchPath,
    exists: bool,
    holder: Option<&'a Target>,
    error: Option<String>,
}

enum Outcome {
    Ok(FsStat),
    Err(String),
}

impl FilesystemCollector {
    pub fn new(paths: Paths, config: FilesystemConfig) -> Self {
        Self::with_stat(paths, config, Arc::new(statvfs))
    }

    /// As [`new`](Self::new), with another statfs (tests).
    pub fn with_stat(paths: Paths, mut config: FilesystemConfig, stat: StatFn) -> Self {
        // The same path twice would export duplicate series.
        let mut seen = HashSet::new();
        config.watch_paths.retain(|p| seen.insert(p.path.clone()));
        FilesystemCollector {
            paths,
            config,
            stat,
            pool: StuckPool::default(),
            logged: Mutex::default(),
            seen_writable: Mutex::default(),
        }
    }

    /// The mount table, and how many of its lines could not be parsed.
    fn mount_table(&self) -> anyhow::Result<(Vec<Mount>, usize)> {
        // vigie's own view is the host's when it reads the host's /proc
        // directly. When procfs points elsewhere (a container reading the
        // host's /proc mounted at /host/proc), `self` would be the container's
        // mount namespace: the host's is that of its PID 1.
        let (first, second) = if self.paths.procfs == Path::new("/proc") {
            ("self/mountinfo", "1/mountinfo")
        } else {
            ("1/mountinfo", "self/mountinfo")
        };
        let candidates = [
            (self.paths.proc(first), true),
            (self.paths.proc(second), true),
            (self.paths.proc("mounts"), false),
        ];
        let mut tried = Vec::new();
        for (path, is_mountinfo) in candidates {
            // Bytes, not UTF-8: one mount point with a non-UTF-8 name must
            // not make the whole table unreadable.
            match std::fs::read(&path).map(|b| String::from_utf8_lossy(&b).into_owned()) {
                Ok(text) => {
                    let (mounts, errors) = if is_mountinfo {
                        mountinfo::parse_mountinfo(&text)
                    } else {
                        mountinfo::parse_mounts(&text)
                    };
                    // Counted in a metric; logged when the count changes.
                    self.log_change(
                        &format!("mount table {}", path.display()),
                        errors
                            .first()
                            .map(|e| {
                                format!("{} line(s) could not be parsed, e.g. {e}", errors.len())
                            })
                            .as_deref(),
                    );
                    if mounts.is_empty() {
                        anyhow::bail!(
                            "{}: no mount could be parsed ({} lines rejected)",
                            path.display(),
                            errors.len()
                        );
                    }
                    return Ok((mounts, errors.len()));
                }
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        anyhow::bail!("no mount table readable: {}", tried.join("; "))
    }

    /// Turns the mount table into the mounts vigie reports, keyed by host
    /// path, the last mount on a mount point winning (it hides the others).
    fn targets(&self, mounts: Vec<Mount>) -> Vec<Target> {
        let rootfs = &self.paths.rootfs;
        let bind_mode =
            rootfs != Path::new("/") && mounts.iter().any(|m| m.mountpoint.starts_with(rootfs));
        // Index by label: the table can hold tens of thousands of mounts (a
        // busy Kubernetes node), so no scan of what is already there.
        let mut index: HashMap<PathBuf, usize> = HashMap::with_capacity(mounts.len());
        let mut by_label: Vec<Target> = Vec::with_capacity(mounts.len());
        for mount in mounts {
            let (label, stat_path) = if bind_mode {
                let Ok(rest) = mount.mountpoint.strip_prefix(rootfs) else {
                    continue;
                };
                (Path::new("/").join(rest), mount.mountpoint.clone())
            } else {
                (
                    mount.mountpoint.clone(),
                    self.paths.under_rootfs(&mount.mountpoint),
                )
            };
            let t = Target {
                label,
                stat_path,
                mount,
            };
            match index.entry(t.label.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => by_label[*e.get()] = t,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(by_label.len());
                    by_label.push(t);
                }
            }
        }
        by_label.sort_unstable_by(|a, b| a.label.cmp(&b.label));
        by_label
    }

    fn selected(&self, t: &Target) -> bool {
        let c = &self.config;
        let mp = t.label.to_string_lossy();
        let fs = &t.mount.fstype;
        c.mount_points_include
            .as_ref()
            .is_none_or(|r| r.is_match(&mp))
            && !c.mount_points_exclude.is_match(&mp)
            && c.fs_types_include.as_ref().is_none_or(|r| r.is_match(fs))
            && !c.fs_types_exclude.is_match(fs)
    }

    /// Stats every target in parallel.
    fn stat_all(&self, targets: &[&Target]) -> Vec<Outcome> {
        let jobs: Vec<(String, Job<FsStat>)> = targets
            .iter()
            .map(|t| {
                let (stat, path) = (self.stat.clone(), t.stat_path.clone());
                let key = path.display().to_string();
                let job: Job<FsStat> = Box::new(move || {
                    stat(&path).map_err(|e| format!("statfs {}: {e}", path.display()))
                });
                (key, job)
            })
            .collect();
        self.pool
            .run("statfs", jobs, self.config.stat_timeout)
            .into_iter()
            .map(|r| match r {
                Ok(s) => Outcome::Ok(s),
                Err(e) => Outcome::Err(e),
            })
            .collect()
    }

    /// Logs an item's error when it changes, and its recovery, so an item
    /// failing the same way at every refresh is logged once.
    fn log_change(&self, what: &str, error: Option<&str>) {
        let mut logged = lock(&self.logged);
        match error {
            Some(e) => {
                if logged.get(what).map(String::as_str) != Some(e) {
                    log::warn!("{what}: {e}");
                    logged.insert(what.to_string(), e.to_string());
                }
            }
            None => {
                if logged.remove(what).is_some() {
                    log::info!("{what}: works again");
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The target whose mount point is the longest prefix of `host_path`
/// (`targets` is sorted by label): one lookup per ancestor of the path.
fn holder<'a>(targets: &'a [Target], host_path: &Path) -> Option<&'a Target> {
    host_path.ancestors().find_map(|a| {
        targets
            .binary_search_by(|t| t.label.as_path().cmp(a))
            .ok()
            .map(|i| &targets[i])
    })
}

impl Collector for FilesystemCollector {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn rereads_on_sighup(&self) -> Option<&'static str> {
        Some("the mount table")
    }

    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        let (mounts, unparsed) = self.mount_table()?;
        out.family(&FILESYSTEM_MOUNT_TABLE_UNPARSED_LINES)
            .sample(&[], unparsed as f64);
        let targets = self.targets(mounts);

        // Watched paths: resolve through rootfs, find the holding mount, and
        // make sure that mount is statted even if the filters exclude it.
        // Resolution stats every component of the path: on a hung NFS mount
        // that blocks, so it runs on timed threads like statfs.
        let jobs: Vec<(String, Job<(PathBuf, bool)>)> = self
            .config
            .watch_paths
            .iter()
            .map(|w| {
                let (paths, path) = (self.paths.clone(), w.path.clone());
                let job: Job<(PathBuf, bool)> =
                    Box::new(move || paths.resolve_host_path(&path).map_err(|e| e.to_string()));
                (w.path.display().to_string(), job)
            })
            .collect();
        let resolved = self.pool
            .run("resolving", jobs, self.config.stat_timeout);
        let watched: Vec<Watched> = self
            .config
            .watch_paths
            .iter()
            .zip(resolved)
            .map(|(w, r)| match r {
                Ok((resolved, exists)) => {
                    let holder = holder(&targets, &resolved);
                    let error = holder
                        .is_none()
                        .then(|| "no mounted filesystem holds it".to_string());
                    Watched {
                        watch: w,
                        exists,
                        holder,
                        error,
                    }
                }
                Err(e) => Watched {
                    watch: w,
                    exists: false,
                    holder: None,
                    error: Some(e),
                },
            })
            .collect();
        let forced: HashSet<&Path> = watched
            .iter()
            .filter_map(|w| w.holder)
            .map(|t| t.label.as_path())
            .collect();

        let chosen: Vec<&Target> = targets
            .iter()
            .filter(|t| self.selected(t) || forced.contains(t.label.as_path()))
            .collect();
        let outcomes = self.stat_all(&chosen);
        // statfs reports the flags of the mount it goes through: when vigie
        // reads the host through a bind mount (a container's read-only
        // /host/root), that is not the host's mount, so only the host's
        // mount table says whether the filesystem is read-only.
        let statfs_flag_is_hosts = self.paths.rootfs == Path::new("/");
        let mut seen_writable = lock(&self.seen_writable);
        let before = std::mem::take(&mut *seen_writable);

        for (t, outcome) in chosen.iter().zip(&outcomes) {
            let error = match outcome {
                Outcome::Err(e) => Some(e.as_str()),
                Outcome::Ok(_) => None,
            };
            // Most mounts are fine and were fine: no string to build then.
            if error.is_some() || !lock(&self.logged).is_empty() {
                self.log_change(&format!("filesystem {}", t.label.display()), error);
            }
            let mp = t.label.to_string_lossy();
            let l = [
                ("mountpoint", mp.as_ref()),
                ("device", t.mount.device.as_str()),
                ("fstype", t.mount.fstype.as_str()),
            ];
            out.family(&FILESYSTEM_STAT_ERROR)
            .sample(&l, if matches!(outcome, Outcome::Err(_)) { 1.0 } else { 0.0 });
            let Outcome::Ok(s) = outcome else { continue };
            out.family(&FILESYSTEM_SIZE_BYTES)
            .sample(&l, s.size as f64);
            out.family(&FILESYSTEM_FREE_BYTES)
            .sample(&l, s.free as f64);
            out.family(&FILESYSTEM_AVAIL_BYTES)
            .sample(&l, s.avail as f64);
            out.family(&FILESYSTEM_FILES)
            .sample(&l, s.files as f64);
            out.family(&FILESYSTEM_FILES_FREE)
            .sample(&l, s.files_free as f64);
            let read_only = t.mount.read_only() || (statfs_flag_is_hosts && s.read_only);
            // Seen writable before (same mount) or now.
            let key = (t.mount.id, t.label.clone());
            let was_writable = before.get(&key).copied().unwrap_or(false);
            seen_writable.insert(key, was_writable || !read_only);
            let flag = |b: bool| if b { 1.0 } else { 0.0 };
            out.family(&FILESYSTEM_READONLY).sample(&l, flag(read_only));
            out.family(&FILESYSTEM_MOUNT_READONLY)
                .sample(&l, flag(t.mount.mount_ro));
            out.family(&FILESYSTEM_SUPERBLOCK_READONLY)
                .sample(&l, flag(t.mount.super_ro));
            out.family(&FILESYSTEM_TURNED_READONLY)
                .sample(&l, flag(read_only && was_writable));
        }
        // A mount statted with an error this round keeps what was known.
        for (t, outcome) in chosen.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::Err(_)) {
                let key = (t.mount.id, t.label.clone());
                if let Some(&w) = before.get(&key) {
                    seen_writable.insert(key, w);
                }
            }
        }
        drop(seen_writable);

        for w in &watched {
            let what = format!("watched path {}", w.watch.path.display());
            self.log_change(&what, w.error.as_deref());
            let path = w.watch.path.to_string_lossy();
            let pl = [("path", path.as_ref()), ("role", w.watch.role.as_str())];
            out.family(&PATH_RESOLVE_ERROR)
            .sample(&pl, if w.error.is_some() { 1.0 } else { 0.0 });
            if w.error.is_some() {
                continue;
            }
            out.family(&PATH_EXISTS)
            .sample(&pl, if w.exists { 1.0 } else { 0.0 });
            if let Some(t) = w.holder {
                let mp = t.label.to_string_lossy();
                out.family(&PATH_FILESYSTEM_INFO)
                .sample(
                    &[
                        ("path", path.as_ref()),
                        ("role", w.watch.role.as_str()),
                        ("mountpoint", mp.as_ref()),
                        ("device", t.mount.device.as_str()),
                        ("fstype", t.mount.fstype.as_str()),
                    ],
                    1.0,
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_path_syntax() {
        let w: WatchPath = "/var/lib/etcd=control-plane".parse().unwrap();
        assert_eq!(w.path, PathBuf::from("/var/lib/etcd"));
        assert_eq!(w.role, "control-plane");
        let w: WatchPath = "/srv".parse().unwrap();
        assert_eq!(w.role, "watched");
        assert!(
            "relative=x"
                .parse::<WatchPath>()
                .unwrap_err()
                .contains("absolute")
        );
        assert!(
            "/x=bad role"
                .parse::<WatchPath>()
                .unwrap_err()
                .contains("role")
        );
    }

    #[test]
    fn default_filters() {
        let c = FilesystemConfig::default();
        for skip in [
            "/proc",
            "/sys/fs/cgroup",
            "/dev/shm",
            "/run/user/1000",
            "/var/lib/kubelet/pods/x/volumes/y",
        ] {
            assert!(c.mount_points_exclude.is_match(skip), "{skip}");
        }
        for keep in [
            "/",
            "/var/lib/etcd",
            "/srv/backup",
            "/run",
            "/devices",
            "/var/lib/docker",
        ] {
            assert!(!c.mount_points_exclude.is_match(keep), "{keep}");
        }
        for skip in [
            "proc",
            "sysfs",
            "overlay",
            "squashfs",
            "cgroup2",
            "fuse.lxcfs",
        ] {
            assert!(c.fs_types_exclude.is_match(skip), "{skip}");
        }
        for keep in ["ext4", "xfs", "btrfs", "zfs", "nfs4", "tmpfs", "vfat"] {
            assert!(!c.fs_types_exclude.is_match(keep), "{keep}");
        }
    }
}
