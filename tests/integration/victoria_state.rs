//! The rule that reads its own `ALERTS` series, on the VictoriaMetrics
//! stack: `VigieFilesystemReadOnly` keeps firing across a vigie restart
//! (the new process never saw the filesystem writable) because vmalert
//! writes `ALERTS` back with `-remoteWrite.url`, as the README says to run
//! it; and it resolves once the filesystem is writable again. A real tmpfs
//! remounted read-only, real vigie, vmagent, victoria-metrics and vmalert.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::{Tmpfs, Vigie, free_port};
use crate::prometheus::query;
use crate::readonly::{mount, root_or_skip};
use crate::victoria::{AlertReceiver, firing, gen_rules, tool, victoria_metrics, vmagent, vmalert};

/// Polls `what` every 250 ms until it holds, at most `secs` seconds.
fn wait(secs: u64, what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "after {secs} s: {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_read_only_alert_outlives_a_vigie_restart_on_vmalert() {
    let (Some(vm_bin), Some(vmagent_bin), Some(vmalert_bin)) =
        (tool("victoria-metrics"), tool("vmagent"), tool("vmalert"))
    else {
        return;
    };
    if !root_or_skip() {
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("vigie-vmro-")
        .tempdir()
        .unwrap();
    let d = |s: &str| base.path().join(s);
    let fs = Tmpfs::mount(d("turned"), "1m");
    let mp = fs.0.display().to_string();

    std::fs::write(
        d("thresholds.yaml"),
        "filesystems:\n  free_percent: {enabled: false}\n  inodes_free_percent: {enabled: false}\n  full_in: {enabled: false}\n  readonly: {for: 0s}\n",
    )
    .unwrap();
    gen_rules(&d("thresholds.yaml"), &d("rules"));

    // vigie on a fixed port, so the restarted process is the same target
    // (same `instance`) for vmagent.
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let listen = format!("--web.listen-address={addr}");
    let include = format!("--collector.filesystem.mount-points-include=^{}$", mp);
    let args = [
        "--collector.disable-defaults",
        "--collector.filesystem",
        "--collector.filesystem.interval=1s",
        include.as_str(),
        listen.as_str(),
    ];
    let v = Vigie::start(&args);

    let (_vm_d, vm) = victoria_metrics(&vm_bin, base.path());
    let _agent_d = vmagent(&vmagent_bin, base.path(), addr, vm);
    let receiver = AlertReceiver::start();
    let (alert_d, alert) = vmalert(
        &vmalert_bin,
        base.path(),
        &d("rules/vigie-rules.yaml"),
        vm,
        receiver.addr,
    );

    let sel = format!("{{mountpoint=\"{mp}\"}}");
    let value = |metric: &str| -> Option<f64> {
        query(vm, &format!("{metric}{sel}"))
            .first()
            .map(|(_, v)| *v)
    };
    let read_only_firing = || {
        firing(alert)
            .iter()
            .any(|(k, _)| k.starts_with("VigieFilesystemReadOnly ") && k.contains(&mp))
    };
    // The filesystem writable in the database, so vigie saw it writable.
    wait(
        60,
        "vigie_filesystem_readonly 0 in victoria-metrics",
        || value("vigie_filesystem_readonly") == Some(0.0),
    );
    mount(&["-o", "remount,ro", &mp]);
    wait(60, "VigieFilesystemReadOnly firing in vmalert", || {
        read_only_firing()
    });
    // vmalert wrote its firing ALERTS series back into the database.
    wait(
        30,
        "ALERTS of the read-only alert in victoria-metrics",
        || {
            !query(
            vm,
            &format!(
                "ALERTS{{alertname=\"VigieFilesystemReadOnly\",alertstate=\"firing\",mountpoint=\"{mp}\"}}"
            ),
        )
        .is_empty()
        },
    );

    // vigie restarts: the new process never saw this filesystem writable.
    drop(v);
    let v = Vigie::start(&args);
    wait(
        60,
        "the new vigie's turned_readonly 0 in victoria-metrics",
        || value("vigie_filesystem_turned_readonly") == Some(0.0),
    );
    let restarted = Instant::now();
    // Ten evaluations later it still fires, on its own ALERTS series.
    while restarted.elapsed() < Duration::from_secs(10) {
        assert!(
            read_only_firing(),
            "resolved after the restart, {:?} in: {:?}\nvmalert:\n{}",
            restarted.elapsed(),
            firing(alert),
            alert_d.log_tail()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Writable again: it resolves.
    mount(&["-o", "remount,rw", &mp]);
    wait(60, "VigieFilesystemReadOnly resolved once writable", || {
        !read_only_firing()
    });
    drop(v);
    drop(fs);
}
