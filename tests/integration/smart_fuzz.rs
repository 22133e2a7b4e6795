//! Property-based fuzzing of the smartctl JSON parser (proptest): whatever
//! smartctl (or a broken pipe, or a USB bridge) prints, `parse` returns a
//! report or an error and never panics.
//!
//! Cases per property: 512 by default; `VIGIE_FUZZ_CASES=200000 cargo test
//! --release --test integration smart_fuzz` for a long run.

use proptest::prelude::*;
use serde_json::{Value, json};
use vigie::collect::smart_json::parse;

use crate::common::shared_fixture;

fn config() -> ProptestConfig {
    let cases = std::env::var("VIGIE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys smartctl really prints, where a fuzzed value is put.
const KEYS: &[&str] = &[
    "smartctl",
    "device",
    "model_name",
    "serial_number",
    "wwn",
    "firmware_version",
    "user_capacity",
    "rotation_rate",
    "smart_status",
    "power_on_time",
    "temperature",
    "ata_smart_attributes",
    "ata_smart_error_log",
    "ata_smart_self_test_log",
    "nvme_smart_health_information_log",
    "nvme_self_test_log",
    "scsi_grown_defect_list",
    "scsi_error_counter_log",
    "scsi_self_test_0",
    "nvme_total_capacity",
    "scsi_model_name",
    "logical_unit_id",
];

/// The real captures, as text (read once).
fn captures() -> &'static [String] {
    static ALL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ALL.get_or_init(read_captures)
}

fn read_captures() -> Vec<String> {
    let Some(dir) = shared_fixture("smartctl") else {
        return Vec::new();
    };
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,400}") {
        let _ = parse(&s);
    }

    #[test]
    fn arbitrary_json_under_smartctl_keys_never_panics(
        parts in prop::collection::vec((prop::sample::select(KEYS), any_json()), 0..8),
        exit in any_json(),
    ) {
        let mut obj = serde_json::Map::new();
        obj.insert("smartctl".into(), json!({ "exit_status": exit }));
        for (k, v) in parts {
            obj.insert(k.to_string(), v);
        }
        let _ = parse(&Value::Object(obj).to_string());
    }

    #[test]
    fn mutated_real_captures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let all = captures();
        prop_assume!(!all.is_empty());
        let mut bytes = all[pick.index(all.len())].clone().into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let end = cut.index(bytes.len() + 1);
        bytes.truncate(end.max(1));
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
    }

    #[test]
    fn values_of_the_wrong_type_in_real_captures_never_panic(
        pick in any::<prop::sample::Index>(),
        key in prop::sample::select(KEYS),
        replacement in any_json(),
    ) {
        let all = captures();
        prop_assume!(!all.is_empty());
        let mut v: Value = serde_json::from_str(&all[pick.index(all.len())]).unwrap();
        v[key] = replacement;
        let _ = parse(&v.to_string());
    }
}
