//! Grafana dashboards from the thresholds file, written by `gen-rules`
//! beside the rules so that what a volunteer sees and what pages them come
//! from one file.
//!
//! - [`fleet`]: one row per host, worst first: is anything about to break,
//!   and where?
//! - [`host`]: one host over time: filesystems with their threshold lines
//!   and forecast, disks by serial, swap, reboot, DNS, vigie itself.
//!
//! The JSON is built with `serde_json` (keys sorted, so the output is
//! deterministic) and checked against `@grafana/schema`'s `Dashboard` type
//! by the test suite. Every query is a [`crate::promql::signals`] function
//! (the same ones the rules use) evaluated in [`Ctx::scope`]: the thresholds
//! file's selector plus the dashboard's `$job` and `$instance` variables.

pub mod fleet;
pub mod host;

use serde_json::{Value, json};

use crate::generate::{GenerateError, rules};
use crate::promql::signals::{self, metric::BUILD_INFO};
use crate::promql::{Agg, Expr, Matcher, Op, Scope, label_values};
use crate::thresholds::{Direction, Language, Levels, Thresholds, signal};

/// Stable identifiers: links between the dashboards and users' bookmarks
/// rely on them.
pub const FLEET_UID: &str = "vigie-fleet";
pub const HOST_UID: &str = "vigie-host";

/// The directory (under `--out`, unless `--dashboards-out` says otherwise)
/// and the file names.
pub const DIR: &str = "dashboards";
pub const FLEET_FILE: &str = "vigie-fleet.json";
pub const HOST_FILE: &str = "vigie-host.json";
pub const CONFIGMAP_FILE: &str = "vigie-dashboards-configmap.yaml";

/// Grafana's dashboard JSON schema version these dashboards are written in.
pub const SCHEMA_VERSION: u64 = 39;

/// Both dashboards as (file name, JSON document).
pub fn generate(t: &Thresholds) -> Vec<(&'static str, Value)> {
    vec![
        (FLEET_FILE, fleet::dashboard(t)),
        (HOST_FILE, host::dashboard(t)),
    ]
}

/// A dashboard as written to disk: two-space indented, keys sorted, ending
/// with a newline.
pub fn to_json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value always serializes");
    s.push('\n');
    s
}

/// The dashboards as ConfigMaps for the Grafana sidecar of kube-prometheus
/// and the Grafana Helm chart (label `grafana_dashboard: "1"`), one per
/// dashboard so each stays well under the 256 KiB that client-side
/// `kubectl apply` can store in its annotation.
pub fn configmaps(dashboards: &[(&str, Value)]) -> Result<String, GenerateError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ConfigMap<'a> {
        api_version: &'static str,
        kind: &'static str,
        metadata: Metadata<'a>,
        data: std::collections::BTreeMap<&'a str, String>,
    }
    #[derive(serde::Serialize)]
    struct Metadata<'a> {
        name: String,
        labels: std::collections::BTreeMap<&'a str, &'a str>,
        annotations: std::collections::BTreeMap<&'a str, &'a str>,
    }
    let mut docs = Vec::new();
    for (file, d) in dashboards {
        let name = format!(
            "vigie-dashboard-{}",
            file.trim_end_matches(".json").trim_start_matches("vigie-")
        );
        let cm = ConfigMap {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: Metadata {
                name,
                labels: [
                    ("grafana_dashboard", "1"),
                    ("app.kubernetes.io/name", "vigie"),
                    ("app.kubernetes.io/part-of", "vigie"),
                ]
                .into(),
                // The folder, for sidecars run with folderAnnotation set to
                // this key (kube-prometheus-stack's usual setting).
                annotations: [("grafana_folder", "vigie")].into(),
            },
            data: [(
                *file,
                serde_json::to_string(d).map_err(|e| GenerateError::json("a dashboard", e))?,
            )]
            .into(),
        };
        docs.push(serde_saphyr::to_string(&cm).map_err(|e| GenerateError::yaml("a ConfigMap", e))?);
    }
    Ok(docs.join("---\n"))
}

// ---- Building blocks -------------------------------------------------------

/// What every panel builder needs: the thresholds, the language, the
/// dashboard's scope (the file's selector and the dashboard's variables),
/// and the layout cursor.
pub struct Ctx<'a> {
    pub t: &'a Thresholds,
    /// `t` with the dashboard's selector, for the rules' own expressions.
    dash: Thresholds,
    scope: Scope,
    next_id: u64,
    x: u64,
    y: u64,
    line_h: u64,
    panels: Vec<Value>,
}

/// The colours of the levels.
pub const OK: &str = "green";
pub const WARNING: &str = "orange";
pub const CRITICAL: &str = "red";

impl<'a> Ctx<'a> {
    /// `multi_instance`: the instance variable may hold several hosts.
    pub fn new(t: &'a Thresholds, multi_instance: bool) -> Ctx<'a> {
        let instance = if multi_instance {
            Matcher::regex("instance", "$instance")
        } else {
            Matcher::eq("instance", "$instance")
        };
        let mut dash = t.clone();
        dash.selector = t
            .selector
            .with(Matcher::regex("job", "$job"))
            .with(instance);
        let scope = dash.scope();
        Ctx {
            t,
            dash,
            scope,
            next_id: 1,
            x: 0,
            y: 0,
            line_h: 0,
            panels: Vec::new(),
        }
    }

    /// English or French, as the thresholds file says.
    pub fn tr(&self, en: &str, fr: &str) -> String {
        match self.t.language {
            Language::En => en.to_string(),
            Language::Fr => fr.to_string(),
        }
    }

    /// The series of this dashboard: the file's selector and the
    /// dashboard's variables, with the file's windows.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The thresholds with the dashboard's selector (for the rules' own
    /// expressions).
    pub fn dash_thresholds(&self) -> &Thresholds {
        &self.dash
    }

    /// The next free position for a panel `w` wide (of 24) and `h` high.
    fn place(&mut self, w: u64, h: u64) -> Value {
        if self.x + w > 24 {
            self.y += self.line_h;
            self.x = 0;
            self.line_h = 0;
        }
        let pos = json!({"x": self.x, "y": self.y, "w": w, "h": h});
        self.x += w;
        self.line_h = self.line_h.max(h);
        pos
    }

    /// A row header starting a new line.
    pub fn row(&mut self, title: String) {
        if self.x > 0 {
            self.y += self.line_h;
        }
        self.x = 0;
        self.line_h = 0;
        let id = self.id();
        self.panels.push(json!({
            "type": "row",
            "id": id,
            "title": title,
            "collapsed": false,
            "panels": [],
            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1},
        }));
        self.y += 1;
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds a panel: `p` holds its type, options and field config; this
    /// adds id, position, title, description, data source and targets.
    pub fn add(
        &mut self,
        (w, h): (u64, u64),
        title: String,
        description: String,
        targets: Vec<Value>,
        mut p: Value,
    ) {
        let id = self.id();
        let pos = self.place(w, h);
        let targets: Vec<Value> = targets
            .into_iter()
            .enumerate()
            .map(|(i, mut tg)| {
                tg["refId"] = json!(ref_id(i));
                tg["datasource"] = datasource();
                tg
            })
            .collect();
        let o = p.as_object_mut().expect("a panel is an object");
        o.insert("id".into(), json!(id));
        o.insert("gridPos".into(), pos);
        o.insert("title".into(), json!(title));
        o.insert("description".into(), json!(description));
        o.insert("datasource".into(), datasource());
        o.insert("targets".into(), json!(targets));
        self.panels.push(p);
    }

    /// The panels added so far, in order.
    pub fn take_panels(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.panels)
    }
}

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

/// Days, written as days: Grafana's own `d` unit turns 120 days into
/// "17.1 week", which no threshold of the file speaks of.
pub fn days(c: &Ctx) -> String {
    c.tr("suffix: d", "suffix: j")
}

/// A link in the dashboard header to the other dashboard, keeping the data
/// source, the job and the time range (not the instance: the fleet's may
/// be several, the host dashboard takes one).
pub fn link_to(uid: &str, title: String, tooltip: String) -> Value {
    json!([{
        "title": title,
        "type": "link",
        "url": format!("/d/{uid}?${{datasource:queryparam}}&${{job:queryparam}}"),
        "icon": "dashboard",
        "tooltip": tooltip,
        "tags": [],
        "asDropdown": false,
        "targetBlank": false,
        "includeVars": false,
        "keepTime": true,
    }])
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

/// A value mapping of levels to words.
pub fn level_mappings(c: &Ctx) -> Value {
    mapping(&[
        ("0", c.tr("OK", "OK"), OK),
        ("1", c.tr("warning", "attention"), WARNING),
        ("2", c.tr("critical", "critique"), CRITICAL),
    ])
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

/// The template variables: the data source, then `job` and `instance`
/// read from `vigie_build_info` (every vigie exports it once).
pub fn variables(c: &Ctx, multi_instance: bool) -> Value {
    let jobs = c.t.selector.with(Matcher::regex("job", "$job"));
    let instances_query = label_values(Expr::metric(BUILD_INFO, &jobs), "instance");
    let jobs_query = label_values(Expr::metric(BUILD_INFO, &c.t.selector), "job");
    let mut instance = json!({
        "name": "instance",
        "label": c.tr("Host", "Machine"),
        "type": "query",
        "datasource": datasource(),
        "query": instances_query,
        "hide": 0,
        "includeAll": multi_instance,
        "multi": multi_instance,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "options": [],
    });
    if multi_instance {
        instance["allValue"] = json!(".+");
    }
    json!({"list": [
        {
            "name": "datasource",
            "label": c.tr("Data source", "Source de données"),
            "type": "datasource",
            "query": "prometheus",
            "hide": 0,
            "includeAll": false,
            "multi": false,
            "refresh": 1,
            "regex": "",
            "options": [],
        },
        {
            "name": "job",
            "label": c.tr("Job", "Job"),
            "type": "query",
            "datasource": datasource(),
            "query": jobs_query,
            "hide": 0,
            "includeAll": true,
            "allValue": ".+",
            "multi": true,
            "refresh": 2,
            "regex": "",
            "sort": 1,
            "options": [],
            "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
        },
        instance,
    ]})
}

/// The dashboard around `panels`.
pub fn dashboard(
    c: &Ctx,
    uid: &str,
    title: String,
    description: String,
    panels: Vec<Value>,
    multi_instance: bool,
    links: Value,
) -> Value {
    json!({
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["vigie"],
        "timezone": "browser",
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "fiscalYearStartMonth": 0,
        "liveNow": false,
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": c.tr("Annotations & Alerts", "Annotations et alertes"),
            "type": "dashboard",
        }]},
        "templating": variables(c, multi_instance),
        "links": links,
        "panels": panels,
    })
}

/// A level (0 fine, 1 warning, 2 critical) per instance for the alerts of
/// one rule group (`vigie-smart`, with the role alerts in
/// `vigie-filesystem`), but `skip`: the rules' own expressions (with their
/// overrides and roles) without their `for:`, so a cell turns orange as
/// soon as a value passes the warning level, before the alert fires.
/// Instances with none of these alerts' conditions get 0 from `up`.
fn level_expr(c: &Ctx, groups: &[rules::Group], group: &str, skip: &[&str]) -> Expr {
    let mut by_level: [Vec<Expr>; 2] = [Vec::new(), Vec::new()];
    for r in groups
        .iter()
        .filter(|g| g.name == group)
        .flat_map(|g| g.rules.iter())
    {
        let (Some(name), Some(sev)) = (&r.alert, r.labels.get("severity")) else {
            continue;
        };
        if skip.contains(&name.as_str()) {
            continue;
        }
        let i = match sev.as_str() {
            "warning" => 0,
            "critical" => 1,
            _ => continue,
        };
        by_level[i].push(r.expr.clone().paren());
    }
    let mut parts = Vec::new();
    for (i, exprs) in by_level.into_iter().enumerate().rev() {
        if let Some(any) = Expr::any(exprs) {
            let level = Expr::num((i + 1) as f64);
            parts.push(level.bin(Op::Mul, Expr::agg(Agg::Group, &["instance"], any)));
        }
    }
    parts.push(signals::zero_per_host(c.scope()));
    Expr::union(parts).expect("at least the zero per host")
}

/// One signal group's level per host, for the fleet table and the host
/// summary.
pub struct Cell {
    pub key: &'static str,
    pub title: String,
    pub description: String,
    pub expr: Expr,
}

/// The six signal groups: disks, filesystems, swap, reboot, DNS, vigie.
pub fn cells(c: &Ctx) -> Vec<Cell> {
    let groups = rules::groups(c.dash_thresholds());
    let level = |group: &str| level_expr(c, &groups, group, &[]);
    let cell = |key, title: String, description: String, expr: Expr| Cell {
        key,
        title,
        description,
        expr,
    };
    vec![
        cell(
            "disks",
            c.tr("Disks", "Disques"),
            c.tr(
                "Worst SMART level of the host's disks: failing self-assessment, pre-fail counters, growing counters, NVMe wear and spare, temperature, a disk that stopped reporting.",
                "Pire niveau SMART des disques de la machine : auto-diagnostic en échec, compteurs de pré-défaillance, compteurs qui augmentent, usure et réserve NVMe, température, disque qui ne répond plus.",
            ),
            level("vigie-smart"),
        ),
        cell(
            "filesystems",
            c.tr("Filesystems", "Systèmes de fichiers"),
            c.tr(
                "Worst level of the host's filesystems: free space (with the stricter levels of watched roles), forecast time until full, inodes, read-only.",
                "Pire niveau des systèmes de fichiers : espace libre (avec les niveaux plus stricts des rôles surveillés), prévision du remplissage, inodes, lecture seule.",
            ),
            level("vigie-filesystem"),
        ),
        cell(
            "swap",
            c.tr("Swap", "Swap"),
            c.tr(
                "Swap used and swap-in rate against their levels.",
                "Swap utilisé et rythme de lecture du swap, comparés à leurs niveaux.",
            ),
            level("vigie-swap"),
        ),
        cell(
            "reboot",
            c.tr("Reboot", "Redémarrage"),
            c.tr(
                "Days since boot and days since a reboot was requested, against their levels.",
                "Jours depuis le démarrage et depuis qu'un redémarrage est demandé, comparés à leurs niveaux.",
            ),
            level("vigie-reboot"),
        ),
        cell(
            "dns",
            c.tr("DNS", "DNS"),
            c.tr(
                "Resolvers of the host: one failing is a warning, all failing (no name resolution, mail stops) is critical; slow answers too.",
                "Résolveurs de la machine : un en panne est un avertissement, tous en panne (plus de résolution de noms, le courrier s'arrête) est critique ; réponses lentes aussi.",
            ),
            level("vigie-dns"),
        ),
        cell(
            "exporter",
            c.tr("vigie", "vigie"),
            c.tr(
                "vigie itself: critical when Prometheus cannot scrape it, warning when one of its collectors fails (its alerts cannot fire).",
                "vigie elle-même : critique quand Prometheus ne peut pas la collecter, avertissement quand un de ses collecteurs échoue (ses alertes ne peuvent pas se déclencher).",
            ),
            // VigieAbsent (no target at all) belongs to no host.
            level_expr(c, &groups, "vigie-monitoring", &["VigieAbsent"]),
        ),
    ]
}
