//! Property test of `gen-rules` on mutated thresholds files: the shipped
//! `rules/thresholds.yaml` and the fixtures of `tests/fixtures/thresholds/`
//! with values, durations, selectors, labels, URLs and overrides replaced
//! or added (a fixed seed, so a failure replays). For every case: either
//! the file is accepted, the output is written, and `promtool check rules`
//! accepts it; or the error names `file:line:column` (exit 2). No panic.
//! For a sample of the accepted cases, promtool also runs the generated
//! tests, which must pass (each run takes seconds: `VIGIE_PROPERTY_CASES`
//! and `VIGIE_PROPERTY_PROMTOOL_TESTS` raise the counts).

use std::path::Path;
use std::process::Command;

use vigie::generate::{Format, generate, write};
use vigie::thresholds::Thresholds;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0", "1", "3", "5", "15", "50", "99.9", "100", "140", "-1", "2.5", "1e308", ".nan", "7", "255",
    "3650", "4000", "'high'", "[1]", "{a: 1}", "true", "~",
];
const DURATIONS: &[&str] = &[
    "1s",
    "59s",
    "90s",
    "7m30s",
    "1m1s",
    "10m",
    "1h",
    "26h",
    "3d",
    "7d",
    "8d",
    "366d",
    "367d",
    "1500ms",
    "500ms",
    "0s",
    "200000d",
    "18446744073709551615s",
    "213503982334601d25215s",
    "5 minutes",
    "5",
];
const SELECTORS: &[&str] = &[
    "'job=\"vigie\"'",
    "''",
    "'job=\"vigie\",'",
    "'job=\"\\q\"'",
    "'job=~\"(\"'",
    "'__name__=\"x\"'",
    "'job=\"a\\\"b\"'",
    "'job=~\"vi.+\", env!=\"test\"'",
    "'job=\"vi\\\\gie\"'",
    "'job=\"x\"} or up{a=\"b\"'",
    "'job=\"\\x41\\u00e9\"'",
    "'job=\"é{}\"'",
    "'a=\"b\" c=\"d\"'",
];
const URLS: &[&str] = &[
    "https://wiki.example.org/{alert}",
    "'https://w/{{ $labels.instance }}/{alert}'",
    "'https://w/{{'",
    "'https://w/{{ $labels.mountpoint | urlquery }}'",
    "'https://w/{{ .Labels.device | toUpper }}?q=}}'",
    "'https://w/{{ $value }}'",
    "ftp://x",
    "'https://w/\"quoted\" {alert}'",
];
const LABEL_VALUES: &[&str] = &[
    "'host.example.org:7361'",
    "/srv/data",
    "'/srv/a \"b\"'",
    "'C:\\x'",
    "''",
    "sda",
    "'é\\\\n'",
    "'a{b}c'",
    "'$labels'",
    "'{{ x }}'",
];
const LABEL_NAMES: &[&str] = &[
    "instance",
    "mountpoint",
    "device",
    "job",
    "role",
    "serial",
    "resolver",
    "9bad",
    "__name__",
    "bad-name",
];

/// The key of a `key: value` line, and the byte offset of its value.
fn key_value(line: &str) -> Option<(&str, usize)> {
    let trimmed = line.trim_start();
    let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    let start = line.len() - body.len();
    let colon = body.find(": ")?;
    let key = &body[..colon];
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((key, start + colon + 2))
}

fn value_for(rng: &mut Rng, key: &str) -> String {
    match key {
        "selector" => rng.pick(SELECTORS).to_string(),
        "runbook_url" => rng.pick(URLS).to_string(),
        "for" | "full_in_window" | "full_in_day" | "growth_window" => {
            rng.pick(DURATIONS).to_string()
        }
        "warning" | "critical" => {
            if rng.below(2) == 0 {
                rng.pick(NUMBERS).to_string()
            } else {
                rng.pick(DURATIONS).to_string()
            }
        }
        "language" => rng.pick(&["en", "fr", "de"]).to_string(),
        "expires" => rng
            .pick(&["2099-01-31", "2020-01-01", "31/01/2027"])
            .to_string(),
        "enabled" | "watchdog" => rng.pick(&["true", "false", "1"]).to_string(),
        _ => {
            if rng.below(2) == 0 {
                rng.pick(LABEL_VALUES).to_string()
            } else {
                format!(
                    "{{warning: {}, for: {}}}",
                    rng.pick(NUMBERS),
                    rng.pick(DURATIONS)
                )
            }
        }
    }
}

/// Replaces one `key: value` inside a flow mapping (`{warning: 3, ...}`).
fn mutate_flow(rng: &mut Rng, line: &str) -> Option<String> {
    let keys = ["warning: ", "critical: ", "for: "];
    let key = keys[rng.below(keys.len())];
    let at = line.find(key)? + key.len();
    let end = line[at..].find([',', '}']).map_or(line.len(), |i| at + i);
    let k = key.trim_end_matches(": ");
    Some(format!(
        "{}{}{}",
        &line[..at],
        value_for(rng, k),
        &line[end..]
    ))
}

fn an_override(rng: &mut Rng) -> String {
    let mut labels = Vec::new();
    for _ in 0..1 + rng.below(2) {
        labels.push(format!(
            "{}: {}",
            rng.pick(LABEL_NAMES),
            rng.pick(LABEL_VALUES)
        ));
    }
    let body = rng.pick(&[
        "filesystems: {free_percent: {warning: 3, critical: 1}}",
        "filesystems: {full_in: {warning: 2d, critical: 1d, for: 90s}}",
        "swap: {used_percent: {enabled: false}}",
        "smart: {reallocated_sectors: {warning: 10}}",
        "dns: {latency: {warning: 1s, critical: 3s}}",
        "reboot: {days_since: {warning: 200, critical: 400}}",
    ]);
    let body = match rng.below(3) {
        0 => mutate_flow(rng, body).unwrap_or_else(|| body.to_string()),
        _ => body.to_string(),
    };
    format!(
        "  - match: {{{}}}\n    reason: mutated\n    {body}\n",
        labels.join(", ")
    )
}

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(3) {
        match rng.below(5) {
            0 | 1 => {
                let candidates: Vec<usize> = (0..lines.len())
                    .filter(|&i| key_value(&lines[i]).is_some_and(|(_, v)| v < lines[i].len()))
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let i = candidates[rng.below(candidates.len())];
                let (key, at) = key_value(&lines[i]).unwrap();
                let key = key.to_string();
                lines[i] = format!("{}{}", &lines[i][..at], value_for(rng, &key));
            }
            2 => {
                let candidates: Vec<usize> = (0..lines.len())
                    .filter(|&i| lines[i].contains('{'))
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let i = candidates[rng.below(candidates.len())];
                if let Some(l) = mutate_flow(rng, &lines[i]) {
                    lines[i] = l;
                }
            }
            3 => {
                let key = rng.pick(&["selector", "runbook_url"]);
                lines.retain(|l| !l.starts_with(&format!("{key}:")));
                let v = value_for(rng, key);
                lines.insert(0, format!("{key}: {v}"));
            }
            _ => {
                let o = an_override(rng);
                match lines.iter().position(|l| l.starts_with("overrides:")) {
                    Some(i) => lines.insert(i + 1, o.trim_end().to_string()),
                    None => {
                        lines.push("overrides:".into());
                        lines.push(o.trim_end().to_string());
                    }
                }
            }
        }
    }
    lines.join("\n") + "\n"
}

fn promtool(args: &[&str], dir: &Path) -> Result<(), String> {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool must be installed");
    if out.status.success() {
        Ok(())
    } else {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Err(text.chars().take(3000).collect())
    }
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_thresholds_files_give_valid_rules_or_located_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bases = vec![std::fs::read_to_string(root.join("rules/thresholds.yaml")).unwrap()];
    let fixtures = root.join("tests/fixtures/thresholds");
    let mut names: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    bases.extend(names.iter().map(|p| std::fs::read_to_string(p).unwrap()));

    let cases = env_count("VIGIE_PROPERTY_CASES", 300);
    let mut with_tests = env_count("VIGIE_PROPERTY_PROMTOOL_TESTS", 2);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let dir = tempfile::tempdir().unwrap();
    let (mut accepted, mut refused, mut tested) = (0, 0, 0);
    let started = std::time::Instant::now();
    for case in 0..cases {
        let base = &bases[case % bases.len()];
        let text = mutate(&mut rng, base);
        let shown = Path::new("case.yaml");
        let result = std::panic::catch_unwind(|| {
            Thresholds::parse(&text, shown, 20_778).map(|t| generate(&t, Format::Plain))
        });
        match result {
            Err(_) => panic!("case {case} panicked:\n{text}"),
            Ok(Err(e)) => {
                refused += 1;
                assert!(
                    e.line >= 1
                        && e.column >= 1
                        && e.to_string()
                            .starts_with(&format!("case.yaml:{}:{}: ", e.line, e.column)),
                    "case {case}: error without a position: {e}\n{text}"
                );
            }
            Ok(Ok(Err(e))) => panic!("case {case}: generation failed: {e}\n{text}"),
            Ok(Ok(Ok(files))) => {
                accepted += 1;
                let out = dir.path().join(format!("c{case}"));
                write(&files, &out, None, false).unwrap();
                if let Err(e) = promtool(&["check", "rules", "vigie-rules.yaml"], &out) {
                    panic!("case {case}: promtool check rules refuses the output:\n{e}\n{text}");
                }
                // The generated tests, for the first accepted mutations of
                // a non-default file (seconds each).
                if with_tests > 0 && text != *base {
                    with_tests -= 1;
                    tested += 1;
                    if let Err(e) = promtool(
                        &[
                            "test",
                            "rules",
                            "vigie-rules.test.yaml",
                            "vigie-rules.long.test.yaml",
                        ],
                        &out,
                    ) {
                        panic!("case {case}: the generated tests fail:\n{e}\n{text}");
                    }
                }
                std::fs::remove_dir_all(&out).unwrap();
            }
        }
    }
    eprintln!(
        "property test: {cases} mutated thresholds files, {accepted} accepted (promtool check rules ok, {tested} with promtool test rules), {refused} refused with file:line:column, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        accepted >= cases / 10 && refused >= cases / 10,
        "{accepted} accepted, {refused} refused"
    );
}
