//! Thin entry point: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vigie::cli::Cli::parse();
    if let Some(vigie::cli::Command::GenRules(g)) = &cli.command {
        return gen_rules(g);
    }
    let args = cli.serve_args();
    env_logger::Builder::new()
        .parse_filters(&format!("{},hyper=warn", args.log_level))
        .format_target(false)
        .init();
    let config = args.to_config();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigie")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vigie: cannot start the async runtime: {e}");
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
            eprintln!("vigie: {e:#}");
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
            eprintln!("vigie: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &t.warnings {
        eprintln!("vigie: warning: {w}");
    }
    let format = match g.format {
        vigie::cli::RulesFormat::Plain => vigie::generate::Format::Plain,
        vigie::cli::RulesFormat::PrometheusOperator => vigie::generate::Format::PrometheusOperator,
    };
    let files = match vigie::generate::generate(&t, format) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("vigie: {:#}", anyhow::Error::from(e));
            return ExitCode::from(2);
        }
    };
    match vigie::generate::write(&files, &g.out, g.dashboards_out.as_deref(), g.check) {
        Ok(changed) if g.check && !changed.is_empty() => {
            eprintln!("vigie: out of date (run vigie gen-rules without --check to update):");
            for c in changed {
                eprintln!("  {}", c.display());
            }
            ExitCode::from(1)
        }
        Ok(changed) => {
            if !g.check {
                for c in &changed {
                    eprintln!("wrote {}", c.display());
                }
                if changed.is_empty() {
                    eprintln!("{} is up to date", g.out.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vigie: {:#}", anyhow::Error::from(e));
            ExitCode::from(2)
        }
    }
}
