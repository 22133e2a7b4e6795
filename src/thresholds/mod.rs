//! The thresholds file: one short YAML file from which `vigie gen-rules`
//! writes the alerting rules, their tests and the dashboards.
//!
//! Every value has a default drawn from `incidents.md`, so an empty file
//! (`{}`) is valid and useful. Parsing goes through serde-saphyr with
//! unknown keys refused; every error names the file, line and column and
//! says what was expected. Overrides change thresholds for series matched on
//! labels (instance, mountpoint, device...), with a required reason and an
//! optional expiry date; an expired override is reported and ignored.
//!
//! The result is a flat model: each signal (`filesystem.free_percent`,
//! `smart.reallocated_sectors`...) has [`Levels`] (warning, critical, `for`),
//! per role for filesystems, and per override.
//!
//! - [`catalogue`]: the signals and their defaults;
//! - `raw`: the file as written (serde);
//! - `levels`: values, levels, windows and roles checked;
//! - `overrides`: overrides and their expiry;
//! - `error`: [`ThresholdsError`], with file, line and column;
//! - [`template`]: the Go templates a `runbook_url` may hold, checked and expanded.

mod error;
mod levels;
mod overrides;
mod raw;

pub mod catalogue;
pub mod template;

pub use catalogue::{Direction, ROLE_DEFAULTS, SIGNALS, Signal, ValueKind, signal};
pub use error::ThresholdsError;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::promql::{FreeFloor, Reads, Scope, Selector, Windows};
use crate::units::today;
use error::At;
use levels::{levels, roles, window};
use overrides::overrides;
use raw::RawFile;

/// Warning, critical and `for:` of one signal, after defaults and validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// None: no warning alert.
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub for_secs: u64,
}

impl Levels {
    fn default_of(s: &Signal) -> Levels {
        Levels {
            warning: s.warning,
            critical: s.critical,
            for_secs: s.for_secs,
        }
    }
}

/// Alert text language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    /// `en` or `fr`: the `{lang}` of a runbook address.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }
}

/// The shipped runbook page of `alert` in `lang` for the version that
/// generated the rules: `docs/runbooks/<lang>/<alert>.md` of the project's
/// repository at tag `v<version>`.
pub fn shipped_runbook(lang: Language, alert: &str) -> String {
    format!(
        "{}/blob/v{}/docs/runbooks/{}/{alert}.md",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION"),
        lang.code()
    )
}

/// An override that applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Label name -> exact value.
    pub matchers: BTreeMap<String, String>,
    pub reason: String,
    /// `YYYY-MM-DD`, when given.
    pub expires: Option<String>,
    pub signals: BTreeMap<&'static str, Levels>,
}

/// A validated thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub source: PathBuf,
    /// Added to every generated expression.
    pub selector: Selector,
    pub language: Language,
    pub runbook_url: Option<String>,
    /// Every signal's levels; a disabled signal has neither warning nor critical.
    pub signals: BTreeMap<&'static str, Levels>,
    /// Filesystem roles (from watched paths) with their own levels.
    pub roles: BTreeMap<String, BTreeMap<&'static str, Levels>>,
    /// The range over which `filesystem.full_in` extrapolates the trend
    /// and the one over which a growing SMART counter raises its alert.
    pub windows: Windows,
    /// Free bytes under which `filesystem.free_percent` may alert.
    pub free_floor: FreeFloor,
    /// An always-firing alert for a dead-man's-switch receiver.
    pub watchdog: bool,
    pub overrides: Vec<Override>,
    /// Non-fatal remarks (expired overrides), `file:line:column: text`.
    pub warnings: Vec<String>,
    /// How the alerting rules read long windows ([`Thresholds::rule_scope`]):
    /// through the summaries, unless set otherwise by a user of the alert
    /// expressions that wants raw reads.
    pub rule_reads: Reads,
    /// The evaluation interval of the groups of slowly changing signals
    /// ([`SLOW_SECTIONS`]) in seconds; None: Prometheus' own.
    pub slow_interval_secs: Option<u64>,
}

/// The rule groups (by section) whose alerts wait minutes to days anyway:
/// free space, inodes and the rest of the filesystems' (a read-only one
/// waits 1 minute), the disks' (read every 5 minutes by default), reboots'.
pub const SLOW_SECTIONS: &[&str] = &["filesystem", "smart", "reboot"];

impl Thresholds {
    /// The roles that set `signal` (their filesystems have the role's alert
    /// for it, or none, instead of the generic one).
    pub fn roles_setting(&self, signal: &str) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|(_, s)| s.contains_key(signal))
            .map(|(r, _)| r.as_str())
            .collect()
    }

    /// The series and windows every generated expression reads, long
    /// windows read sample by sample (`vigie check`, the dashboards).
    pub fn scope(&self) -> Scope {
        Scope {
            sel: self.selector.clone(),
            windows: self.windows,
            free_floor: self.free_floor,
            reads: Reads::Raw,
        }
    }

    /// [`Thresholds::scope`] for the alerting rules: long windows read
    /// through the lows and highs the summary group records (by default,
    /// [`Thresholds::rule_reads`]).
    pub fn rule_scope(&self) -> Scope {
        Scope {
            reads: self.rule_reads,
            ..self.scope()
        }
    }

    /// The `runbook_url` of `alert`: the file's `runbook_url` with `{alert}`
    /// and `{lang}` filled in, else the page shipped with this version
    /// ([`shipped_runbook`]). `page` is the shipped page's name when it
    /// differs from the alert (a role of the user's own has no page: it
    /// links to the generic alert's).
    pub fn runbook(&self, alert: &str, page: &str) -> String {
        match &self.runbook_url {
            Some(u) => u
                .replace("{alert}", alert)
                .replace("{lang}", self.language.code()),
            None => shipped_runbook(self.language, page),
        }
    }

    /// Reads and validates `path`.
    ///
    /// Only a regular file is read (a FIFO or a device would block or never
    /// end), of at most [`MAX_FILE_BYTES`]; text that is not UTF-8 is an
    /// error at the first bad byte.
    pub fn load(path: &Path) -> Result<Thresholds, ThresholdsError> {
        let text = read_file(path)?;
        Self::parse(&text, path, today())
    }

    /// Validates `text` (read from `source`), with `today` in days since the
    /// epoch for override expiry.
    pub fn parse(text: &str, source: &Path, today: i64) -> Result<Thresholds, ThresholdsError> {
        let file = source.display().to_string();
        let at = At { file: &file };
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_saphyr::from_str_with_options(text, parser_options()).map_err(|e| {
                let loc = e.location();
                let msg = e.without_snippet().to_string();
                // Drop saphyr's own " at line L, column C": the prefix says it.
                let msg = match msg.rfind(" at line ") {
                    Some(i) if msg[i..].contains(", column ") => msg[..i].to_string(),
                    _ => msg,
                };
                // Speak to the person editing the file, not to a developer.
                let msg = msg.replace(
                    ", set DuplicateKeyPolicy in Options if acceptable",
                    " (each key may appear only once)",
                );
                let msg = match msg.strip_prefix("budget breached: ") {
                    Some(breach) => format!(
                        "the file is beyond what vigie reads ({}): at most {} YAML values, {} levels of nesting, {} anchors and {} aliases",
                        breach.split_whitespace().next().unwrap_or(breach),
                        MAX_YAML_NODES,
                        PARSER_MAX_DEPTH,
                        PARSER_MAX_ANCHORS,
                        PARSER_MAX_ANCHORS
                    ),
                    None => msg,
                };
                ThresholdsError {
                    file: file.clone(),
                    line: loc.map_or(1, |l| l.line().max(1)),
                    column: loc.map_or(1, |l| l.column().max(1)),
                    message: msg,
                }
            })?
        };

        let selector = match &raw.selector {
            None => Selector::parse("job=\"vigie\"").expect("the default selector parses"),
            Some(s) => Selector::parse(&s.value).map_err(|e| {
                at.err(
                    s.referenced,
                    format!("selector: {e} (write e.g. job=\"vigie\")"),
                )
            })?,
        };
        let runbook_url = match &raw.runbook_url {
            None => None,
            Some(u) if u.value.starts_with("https://") || u.value.starts_with("http://") => {
                template::check(&u.value)
                    .map_err(|e| at.err(u.referenced, format!("runbook_url: {e}")))?;
                Some(u.value.clone())
            }
            Some(u) => return Err(at.err(u.referenced, "runbook_url: expected an http:// or https:// address; {alert} is replaced by the alert name, {lang} by the language (en or fr)")),
        };

        let mut signals: BTreeMap<&'static str, Levels> = SIGNALS
            .iter()
            .map(|s| (s.id, Levels::default_of(s)))
            .collect();
        for (id, slot) in raw.slots() {
            if let Some(r) = slot {
                let sig = signal(id).expect("every section field is a signal");
                let l = levels(&at, sig, r, signals[id])?;
                signals.insert(id, l);
            }
        }

        let roles = roles(&at, &raw.filesystems.roles, &signals)?;

        let full_in_window_secs = window(
            &at,
            "filesystems.full_in_window",
            &raw.filesystems.full_in_window,
            3 * 86400,
        )?;
        let full_in_day_secs = window(
            &at,
            "filesystems.full_in_day",
            &raw.filesystems.full_in_day,
            26 * 3600,
        )?;
        let floor = raw.filesystems.free_percent_floor.as_ref();
        let free_floor = FreeFloor {
            warning_bytes: floor
                .and_then(|f| f.value.warning)
                .unwrap_or(20 * 1024 * 1024 * 1024),
            critical_bytes: floor
                .and_then(|f| f.value.critical)
                .unwrap_or(5 * 1024 * 1024 * 1024),
        };
        if let Some(f) = floor
            && free_floor.warning_bytes < free_floor.critical_bytes
        {
            return Err(at.err(
                f.referenced,
                "filesystems.free_percent_floor: the warning floor must be at least the critical one",
            ));
        }
        let smart_growth_window_secs = window(
            &at,
            "smart.growth_window",
            &raw.smart.growth_window,
            7 * 86400,
        )?;

        let missing_secs = window(
            &at,
            "monitoring.missing_window",
            &raw.monitoring.missing_window,
            86400,
        )?;
        let (overrides, warnings) = overrides(&at, &raw.overrides, &signals, &selector, today)?;
        let resolver_failing_secs = signals["dns.resolver_failing"].for_secs;

        Ok(Thresholds {
            source: source.to_path_buf(),
            selector,
            language: raw.language.unwrap_or_default(),
            runbook_url,
            signals,
            roles,
            free_floor,
            windows: Windows {
                day_secs: full_in_day_secs,
                trend_secs: full_in_window_secs,
                growth_secs: smart_growth_window_secs,
                missing_secs,
                resolver_failing_secs,
            },
            watchdog: raw.monitoring.watchdog.unwrap_or(true),
            overrides,
            warnings,
            rule_reads: Reads::Recorded,
            slow_interval_secs: levels::slow_interval(&at, &raw.slow_signals_interval)?,
        })
    }
}

/// The largest thresholds file vigie reads: far above 100,000 overrides
/// (about 130 bytes each).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The most YAML values (and parser events) a thresholds file may hold: an
/// override is about 20, so 1,000,000 overrides fit. (serde-saphyr's
/// default, 250,000, stopped at about 15,000 overrides.)
pub const MAX_YAML_NODES: usize = 25_000_000;
const PARSER_MAX_DEPTH: usize = 64;
const PARSER_MAX_ANCHORS: usize = 50_000;

/// serde-saphyr's budget, sized for [`MAX_FILE_BYTES`] and [`MAX_YAML_NODES`].
fn parser_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Comments are checked as YAML but not kept: nothing reads them.
        emit_comments: false,
        budget: serde_saphyr::budget! {
            max_nodes: MAX_YAML_NODES,
            max_events: 2 * MAX_YAML_NODES,
            max_depth: PARSER_MAX_DEPTH,
            max_anchors: PARSER_MAX_ANCHORS,
            max_aliases: PARSER_MAX_ANCHORS,
            max_total_scalar_bytes: MAX_FILE_BYTES as usize,
            max_total_comment_bytes: MAX_FILE_BYTES as usize,
        },
    }
}

fn read_file(path: &Path) -> Result<String, ThresholdsError> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let cannot = |e: std::io::Error| {
        ThresholdsError::whole(path, format!("cannot read the thresholds file: {e}"))
    };
    // Non-blocking, so that opening a FIFO does not wait for a writer.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(cannot)?;
    let meta = f.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(ThresholdsError::whole(
            path,
            "not a regular file (a directory, a FIFO or a device): give the path of the YAML thresholds file",
        ));
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ThresholdsError::whole(
            path,
            format!(
                "larger than {} MiB, the most vigie reads as a thresholds file",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = e.utf8_error().valid_up_to();
        let before = std::str::from_utf8(&bytes[..good]).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        ThresholdsError {
            file: path.display().to_string(),
            line: before.matches('\n').count() as u64 + 1,
            column: before[line_start..].chars().count() as u64 + 1,
            message: format!(
                "byte 0x{:02x} is not UTF-8 text; save the file as UTF-8",
                bytes[good]
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{days_from_civil, parse_date};

    fn parse(text: &str) -> Result<Thresholds, ThresholdsError> {
        // 2026-11-21
        Thresholds::parse(text, Path::new("t.yaml"), days_from_civil(2026, 11, 21))
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        for text in ["", "{}", "# only a comment\n"] {
            let t = parse(text).unwrap();
            assert_eq!(t.selector.to_string(), "job=\"vigie\"");
            assert_eq!(t.language, Language::En);
            assert_eq!(
                t.signals["filesystem.free_percent"],
                Levels {
                    warning: Some(15.0),
                    critical: Some(5.0),
                    for_secs: 600
                }
            );
            assert_eq!(
                t.roles["control-plane"]["filesystem.free_percent"].critical,
                Some(15.0)
            );
            assert!(t.watchdog);
            assert_eq!(t.signals.len(), SIGNALS.len());
        }
    }

    /// The keys the file accepts are the catalogue's signals: a file that
    /// sets every catalogue signal parses and sets each, and every signal
    /// key of the file (and of a role) is one of the catalogue.
    #[test]
    fn the_file_accepts_exactly_the_catalogue() {
        let mut sections: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in SIGNALS {
            let (section, key) = s.id.split_once('.').unwrap();
            sections.entry(section).or_default().push(key);
        }
        let mut text = String::new();
        for (section, keys) in &sections {
            let section = if *section == "filesystem" {
                "filesystems"
            } else {
                section
            };
            text.push_str(&format!("{section}:\n"));
            for key in keys {
                text.push_str(&format!("  {key}: {{for: 7m}}\n"));
            }
        }
        let t = parse(&text).unwrap();
        for s in SIGNALS {
            assert_eq!(t.signals[s.id].for_secs, 420, "{}", s.id);
        }

        let raw = raw::RawFile::default();
        let mut accepted: Vec<&str> = raw.slots().into_iter().map(|(id, _)| id).collect();
        accepted.sort();
        let mut catalogue: Vec<&str> = SIGNALS.iter().map(|s| s.id).collect();
        catalogue.sort();
        assert_eq!(accepted, catalogue);

        let role = raw::RawRole::default();
        let by_role: Vec<&str> = role.slots().into_iter().map(|(id, _)| id).collect();
        let catalogue_by_role: Vec<&str> =
            SIGNALS.iter().filter(|s| s.by_role).map(|s| s.id).collect();
        assert_eq!(by_role, catalogue_by_role);
    }

    /// Without `runbook_url`, the page shipped with this version, in the
    /// file's language; with it, `{alert}` and `{lang}` filled in.
    #[test]
    fn runbook_links() {
        let t = parse("language: fr\n").unwrap();
        assert_eq!(
            t.runbook("VigieDown", "VigieDown"),
            format!(
                "https://github.com/vigie-monitoring/vigie/blob/v{}/docs/runbooks/fr/VigieDown.md",
                env!("CARGO_PKG_VERSION")
            )
        );
        let t = parse("runbook_url: https://wiki.example.org/{lang}/vigie/{alert}\n").unwrap();
        assert_eq!(
            t.runbook(
                "VigieNextcloudFilesystemAlmostFull",
                "VigieFilesystemAlmostFull"
            ),
            "https://wiki.example.org/en/vigie/VigieNextcloudFilesystemAlmostFull"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_date("2000-03-01"), Some(11017));
        assert_eq!(parse_date("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        for bad in ["2023-02-29", "2027-13-01", "27-01-31", "2027-1-31", "soon"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_levels_override_defaults_and_roles_follow() {
        let t = parse(
            "language: fr\n\
             filesystems:\n  free_percent: {warning: 20, for: 30m}\n  full_in_window: 12h\n  roles:\n    nextcloud-data:\n      free_percent: {warning: 25, critical: 10}\n\
             dns:\n  latency: {warning: 300ms, critical: 1s}\n\
             monitoring: {watchdog: false}\n",
        )
        .unwrap();
        assert_eq!(t.language, Language::Fr);
        assert_eq!(
            t.signals["filesystem.free_percent"],
            Levels {
                warning: Some(20.0),
                critical: Some(5.0),
                for_secs: 1800
            }
        );
        assert_eq!(t.windows.trend_secs, 12 * 3600);
        assert_eq!(
            t.roles["nextcloud-data"]["filesystem.free_percent"].warning,
            Some(25.0)
        );
        assert_eq!(
            t.roles["nextcloud-data"]["filesystem.free_percent"].for_secs,
            1800
        );
        assert_eq!(t.signals["dns.latency"].warning, Some(0.3));
        assert!(!t.watchdog);
    }

    #[test]
    fn overrides_expire_and_need_a_reason() {
        let t = parse(
            "overrides:\n\
             - match: {instance: 'mutu2:7361', mountpoint: /srv/backup}\n  reason: backup volume sits near full\n  expires: 2027-01-31\n  filesystems: {free_percent: {warning: 3, critical: 1}}\n\
             - match: {instance: 'old:7361'}\n  reason: decommissioned\n  expires: 2026-11-20\n  swap: {used_percent: {enabled: false}}\n",
        )
        .unwrap();
        assert_eq!(t.overrides.len(), 1);
        assert_eq!(
            t.overrides[0].signals["filesystem.free_percent"].critical,
            Some(1.0)
        );
        assert_eq!(t.warnings.len(), 1);
        assert!(
            t.warnings[0].starts_with("t.yaml:8:12: override"),
            "{:?}",
            t.warnings
        );
    }
}
