//! `--state FILE`: the history `vigie check` keeps between runs, so the
//! range functions of the value expressions (the time-to-full forecast's
//! `deriv`, the swap-in `rate`, a growing SMART counter's `min_over_time`) have
//! samples to read.
//!
//! Each run appends its samples of the metrics those expressions read over
//! a range, drops points older than the longest window, keeps at most
//! [`MAX_POINTS`] per series, and writes the file atomically (a temporary
//! file in the same directory, fsynced, renamed over the old one). A file
//! that cannot be parsed is an error, not silently replaced.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::eval::{Data, Labels, Point};
use crate::generate::alerts::ALERTS;
use crate::thresholds::Thresholds;

/// Points kept per series at most (a run every minute over 24 h).
pub const MAX_POINTS: usize = 1440;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    series: Vec<Series>,
}

#[derive(Serialize, Deserialize)]
struct Series {
    labels: Labels,
    points: Vec<Point>,
}

/// The metrics the value expressions read over a range.
pub fn kept_metrics(t: &Thresholds) -> BTreeSet<String> {
    let scope = t.scope();
    ALERTS
        .iter()
        .flat_map(|a| super::eval::range_metrics((a.value)(&scope).as_str()).unwrap_or_default())
        .collect()
}

/// How far back any expression reads, in seconds.
pub fn horizon(t: &Thresholds) -> f64 {
    let scope = t.scope();
    ALERTS
        .iter()
        .filter_map(|a| super::eval::lookback((a.value)(&scope).as_str()).ok())
        .fold(300.0, f64::max)
}

/// The history in `path` (none when it does not exist), without points
/// older than `horizon` before `now` or not before `now`.
pub fn load(path: &Path, now: f64, horizon: f64) -> std::io::Result<BTreeMap<Labels, Vec<Point>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    let file: File = serde_json::from_str(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not a vigie check state file ({e}); remove it to start afresh"),
        )
    })?;
    Ok(file
        .series
        .into_iter()
        .map(|s| {
            let pts: Vec<Point> = s
                .points
                .into_iter()
                .filter(|(t, _)| *t >= now - horizon && *t < now)
                .collect();
            (s.labels, pts)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect())
}

/// Writes `data`'s history plus its current samples of `metrics`.
pub fn save(
    path: &Path,
    data: &Data,
    metrics: &BTreeSet<String>,
    horizon: f64,
) -> std::io::Result<()> {
    let mut all = data.history.clone();
    for s in &data.current {
        if s.labels
            .get("__name__")
            .is_some_and(|n| metrics.contains(n))
        {
            all.entry(s.labels.clone())
                .or_default()
                .push((data.now, s.value));
        }
    }
    let series = all
        .into_iter()
        .map(|(labels, mut points)| {
            points.retain(|(t, _)| *t >= data.now - horizon);
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if points.len() > MAX_POINTS {
                points.drain(..points.len() - MAX_POINTS);
            }
            Series { labels, points }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let text = serde_json::to_string(&File { version: 1, series })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::eval::Sample;

    fn labels(m: &str) -> Labels {
        Labels::from([
            ("__name__".to_string(), m.to_string()),
            ("mountpoint".to_string(), "/".to_string()),
        ])
    }

    #[test]
    fn history_is_bounded_and_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let kept = BTreeSet::from(["a".to_string()]);
        let horizon = 3600.0;
        // A first run, then 2000 points a second apart: at most MAX_POINTS
        // kept, none older than the horizon, other metrics not kept.
        let run = |now: f64, history| Data {
            now,
            current: vec![
                Sample {
                    labels: labels("a"),
                    value: now,
                },
                Sample {
                    labels: labels("not_kept"),
                    value: 1.0,
                },
            ],
            history,
        };
        save(&path, &run(9_000.0, BTreeMap::new()), &kept, horizon).unwrap();
        let loaded = load(&path, 10_000.0, horizon).unwrap();
        assert_eq!(loaded[&labels("a")], [(9_000.0, 9_000.0)]);
        let long: Vec<Point> = (0..2000).map(|i| (8_000.0 + i as f64, 0.0)).collect();
        let now = 10_000.0;
        save(
            &path,
            &run(now, BTreeMap::from([(labels("a"), long)])),
            &kept,
            horizon,
        )
        .unwrap();
        let h = load(&path, now + 1.0, horizon).unwrap();
        assert_eq!(h.len(), 1, "only the kept metric");
        let pts = &h[&labels("a")];
        assert_eq!(pts.len(), MAX_POINTS);
        assert_eq!(*pts.last().unwrap(), (10_000.0, 10_000.0));
        // Later, everything is older than the horizon.
        assert!(
            load(&path, now + horizon + 10.0, horizon)
                .unwrap()
                .is_empty()
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_missing_file_is_no_history_and_a_corrupt_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path, 1.0, 10.0).unwrap().is_empty());
        std::fs::write(&path, "{not json").unwrap();
        let e = load(&path, 1.0, 10.0).unwrap_err();
        assert!(e.to_string().contains("remove it"), "{e}");
    }
}
