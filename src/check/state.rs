//! `--state FILE`: the history `vigie check` keeps between runs, so the
//! range functions of the value expressions (the time-to-full forecast's
//! `deriv`, the swap-in `rate`, a growing SMART counter's `delta`) have
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
    (t.windows.trend_secs.max(t.windows.growth_secs).max(300)) as f64
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
