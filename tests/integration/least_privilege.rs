//! Least privilege as deployed: vigie started as an unprivileged user with
//! smartctl's capabilities granted as ambient (what `AmbientCapabilities=`
//! in deploy/vigie.service does), through util-linux's setpriv. The vigie
//! process, every thread of it, has no effective capability; a smartctl
//! child (a wrapper that dumps its own /proc/self/status) has them.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// CAP_DAC_OVERRIDE (1), CAP_SYS_RAWIO (17), CAP_SYS_ADMIN (21).
const SMARTCTL_CAPS: u64 = (1 << 1) | (1 << 17) | (1 << 21);

fn caps(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

#[test]
fn the_http_process_has_no_effective_capability_and_smartctl_gets_them() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to start vigie as nobody with ambient capabilities");
        assert!(std::env::var("CI").is_err(), "CI runs as root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let wrapper = dir.path().join("smartctl");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncat /proc/self/status > {}/child.$$\necho '{{\"devices\":[]}}'\n",
            dir.path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let caps_arg = "+sys_rawio,+sys_admin,+dac_override";
    let mut child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(format!("--inh-caps={caps_arg}"))
        .arg(format!("--ambient-caps={caps_arg}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_vigie"))
        .args(["--web.listen-address=127.0.0.1:0", "--no-collector.dns"])
        .arg(format!(
            "--collector.smart.smartctl-path={}",
            wrapper.display()
        ))
        .stderr(Stdio::null())
        .spawn()
        .expect("setpriv (util-linux)");
    // Wait for smartctl --scan-open to have run.
    let deadline = Instant::now() + Duration::from_secs(20);
    let child_status = loop {
        let found = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("child.")
            });
        if let Some(p) = found {
            std::thread::sleep(Duration::from_millis(100));
            break std::fs::read_to_string(p).unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the smartctl wrapper did not run within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut threads = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{}/task", child.id())).unwrap() {
        let status = std::fs::read_to_string(t.unwrap().path().join("status")).unwrap();
        threads.push(status);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(threads.len() > 1, "vigie runs several threads");
    for status in &threads {
        let name = status.lines().next().unwrap();
        assert_eq!(caps(status, "CapEff"), 0, "{name}: effective capabilities");
        assert_eq!(caps(status, "CapAmb"), 0, "{name}: ambient capabilities");
        assert_eq!(
            caps(status, "CapPrm") & SMARTCTL_CAPS,
            SMARTCTL_CAPS,
            "{name}: kept permitted"
        );
    }
    assert_eq!(
        caps(&child_status, "CapEff") & SMARTCTL_CAPS,
        SMARTCTL_CAPS,
        "{child_status}"
    );
    assert!(
        child_status.lines().any(|l| l.starts_with("Uid:\t65534")),
        "{child_status}"
    );
}
