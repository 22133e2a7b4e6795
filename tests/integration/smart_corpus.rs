//! The SMART JSON parser on the 48 real `smartctl --json` captures of
//! `../shared/fixtures/smartctl` (smartctl 7.1-7.4; ATA/SAT, NVMe, SCSI/SAS).
//!
//! The corpus holds no USB bridge (`sntjmicron`, `usbjmicron`...) and no
//! MegaRAID device (`megaraid,N`): every `device.type` is one of "sat",
//! "ata", "nvme" or "scsi", which `every_file_parses` pins so that a new
//! capture of another kind is noticed. Nor does it hold a true error-only
//! output: the two libblockdev `*_exit_err*` files are a full TOSHIBA SSD
//! dump whose exit status libblockdev edited (7 and 32) and whose attribute
//! table it cut to three rows; they carry no `smartctl.messages`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigie::collect::smart_json::{ExitFlag, SmartReport, parse};

use crate::common::shared_fixture;

/// Files that parse but hold no device data. The corpus has none (see the
/// module docs); a regression that loses a whole device shows up here.
const ERROR_ONLY: &[&str] = &[];

/// The `*.json` files of the corpus, sorted; None when the shared fixtures
/// are absent.
fn corpus() -> Option<Vec<PathBuf>> {
    let dir = shared_fixture("smartctl")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(files)
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Parses one corpus file by name; None when the shared fixtures are absent.
fn report(file: &str) -> Option<SmartReport> {
    let path = shared_fixture("smartctl")?.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    Some(parse(&text).unwrap_or_else(|e| panic!("{file}: {e}")))
}

/// The raw value of attribute `id`, asserting its name.
fn raw(r: &SmartReport, id: u8, name: &str) -> Option<u64> {
    let a = r
        .attribute(id)
        .unwrap_or_else(|| panic!("no attribute {id} ({name})"));
    assert_eq!(a.name, name, "attribute {id}");
    a.raw
}

#[test]
fn every_file_parses() {
    let Some(files) = corpus() else { return };
    assert_eq!(files.len(), 48, "the corpus has 48 captures");
    let mut with_data = 0;
    let mut error_only = Vec::new();
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_protocol: BTreeMap<String, usize> = BTreeMap::new();
    let mut attributes = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let r = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", name(f)));
        // No crash on any prefix either: a truncated capture is an error
        // naming its position, never a panic.
        for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
            if let Some(prefix) = text.get(..cut) {
                assert!(parse(prefix).is_err(), "{} cut at {cut}", name(f));
            }
        }
        if r.has_data() {
            with_data += 1;
            assert!(r.model.is_some(), "{}: model", name(f));
            assert!(r.healthy.is_some(), "{}: smart_status", name(f));
            assert!(r.temperature_celsius.is_some(), "{}: temperature", name(f));
        } else {
            error_only.push(name(f));
            assert!(r.device_error().is_some(), "{}", name(f));
        }
        *by_type
            .entry(r.device_type.clone().unwrap_or_default())
            .or_default() += 1;
        *by_protocol
            .entry(r.protocol.clone().unwrap_or_default())
            .or_default() += 1;
        attributes += r.ata_attributes.len();
        // Every protocol section is where the protocol says.
        match r.protocol.as_deref() {
            Some("ATA") => assert!(!r.ata_attributes.is_empty(), "{}", name(f)),
            Some("NVMe") => assert!(r.nvme.is_some(), "{}", name(f)),
            Some("SCSI") => assert!(r.scsi.is_some(), "{}", name(f)),
            other => panic!("{}: protocol {other:?}", name(f)),
        }
    }
    println!(
        "smartctl corpus: {} files, {with_data} with data, {} error-only {error_only:?}, \
         {attributes} ATA attributes; by device.type {by_type:?}",
        files.len(),
        error_only.len()
    );
    assert_eq!(error_only, ERROR_ONLY);
    assert_eq!(with_data + error_only.len(), files.len());
    let types: Vec<(&str, usize)> = by_type.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(types, [("ata", 2), ("nvme", 10), ("sat", 26), ("scsi", 10)]);
    let protocols: Vec<(&str, usize)> = by_protocol.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(protocols, [("ATA", 28), ("NVMe", 10), ("SCSI", 10)]);
}

/// Reallocated, pending and offline-uncorrectable counts must be the JSON's
/// `raw.value`, never a parse of the vendor-formatted `raw.string`, and the
/// other fields must follow their JSON too.
#[test]
fn attribute_raw_is_the_json_raw_value() {
    let Some(files) = corpus() else { return };
    let mut checked = 0;
    let mut packed = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        let r = parse(&text).unwrap();
        let table = json["ata_smart_attributes"]["table"].as_array();
        let table = table.map_or(&[][..], Vec::as_slice);
        assert_eq!(table.len(), r.ata_attributes.len(), "{}", name(f));
        for (row, a) in table.iter().zip(&r.ata_attributes) {
            assert_eq!(Some(u64::from(a.id)), row["id"].as_u64(), "{}", name(f));
            assert_eq!(Some(a.name.as_str()), row["name"].as_str());
            assert_eq!(
                a.raw,
                row["raw"]["value"].as_u64(),
                "{} {}",
                name(f),
                a.name
            );
            assert_eq!(a.raw_string.as_deref(), row["raw"]["string"].as_str());
            assert_eq!(a.value, row["value"].as_u64());
            assert_eq!(a.worst, row["worst"].as_u64());
            assert_eq!(a.thresh, row["thresh"].as_u64());
            assert_eq!(Some(a.prefail), row["flags"]["prefailure"].as_bool());
            if a.raw.map(|v| v.to_string()) != a.raw_string {
                packed += 1;
            }
            if matches!(
                a.name.as_str(),
                "Reallocated_Sector_Ct" | "Current_Pending_Sector" | "Offline_Uncorrectable"
            ) {
                assert!(a.raw.is_some(), "{} {}", name(f), a.name);
                checked += 1;
            }
        }
    }
    println!(
        "{checked} reallocated/pending/offline raw values checked; {packed} raw strings differ from raw.value"
    );
    // 24 Reallocated_Sector_Ct + 21 Current_Pending_Sector + 18 Offline_Uncorrectable.
    assert_eq!(checked, 63);
    assert!(packed > 0);
}

#[test]
fn degraded_hgst_with_1040_reallocated_sectors() {
    let Some(r) = report("libblockdev__HGST_HUS726060ALA640.json") else {
        return;
    };
    assert_eq!(r.device_type.as_deref(), Some("ata"));
    assert_eq!(r.protocol.as_deref(), Some("ATA"));
    assert_eq!(r.model.as_deref(), Some("HGST HUS726060ALA640"));
    assert_eq!(r.serial.as_deref(), Some("AR01234567890C"));
    assert_eq!(r.firmware.as_deref(), Some("AHGNT1EN"));
    // naa 5, oui 3274, id 1234
    assert_eq!(r.wwn.as_deref(), Some("0x5000cca0000004d2"));
    assert_eq!(r.capacity_bytes, Some(6_001_175_126_016));
    assert_eq!(r.rotation_rate, Some(7200));
    assert_eq!(r.healthy, Some(true), "SMART still says PASSED");
    assert_eq!(r.power_on_hours, Some(43177));
    assert_eq!(r.temperature_celsius, Some(29.0));
    assert_eq!(r.ata_attributes.len(), 18);
    assert_eq!(raw(&r, 5, "Reallocated_Sector_Ct"), Some(1040));
    assert_eq!(raw(&r, 197, "Current_Pending_Sector"), Some(878));
    assert_eq!(raw(&r, 198, "Offline_Uncorrectable"), Some(1272));
    let realloc = r.attribute(5).unwrap();
    assert_eq!(
        (realloc.value, realloc.worst, realloc.thresh),
        (Some(100), Some(100), Some(5))
    );
    assert!(realloc.prefail);
    assert_eq!(realloc.when_failed, None);
    assert_eq!(raw(&r, 194, "Temperature_Celsius"), Some(231_929_413_661));
    assert_eq!(r.ata_error_count, None, "run without --log=error");
    assert_eq!(r.exit_status, 0);
    assert_eq!(r.device_error(), None);
}

#[test]
fn seagate_st3500418as_with_304_reallocated_sectors() {
    let Some(r) = report("smartctl_exporter__ST3500418AS_12.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("ST3500418AS"));
    assert_eq!(r.serial.as_deref(), Some("REDACTED"));
    assert_eq!(r.wwn.as_deref(), Some("0x5000c500499602d2"));
    assert_eq!(r.capacity_bytes, Some(500_107_862_016));
    assert_eq!(r.power_on_hours, Some(44668));
    assert_eq!(r.temperature_celsius, Some(33.0));
    assert_eq!(r.ata_attributes.len(), 22);
    assert_eq!(raw(&r, 5, "Reallocated_Sector_Ct"), Some(304));
    let realloc = r.attribute(5).unwrap();
    assert_eq!(
        (realloc.value, realloc.worst, realloc.thresh),
        (Some(93), Some(93), Some(36))
    );
    assert_eq!(raw(&r, 197, "Current_Pending_Sector"), Some(0));
    assert_eq!(raw(&r, 198, "Offline_Uncorrectable"), Some(0));
    // Seagate's seek error rate: 48 bits, not a count.
    assert_eq!(raw(&r, 7, "Seek_Error_Rate"), Some(12_834_215_976_973));
    // Vendor-packed raw values: the decoded integer, not the string.
    let t = r.attribute(194).unwrap();
    assert_eq!(t.raw, Some(81_604_378_657));
    assert_eq!(t.raw_string.as_deref(), Some("33 (0 19 0 0 0)"));
    let air = r.attribute(190).unwrap();
    assert_eq!(air.name, "Airflow_Temperature_Cel");
    assert_eq!(air.raw, Some(605_552_673));
    assert_eq!(air.raw_string.as_deref(), Some("33 (Min/Max 24/36)"));
    let flying = r.attribute(240).unwrap();
    assert_eq!(flying.raw, Some(119_898_307_157_947));
    assert_eq!(flying.raw_string.as_deref(), Some("122811 (109 12 0)"));
    assert_eq!(r.ata_error_count, Some(0));
    assert_eq!(r.exit_status, 0);
}

#[test]
fn failing_samsung_nvme() {
    let Some(r) = report("smartctl_exporter__nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json")
    else {
        return;
    };
    assert_eq!(r.device_type.as_deref(), Some("nvme"));
    assert_eq!(r.protocol.as_deref(), Some("NVMe"));
    assert_eq!(r.model.as_deref(), Some("SAMSUNG MZWLL3T2HAJQ-00005"));
    assert_eq!(r.wwn, None);
    // No user_capacity in this capture: nvme_total_capacity.
    assert_eq!(r.capacity_bytes, Some(3_200_631_791_616));
    assert_eq!(r.rotation_rate, None);
    assert_eq!(r.healthy, Some(false));
    assert_eq!(r.exit_status, 8);
    let exit = r.exit();
    assert!(!exit.fatal());
    assert_eq!(exit.flags().collect::<Vec<_>>(), [ExitFlag::DiskFailing]);
    assert_eq!(r.device_error(), None, "failing, but the data is there");
    assert_eq!(r.power_on_hours, Some(18376));
    assert_eq!(r.temperature_celsius, Some(40.0));
    let n = r.nvme.as_ref().unwrap();
    assert_eq!(
        n.critical_warning,
        Some(16),
        "0x10: volatile memory backup failed"
    );
    assert_eq!(n.media_errors, Some(0));
    assert_eq!(n.num_err_log_entries, Some(0));
    assert_eq!(n.percentage_used, Some(0));
    assert_eq!(n.available_spare, Some(100));
    assert_eq!(n.available_spare_threshold, Some(10));
    assert_eq!(n.unsafe_shutdowns, Some(4));
    assert_eq!(n.temperature, Some(40.0));
    assert!(r.ata_attributes.is_empty());
    assert_eq!(r.scsi, None);
}

#[test]
fn scsi_seagate_with_260_grown_defects() {
    let Some(r) = report("smartctl_exporter__SEAGATE_ST373453LC_26.json") else {
        return;
    };
    assert_eq!(r.device_type.as_deref(), Some("scsi"));
    assert_eq!(r.protocol.as_deref(), Some("SCSI"));
    assert_eq!(r.model.as_deref(), Some("SEAGATE ST373453LC"));
    assert_eq!(r.firmware.as_deref(), Some("DX10"), "scsi_revision");
    assert_eq!(r.wwn, None, "no logical_unit_id in this capture");
    assert_eq!(r.capacity_bytes, Some(73_407_820_800));
    assert_eq!(r.rotation_rate, Some(15015));
    assert_eq!(r.healthy, Some(true));
    assert_eq!(r.power_on_hours, Some(102_880));
    assert_eq!(r.temperature_celsius, Some(33.0));
    let s = r.scsi.as_ref().unwrap();
    assert_eq!(s.grown_defect_list, Some(260));
    assert_eq!(s.read_uncorrected, Some(1));
    assert_eq!(s.write_uncorrected, Some(535));
    assert_eq!(s.verify_uncorrected, None, "no verify page in this capture");
    assert_eq!(s.non_medium_errors, None, "not in smartctl's JSON");
    assert!(r.ata_attributes.is_empty());
    assert_eq!(r.nvme, None);
    assert_eq!(r.self_test_failed_count, None);
}

#[test]
fn hgst_with_12_ata_errors_logged() {
    let Some(r) = report("smartctl_exporter__HGST_HUS724020ALE640_28.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("HGST HUS724020ALE640"));
    assert_eq!(r.ata_error_count, Some(12));
    assert_eq!(r.exit_status, 64);
    assert_eq!(r.exit().flags().collect::<Vec<_>>(), [ExitFlag::ErrorLog]);
    assert_eq!(
        r.exit()
            .informational()
            .map(ExitFlag::description)
            .collect::<Vec<_>>(),
        ["device error log contains errors"]
    );
    assert_eq!(r.healthy, Some(true));
    assert_eq!(r.power_on_hours, Some(83425));
    assert_eq!(r.temperature_celsius, Some(26.0));
    assert_eq!(raw(&r, 5, "Reallocated_Sector_Ct"), Some(0));
    assert_eq!(raw(&r, 194, "Temperature_Celsius"), Some(176_094_511_130));
    assert_eq!(r.device_error(), None);
}

#[test]
fn more_ata_error_logs() {
    for (file, count) in [
        ("smartctl_exporter__ST3200820AS_16.json", 98),
        (
            "smartctl_exporter__sat-Toshiba_MG05ACA..._Enterprise_Capacity_HDD-TOSHIBA_MG05ACA800E-sdw.json",
            2,
        ),
        (
            "smartctl_exporter__sat-Western_Digital_RE3_Serial_ATA-WDC_WD5002ABYS-02B1B0-sda.json",
            9,
        ),
    ] {
        let Some(r) = report(file) else { return };
        assert_eq!(r.ata_error_count, Some(count), "{file}");
        assert_eq!(r.exit_status, 64, "{file}");
    }
    let Some(r) = report("smartctl_exporter__ST3200820AS_16.json") else {
        return;
    };
    assert_eq!(r.rotation_rate, None, "no rotation_rate in this capture");
    assert_eq!(r.wwn, None, "no wwn in this capture");
    assert_eq!(r.power_on_hours, Some(100_161));
    // The normalized Power_On_Hours has worn down to 1 (threshold 0).
    let poh = r.attribute(9).unwrap();
    assert_eq!(
        (poh.value, poh.worst, poh.thresh, poh.raw),
        (Some(1), Some(1), Some(0), Some(100_161))
    );
}

#[test]
fn intel_nvme_75_percent_used() {
    let Some(r) = report("smartctl_exporter__nvme-null-INTEL_SSDPE2KX020T7-nvme6.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("INTEL SSDPE2KX020T7"));
    assert_eq!(r.capacity_bytes, Some(2_000_398_934_016));
    assert_eq!(r.healthy, Some(true));
    assert_eq!(r.power_on_hours, Some(49441));
    assert_eq!(r.temperature_celsius, Some(19.0));
    let n = r.nvme.as_ref().unwrap();
    assert_eq!(n.percentage_used, Some(75));
    assert_eq!(n.available_spare, Some(99));
    assert_eq!(n.available_spare_threshold, Some(10));
    assert_eq!(n.unsafe_shutdowns, Some(106));
    assert_eq!(n.critical_warning, Some(0));
    assert_eq!(n.media_errors, Some(0));
    assert_eq!(r.exit_status, 0);
}

#[test]
fn nvme_from_smartctl_7_1_without_user_capacity() {
    let Some(r) = report("smartctl_exporter__nvme-null-HUSMR7632BHP301-nvme0.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("HUSMR7632BHP301"));
    assert_eq!(
        r.capacity_bytes,
        Some(3_204_045_602_816),
        "nvme_total_capacity"
    );
    let n = r.nvme.as_ref().unwrap();
    assert_eq!(n.num_err_log_entries, Some(34));
    assert_eq!(n.percentage_used, Some(5));
    assert_eq!(n.unsafe_shutdowns, Some(29));
    assert_eq!(r.power_on_hours, Some(482));

    let Some(r) = report("smartctl_exporter__nvme-null-Samsung_SSD_970_EVO_Plus_250GB-nvme0.json")
    else {
        return;
    };
    assert_eq!(r.nvme.as_ref().unwrap().num_err_log_entries, Some(22));
    assert_eq!(r.capacity_bytes, Some(250_059_350_016), "user_capacity");
}

#[test]
fn samsung_sata_ssd() {
    let Some(r) =
        report("smartctl_exporter__sat-Samsung_based_SSDs-SAMSUNG_MZ7LH1T9HMLT-00005-sda.json")
    else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("SAMSUNG MZ7LH1T9HMLT-00005"));
    assert_eq!(r.rotation_rate, Some(0), "solid state");
    assert_eq!(r.wwn.as_deref(), Some("0x50025380499602d2"));
    assert_eq!(r.capacity_bytes, Some(1_920_383_410_176));
    assert_eq!(r.power_on_hours, Some(4717));
    assert_eq!(r.temperature_celsius, Some(24.0));
    assert_eq!(r.ata_attributes.len(), 26);
    assert_eq!(raw(&r, 241, "Total_LBAs_Written"), Some(63_180_483_059));
    assert_eq!(raw(&r, 190, "Airflow_Temperature_Cel"), Some(24));
    assert_eq!(raw(&r, 194, "Temperature_Celsius"), Some(171_800_068_120));
    assert_eq!(
        r.attribute(198),
        None,
        "no Offline_Uncorrectable on this SSD"
    );
}

#[test]
fn kingston_ssd_with_a_failed_command() {
    let Some(r) = report("smartctl_exporter__sat-Phison_Driven_SSDs-KINGSTON_SA400M8120G-sda.json")
    else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("KINGSTON SA400M8120G"));
    assert_eq!(r.rotation_rate, Some(0));
    assert_eq!(r.exit_status, 4);
    assert!(!r.exit().fatal());
    assert_eq!(
        r.exit().informational().collect::<Vec<_>>(),
        [ExitFlag::CommandFailed]
    );
    assert_eq!(raw(&r, 241, "Lifetime_Writes_GiB"), Some(398));
    assert_eq!(r.attribute(5), None);
    assert_eq!(
        r.ata_error_count, None,
        "--log=error was asked, but the JSON has no ata_smart_error_log (exit bit 2)"
    );
    assert_eq!(r.power_on_hours, Some(4994));
}

#[test]
fn seagate_packed_command_timeout_and_head_flying_hours() {
    let Some(r) =
        report("smartctl_exporter__sat-Seagate_Constellation_ES.3-ST3000NM0033-9ZM178-sdc.json")
    else {
        return;
    };
    // Three 16-bit counters: 0x0004_0004_0004.
    assert_eq!(raw(&r, 188, "Command_Timeout"), Some(17_180_131_332));
    assert_eq!(raw(&r, 5, "Reallocated_Sector_Ct"), Some(1));
    assert_eq!(r.power_on_hours, Some(57744));

    let Some(r) = report("smartctl_exporter__sat-Seagate_Exos_X16-ST16000NM001G-2KK103-sda.json")
    else {
        return;
    };
    assert_eq!(raw(&r, 188, "Command_Timeout"), Some(51_540_393_996));
    let flying = r.attribute(240).unwrap();
    assert_eq!(flying.raw, Some(4_417_953_684_533_483));
    assert_eq!(flying.raw_string.as_deref(), Some("12523h+17m+08.635s"));
    assert_eq!(r.capacity_bytes, Some(16_000_900_661_248));
}

#[test]
fn wd_model_name_keeps_its_double_space() {
    let Some(r) = report(
        "smartctl_exporter__sat-Western_Digital_Ultrastar_DC_HC550-WDC__WUH721816ALE6L4-sdx.json",
    ) else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("WDC  WUH721816ALE6L4"));
    assert_eq!(r.ata_error_count, Some(1));
    assert_eq!(r.exit_status, 64);
    assert_eq!(r.power_on_hours, Some(20117));
}

#[test]
fn scsi_self_test_log_and_logical_unit_id() {
    let Some(r) = report("libblockdev__SEAGATE_ST600MP0036.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("SEAGATE ST600MP0036"));
    assert_eq!(r.serial.as_deref(), Some("WAF1ABCD"));
    assert_eq!(r.firmware.as_deref(), Some("KT3A"));
    assert_eq!(
        r.wwn.as_deref(),
        Some("0x5000c50accaccacc"),
        "logical_unit_id"
    );
    assert_eq!(r.capacity_bytes, Some(600_127_266_816));
    assert_eq!(r.power_on_hours, Some(4665));
    // scsi_self_test_0 and _1 both "Completed" (result 0).
    assert_eq!(r.self_test_failed_count, Some(0));
    assert_eq!(r.self_test_latest_passed, Some(true));
    let s = r.scsi.as_ref().unwrap();
    assert_eq!(s.grown_defect_list, Some(0));
    assert_eq!(
        (
            s.read_uncorrected,
            s.write_uncorrected,
            s.verify_uncorrected
        ),
        (Some(0), Some(0), Some(0))
    );

    // A SAS SSD with no grown defect list in its JSON.
    let Some(r) = report("libblockdev__HGST_HUSMR3280ASS200.json") else {
        return;
    };
    assert_eq!(r.model.as_deref(), Some("HGST HUSMR3280ASS200"));
    assert_eq!(r.rotation_rate, Some(0));
    assert_eq!(r.wwn.as_deref(), Some("0x5000ccaccaccacca"));
    assert_eq!(r.self_test_failed_count, Some(0));
    assert_eq!(r.self_test_latest_passed, Some(true));
    let s = r.scsi.as_ref().unwrap();
    assert_eq!(s.grown_defect_list, None);
    assert_eq!(s.read_uncorrected, Some(0));

    // No self-test log at all: None, not zero.
    let Some(r) = report("smartctl_exporter__HGST_HUS724020ALE640_28.json") else {
        return;
    };
    assert_eq!(
        (r.self_test_failed_count, r.self_test_latest_passed),
        (None, None)
    );
}

#[test]
fn hp_scsi_without_power_on_time() {
    let Some(r) = report("smartctl_exporter__HP_73.4G_MAS3735NC_25.json") else {
        return;
    };
    // scsi_vendor "HP 73.4G" + scsi_product "MAS3735NC" = scsi_model_name.
    assert_eq!(r.model.as_deref(), Some("HP 73.4G MAS3735NC"));
    assert_eq!(r.firmware.as_deref(), Some("HPC3"));
    assert_eq!(r.power_on_hours, None);
    assert_eq!(r.temperature_celsius, Some(28.0));
    assert_eq!(r.wwn.as_deref(), Some("0x1234567890abcdef"));
    let s = r.scsi.as_ref().unwrap();
    assert_eq!(
        (
            s.grown_defect_list,
            s.read_uncorrected,
            s.verify_uncorrected
        ),
        (Some(0), Some(0), None)
    );
}

/// The two libblockdev "exit_err" files: a full TOSHIBA SSD dump with its
/// exit status edited, no messages. Exit 7 is fatal (bits 0-2); exit 32 is
/// informational only (bit 5).
#[test]
fn libblockdev_exit_err_files() {
    let Some(r) = report("libblockdev__02_exit_err.json") else {
        return;
    };
    assert_eq!(r.exit_status, 7);
    assert!(r.messages.is_empty(), "no smartctl.messages in the file");
    assert!(r.exit().fatal());
    assert_eq!(
        r.exit().flags().collect::<Vec<_>>(),
        [
            ExitFlag::CommandLine,
            ExitFlag::DeviceOpen,
            ExitFlag::CommandFailed
        ]
    );
    assert!(r.has_data(), "libblockdev kept the device data");
    assert_eq!(
        r.device_error().as_deref(),
        Some("command line did not parse; device open failed, or device in low-power mode")
    );
    assert_eq!(r.model.as_deref(), Some("TOSHIBA THNSNH128GBST"));
    assert_eq!(r.wwn.as_deref(), Some("0x500080d0000004d2"));
    assert_eq!(r.power_on_hours, Some(29029));
    // The attribute table was cut to ids 1, 2 and 240.
    let ids: Vec<u8> = r.ata_attributes.iter().map(|a| a.id).collect();
    assert_eq!(ids, [1, 2, 240]);
    assert_eq!(r.attribute(5), None);

    let Some(r32) = report("libblockdev__03_exit_err_32.json") else {
        return;
    };
    assert_eq!(r32.exit_status, 32);
    assert!(r32.messages.is_empty());
    assert!(!r32.exit().fatal());
    assert_eq!(
        r32.exit().informational().collect::<Vec<_>>(),
        [ExitFlag::BelowThresholdInPast]
    );
    assert_eq!(r32.device_error(), None);
    // Otherwise the same report.
    assert_eq!(
        SmartReport {
            exit_status: 7,
            ..r32
        },
        r
    );

    // And the unedited dump it came from.
    let Some(orig) = report("libblockdev__TOSHIBA_THNSNH128GBST.json") else {
        return;
    };
    assert_eq!(orig.exit_status, 0);
    assert_eq!(orig.serial, r.serial);
    assert_eq!(raw(&orig, 5, "Reallocated_Sector_Ct"), Some(0));
    assert_eq!(
        raw(&orig, 194, "Temperature_Celsius"),
        Some(206_159_216_672)
    );
}
