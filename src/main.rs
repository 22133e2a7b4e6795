//! Thin entry point: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// A line on stderr. A closed or broken stderr (`2>&-`, a reader that went
/// away) is not a reason to fail: the exit code still says what happened.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A line on stdout, with the same tolerance as [`say!`].
macro_rules! sayout {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Opens /dev/null on any of stdin, stdout and stderr that is closed, so
/// that no file vigie opens (an output file) takes their number and
/// receives its messages.
fn fill_closed_stdio() {
    use std::os::fd::AsRawFd as _;
    while let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        if f.as_raw_fd() > 2 {
            break;
        }
        // It now stands for the closed stream, for the process's lifetime.
        std::mem::forget(f);
    }
}

/// Two settings of glibc's malloc, made before any thread exists:
/// - Each thread that allocates gets its own arena (up to 8 per core), and
///   keeps what it freed there for its own reuse: with vigie's ten or so
///   threads (the HTTP one, one per collector, one per hung smartctl) that
///   was about 0.7 MB of a 24-disk exporter's 12 MiB, mostly free memory.
///   Two arenas are shared by all; each thread's cache of small blocks
///   (tcache) still serves most allocations without a lock.
/// - Blocks of 128 kB and more (a SMART state's text before it is
///   compressed, a plain-text body, a smartctl report) are mapped and
///   unmapped on their own, so that freeing one gives it back to the
///   system. glibc's default raises that threshold to the largest such
///   block freed, after which they are carved from the heap and stay
///   resident as free holes (about 0.5 MB on a 24-disk host).
///
/// An administrator's own `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` or
/// `GLIBC_TUNABLES` setting wins.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let set_by_admin = |env: &str, tunable: &str| {
            std::env::var_os(env).is_some() || tunables.contains(tunable)
        };
        // SAFETY: mallopt only changes the allocator's own settings, and
        // no other thread exists yet to allocate concurrently.
        unsafe {
            if !set_by_admin("MALLOC_ARENA_MAX", "glibc.malloc.arena_max") {
                libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
            }
            if !set_by_admin("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
            }
        }
    }
}

/// See [`tune_malloc`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS: libc::c_int = 2;
/// See [`tune_malloc`]: glibc's initial threshold, kept fixed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_MMAP_THRESHOLD: libc::c_int = 128 * 1024;

fn main() -> ExitCode {
    fill_closed_stdio();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "check") {
        return check(argv);
    }
    let cli = vigie::cli::Cli::parse();
    if let Some(vigie::cli::Command::GenRules(g)) = &cli.command {
        return gen_rules(g);
    }
    let args = cli.serve_args();
    tune_malloc();
    // Before any thread exists: capabilities are per thread.
    let privileges = vigie::privileges::drop_effective();
    // Each connection is a descriptor: use the hard limit, as Go programs
    // do (the shipped unit sets LimitNOFILE= itself).
    vigie::privileges::raise_nofile();
    env_logger::Builder::new()
        .parse_filters(&format!("{},hyper=warn", args.log_level))
        .format_target(false)
        .init();
    match privileges {
        Ok(p) if !p.dropped.is_empty() || !p.for_child.is_empty() => log::info!(
            "capabilities: no longer effective in vigie: {}; raised for smartctl alone: {}",
            if p.dropped.is_empty() {
                "none".to_string()
            } else {
                p.dropped.join(", ")
            },
            if p.for_child.is_empty() {
                "none".to_string()
            } else {
                p.for_child.join(", ")
            },
        ),
        Ok(_) => {}
        Err(e) => log::warn!("cannot drop capabilities: {e}"),
    }
    let config = args.to_config();
    // One thread serves HTTP: a scrape costs about 0.2 ms of CPU, so even
    // 1,000 scrapes/s use a fifth of a core, and a second worker only
    // added wake-ups between threads (and a stack) to every request.
    // What may block runs elsewhere: each collector on its own thread,
    // password checks on the blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .thread_name("vigie")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            say!("vigie: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(vigie::serve(config));
    // A collector thread stuck in a system call (hung NFS) must not keep the
    // process alive after shutdown.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say!("vigie: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `vigie gen-rules`: 0 written (or up to date), 1 stale with `--check`,
/// 2 bad thresholds file or unwritable output.
fn gen_rules(g: &vigie::cli::GenRulesArgs) -> ExitCode {
    let t = match vigie::thresholds::Thresholds::load(&g.thresholds) {
        Ok(t) => t,
        Err(e) => {
            say!("vigie: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &t.warnings {
        say!("vigie: warning: {w}");
    }
    let format = match g.format {
        vigie::cli::RulesFormat::Plain => vigie::generate::Format::Plain,
        vigie::cli::RulesFormat::PrometheusOperator => vigie::generate::Format::PrometheusOperator,
    };
    if format == vigie::generate::Format::Plain
        && (g.namespace.is_some() || !g.rule_labels.is_empty())
    {
        say!("vigie: --namespace and --rule-label only apply with --format prometheus-operator");
        return ExitCode::from(2);
    }
    let operator = vigie::generate::Operator {
        namespace: g.namespace.clone(),
        rule_labels: g.rule_labels.iter().cloned().collect(),
    };
    let files = match vigie::generate::generate_with(&t, format, &operator) {
        Ok(f) => f,
        Err(e) => {
            say!("vigie: {:#}", anyhow::Error::from(e));
            return ExitCode::from(2);
        }
    };
    match vigie::generate::write(&files, &g.out, g.dashboards_out.as_deref(), g.check) {
        Ok(changed) if g.check && !changed.is_empty() => {
            say!("vigie: out of date (run vigie gen-rules without --check to update):");
            for c in changed {
                say!("  {}", c.display());
            }
            ExitCode::from(1)
        }
        Ok(changed) => {
            if !g.check {
                for c in &changed {
                    say!("wrote {}", c.display());
                }
                if changed.is_empty() {
                    say!("{} is up to date", g.out.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            say!("vigie: {:#}", anyhow::Error::from(e));
            ExitCode::from(2)
        }
    }
}

/// `vigie check`: the Monitoring Plugins' exit codes, 0 OK, 1 WARNING,
/// 2 CRITICAL, 3 UNKNOWN (bad flags or thresholds file included).
fn check(mut argv: Vec<std::ffi::OsString>) -> ExitCode {
    use std::io::IsTerminal;
    use vigie::cli::{CheckFormat, Cli, Command};
    let unknown = |format: Option<CheckFormat>, msg: &str| {
        if format == Some(CheckFormat::Nagios) {
            sayout!("VIGIE UNKNOWN - {}", msg.lines().next().unwrap_or(""));
        }
        say!("vigie: {msg}");
        ExitCode::from(3)
    };
    let parse = |argv: &[std::ffi::OsString]| match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Some(Command::Check(c)),
            ..
        }) => Ok(c),
        Ok(_) => unreachable!("the first argument is check"),
        Err(e) => Err(e),
    };
    let mut args = match parse(&argv) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(3);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    if let Some(file) = args.args_from.clone() {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                return unknown(
                    Some(args.format),
                    &format!("--args-from {}: {e}", file.display()),
                );
            }
        };
        // The file's flags first, so the command line's win.
        let extra = vigie::cli::args_from_file(&text);
        argv.splice(2..2, extra.into_iter().map(Into::into));
        args = match parse(&argv) {
            Ok(c) => c,
            Err(e) => {
                return unknown(
                    Some(args.format),
                    &format!("--args-from {}: {}", file.display(), e.kind()),
                );
            }
        };
    }
    let instance = args.instance.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
    });
    let opts = vigie::check::Options {
        thresholds: args.thresholds.clone(),
        config: args.to_config(),
        only: args.only.clone(),
        state: args.state.clone(),
        instance,
    };
    let report = match vigie::check::run(&opts) {
        Ok(r) => r,
        Err(e) => return unknown(Some(args.format), &e.to_string()),
    };
    let out = match args.format {
        CheckFormat::Table => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            vigie::check::output::table(&report, color)
        }
        CheckFormat::Nagios => vigie::check::output::nagios(&report),
        CheckFormat::Json => vigie::check::output::json(&report),
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    ExitCode::from(report.status.code())
}
