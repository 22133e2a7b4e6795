//! The thresholds file: every bad file in `tests/fixtures/thresholds/bad/`
//! gives one error naming the file, line and column and what was expected
//! (snapshotted), and the shipped examples parse.

use std::path::Path;

use vigie::thresholds::Thresholds;

use crate::common::fixture;

#[test]
fn bad_files_name_file_line_and_column() {
    let dir = fixture("thresholds/bad");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    let mut report = String::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        // A fixed "today" (2026-11-21) and a path without the temp prefix.
        let shown = Path::new("bad").join(name);
        match Thresholds::parse(&text, &shown, 20_778) {
            Ok(_) => panic!("{name} was accepted"),
            Err(e) => {
                assert!(e.line >= 1 && e.column >= 1, "{name}: {e}");
                assert!(
                    e.to_string()
                        .starts_with(&format!("bad/{name}:{}:{}: ", e.line, e.column))
                );
                report.push_str(&format!("{e}\n"));
            }
        }
    }
    insta::assert_snapshot!("bad_thresholds_files", report);
}

#[test]
fn load_names_a_missing_file() {
    let e = Thresholds::load(Path::new("/nonexistent/thresholds.yaml")).unwrap_err();
    assert!(
        e.to_string().starts_with("/nonexistent/thresholds.yaml:"),
        "{e}"
    );
    assert!(e.message.contains("cannot read"), "{e}");
}
