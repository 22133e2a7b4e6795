//! Thin entry point: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vigie::cli::Cli::parse();
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
