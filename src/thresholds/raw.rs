//! The thresholds file as written: serde structs that refuse unknown keys
//! and keep each value's line and column for the errors. The structs of the
//! signal sections (`smart:`, `swap:`...) are declared by the catalogue
//! with [`section!`], from its list of signals.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Language;
use super::catalogue::{RawDns, RawFilesystems, RawMonitoring, RawReboot, RawSmart, RawSwap};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawFile {
    pub(super) selector: Option<Spanned<String>>,
    pub(super) language: Option<Language>,
    pub(super) runbook_url: Option<Spanned<String>>,
    pub(super) slow_signals_interval: Option<Spanned<String>>,
    pub(super) filesystems: RawFilesystems,
    pub(super) smart: RawSmart,
    pub(super) swap: RawSwap,
    pub(super) reboot: RawReboot,
    pub(super) dns: RawDns,
    pub(super) monitoring: RawMonitoring,
    pub(super) overrides: Vec<Spanned<RawOverride>>,
}

impl RawFile {
    /// Every signal slot of the file's sections, as (signal id, slot).
    pub(super) fn slots(&self) -> Vec<(&'static str, &Slot)> {
        let host = host_slots(&self.smart, &self.swap, &self.reboot, &self.dns);
        [self.filesystems.slots(), host, self.monitoring.slots()].concat()
    }
}

/// One signal as written: `{warning: 15, critical: 5, for: 10m}`, or
/// `{enabled: false}`. Values are numbers, or durations for time signals.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLevels {
    #[serde(default)]
    pub(super) warning: Option<Spanned<RawValue>>,
    #[serde(default)]
    pub(super) critical: Option<Spanned<RawValue>>,
    #[serde(default, rename = "for")]
    pub(super) for_: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) enabled: Option<bool>,
}

/// A level's value as written: a number (`80`) or a text (`10m`). Anything
/// else (a list, a map, a boolean) is kept as `Other`, so the error can
/// point at it and say what is expected.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawValue {
    Number(f64),
    Text(String),
    Other(serde::de::IgnoredAny),
}

/// Boxed: a file or an override has some thirty slots, most of them
/// empty, and an unboxed slot is some 300 bytes (its values' spans), which
/// made each override about 9 kB and 100,000 overrides about 900 MB.
pub(super) type Slot = Option<Box<Spanned<RawLevels>>>;

/// `free_percent_floor: {warning: 21474836480, critical: 5368709120}` (bytes).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFloor {
    #[serde(default)]
    pub(super) warning: Option<u64>,
    #[serde(default)]
    pub(super) critical: Option<u64>,
}

/// Declares a section: its signal fields (each `section.field`) and the
/// list of (signal id, field) pairs used to walk it.
macro_rules! section {
    ($name:ident, $prefix:literal { $($field:ident),* } $( extra { $($xf:ident : $xt:ty),* } )?) => {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub(in crate::thresholds) struct $name {
            $( pub(in crate::thresholds) $field: $crate::thresholds::raw::Slot, )*
            $( $( pub(in crate::thresholds) $xf: $xt, )* )?
        }

        impl $name {
            pub(in crate::thresholds) fn slots(&self) -> Vec<(&'static str, &$crate::thresholds::raw::Slot)> {
                vec![$( (concat!($prefix, ".", stringify!($field)), &self.$field) ),*]
            }
        }
    };
}
pub(super) use section;

section!(RawRole, "filesystem" { free_percent, inodes_free_percent, full_in, readonly });

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    #[serde(rename = "match")]
    pub(super) matchers: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    pub(super) reason: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) expires: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) filesystems: RawRole,
    #[serde(default)]
    pub(super) smart: RawSmart,
    #[serde(default)]
    pub(super) swap: RawSwap,
    #[serde(default)]
    pub(super) reboot: RawReboot,
    #[serde(default)]
    pub(super) dns: RawDns,
}

impl RawOverride {
    pub(super) fn slots(&self) -> Vec<(&'static str, &Slot)> {
        let host = host_slots(&self.smart, &self.swap, &self.reboot, &self.dns);
        [self.filesystems.slots(), host].concat()
    }
}

/// The slots of the sections a file and an override share besides
/// `filesystems`.
fn host_slots<'a>(
    smart: &'a RawSmart,
    swap: &'a RawSwap,
    reboot: &'a RawReboot,
    dns: &'a RawDns,
) -> Vec<(&'static str, &'a Slot)> {
    [smart.slots(), swap.slots(), reboot.slots(), dns.slots()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An override as read stays small whatever signals it could set (it
    /// was 8.9 kB with unboxed slots: 890 MB held at once for 100,000
    /// overrides, and as much copied each time the list grew).
    #[test]
    fn an_override_as_read_is_small() {
        let size = std::mem::size_of::<Spanned<RawOverride>>();
        assert!(size <= 1024, "{size} bytes");
    }
}
