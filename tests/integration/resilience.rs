//! A slow, hung, failing or panicking collector (or mount) never slows the
//! scrape beyond its budget, never piles up threads, and never hides the
//! other collectors' (or mounts') data.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigie::collect::filesystem::{FilesystemCollector, FilesystemConfig, FsStat};
use vigie::collect::{Collector, Refresh, Registration, Runner};
use vigie::expo::{Chunk, Format, encode};
use vigie::metrics::Families;
use vigie::paths::Paths;

use crate::common::fixture;

/// A fake collector: sleeps `delay` (forever if None), then exports
/// `vigie_fake_value{name} 1` or fails or panics.
struct Fake {
    name: &'static str,
    delay: Option<Duration>,
    behaviour: Behaviour,
    calls: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
enum Behaviour {
    Ok,
    Fail,
    Panic,
}

const FAKE_VALUE: vigie::schema::Desc =
    vigie::schema::Desc::gauge("vigie_fake_value", "Fake.", &["name"]);

impl Collector for Fake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.delay {
            Some(d) => std::thread::sleep(d),
            None => loop {
                std::thread::park();
            },
        }
        out.family(&FAKE_VALUE).sample(&[("name", self.name)], 1.0);
        match self.behaviour {
            Behaviour::Ok => Ok(()),
            Behaviour::Fail => anyhow::bail!("disk on fire"),
            Behaviour::Panic => panic!("fake collector bug"),
        }
    }
}

fn fake(
    name: &'static str,
    delay: Option<Duration>,
    behaviour: Behaviour,
    refresh: Refresh,
    timeout: Duration,
) -> (Registration, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let reg = Registration {
        collector: Arc::new(Fake {
            name,
            delay,
            behaviour,
            calls: calls.clone(),
        }),
        refresh,
        timeout,
    };
    (reg, calls)
}

/// A fake that answers at once, on each scrape.
fn instant(name: &'static str, behaviour: Behaviour) -> Registration {
    fake(
        name,
        Some(Duration::ZERO),
        behaviour,
        Refresh::OnScrape,
        Duration::from_secs(5),
    )
    .0
}

fn text(snapshot: &[Arc<Chunk>]) -> String {
    encode(snapshot, Format::Prometheus)
}

fn line_value(body: &str, line_start: &str) -> Option<f64> {
    crate::common::value(body, line_start)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_on_scrape_collector_costs_one_budget_then_nothing() {
    // Its own timeout is shorter than the scrape budget here, so once it has
    // overrun, later scrapes do not wait for it at all.
    let ok = instant("quick", Behaviour::Ok);
    let (hung, hung_calls) = fake(
        "hung",
        None,
        Behaviour::Ok,
        Refresh::OnScrape,
        Duration::from_millis(300),
    );
    let runner = Runner::new(vec![ok, hung]);
    let budget = Duration::from_secs(2);

    let t = Instant::now();
    let first = text(&runner.gather(budget).await);
    let first_took = t.elapsed();
    assert!(
        first_took < Duration::from_millis(1500),
        "first scrape took {first_took:?}"
    );
    assert_eq!(
        line_value(&first, "vigie_fake_value{name=\"quick\"}"),
        Some(1.0)
    );
    assert_eq!(
        line_value(&first, "vigie_collector_success{collector=\"quick\"}"),
        Some(1.0)
    );
    assert_eq!(
        line_value(&first, "vigie_collector_success{collector=\"hung\"}"),
        Some(0.0)
    );
    assert!(!first.contains("vigie_fake_value{name=\"hung\"}"));

    // Later scrapes do not wait for the stuck run, and start no second one.
    for _ in 0..3 {
        let t = Instant::now();
        let body = text(&runner.gather(budget).await);
        assert!(
            t.elapsed() < Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(
            line_value(&body, "vigie_fake_value{name=\"quick\"}"),
            Some(1.0)
        );
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"hung\"}"),
            Some(0.0)
        );
    }
    assert_eq!(
        hung_calls.load(Ordering::SeqCst),
        1,
        "a hung collector must not be started again"
    );
    let status = runner.status();
    let hung = status.iter().find(|s| s.name == "hung").unwrap();
    assert!(
        hung.last_error
            .as_deref()
            .unwrap()
            .contains("still in progress"),
        "{:?}",
        hung.last_error
    );
    assert!(
        line_value(
            &text(&runner.gather(budget).await),
            "vigie_collector_errors_total{collector=\"hung\"}"
        )
        .unwrap()
            >= 4.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_background_collector_never_slows_the_scrape() {
    let (hung, calls) = fake(
        "hung_bg",
        None,
        Behaviour::Ok,
        Refresh::Every(Duration::from_millis(50)),
        Duration::from_millis(100),
    );
    let ok = instant("quick", Behaviour::Ok);
    let runner = Runner::new(vec![hung, ok]);
    runner.start_background();
    // Let several intervals pass: the hung run must not be restarted.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let body = text(&runner.gather(Duration::from_secs(5)).await);
        worst = worst.max(t.elapsed());
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"hung_bg\"}"),
            Some(0.0)
        );
        assert_eq!(
            line_value(&body, "vigie_fake_value{name=\"quick\"}"),
            Some(1.0)
        );
    }
    // The hung collector is off the scrape path entirely: a scrape is a few
    // hundred microseconds; 250 ms leaves room for a loaded CI machine.
    assert!(
        worst < Duration::from_millis(250),
        "slowest scrape {worst:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_panicking_collectors_do_not_hide_others() {
    let fail = instant("failing", Behaviour::Fail);
    let panics = instant("panicking", Behaviour::Panic);
    let ok = instant("fine", Behaviour::Ok);
    let runner = Runner::new(vec![fail, panics, ok]);
    for _ in 0..2 {
        let body = text(&runner.gather(Duration::from_secs(5)).await);
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"failing\"}"),
            Some(0.0)
        );
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"panicking\"}"),
            Some(0.0)
        );
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"fine\"}"),
            Some(1.0)
        );
        // Partial data of the failing collector is kept.
        assert_eq!(
            line_value(&body, "vigie_fake_value{name=\"failing\"}"),
            Some(1.0)
        );
        assert_eq!(
            line_value(&body, "vigie_fake_value{name=\"fine\"}"),
            Some(1.0)
        );
        assert_eq!(
            line_value(
                &body,
                "vigie_collector_last_success_timestamp_seconds{collector=\"failing\"}"
            ),
            Some(0.0)
        );
    }
    let status = runner.status();
    let p = status.iter().find(|s| s.name == "panicking").unwrap();
    assert!(
        p.last_error
            .as_deref()
            .unwrap()
            .contains("fake collector bug"),
        "{:?}",
        p.last_error
    );
    let f = status.iter().find(|s| s.name == "failing").unwrap();
    assert_eq!(f.last_error.as_deref(), Some("disk on fire"));
}

/// A filesystem collector on the `host` fixture tree whose statfs fails with
/// EIO on one mount and never returns on another.
fn faulty_filesystem(calls: Arc<Mutex<Vec<String>>>, timeout: Duration) -> FilesystemCollector {
    let root = fixture("host");
    let paths = Paths {
        procfs: root.join("proc"),
        sysfs: root.join("sys"),
        rootfs: root.join("root"),
    };
    let stat = Arc::new(move |p: &Path| {
        let p = p.to_string_lossy().into_owned();
        calls.lock().unwrap().push(p.clone());
        if p.ends_with("/mnt/nfs") {
            loop {
                std::thread::park(); // a hard NFS mount whose server is gone
            }
        }
        if p.ends_with("/data") {
            return Err(io::Error::from_raw_os_error(5)); // EIO
        }
        Ok(FsStat {
            size: 100 << 30,
            free: 40 << 30,
            avail: 35 << 30,
            files: 1000,
            files_free: 900,
            read_only: false,
        })
    });
    FilesystemCollector::with_stat(
        paths,
        FilesystemConfig {
            stat_timeout: timeout,
            ..FilesystemConfig::default()
        },
        stat,
    )
}

#[test]
fn one_failing_and_one_hung_mount_do_not_hide_the_others() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = faulty_filesystem(calls.clone(), Duration::from_millis(300));
    for round in 0..2 {
        let mut f = Families::new();
        let t = Instant::now();
        c.refresh(&mut f).unwrap();
        let took = t.elapsed();
        assert!(took < Duration::from_secs(3), "round {round} took {took:?}");
        for ok in ["/", "/run", "/srv/backup disk"] {
            assert_eq!(
                f.value("vigie_filesystem_stat_error", &[("mountpoint", ok)]),
                Some(0.0),
                "{ok}"
            );
            assert_eq!(
                f.value("vigie_filesystem_avail_bytes", &[("mountpoint", ok)]),
                Some((35u64 << 30) as f64)
            );
        }
        for bad in ["/data", "/mnt/nfs"] {
            assert_eq!(
                f.value("vigie_filesystem_stat_error", &[("mountpoint", bad)]),
                Some(1.0),
                "{bad}"
            );
            assert_eq!(
                f.value("vigie_filesystem_avail_bytes", &[("mountpoint", bad)]),
                None
            );
        }
    }
    // The hung mount was statted once: the second round saw it still in
    // flight and did not start another thread.
    let calls = calls.lock().unwrap();
    assert_eq!(
        calls.iter().filter(|p| p.ends_with("/mnt/nfs")).count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|p| p.ends_with("/data")).count(),
        2,
        "{calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_mount_through_the_runner_keeps_scrapes_fast() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let fs = faulty_filesystem(calls, Duration::from_millis(200));
    let runner = Runner::new(vec![Registration {
        collector: Arc::new(fs),
        refresh: Refresh::Every(Duration::from_millis(100)),
        timeout: Duration::from_secs(5),
    }]);
    runner.refresh_background_now().await;
    runner.start_background();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    let body = text(&runner.gather(Duration::from_secs(5)).await);
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // The collector itself succeeds: a stuck mount is the mount's problem,
    // reported per mount.
    assert_eq!(
        line_value(&body, "vigie_collector_success{collector=\"filesystem\"}"),
        Some(1.0)
    );
    assert_eq!(
        line_value(&body, "vigie_filesystem_stat_error{mountpoint=\"/mnt/nfs\""),
        Some(1.0)
    );
    assert_eq!(
        line_value(&body, "vigie_filesystem_stat_error{mountpoint=\"/\""),
        Some(0.0)
    );
}

/// Answers at once the first time, then never again (a refresh that
/// overruns on a host grown too big for it).
struct FineThenHung {
    calls: AtomicUsize,
}

impl Collector for FineThenHung {
    fn name(&self) -> &'static str {
        "then_hung"
    }

    fn refresh(&self, out: &mut Families) -> anyhow::Result<()> {
        if self.calls.fetch_add(1, Ordering::SeqCst) > 0 {
            loop {
                std::thread::park();
            }
        }
        out.family(&FAKE_VALUE)
            .sample(&[("name", "then_hung")], 1.0);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overrunning_refresh_keeps_the_last_data_with_its_age() {
    let runner = Runner::new(vec![Registration {
        collector: Arc::new(FineThenHung {
            calls: AtomicUsize::new(0),
        }),
        refresh: Refresh::OnScrape,
        timeout: Duration::from_millis(200),
    }]);
    let budget = Duration::from_secs(2);
    let first = text(&runner.gather(budget).await);
    let taken = line_value(
        &first,
        "vigie_collector_data_timestamp_seconds{collector=\"then_hung\"}",
    )
    .expect("data timestamp");
    assert!(taken > 1e9, "{first}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..2 {
        let body = text(&runner.gather(budget).await);
        assert_eq!(
            line_value(&body, "vigie_collector_success{collector=\"then_hung\"}"),
            Some(0.0),
            "{body}"
        );
        // The last good data is still there, and says how old it is.
        assert_eq!(
            line_value(&body, "vigie_fake_value{name=\"then_hung\"}"),
            Some(1.0),
            "{body}"
        );
        assert_eq!(
            line_value(
                &body,
                "vigie_collector_data_timestamp_seconds{collector=\"then_hung\"}"
            ),
            Some(taken),
            "{body}"
        );
    }
}
