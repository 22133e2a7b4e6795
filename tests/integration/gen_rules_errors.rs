//! `vigie gen-rules` through the binary, on what should never be written
//! or should never crash it: inputs Prometheus would refuse are located
//! errors (exit 2, nothing written); whole-file errors say what went wrong
//! without a fake position; a FIFO does not block; a broken stderr does not
//! turn success into a crash; a full disk leaves every old file; a
//! `runbook_url` template and a `for:` that is not whole minutes give
//! generated tests that pass; many overrides are read.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::Tmpfs;

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

fn gen_rules(thresholds: &Path, out: &Path) -> Output {
    vigie()
        .arg("gen-rules")
        .arg("--thresholds")
        .arg(thresholds)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

use crate::common::promtool;

/// Each of these made gen-rules exit 0 (or panic, exit 101) with output
/// that `promtool check rules` refuses. Now: exit 2, `t.yaml:LINE:COLUMN:`
/// pointing at the key, and nothing written.
#[test]
fn what_prometheus_refuses_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    for (text, at, why) in [
        ("selector: 'job=\"\\q\"'\n", "1:11", "unknown escape"),
        ("selector: 'job=~\"(\"'\n", "1:11", "regular expression"),
        ("selector: '__name__=\"x\"'\n", "1:11", "__name__"),
        (
            "selector: 'job=\"a\"} or vector(1) or up{a=\"b\"'\n",
            "1:11",
            "selector",
        ),
        (
            "swap:\n  used_percent: {for: 200000d}\n",
            "2:23",
            "longer than 7d",
        ),
        (
            "runbook_url: 'https://w/{{ $labels.instance'\n",
            "1:14",
            "not closed",
        ),
        (
            "runbook_url: 'https://w/{{ $value | humanize }}'\n",
            "1:14",
            "{{ $labels.NAME }}",
        ),
        (
            "dns: {latency: {warning: 213503982334601d25215s}}\n",
            "1:26",
            "longer than 366d",
        ),
        (
            "dns: {latency: {warning: 18446744073709551615s}}\n",
            "1:26",
            "longer than 366d",
        ),
        (
            "dns: {latency: {warning: 18446744073709551616s}}\n",
            "1:26",
            "too long",
        ),
        (
            "filesystems: {full_in_window: 400d}\n",
            "1:31",
            "longer than 366d",
        ),
        (
            "swap:\n  used_percent: {for: 1500ms}\n",
            "2:23",
            "whole number of seconds",
        ),
        (
            "swap: {used_percent: {warning: [80]}}\n",
            "1:32",
            "expected a percentage",
        ),
    ] {
        std::fs::write(&t, text).unwrap();
        let out = dir.path().join("out");
        let o = gen_rules(&t, &out);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}: {e}");
        let prefix = format!("vigie: {}:{at}: ", t.display());
        assert!(e.starts_with(&prefix) && e.contains(why), "{text}: {e}");
        assert!(!out.exists(), "{text}: something was written");
    }
}

/// The reproductions of the generated tests that failed for valid files:
/// a Go template in `runbook_url` (the tests expected it unexpanded) and
/// `for:` values that are not whole minutes. promtool checks the rules and
/// runs both test files.
#[test]
fn templates_and_odd_durations_give_passing_tests() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(
        &t,
        "runbook_url: 'https://wiki.example.org/{alert}?host={{ $labels.instance | urlquery }}&m={{ .Labels.mountpoint }}'\n\
         filesystems:\n  free_percent: {for: 90s}\n  full_in: {for: 7m30s}\n  roles:\n    control-plane:\n      free_percent: {warning: 30, critical: 15}\n\
         swap: {used_percent: {for: 1m1s}}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = gen_rules(&t, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let tests = std::fs::read_to_string(out.join("vigie-rules.test.yaml")).unwrap();
    assert!(
        tests.contains("host=host.example.org%3A7361"),
        "the test expects the expanded link"
    );
    promtool(&["check", "rules", "vigie-rules.yaml"], &out).unwrap();
    if let Err(e) = promtool(
        &[
            "test",
            "rules",
            "vigie-rules.test.yaml",
            "vigie-rules.long.test.yaml",
        ],
        &out,
    ) {
        panic!("{}", &e[..e.len().min(4000)]);
    }
}

/// A file that cannot be read says why with no `:0:0`; text that is not
/// UTF-8 is located at its first bad byte; a FIFO is refused at once.
#[test]
fn whole_file_errors_say_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let bad = dir.path().join("latin1.yaml");
    std::fs::write(&bad, b"swap:\n  used_percent: {warning: 8\xe90}\n").unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, want) in [
        (
            bad.clone(),
            format!("{}:2:28: byte 0xe9 is not UTF-8", bad.display()),
        ),
        (
            dir.path().join("missing.yaml"),
            format!(
                "{}: cannot read the thresholds file: No such file",
                dir.path().join("missing.yaml").display()
            ),
        ),
        (
            dir.path().to_path_buf(),
            format!("{}: not a regular file", dir.path().display()),
        ),
        (
            fifo.clone(),
            format!("{}: not a regular file", fifo.display()),
        ),
    ] {
        let mut child = vigie()
            .arg("gen-rules")
            .arg("--thresholds")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("{} blocks", path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(e.starts_with(&format!("vigie: {want}")), "{e}");
        assert!(!e.contains(":0:0"), "{e}");
    }
}

/// Success stays success when nobody reads stderr: a pipe whose reader
/// has gone (was a panic, exit 101) and a closed stderr (`2>&-`, where the
/// messages must not land in an output file either).
#[test]
fn a_broken_stderr_does_not_turn_success_into_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(&t, "{}\n").unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = dir.path().join("piped");
    let status = vigie()
        .arg("gen-rules")
        .arg("--thresholds")
        .arg(&t)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(out.join("vigie-rules.yaml").exists());

    let out = dir.path().join("closed");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec \"$0\" gen-rules --thresholds '{}' --out '{}' 2>&-",
            t.display(),
            out.display()
        ))
        .arg(env!("CARGO_BIN_EXE_vigie"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    for f in [
        "vigie-rules.yaml",
        "vigie-rules.test.yaml",
        "vigie-rules.long.test.yaml",
    ] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            text.starts_with("# Generated by vigie"),
            "{f}: {}",
            &text[..80]
        );
        assert!(!text.contains("wrote "), "{f} holds a message");
    }
}

/// A disk that fills while gen-rules writes: every old file stays as it
/// was (none half-written, none new beside old), no temporary file is
/// left, and the error names a file, not the directory.
#[test]
fn a_full_disk_leaves_every_old_file() {
    let base = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(base.path().join("out"), "1m");
    let out = fs.0.clone();
    let t = base.path().join("t.yaml");
    std::fs::write(&t, "{}\n").unwrap();
    let o = gen_rules(&t, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let snapshot = || {
        let mut files: Vec<(String, Vec<u8>)> = walk(&out)
            .into_iter()
            .filter(|p| !p.ends_with("filler"))
            .map(|p| {
                (
                    p.strip_prefix(&out).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot();
    // Leave room for about half of the new files.
    let st = nix::sys::statvfs::statvfs(&out).unwrap();
    let free = st.blocks_available() as u64 * st.fragment_size() as u64;
    let total: u64 = before.iter().map(|(_, c)| c.len() as u64).sum();
    std::fs::write(out.join("filler"), vec![b'x'; (free - total / 2) as usize]).unwrap();
    std::fs::write(&t, "language: fr\n").unwrap();
    let o = gen_rules(&t, &out);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with(&format!("vigie: cannot write {}/", out.display()))
            && e.contains("No space left"),
        "{e}"
    );
    assert!(snapshot() == before, "the old files changed: {e}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// 15,000 overrides stopped at serde-saphyr's default budget ("budget
/// breached: Nodes { nodes: 250001 }"); they are read now. A file beyond
/// the parser's limits gets a message naming them.
#[test]
fn many_overrides_are_read_and_limits_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    let mut text = String::from("overrides:\n");
    for i in 0..15_000 {
        text.push_str(&format!(
            "  - match: {{instance: 'host{i}.example.org:7361', mountpoint: /srv/data}}\n    reason: host {i}\n    filesystems: {{free_percent: {{warning: 3, critical: 1}}}}\n"
        ));
    }
    std::fs::write(&t, &text).unwrap();
    let out = dir.path().join("out");
    let o = gen_rules(&t, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let rules = std::fs::read_to_string(out.join("vigie-rules.yaml")).unwrap();
    assert_eq!(rules.matches("- record: vigie:threshold:").count(), 30_000);
    // Overrides of one shape (signal, labels matched, levels) are tested
    // once: 15,000 identical tests would each evaluate 30,000 recorded
    // thresholds in promtool.
    let tests = std::fs::read_to_string(out.join("vigie-rules.test.yaml")).unwrap();
    assert_eq!(tests.matches("with override").count(), 1);

    let deep = format!(
        "swap: {{used_percent: {{warning: {}{}}}}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    std::fs::write(&t, deep).unwrap();
    let o = gen_rules(&t, &dir.path().join("deep"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("levels of nesting") && !e.contains("budget breached"),
        "{e}"
    );
}
