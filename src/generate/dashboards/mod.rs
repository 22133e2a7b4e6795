//! Grafana dashboards from the thresholds file, written by `gen-rules`
//! beside the rules so that what a volunteer sees and what pages them come
//! from one file.
//!
//! - [`fleet`]: one row per host, worst first: is anything about to break,
//!   and where?
//! - [`host`]: one host over time: filesystems with their threshold lines
//!   and forecast, disks by serial, swap, reboot, DNS, vigie itself.
//!
//! This module holds what both share: the layout context [`Ctx`], the
//! template variables and the dashboard frame; `panels` the panel and
//! field-config builders; `cells` the per-host level of each signal group;
//! `output` the JSON files and ConfigMaps.
//!
//! The JSON is built with `serde_json` (keys sorted, so the output is
//! deterministic) and checked against `@grafana/schema`'s `Dashboard` type
//! by the test suite. Every query is a [`crate::promql::signals`] function
//! (the same ones the rules use) evaluated in [`Ctx::scope`]: the thresholds
//! file's selector plus the dashboard's `$job` and `$instance` variables.

mod cells;
pub mod fleet;
pub mod host;
mod output;
mod panels;

pub use cells::*;
pub use output::*;
pub use panels::*;

use serde_json::{Value, json};

use crate::generate::rules::OverrideIndex;
use crate::promql::signals::{self, metric::BUILD_INFO};
use crate::promql::{Agg, Expr, Matcher, Op, Scope, label_values};
use crate::thresholds::{Language, Thresholds};

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
    generate_with(t, &OverrideIndex::new(t))
}

/// [`generate`], with the overrides of `t` already indexed.
pub fn generate_with(t: &Thresholds, overrides: &OverrideIndex) -> Vec<(&'static str, Value)> {
    vec![
        (FLEET_FILE, fleet::dashboard(t, overrides)),
        (HOST_FILE, host::dashboard(t, overrides)),
    ]
}

/// What every panel builder needs: the thresholds (and their overrides
/// by signal, for the rules' own expressions), the language, the
/// dashboard's scope (the file's selector and the dashboard's variables),
/// and the layout cursor.
pub struct Ctx<'a> {
    pub t: &'a Thresholds,
    overrides: &'a OverrideIndex<'a>,
    scope: Scope,
    /// The instance variable may hold several hosts (the fleet).
    multi_instance: bool,
    next_id: u64,
    x: u64,
    y: u64,
    line_h: u64,
    panels: Vec<Value>,
}

impl<'a> Ctx<'a> {
    /// `multi_instance`: the instance variable may hold several hosts.
    pub fn new(
        t: &'a Thresholds,
        overrides: &'a OverrideIndex<'a>,
        multi_instance: bool,
    ) -> Ctx<'a> {
        let instance = if multi_instance {
            Matcher::regex("instance", "$instance")
        } else {
            Matcher::eq("instance", "$instance")
        };
        let mut scope = t.scope();
        scope.sel = t
            .selector
            .with(Matcher::regex("job", "$job"))
            .with(instance);
        // The cells show each condition now, without its `for:`: so a
        // failing resolver too, whose `for:` the rules apply in their
        // expression (`signals::dns_resolver_failing`).
        scope.windows.resolver_failing_secs = 0;
        // `t.scope()` reads long windows raw: through the summaries, the
        // filesystem cell would be longer than VictoriaMetrics' default
        // -search.maxQueryLen (16 KiB).
        Ctx {
            t,
            overrides,
            scope,
            multi_instance,
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

    /// The overrides of the thresholds file by signal (for the rules' own
    /// expressions).
    pub fn overrides(&self) -> &OverrideIndex<'a> {
        self.overrides
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

/// The template variables: the data source, then `job` and `instance`
/// read from `vigie_build_info` (every vigie exports it once).
pub fn variables(c: &Ctx) -> Value {
    let multi_instance = c.multi_instance;
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

/// The dashboard around the panels added to `c`, with a link in its
/// header to the other dashboard, `(uid, title, tooltip)`.
pub fn dashboard(
    c: &mut Ctx,
    uid: &str,
    (title, description): (String, String),
    link: (&str, String, String),
) -> Value {
    let panels = c.take_panels();
    let links = link_to(link.0, link.1, link.2);
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
        "templating": variables(c),
        "links": links,
        "panels": panels,
    })
}
