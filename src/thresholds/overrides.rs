//! Overrides: thresholds for the series matched on labels, with a reason
//! and an optional expiry date (an expired override is reported and ignored).

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::catalogue::signal;
use super::error::{At, ThresholdsError};
use super::levels::levels;
use super::raw::RawOverride;
use super::{Levels, Override};
use crate::promql::{Selector, is_label_name};
use crate::units::parse_date;

/// The overrides that apply (not expired), and a warning for each expired one.
pub(super) fn overrides(
    at: &At,
    raw: &[Spanned<RawOverride>],
    signals: &BTreeMap<&'static str, Levels>,
    selector: &Selector,
    today: i64,
) -> Result<(Vec<Override>, Vec<String>), ThresholdsError> {
    let mut overrides: Vec<Override> = Vec::new();
    let admits = selector.admitter();
    let mut warnings = Vec::new();
    // (match, signal) pairs already set: a set, so that many overrides
    // are checked in linear time.
    let mut seen: std::collections::HashSet<(&BTreeMap<String, String>, &'static str)> =
        std::collections::HashSet::new();
    for o in raw {
        let ov = &o.value;
        let mloc = ov.matchers.referenced;
        if ov.matchers.value.is_empty() {
            return Err(at.err(
                mloc,
                "match: give at least one label, e.g. {instance: 'host:7361'}",
            ));
        }
        if let Some(bad) = ov.matchers.value.keys().find(|k| !is_label_name(k)) {
            return Err(at.err(mloc, format!("match: {bad:?} is not a label name")));
        }
        if let Some((k, v)) = ov.matchers.value.iter().find(|(k, v)| !admits(k, v)) {
            return Err(at.err(
                mloc,
                format!("match: {k} {v:?} is excluded by the selector ({selector}): this override could never apply"),
            ));
        }
        let reason =
            match &ov.reason {
                Some(r) if !r.value.trim().is_empty() => r.value.trim().to_string(),
                _ => return Err(at.err(
                    o.referenced,
                    "this override has no reason: say why these thresholds differ (reason: ...)",
                )),
            };
        let expires = match &ov.expires {
            None => None,
            Some(e) => {
                let day = parse_date(&e.value).ok_or_else(|| {
                    at.err(
                        e.referenced,
                        format!("expires: {:?} is not a date; write YYYY-MM-DD", e.value),
                    )
                })?;
                if day < today {
                    warnings.push(format!(
                        "{}:{}:{}: override for {:?} expired on {} ({reason}); it is ignored",
                        at.file,
                        e.referenced.line(),
                        e.referenced.column(),
                        ov.matchers.value,
                        e.value
                    ));
                    continue;
                }
                Some(e.value.clone())
            }
        };
        let mut osignals = BTreeMap::new();
        for (id, slot) in ov.slots() {
            if let Some(r) = slot {
                if !seen.insert((&ov.matchers.value, id)) {
                    return Err(at.err(
                        r.referenced,
                        format!("an earlier override with the same match already sets {id}"),
                    ));
                }
                let sig = signal(id).expect("override fields are signals");
                let allowed = sig.series.matchable();
                if let Some(bad) = ov
                    .matchers
                    .value
                    .keys()
                    .find(|k| !allowed.contains(&k.as_str()))
                {
                    return Err(at.err(
                        mloc,
                        format!(
                            "match: {id} series have no label {bad:?} (they have {}); match on those, or set {id} in another override",
                            allowed.join(", ")
                        ),
                    ));
                }
                osignals.insert(id, levels(at, sig, r, signals[id])?);
            }
        }
        if osignals.is_empty() {
            return Err(at.err(mloc, "this override changes nothing: add the thresholds it sets (filesystems:, smart:, swap:, reboot: or dns:)"));
        }
        overrides.push(Override {
            matchers: ov.matchers.value.clone(),
            reason,
            expires,
            signals: osignals,
        });
    }
    Ok((overrides, warnings))
}
