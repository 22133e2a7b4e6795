//! vigie's integration tests, in one binary. What each module covers:
//!
//! - `alerts_e2e`: three tmpfs filesystems, the binary and real Prometheus
//!   with the generated rules: filling and control-plane alerts fire.
//! - `proc_fixtures`: the collectors on real `/proc` captures
//!   (`../shared/fixtures/proc`), checked against their `expected.json`.
//! - `edge_fixtures`: fixture trees written for vigie: escaped mount points,
//!   watched paths through symlinks, no swap, no PSI, no btime, a pending reboot.
//! - `exposition`: the real binary on a fixture root; golden snapshots of
//!   both formats; `promtool check metrics`; exactly the schema's families,
//!   types and label names.
//! - `live`: the real binary on this machine against statvfs, df and
//!   /proc/stat; SIGTERM; a port already in use.
//! - `prometheus`: real Prometheus scrapes the real binary on a fixture root.
//! - `resilience`: hung, slow, failing and panicking collectors and mounts.
//! - `http`: routes, negotiation, header-read timeout, concurrency cap,
//!   graceful shutdown.
//! - `cli`: `--help` snapshots and flag errors.
//! - `dns`: the DNS collector against dnsmasq and against fake resolvers
//!   (silent, SERVFAIL, REFUSED, slow, malformed, truncated).
//! - `smart`: the SMART collector through the real binary and a fake
//!   smartctl (`tests/fake-smartctl`) replaying real captures: discovery,
//!   explicit devices, a sleeping disk, a hang, garbage, exit bits, the
//!   collector's self-metrics and a stuck round; and the real smartctl on
//!   this machine.
//! - `smart_corpus`: the smartctl JSON parser on all 48 shared captures.
//! - `smart_fuzz`: property-based fuzzing of that parser (proptest).
//! - `rules`: `vigie gen-rules` output through promtool (check and test) for
//!   the shipped file and four fixtures; `--check`; 500 overrides.
//! - `replays`: multi-day replays of incident 1, a disk that stays full,
//!   two steady states and a failing SMART disk (`tests/replays/`), through promtool against the
//!   shipped rules: which alerts fire, when, and that they do not flap.
//! - `thresholds`: errors of bad thresholds files (file, line, column),
//!   snapshotted.
//! - `dashboards`: the generated Grafana dashboards type-check against
//!   npm `@grafana/schema` (`tsc --strict`), a broken one does not; every
//!   panel query returns series from real Prometheus; snapshots.
//! - `docs`: the README documents every metric of the schema (with its
//!   type) and every collector of the registry, and no other.

mod common;

mod alerts_e2e;
mod cli;
mod dashboards;
mod dns;
mod docs;
mod edge_fixtures;
mod exposition;
mod http;
mod live;
mod proc_fixtures;
mod prometheus;
mod replays;
mod resilience;
mod rules;
mod smart;
mod smart_corpus;
mod smart_fuzz;
mod thresholds;
