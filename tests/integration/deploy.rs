//! The Debian packaging files and the systemd unit: the unit through
//! `systemd-analyze verify`, runs `/usr/bin/vigie $ARGS` without a mount
//! namespace; `scripts/build-deb` installs what the README says where it
//! says. The package itself is built and installed in Debian 11 and 12
//! chroots by `scripts/test-deb-chroots` (run by `scripts/test`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::absent;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn systemd_unit_verifies_and_runs_usr_bin_vigie_with_args() {
    let unit = read("deploy/vigie.service");
    assert!(
        unit.contains("\nExecStart=/usr/bin/vigie $ARGS\n"),
        "{unit}"
    );
    assert!(unit.contains("\nEnvironmentFile=-/etc/default/vigie\n"));
    // The unit must not get a mount namespace (see its comments).
    for key in [
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateTmp=",
        "DynamicUser=",
    ] {
        assert!(
            !unit.lines().any(|l| l.starts_with(key)),
            "{key} would remount the host's filesystems read-only for vigie"
        );
    }
    let Ok(sa) = Command::new("systemd-analyze").arg("--version").output() else {
        absent(
            Path::new("systemd-analyze"),
            "CI's Debian has systemd",
            "systemd is not installed",
        );
        return;
    };
    assert!(sa.status.success());
    // A root holding the unit, the binary and the targets it names.
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_vigie"),
        root.path().join("usr/bin/vigie"),
    )
    .unwrap();
    std::fs::write(units.join("vigie.service"), &unit).unwrap();
    for t in [
        "sysinit.target",
        "basic.target",
        "multi-user.target",
        "network-online.target",
    ] {
        let host = Path::new("/lib/systemd/system").join(t);
        if host.exists() {
            std::fs::copy(host, units.join(t)).unwrap();
        } else {
            std::fs::write(units.join(t), "[Unit]\nDescription=stand-in\n").unwrap();
        }
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg("vigie.service")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.trim().is_empty(), "{text}");
}

#[test]
fn build_deb_installs_each_file_where_the_readme_says() {
    let head = read("packaging/deb/default.head");
    assert!(head.lines().any(|l| l == "ARGS=\"\""), "{head}");
    let control = read("packaging/deb/control");
    assert!(
        control.contains("\nRecommends: smartmontools\n"),
        "{control}"
    );
    let build = read("scripts/build-deb");
    let readme = read("README.md");
    for (src, dest) in [
        ("deploy/vigie.service", "/lib/systemd/system/vigie.service"),
        ("rules/thresholds.yaml", "/etc/vigie/thresholds.yaml"),
        ("rules/vigie-rules.yaml", "/usr/share/vigie/"),
        (
            "dashboards/vigie-fleet.json",
            "/usr/share/vigie/dashboards/",
        ),
    ] {
        assert!(
            build
                .lines()
                .any(|l| l.starts_with("install ") && l.contains(src) && l.contains(dest)),
            "scripts/build-deb does not install {src} to {dest}"
        );
    }
    for path in [
        "/usr/bin/vigie",
        "/lib/systemd/system/vigie.service",
        "/etc/default/vigie",
        "/etc/vigie/thresholds.yaml",
        "/usr/share/vigie/",
        "/usr/share/doc/vigie/examples/",
    ] {
        assert!(
            readme.contains(&format!("| `{path}` |")),
            "README's package table does not list {path}"
        );
    }
    assert!(
        build
            .contains("/etc/default/vigie /etc/vigie/thresholds.yaml >\"$stage/DEBIAN/conffiles\"")
    );
    // Each maintainer script is valid POSIX shell.
    for s in ["postinst", "prerm", "postrm"] {
        let st = Command::new("sh")
            .arg("-n")
            .arg(repo(&format!("packaging/deb/{s}")))
            .status()
            .unwrap();
        assert!(st.success(), "{s}");
    }
}

/// `systemd-analyze security` scores the shipped unit 3.5 or lower (it was
/// 5.7 MEDIUM before the unit was hardened), and the unit keeps what vigie
/// needs: no effective capability but smartctl's three as ambient, no
/// option that remounts host filesystems.
#[test]
fn systemd_unit_exposure_is_at_most_3_5() {
    let unit = repo("deploy/vigie.service");
    let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
    else {
        absent(
            Path::new("systemd-analyze"),
            "CI's Debian has systemd",
            "systemd is not installed",
        );
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no score in:\n{text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(score <= 3.5, "{line}\n{text}");
    let unit = read("deploy/vigie.service");
    assert!(unit.contains("\nAmbientCapabilities=CAP_SYS_RAWIO CAP_SYS_ADMIN CAP_DAC_OVERRIDE\n"));
    assert!(
        !unit.contains("\nSupplementaryGroups="),
        "the disk group would be the HTTP process's too"
    );
    for key in [
        "ProtectKernelModules=",
        "ProtectKernelLogs=",
        "ProtectProc=",
        "ProcSubset=",
        "PrivateDevices=",
        "PrivateMounts=",
    ] {
        assert!(
            !unit.lines().any(|l| l.starts_with(key)),
            "{key} mounts over host paths in vigie's namespace"
        );
    }
}
