//! `--help` texts (snapshots: they are part of the user interface) and
//! command-line errors.

use std::process::Command;

fn vigie(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

#[test]
fn help() {
    let out = vigie(&["--help"]);
    assert!(out.status.success());
    insta::assert_snapshot!("help", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn gen_rules_help() {
    let out = vigie(&["gen-rules", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--thresholds",
        "--out",
        "--dashboards-out",
        "--check",
        "--format",
    ] {
        assert!(text.contains(flag), "{flag} missing from gen-rules --help");
    }
    insta::assert_snapshot!("gen_rules_help", text);
}

#[test]
fn serve_help_lists_every_flag() {
    let out = vigie(&["serve", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--web.listen-address",
        "--web.telemetry-path",
        "--path.procfs",
        "--path.sysfs",
        "--path.rootfs",
        "--collector.filesystem.watch-path",
    ] {
        assert!(text.contains(flag), "{flag} missing from serve --help");
    }
    for c in vigie::collect::ALL {
        assert!(
            text.contains(&format!("--collector.{}", c.name)),
            "{}",
            c.name
        );
        assert!(
            text.contains(&format!("--no-collector.{}", c.name)),
            "{}",
            c.name
        );
    }
    insta::assert_snapshot!("serve_help", text);
}

#[test]
fn bad_flag_value_names_the_flag() {
    let out = vigie(&["--collector.filesystem.stat-timeout=5 minutes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--collector.filesystem.stat-timeout"), "{err}");
    assert!(err.contains("is not a duration"), "{err}");
}

#[test]
fn version() {
    let out = vigie(&["--version"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("vigie {}\n", env!("CARGO_PKG_VERSION"))
    );
}
