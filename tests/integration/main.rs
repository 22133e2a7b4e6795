//! vigie's integration tests, in one binary. What each module covers:
//!
//! - `alerts_e2e`: three tmpfs filesystems, the binary and real Prometheus
//!   with the generated rules: filling and control-plane alerts fire.
//! - `alert_gaps`: through promtool on the generated rules, a target gone
//!   from service discovery (and the hand-over from VigieDown), a watched
//!   path that stops resolving, a stuck mount, the ATA error log of the real
//!   smartctl captures, role alerts with overrides and their inode alert;
//!   the generated inhibition rules in amtool and real Alertmanager.
//! - `readonly`: tmpfs mounted read-only from the start, remounted
//!   read-only, acknowledged by an override, and a read-only superblock
//!   under a rw mount: only the two that went read-only alert (real
//!   Prometheus and `vigie check`).
//! - `proc_fixtures`: the collectors on real `/proc` captures
//!   (`../shared/fixtures/proc`), checked against their `expected.json`.
//! - `edge_fixtures`: fixture trees written for vigie: escaped mount points,
//!   watched paths through symlinks, no swap, no PSI, no btime, a pending reboot.
//! - `exposition`: the real binary on a fixture root; golden snapshots of
//!   both formats; `promtool check metrics`; exactly the schema's families,
//!   types and label names.
//! - `least_privilege`: vigie as an unprivileged user with ambient
//!   capabilities (setpriv): none effective in vigie, smartctl gets them.
//! - `live`: the real binary on this machine against statvfs, df and
//!   /proc/stat; SIGTERM; a port already in use.
//! - `prometheus`: real Prometheus scrapes the real binary on a fixture root.
//! - `resilience`: hung, slow, failing and panicking collectors and mounts.
//! - `http`: routes, negotiation, header-read timeout, concurrency cap,
//!   graceful shutdown.
//! - `cli`: `--help` snapshots and flag errors.
//! - `check`: `vigie check` on fixture trees (each signal family and level,
//!   roles, `--only`, exit codes, `--args-from`), a hung smartctl and a dead
//!   resolver, the `--state` forecast over several runs on a tmpfs, Debian's
//!   `check_disk` as a peer on the same tmpfs filesystems, a strict parser
//!   of the Monitoring Plugins' perfdata grammar, the evaluator against
//!   promtool on the same samples, snapshots of the table (en, fr) and JSON.
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
//!   the shipped file and six fixtures (overrides looser than the defaults,
//!   which the alerts' candidates records must keep; the slow signals'
//!   groups every minute); `--check`; 500 overrides; an override holds
//!   from the first evaluation, even when the thresholds' group runs last.
//! - `replays`: multi-day replays of incident 1, a disk that stays full,
//!   two steady states and a failing SMART disk (`tests/replays/`), through promtool against the
//!   shipped rules: which alerts fire, when, and that they do not flap.
//! - `runbooks`: every alert gen-rules writes (en and fr, through the
//!   binary) has its page in `docs/runbooks/<lang>/` with the fixed
//!   sections and its incident; every relative link resolves; a
//!   `runbook_url`, when present, points at the page.
//! - `web_tls`: `--web.config.file` (TLS, client certificates, basic auth,
//!   headers, reload), real Prometheus scraping over TLS; repeated
//!   `--web.listen-address`; `--web.systemd-socket` under
//!   systemd-socket-activate.
//! - `thresholds`: errors of bad thresholds files (file, line, column),
//!   snapshotted.
//! - `dashboards`: the generated Grafana dashboards type-check against
//!   npm `@grafana/schema` (`tsc --strict`), a broken one does not; every
//!   panel query returns series from real Prometheus; snapshots.
//! - `day_one`: the shipped rules in real Prometheus against `vigie serve`
//!   on this machine for a few minutes fire (or hold pending) nothing but
//!   the Watchdog and what facts read beside vigie say it deserves.
//! - `contract`: every metric the generated rules and dashboards read is
//!   one the exporter's schema declares, for every thresholds file.
//! - `docs`: the README documents every metric of the schema (with its
//!   type) and every collector of the registry, and no other.
//! - `deploy`: the systemd unit (`systemd-analyze verify`) and what
//!   `scripts/build-deb` puts in the package (the package itself is
//!   installed in Debian 11 and 12 chroots by `scripts/test-deb-chroots`).
//! - `k8s`: `deploy/kubernetes/` through kubernetes-validate and the
//!   prometheus-operator CRD schemas, alone and through kustomize; generated
//!   parts fresh.
//! - `recipe_e2e`: the README's "From zero to alerts" recipe for real: the
//!   shipped prometheus.yml and rules in real Prometheus, the shipped
//!   alertmanager.yml in real Alertmanager at night and in the day, a
//!   webhook receiver; criticals go through at night, warnings wait; the
//!   watchdog pings every minute, even through a receiver that takes 20 s
//!   to answer; the README's commands install the shipped files where the
//!   configs expect.
//! - `victoria`: the VictoriaMetrics stack (Debian's victoria-metrics):
//!   every generated rule file in `vmalert -dryRun`; vmagent, the
//!   single-node server and vmalert on the fixture host fire the alerts
//!   Prometheus fires, with the same texts, to a webhook; the dashboards'
//!   queries return the same series.
//! - `victoria_state`: the read-only alert, which reads its own `ALERTS`,
//!   keeps firing on vmalert across a vigie restart and resolves when the
//!   filesystem is writable again.

mod common;

mod alert_gaps;
mod alerts_e2e;
mod check;
mod cli;
mod contract;
mod dashboards;
mod day_one;
mod deploy;
mod dns;
mod docs;
mod edge_fixtures;
mod exposition;
mod gen_rules_errors;
mod gen_rules_property;
mod http;
mod k8s;
mod least_privilege;
mod live;
mod proc_fixtures;
mod prometheus;
mod readonly;
mod recipe_e2e;
mod replays;
mod resilience;
mod rules;
mod runbooks;
mod smart;
mod smart_corpus;
mod smart_fuzz;
mod thresholds;
mod victoria;
mod victoria_state;
mod web_tls;
