//! vigie: a Prometheus exporter for the early-warning signals of small
//! hosting collectives (see `README.md`).
//!
//! Module map. The exporter half:
//! - [`cli`]: the command line (clap): `serve`'s global flags, node_exporter
//!   style, and the subcommands; turned into
//! - [`config`]: a plain [`config::Config`], independent of parsing.
//! - [`paths`]: `--path.procfs/--path.sysfs/--path.rootfs` in one value, and
//!   symlink resolution inside the host's root.
//! - [`schema`]: the descriptor every metric family is declared with, once,
//!   in the file that emits it (name, help, type, unit, label names);
//!   [`schema::families`] lists them all.
//! - [`metrics`]: the snapshot model collectors fill ([`metrics::Families`]),
//!   through the schema's descriptors.
//! - [`expo`]: snapshot to Prometheus text format or OpenMetrics.
//! - [`collect`]: the [`collect::Collector`] trait (slow `refresh`, cheap
//!   `render`, `stop`), one file per collector, the registry whose one list
//!   ([`collect::ALL`]) drives the flags, the defaults and the landing page,
//!   and the [`collect::Runner`] that owns every schedule, runs each refresh
//!   on its own worker thread under its timeout and exports
//!   `vigie_collector_*`.
//! - [`server`]: HTTP (hyper): `/metrics`, landing page, limits, graceful
//!   shutdown.
//!
//! The generator half:
//! - [`thresholds`]: the thresholds file: the signal catalogue, defaults,
//!   parsing, validation.
//! - [`promql`]: typed selectors, the expression builder and each signal's
//!   value, the only place the generator writes PromQL.
//! - [`generate`]: `vigie gen-rules`: alerting rules, their promtool tests
//!   and the Grafana dashboards.
//!
//! Joining the two:
//! - [`check`]: `vigie check`: the collectors run once in-process and the
//!   value expressions of the rules evaluated on their samples by a small
//!   PromQL evaluator, compared with the thresholds file's levels. Neither
//!   half imports it.
//!
//! [`units`] (durations, human formatting and time) is the only module the
//! two halves share; neither imports the other.

pub mod check;
pub mod cli;
pub mod collect;
pub mod config;
pub mod conntrack;
pub mod expo;
pub mod generate;
pub mod metrics;
pub mod paths;
pub mod privileges;
pub mod promql;
pub mod schema;
pub mod server;
pub mod thresholds;
pub mod units;
pub mod webconfig;

use std::sync::Arc;

/// Runs the exporter until SIGTERM/SIGINT; SIGHUP re-reads what can be
/// re-read without a restart.
pub async fn serve(config: config::Config) -> anyhow::Result<()> {
    let shutdown = server::shutdown_signal()?;
    // SIGHUP's default action would end vigie: handle it from the start.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // An unusable web config stops vigie before it listens: it must not
    // serve without the TLS or authentication it was asked for.
    let web = match &config.web_config_file {
        Some(p) => Some(Arc::new(webconfig::Watched::new(p)?)),
        None => None,
    };
    let runner = Arc::new(collect::Runner::new(collect::build(&config)).compact_chunks());
    let listeners = server::listeners(&config).await?;
    let scheme = match &web {
        Some(w) if w.current().tls.is_some() => "https",
        _ => "http",
    };
    for l in &listeners {
        log::info!(
            "vigie {} listening on {} ({scheme}, metrics at {})",
            env!("CARGO_PKG_VERSION"),
            l.local_addr()?,
            config.telemetry_path
        );
    }
    for st in runner.status() {
        log::info!("collector {} enabled", st.name);
    }
    runner.start_background();
    {
        let runner = runner.clone();
        let web = web.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                if let Some(w) = &web {
                    w.reload();
                }
                runner.reload().await;
            }
        });
    }
    let mut app = server::App::new(&config, runner.clone());
    if let Some(w) = web {
        app = app.with_web(w);
    }
    let result = server::serve(listeners, Arc::new(app), shutdown).await;
    // A smartctl stuck on a disk runs in its own process group: end it too.
    runner.stop();
    result
}
