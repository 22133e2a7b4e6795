//! Panel and field-config builders: queries, colours and threshold steps,
//! the fixed parts of each panel type, and tables merged from one query per
//! column.

use serde_json::{Value, json};

use crate::promql::Expr;
use crate::thresholds::{Direction, Levels, Thresholds, signal};

/// The colours of the levels.
pub const OK: &str = "green";

pub const WARNING: &str = "orange";

pub const CRITICAL: &str = "red";

/// `A`, `B`, ... `Z`, `AA`, ...
pub fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("{}{}", ref_id(i / 26 - 1), letters[i % 26] as char)
    }
}

/// Every panel and query uses the `datasource` variable.
pub fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// A range query drawn over time.
pub fn range(expr: Expr, legend: &str) -> Value {
    json!({"expr": expr, "legendFormat": legend, "range": true, "instant": false, "editorMode": "code"})
}

/// An instant query for tables and current values.
pub fn instant(expr: Expr) -> Value {
    json!({"expr": expr, "format": "table", "range": false, "instant": true, "editorMode": "code"})
}

/// A signal's levels in the unit of its alerts' values (the unit the
/// panels show), with its direction.
#[derive(Debug, Clone, Copy)]
pub struct Bands {
    pub direction: Direction,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

impl Bands {
    /// The file-wide levels of `signal_id`.
    pub fn of(t: &Thresholds, signal_id: &str) -> Bands {
        Bands::from_levels(signal_id, &t.signals[signal_id])
    }

    /// `l`, converted from the file's unit as the signal's alerts convert
    /// it (seconds to days for `filesystem.full_in`).
    pub fn from_levels(signal_id: &str, l: &Levels) -> Bands {
        let s = signal(signal_id).expect("a known signal");
        let scale = s.scale;
        Bands {
            direction: s.direction,
            warning: l.warning.map(|v| v * scale),
            critical: l.critical.map(|v| v * scale),
        }
    }

    /// Grafana threshold steps: green where fine, orange from the warning
    /// level, red from the critical one. Grafana colours a value with the
    /// last step at or below it; the rules fire at or above a level (higher
    /// is worse) or strictly below it (lower is worse), so the two agree
    /// except exactly at a lower-is-worse level, which the rule calls fine.
    pub fn steps(&self) -> Value {
        let step = |c: &str, v: Option<f64>| json!({"color": c, "value": v});
        let mut s = Vec::new();
        match self.direction {
            Direction::HigherIsWorse => {
                s.push(step(OK, None));
                if let Some(w) = self.warning {
                    s.push(step(WARNING, Some(w)));
                }
                if let Some(c) = self.critical {
                    s.push(step(CRITICAL, Some(c)));
                }
            }
            Direction::LowerIsWorse => {
                let base = if self.critical.is_some() {
                    CRITICAL
                } else if self.warning.is_some() {
                    WARNING
                } else {
                    OK
                };
                s.push(step(base, None));
                if let (Some(c), Some(_)) = (self.critical, self.warning) {
                    s.push(step(WARNING, Some(c)));
                }
                if let Some(top) = self.warning.or(self.critical) {
                    s.push(step(OK, Some(top)));
                }
            }
        }
        json!({"mode": "absolute", "steps": s})
    }

    /// Steps for the threshold lines of a graph (its series keep their own
    /// colours): Grafana draws each step after the first as a line in that
    /// step's colour, so the critical level is a red line and the warning
    /// level an orange one whichever way the signal goes.
    pub fn line_steps(&self) -> Value {
        let mut s = vec![json!({"color": OK, "value": null})];
        let mut lines: Vec<(f64, &str)> = Vec::new();
        if let Some(w) = self.warning {
            lines.push((w, WARNING));
        }
        if let Some(c) = self.critical {
            lines.push((c, CRITICAL));
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (v, c) in lines {
            s.push(json!({"color": c, "value": v}));
        }
        json!({"mode": "absolute", "steps": s})
    }
}

/// Steps of one colour for every value.
pub fn fixed(color: &str) -> Value {
    json!({"mode": "absolute", "steps": [{"color": color, "value": null}]})
}

/// Steps for a count: fine at 0, `color` from 1.
pub fn from_one(color: &str) -> Value {
    json!({"mode": "absolute", "steps": [{"color": OK, "value": null}, {"color": color, "value": 1}]})
}

/// A value mapping of exact values to (text, colour), in order.
pub fn mapping(entries: &[(&str, String, &str)]) -> Value {
    let mut o = serde_json::Map::new();
    for (i, (v, text, color)) in entries.iter().enumerate() {
        o.insert(
            (*v).to_string(),
            json!({"text": text, "color": color, "index": i}),
        );
    }
    json!([{"type": "value", "options": Value::Object(o)}])
}

/// Steps for a value that is a level itself: 0 fine, 1 warning, 2 critical.
pub fn level_steps() -> Value {
    json!({"mode": "absolute", "steps": [
        {"color": OK, "value": null},
        {"color": WARNING, "value": 1},
        {"color": CRITICAL, "value": 2},
    ]})
}

/// One value column of a table fed by several instant queries.
pub struct Column {
    pub expr: Expr,
    pub title: String,
    /// Field properties (unit, thresholds, mappings, cell options); a
    /// column without a unit gets `none`.
    pub props: Vec<Value>,
}

/// Makes `p` (a [`table`]) one row per label set from one instant query
/// per column: the label columns `keys` first, then the columns in order.
/// Each column keeps its `Value #A` field name (`merge` then `organize`,
/// time dropped) and gets its title and properties through an override on
/// that name, after the overrides `p` already has. Returns the targets.
pub fn merged_columns(p: &mut Value, keys: &[&str], columns: Vec<Column>) -> Vec<Value> {
    let mut index = serde_json::Map::new();
    for (k, name) in keys.iter().enumerate() {
        index.insert((*name).into(), json!(k));
    }
    let mut targets = Vec::new();
    for (i, mut col) in columns.into_iter().enumerate() {
        let field = format!("Value #{}", ref_id(i));
        index.insert(field.clone(), json!(keys.len() + i));
        col.props.insert(0, prop("displayName", json!(col.title)));
        if !col.props.iter().any(|p| p["id"] == "unit") {
            col.props.push(prop("unit", json!("none")));
        }
        let overrides = p["fieldConfig"]["overrides"]
            .as_array_mut()
            .expect("a table has overrides");
        overrides.push(by_name(&field, col.props));
        targets.push(instant(col.expr));
    }
    p["transformations"] = json!([
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": true},
            "indexByName": Value::Object(index),
            "renameByName": {},
        }},
    ]);
    targets
}

/// The fixed parts of a time series panel.
pub fn timeseries(unit: &str, thresholds: Option<Bands>, min: Option<f64>) -> Value {
    let (steps, style) = match thresholds {
        Some(b) => (b.line_steps(), "line"),
        None => (fixed(OK), "off"),
    };
    let mut defaults = json!({
        "unit": unit,
        "color": {"mode": "palette-classic"},
        "thresholds": steps,
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10,
            "gradientMode": "none",
            "showPoints": "never",
            "pointSize": 4,
            "spanNulls": false,
            "axisPlacement": "auto",
            "axisLabel": "",
            "axisCenteredZero": false,
            "axisColorMode": "text",
            "axisBorderShow": false,
            "barAlignment": 0,
            "lineInterpolation": "linear",
            "scaleDistribution": {"type": "linear"},
            "stacking": {"mode": "none", "group": "A"},
            "hideFrom": {"legend": false, "tooltip": false, "viz": false},
            "insertNulls": false,
            "thresholdsStyle": {"mode": style},
        },
    });
    if let Some(m) = min {
        defaults["min"] = json!(m);
    }
    json!({
        "type": "timeseries",
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"showLegend": true, "displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    })
}

/// The fixed parts of a single-value panel.
pub fn stat(unit: &str, steps: Value, mappings: Value) -> Value {
    // A plain figure (no levels) gets no coloured background.
    let plain = steps["steps"].as_array().is_some_and(|s| s.len() == 1)
        && mappings.as_array().is_some_and(|m| m.is_empty());
    json!({
        "type": "stat",
        "fieldConfig": {"defaults": {
            "unit": unit,
            "color": {"mode": "thresholds"},
            "thresholds": steps,
            "mappings": mappings,
        }, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "orientation": "auto",
            "textMode": "value",
            "colorMode": if plain { "none" } else { "background" },
            "graphMode": "none",
            "justifyMode": "auto",
            "showPercentChange": false,
            "percentChangeColorMode": "standard",
            "wideLayout": true,
        },
    })
}

/// The fixed parts of a horizontal bar gauge, one bar per series.
pub fn bargauge(unit: &str, steps: Value, mappings: Value, max: Option<f64>) -> Value {
    let mut defaults = json!({
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": steps,
        "mappings": mappings,
        "min": 0,
    });
    if let Some(m) = max {
        defaults["max"] = json!(m);
    }
    json!({
        "type": "bargauge",
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "orientation": "horizontal",
            "displayMode": "basic",
            "valueMode": "color",
            "namePlacement": "auto",
            "showUnfilled": true,
            "sizing": "auto",
            "minVizHeight": 16,
            "minVizWidth": 8,
            "maxVizHeight": 300,
            "legend": {"showLegend": false, "displayMode": "list", "placement": "bottom", "calcs": []},
        },
    })
}

/// The fixed parts of a state timeline (a band per series, coloured by
/// value mapping).
pub fn state_timeline(unit: &str, steps: Value, mappings: Value) -> Value {
    json!({
        "type": "state-timeline",
        "fieldConfig": {"defaults": {
            "unit": unit,
            "color": {"mode": "thresholds"},
            "thresholds": steps,
            "mappings": mappings,
            "custom": {"fillOpacity": 70, "lineWidth": 0, "hideFrom": {"legend": false, "tooltip": false, "viz": false}},
        }, "overrides": []},
        "options": {
            "rowHeight": 0.9,
            "showValue": "auto",
            "mergeValues": true,
            "alignValue": "left",
            "legend": {"showLegend": true, "displayMode": "list", "placement": "bottom", "calcs": []},
            "tooltip": {"mode": "single", "sort": "none"},
        },
    })
}

/// The fixed parts of a table.
pub fn table(unit: &str, sort_by: Option<(&str, bool)>) -> Value {
    let sort: Vec<Value> = sort_by
        .map(|(name, desc)| json!({"displayName": name, "desc": desc}))
        .into_iter()
        .collect();
    json!({
        "type": "table",
        "fieldConfig": {"defaults": {
            "unit": unit,
            "color": {"mode": "thresholds"},
            "thresholds": fixed(OK),
            "custom": {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": false},
        }, "overrides": []},
        "options": {
            "showHeader": true,
            "frameIndex": 0,
            "cellHeight": "sm",
            "sortBy": sort,
        },
    })
}

/// A field override by name (`Value #A`) with `properties`.
pub fn by_name(name: &str, properties: Vec<Value>) -> Value {
    json!({"matcher": {"id": "byName", "options": name}, "properties": properties})
}

pub fn prop(id: &str, value: Value) -> Value {
    json!({"id": id, "value": value})
}
