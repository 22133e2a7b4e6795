//! In-process costs of a scrape: each collector's run, the whole gather, and
//! the two encoders. The whole-process comparison with node_exporter is
//! `benches/compare.sh`.
//!
//!   cargo bench --bench scrape
//!   cargo bench --bench scrape -- mountinfo     (only the mount-table scaling)
//!
//! `VIGIE_BENCH_MOUNTS=5000,20000` picks the mount-table sizes (default
//! 5,000, 20,000 and 100,000 lines).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vigie::collect::filesystem::{FilesystemCollector, FilesystemConfig};
use vigie::collect::reboot::RebootCollector;
use vigie::collect::swap::SwapCollector;
use vigie::collect::{Collector, Refresh, Registration, Runner};
use vigie::expo::{Chunk, Format, body, encode};
use vigie::metrics::Families;
use vigie::paths::Paths;

fn fixture_paths() -> Paths {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host");
    Paths {
        procfs: root.join("proc"),
        sysfs: root.join("sys"),
        rootfs: root.join("root"),
    }
}

fn collectors(c: &mut Criterion) {
    let live = Paths::default();
    let swap = SwapCollector::new(live.clone());
    c.bench_function("collect/swap (live /proc)", |b| {
        b.iter(|| {
            let mut f = Families::new();
            swap.refresh(&mut f).unwrap();
            f
        })
    });
    let reboot = RebootCollector::new(live.clone());
    c.bench_function("collect/reboot (live /proc)", |b| {
        b.iter(|| {
            let mut f = Families::new();
            reboot.refresh(&mut f).unwrap();
            f
        })
    });
    let fs = FilesystemCollector::new(live, FilesystemConfig::default());
    c.bench_function("collect/filesystem (live)", |b| {
        b.iter(|| {
            let mut f = Families::new();
            fs.refresh(&mut f).unwrap();
            f
        })
    });
}

fn snapshot() -> Vec<Families> {
    let p = fixture_paths();
    let list: Vec<Box<dyn Collector>> = vec![
        Box::new(FilesystemCollector::new(
            p.clone(),
            FilesystemConfig::default(),
        )),
        Box::new(SwapCollector::new(p.clone())),
        Box::new(RebootCollector::new(p)),
    ];
    list.iter()
        .map(|c| {
            let mut f = Families::new();
            c.refresh(&mut f).unwrap();
            f
        })
        .collect()
}

/// Fresh chunks (nothing encoded yet) of a snapshot.
fn chunks(snap: &[Families]) -> Vec<Arc<Chunk>> {
    snap.iter().map(|f| Chunk::new(f.clone())).collect()
}

fn encoders(c: &mut Criterion) {
    let snap = snapshot();
    c.bench_function("encode/prometheus text (fixture host)", |b| {
        b.iter_batched(
            || chunks(&snap),
            |c| encode(&c, Format::Prometheus),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("encode/openmetrics (fixture host)", |b| {
        b.iter_batched(
            || chunks(&snap),
            |c| encode(&c, Format::OpenMetrics),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("encode/prometheus text gzip (fixture host)", |b| {
        b.iter_batched(
            || chunks(&snap),
            |c| body(&c, Format::Prometheus, true),
            criterion::BatchSize::SmallInput,
        )
    });
}

fn gather(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let live = Paths::default();
    let runner = rt.block_on(async {
        let r = Runner::new(vec![
            Registration {
                collector: Arc::new(FilesystemCollector::new(
                    live.clone(),
                    FilesystemConfig::default(),
                )),
                refresh: Refresh::Every(Duration::from_secs(3600)),
                timeout: Duration::from_secs(10),
            },
            Registration {
                collector: Arc::new(SwapCollector::new(live.clone())),
                refresh: Refresh::Inline,
                timeout: Duration::from_secs(2),
            },
            Registration {
                collector: Arc::new(RebootCollector::new(live)),
                refresh: Refresh::Every(Duration::from_secs(3600)),
                timeout: Duration::from_secs(10),
            },
        ]);
        r.refresh_background_now().await;
        r
    });
    c.bench_function("gather+encode (default collectors, live)", |b| {
        b.to_async(&rt).iter(|| async {
            encode(
                &runner.gather(Duration::from_secs(2)).await,
                Format::Prometheus,
            )
        })
    });
    c.bench_function("gather+encode gzip (default collectors, live)", |b| {
        b.to_async(&rt).iter(|| async {
            body(
                &runner.gather(Duration::from_secs(2)).await,
                Format::Prometheus,
                true,
            )
        })
    });
}

/// A mountinfo of `n` lines, every one a distinct filesystem the default
/// filters keep (the worst case: each is statted and exported), in the
/// shape of a busy Kubernetes node's table.
fn big_mountinfo(n: usize) -> String {
    let mut s = String::with_capacity(n * 110);
    s.push_str("1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
    for i in 1..n {
        s.push_str(&format!(
            "{} 1 0:{} / /srv/pods/{:x}/volumes/vol-{i} rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k\n",
            i + 1,
            i + 100,
            i % 977
        ));
    }
    s
}

/// The filesystem collector's refresh against mount tables of growing size
/// (statfs itself replaced by a constant: the figure is the collector's own
/// cost, threads included).
fn mountinfo_scale(c: &mut Criterion) {
    use vigie::collect::filesystem::FsStat;
    let sizes: Vec<usize> = std::env::var("VIGIE_BENCH_MOUNTS")
        .unwrap_or_else(|_| "5000,20000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut group = c.benchmark_group("collect/filesystem mountinfo lines");
    group.sample_size(10);
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let proc = dir.path().join("proc");
        std::fs::create_dir_all(proc.join("1")).unwrap();
        std::fs::write(proc.join("1/mountinfo"), big_mountinfo(n)).unwrap();
        let paths = Paths {
            procfs: proc,
            sysfs: dir.path().join("sys"),
            rootfs: "/".into(),
        };
        let stat = FsStat {
            size: 1 << 30,
            free: 1 << 29,
            avail: 1 << 28,
            files: 1000,
            files_free: 500,
            read_only: false,
        };
        let fs = FilesystemCollector::with_stat(
            paths,
            FilesystemConfig::default(),
            Arc::new(move |_: &Path| Ok(stat)),
        );
        group.bench_function(format!("{n}"), |b| {
            b.iter(|| {
                let mut f = Families::new();
                fs.refresh(&mut f).unwrap();
                f
            })
        });
    }
    group.finish();
}

criterion_group!(benches, collectors, encoders, gather, mountinfo_scale);
criterion_main!(benches);
