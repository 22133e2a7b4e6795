//! Unit tests of the smartctl JSON parser (`smart_json`): hand-written
//! documents for each field, protocol and version quirk.

use super::*;

/// A hand-written ATA output in smartctl 7.3's shape.
const ATA: &str = r#"{
  "json_format_version": [1, 0],
  "smartctl": {"version": [7, 3], "exit_status": 64,
               "messages": [{"string": "Warning: some note", "severity": "warning"}]},
  "device": {"name": "/dev/sda", "info_name": "/dev/sda [SAT]", "type": "sat", "protocol": "ATA"},
  "model_name": "TEST DISK 1000",
  "serial_number": "S123",
  "wwn": {"naa": 5, "oui": 3274, "id": 10083798972},
  "firmware_version": "FW01",
  "user_capacity": {"blocks": 1953525168, "bytes": 1000204886016},
  "rotation_rate": 7200,
  "smart_status": {"passed": true},
  "ata_smart_attributes": {"revision": 16, "table": [
    {"id": 5, "name": "Reallocated_Sector_Ct", "value": 100, "worst": 100, "thresh": 5,
     "when_failed": "", "flags": {"value": 51, "string": "PO--CK ", "prefailure": true},
     "raw": {"value": 8, "string": "8"}},
    {"id": 194, "name": "Temperature_Celsius", "value": 68, "worst": 52, "thresh": 0,
     "when_failed": "", "flags": {"value": 34, "prefailure": false},
     "raw": {"value": 206159216672, "string": "32 (Min/Max 12/48)"}},
    {"id": 197, "name": "Current_Pending_Sector", "value": 1, "worst": 1, "thresh": 10,
     "when_failed": "now", "flags": {"value": 50},
     "raw": {"value": 3, "string": "3"}}
  ]},
  "power_on_time": {"hours": 1234},
  "temperature": {"current": 32},
  "ata_smart_error_log": {"extended": {"revision": 1, "count": 7}},
  "ata_smart_self_test_log": {"standard": {"revision": 1, "table": [
    {"type": {"value": 1, "string": "Short offline"},
     "status": {"value": 0, "string": "Completed without error", "passed": true}},
    {"type": {"value": 2, "string": "Extended offline"},
     "status": {"value": 121, "string": "Completed: read failure", "passed": false}},
    {"type": {"value": 1, "string": "Short offline"},
     "status": {"value": 116, "string": "Completed: read failure"}}
  ]}}
}"#;

#[test]
fn minimal_ata_report() {
    let r = parse(ATA).unwrap();
    assert_eq!(r.exit_status, 64);
    assert_eq!(r.messages, ["Warning: some note"]);
    assert_eq!(r.device_name.as_deref(), Some("/dev/sda"));
    assert_eq!(r.device_type.as_deref(), Some("sat"));
    assert_eq!(r.protocol.as_deref(), Some("ATA"));
    assert_eq!(r.model.as_deref(), Some("TEST DISK 1000"));
    assert_eq!(r.serial.as_deref(), Some("S123"));
    // 5 << 60 | 3274 (0x000cca) << 36 | 10083798972 (0x2590a8fbc)
    assert_eq!(r.wwn.as_deref(), Some("0x5000cca2590a8fbc"));
    assert_eq!(r.firmware.as_deref(), Some("FW01"));
    assert_eq!(r.capacity_bytes, Some(1_000_204_886_016));
    assert_eq!(r.rotation_rate, Some(7200));
    assert_eq!(r.healthy, Some(true));
    assert_eq!(r.power_on_hours, Some(1234));
    assert_eq!(r.temperature_celsius, Some(32.0));
    assert_eq!(r.ata_error_count, Some(7));
    assert_eq!(r.ata_attributes.len(), 3);

    let temp = r.attribute(194).unwrap();
    // Larger than u32: the vendor packs min/max into the upper bytes.
    assert_eq!(temp.raw, Some(206_159_216_672));
    assert!(temp.raw.unwrap() > u64::from(u32::MAX));
    assert_eq!(temp.raw_string.as_deref(), Some("32 (Min/Max 12/48)"));
    assert!(!temp.prefail);

    let realloc = r.attribute(5).unwrap();
    assert_eq!(
        realloc,
        &AtaAttribute {
            id: 5,
            name: "Reallocated_Sector_Ct".into(),
            value: Some(100),
            worst: Some(100),
            thresh: Some(5),
            raw: Some(8),
            raw_string: Some("8".into()),
            prefail: true,
            when_failed: None,
        }
    );
    let pending = r.attribute(197).unwrap();
    assert_eq!(pending.when_failed.as_deref(), Some("now"));
    // No `prefailure` key: bit 0 of flags.value (50 = 0b110010) is 0.
    assert!(!pending.prefail);

    // passed:true, passed:false, and a status byte 0x74 (read failure).
    assert_eq!(r.self_test_failed_count, Some(2));
    assert_eq!(r.self_test_latest_passed, Some(true));
    assert!(r.has_data());
    assert_eq!(r.device_error(), None);
    let exit: Vec<_> = r.exit().informational().collect();
    assert_eq!(exit, [ExitFlag::ErrorLog]);
}

#[test]
fn truncated_json_names_line_and_column() {
    let cut = &ATA[..ATA.find("\"ata_smart_attributes\"").unwrap()];
    let e = parse(cut).unwrap_err();
    let ParseError::Truncated { line, column } = e else {
        panic!("{e:?}");
    };
    assert_eq!(line, cut.lines().count());
    assert!(column > 0);
    let msg = e.to_string();
    assert!(msg.contains(&format!("line {line}")), "{msg}");
    assert!(msg.contains(&format!("column {column}")), "{msg}");
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = parse("{\n  \"smartctl\": {\"exit_status\": 0},\n  oops\n}").unwrap_err();
    assert!(matches!(e, ParseError::Invalid { line: 3, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with("invalid JSON at line 3, column "), "{msg}");
    // serde_json's own position is not repeated.
    assert_eq!(msg.matches("line").count(), 1, "{msg}");
}

#[test]
fn empty_and_non_object_and_foreign_json() {
    assert_eq!(parse(""), Err(ParseError::Empty));
    assert_eq!(parse(" \n"), Err(ParseError::Empty));
    assert_eq!(
        parse("[1, 2]"),
        Err(ParseError::NotAnObject { found: "an array" })
    );
    assert_eq!(
        parse("\"smartctl\""),
        Err(ParseError::NotAnObject { found: "a string" })
    );
    assert_eq!(
        parse("null"),
        Err(ParseError::NotAnObject { found: "null" })
    );
    assert_eq!(
        parse(r#"{"device": {"name": "/dev/sda"}}"#),
        Err(ParseError::NoSmartctlSection)
    );
    assert_eq!(
        parse("[]").unwrap_err().to_string(),
        "expected a JSON object, found an array"
    );
}

#[test]
fn wrong_types_do_not_fail_the_report() {
    let json = r#"{
      "smartctl": {"exit_status": "four", "messages": "not an array"},
      "device": {"name": 7, "type": "nvme", "protocol": ["NVMe"]},
      "model_name": {"oops": 1},
      "scsi_model_name": "FALLBACK MODEL",
      "serial_number": "",
      "wwn": {"naa": 5, "oui": -1, "id": 3},
      "user_capacity": {"bytes": 1.5e12},
      "nvme_total_capacity": 500107862016,
      "rotation_rate": -1,
      "smart_status": {"passed": "yes"},
      "power_on_time": {"hours": 12.5},
      "temperature": {"current": "hot"},
      "ata_smart_attributes": {"table": [
        {"id": 300, "name": "Out_Of_Range"},
        "not an object",
        {"id": 9, "name": "Power_On_Hours", "value": -3, "raw": {"value": 1.0e30, "string": 5}},
        {"name": "No_Id"}
      ]},
      "ata_smart_error_log": {"summary": {"count": -2}, "extended": {"count": 4}},
      "nvme_smart_health_information_log": {"critical_warning": true, "media_errors": 2,
         "percentage_used": 3.5, "temperature": 41},
      "scsi_grown_defect_list": "many"
    }"#;
    let r = parse(json).unwrap();
    assert_eq!(r.exit_status, 0);
    assert!(r.messages.is_empty());
    assert_eq!(r.device_name, None);
    assert_eq!(r.device_type.as_deref(), Some("nvme"));
    assert_eq!(r.protocol, None);
    assert_eq!(r.model.as_deref(), Some("FALLBACK MODEL"));
    assert_eq!(r.serial, None);
    assert_eq!(r.wwn, None);
    assert_eq!(r.capacity_bytes, Some(500_107_862_016));
    assert_eq!(r.rotation_rate, None);
    assert_eq!(r.healthy, None);
    assert_eq!(r.power_on_hours, None);
    assert_eq!(r.temperature_celsius, Some(41.0), "from the NVMe log");
    assert_eq!(r.ata_attributes.len(), 1);
    let a = &r.ata_attributes[0];
    assert_eq!((a.id, a.name.as_str()), (9, "Power_On_Hours"));
    assert_eq!(
        (a.value, a.raw, a.raw_string.as_deref()),
        (None, None, None)
    );
    assert_eq!(r.ata_error_count, Some(4));
    let n = r.nvme.as_ref().unwrap();
    assert_eq!(n.critical_warning, None);
    assert_eq!(n.media_errors, Some(2));
    assert_eq!(n.percentage_used, None);
    assert_eq!(r.scsi, None);
    assert!(r.has_data());
}

#[test]
fn device_open_failure_has_no_data_and_carries_the_message() {
    // What smartctl 7.x prints for a device it cannot open.
    let json = r#"{
      "json_format_version": [1, 0],
      "smartctl": {"version": [7, 3], "argv": ["smartctl", "--json", "-a", "/dev/sdz"],
        "messages": [{"string": "Smartctl open device: /dev/sdz failed: No such device",
                      "severity": "error"}],
        "exit_status": 2},
      "local_time": {"time_t": 1700000000, "asctime": "Tue Nov 14 22:13:20 2023 UTC"},
      "device": {"name": "/dev/sdz", "info_name": "/dev/sdz", "type": "ata", "protocol": "ATA"}
    }"#;
    let r = parse(json).unwrap();
    assert!(!r.has_data());
    assert!(!r.report_has_data());
    assert!(r.exit().fatal());
    assert_eq!(r.device_name.as_deref(), Some("/dev/sdz"));
    assert_eq!(
        r.device_error().as_deref(),
        Some("Smartctl open device: /dev/sdz failed: No such device")
    );

    // Without messages, the fatal bits explain it.
    let r = parse(r#"{"smartctl": {"exit_status": 1}}"#).unwrap();
    assert_eq!(
        r.device_error().as_deref(),
        Some("command line did not parse")
    );
    // Without anything, a generic reason.
    let r = parse(r#"{"smartctl": {}}"#).unwrap();
    assert_eq!(r, SmartReport::default());
    assert_eq!(
        r.device_error().as_deref(),
        Some("no device data in smartctl output (exit status 0)")
    );
}

#[test]
fn exit_status_decoding() {
    let s = exit_status_bits(0);
    assert!(!s.fatal());
    assert_eq!(s.flags().count(), 0);

    let s = exit_status_bits(7);
    assert!(s.fatal());
    assert_eq!(
        s.flags().collect::<Vec<_>>(),
        [
            ExitFlag::CommandLine,
            ExitFlag::DeviceOpen,
            ExitFlag::CommandFailed
        ]
    );
    assert_eq!(
        s.informational().collect::<Vec<_>>(),
        [ExitFlag::CommandFailed]
    );

    assert!(exit_status_bits(2).fatal());
    let s = exit_status_bits(8);
    assert!(!s.fatal());
    assert!(s.has(ExitFlag::DiskFailing));
    assert_eq!(
        s.informational()
            .map(ExitFlag::description)
            .collect::<Vec<_>>(),
        ["SMART status: DISK FAILING"]
    );

    let s = exit_status_bits(0b1111_1100);
    assert!(!s.fatal());
    assert_eq!(s.informational().count(), 6);
    assert_eq!(s.bits(), 252);

    for (i, f) in ExitFlag::ALL.iter().enumerate() {
        assert_eq!(usize::from(f.bit()), i);
        assert_eq!(exit_status_bits(f.mask()).flags().collect::<Vec<_>>(), [*f]);
        assert_eq!(f.is_fatal(), i < 2);
        assert!(!f.description().is_empty());
        assert!(f.name().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}

#[test]
fn scsi_and_nvme_self_tests() {
    let scsi = r#"{"smartctl": {"exit_status": 0},
      "scsi_vendor": "ACME", "scsi_product": "SAS1",
      "logical_unit_id": "0x5000c500deadbeef",
      "scsi_error_counter_log": {"read": {"total_uncorrected_errors": 2},
                                 "write": {"total_uncorrected_errors": 0}},
      "scsi_self_test_0": {"code": {"value": 1}, "result": {"value": 7}},
      "scsi_self_test_1": {"code": {"value": 2}, "result": {"value": 0}},
      "scsi_self_test_2": {"code": {"value": 1}, "result": {"value": 1}},
      "scsi_self_test_4": {"code": {"value": 1}, "result": {"value": 5}}}"#;
    let r = parse(scsi).unwrap();
    assert_eq!(r.model.as_deref(), Some("ACME SAS1"));
    assert_eq!(r.wwn.as_deref(), Some("0x5000c500deadbeef"));
    let s = r.scsi.as_ref().unwrap();
    assert_eq!(
        (
            s.read_uncorrected,
            s.write_uncorrected,
            s.verify_uncorrected
        ),
        (Some(2), Some(0), None)
    );
    // Entry 4 is past the gap after entry 2: smartctl stops there too.
    assert_eq!(r.self_test_failed_count, Some(1));
    assert_eq!(r.self_test_latest_passed, Some(false));

    let nvme = r#"{"smartctl": {"exit_status": 0},
      "nvme_self_test_log": {"current_self_test_operation": {"value": 0},
        "table": [{"self_test_code": {"value": 1}, "self_test_result": {"value": 0}},
                  {"self_test_code": {"value": 2}, "self_test_result": {"value": 7}},
                  {"self_test_code": {"value": 1}, "self_test_result": {"value": 1}}]}}"#;
    let r = parse(nvme).unwrap();
    assert_eq!(r.self_test_failed_count, Some(1));
    assert_eq!(r.self_test_latest_passed, Some(true));

    let empty_ata =
        r#"{"smartctl": {}, "ata_smart_self_test_log": {"standard": {"revision": 1, "count": 0}}}"#;
    let r = parse(empty_ata).unwrap();
    assert_eq!(r.self_test_failed_count, Some(0));
    assert_eq!(r.self_test_latest_passed, None);
}

#[test]
fn out_of_range_wwn_and_exit_status_are_dropped() {
    let r = parse(r#"{"smartctl": {"exit_status": 300}, "wwn": {"naa": 16, "oui": 1, "id": 1}}"#)
        .unwrap();
    assert_eq!(r.exit_status, 0);
    assert_eq!(r.wwn, None);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(parse(&deep), Err(ParseError::Invalid { .. })));
}

#[test]
fn values_out_of_any_physical_range_are_dropped() {
    let json = ATA
        .replace(
            r#""temperature": {"current": 32}"#,
            r#""temperature": {"current": 30000}"#,
        )
        .replace(r#""hours": 1234"#, r#""hours": 1000000000000"#)
        .replace(r#""rotation_rate": 7200"#, r#""rotation_rate": 4000000000"#)
        .replace(
            r#""value": 100, "worst": 100, "thresh": 5"#,
            r#""value": 100, "worst": 300, "thresh": 5"#,
        )
        .replace(
            r#""value": 1, "worst": 1, "thresh": 10"#,
            r#""value": 1, "worst": 1, "thresh": 256"#,
        );
    let r = parse(&json).unwrap();
    assert_eq!(r.temperature_celsius, None);
    assert_eq!(r.power_on_hours, None);
    assert_eq!(r.rotation_rate, None);
    let a5 = r.attribute(5).unwrap();
    assert_eq!((a5.value, a5.worst), (Some(100), None));
    assert_eq!(r.attribute(197).unwrap().thresh, None);
    assert_eq!(r.out_of_range.len(), 5, "{:?}", r.out_of_range);
    // What fits stays.
    assert_eq!(r.capacity_bytes, Some(1000204886016));
    assert_eq!(r.attribute(194).unwrap().raw, Some(206159216672));
    let nvme = r#"{"smartctl": {"exit_status": 0},
        "nvme_smart_health_information_log": {"critical_warning": 0, "temperature": 400,
        "available_spare": 250, "available_spare_threshold": 10, "percentage_used": 3,
        "media_errors": 0, "power_on_hours": 10}}"#;
    let r = parse(nvme).unwrap();
    let n = r.nvme.as_ref().unwrap();
    assert_eq!(n.temperature, None);
    assert_eq!(n.available_spare, None);
    assert_eq!(n.available_spare_threshold, Some(10));
    assert_eq!(r.power_on_hours, Some(10));
}
