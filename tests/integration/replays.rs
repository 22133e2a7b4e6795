//! Multi-day replays (`tests/replays/*.test.yaml`, written by
//! `tests/replays/generate.py`) of incident 1, a disk that stays full, two
//! steady states and a SMART disk whose counter grew once and whose
//! self-test failed (incident 3), run by `promtool test rules` against the shipped
//! `rules/vigie-rules.yaml`: which alerts fire, at which severity, when they
//! first fire, and that they never resolve and fire again while the disk
//! keeps filling.

use std::path::{Path, PathBuf};
use std::process::Command;

fn replays_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replays")
}

/// The committed files are what the generator writes (it is deterministic).
#[test]
fn replay_files_are_up_to_date() {
    let out = Command::new("python3")
        .arg(replays_dir().join("generate.py"))
        .arg("--check")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs tests/replays/generate.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn shipped_rules_pass_every_replay() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(replays_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "incident1.test.yaml",
        "stays-full.test.yaml",
        "nightly-dump.test.yaml",
        "backup-disk.test.yaml",
        "smart-disk.test.yaml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    // Each replay takes promtool several seconds: run them side by side.
    let handles: Vec<_> = files
        .into_iter()
        .map(|f| {
            std::thread::spawn(move || {
                let out = Command::new("promtool")
                    .args(["test", "rules"])
                    .arg(&f)
                    .output()
                    .expect("promtool must be installed");
                (
                    f,
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).into_owned()
                        + &String::from_utf8_lossy(&out.stderr),
                )
            })
        })
        .collect();
    let mut failures = Vec::new();
    for h in handles {
        let (f, ok, text) = h.join().unwrap();
        if !ok || !text.contains("SUCCESS") {
            failures.push(format!("{}:\n{text}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
