//! Parsing of `smartctl --json` output into a plain [`SmartReport`].
//!
//! smartctl's JSON changes between versions (6.x had none, 7.0-7.4 added and
//! renamed keys) and between protocols (ATA, NVMe, SCSI), and captures from
//! the field carry vendor oddities. The parser therefore walks a
//! [`serde_json::Value`] and reads each field on its own: a field that is
//! absent or of an unexpected type becomes `None` (or is skipped, for one
//! attribute or one self-test entry) and never fails the whole report. Only
//! output that is not JSON at all, not a JSON object, or lacks the `smartctl`
//! section is an error ([`ParseError`]).
//!
//! Integers are read as JSON unsigned integers only: a negative or
//! fractional number where a counter is expected becomes `None`.
//!
//! ATA attribute raw values are taken from `raw.value` (the 48-bit integer
//! smartctl decoded), never from `raw.string`, which is vendor formatted:
//! e.g. attribute 194 has `raw.value` 206159216672 for `raw.string`
//! "32 (Min/Max 12/48)", because the drive packs the minimum and maximum in
//! the upper bytes. Interpreting such packed values is left to the caller.

use serde_json::Value;

/// Why smartctl's output could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The output is empty (or only whitespace).
    #[error("empty smartctl output")]
    Empty,
    /// The output ends in the middle of a JSON value.
    #[error("truncated JSON at line {line}, column {column}")]
    Truncated {
        /// 1-based line of the end of input.
        line: usize,
        /// Column of the end of input.
        column: usize,
    },
    /// The output is not JSON.
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Invalid {
        /// 1-based line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// serde_json's description, without its position.
        reason: String,
    },
    /// Valid JSON, but not an object.
    #[error("expected a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found instead ("array", "string"...).
        found: &'static str,
    },
    /// A JSON object without the `smartctl` section: not smartctl's output.
    #[error("no \"smartctl\" section: not smartctl --json output")]
    NoSmartctlSection,
}

/// One row of `ata_smart_attributes.table`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AtaAttribute {
    /// Attribute number (`id`), e.g. 5 for Reallocated_Sector_Ct.
    pub id: u8,
    /// smartctl's name (`name`), e.g. "Reallocated_Sector_Ct";
    /// "Unknown_Attribute" when the JSON has none.
    pub name: String,
    /// Normalized current value (`value`).
    pub value: Option<u64>,
    /// Worst normalized value seen (`worst`).
    pub worst: Option<u64>,
    /// Failure threshold (`thresh`).
    pub thresh: Option<u64>,
    /// The raw counter as smartctl decoded it (`raw.value`). May be
    /// vendor-packed (194, 190, 188, 240 often are), see the module docs.
    pub raw: Option<u64>,
    /// smartctl's formatted raw value (`raw.string`), for display only.
    pub raw_string: Option<String>,
    /// Pre-failure attribute (`flags.prefailure`, else bit 0 of
    /// `flags.value`).
    pub prefail: bool,
    /// `when_failed` when not empty (smartctl writes "now" or "past").
    pub when_failed: Option<String>,
}

/// NVMe health, from `nvme_smart_health_information_log`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NvmeHealth {
    /// `critical_warning` bit field (0 when all is well).
    pub critical_warning: Option<u64>,
    /// `media_errors`: unrecovered data integrity errors.
    pub media_errors: Option<u64>,
    /// `num_err_log_entries`: error log entries over the controller's life.
    pub num_err_log_entries: Option<u64>,
    /// `percentage_used`: vendor estimate of life used (may exceed 100).
    pub percentage_used: Option<u64>,
    /// `available_spare`, percent.
    pub available_spare: Option<u64>,
    /// `available_spare_threshold`, percent.
    pub available_spare_threshold: Option<u64>,
    /// `unsafe_shutdowns` count.
    pub unsafe_shutdowns: Option<u64>,
    /// `temperature`, degrees Celsius.
    pub temperature: Option<f64>,
}

/// SCSI/SAS health.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScsiHealth {
    /// Elements in the grown defect list (`scsi_grown_defect_list`).
    pub grown_defect_list: Option<u64>,
    /// `scsi_error_counter_log.read.total_uncorrected_errors`.
    pub read_uncorrected: Option<u64>,
    /// `scsi_error_counter_log.write.total_uncorrected_errors`.
    pub write_uncorrected: Option<u64>,
    /// `scsi_error_counter_log.verify.total_uncorrected_errors`.
    pub verify_uncorrected: Option<u64>,
    /// The non-medium error count. smartctl up to 7.4 prints it in its text
    /// output only ("Non-medium error count:"), not in its JSON, so this is
    /// None for those versions; it is read from
    /// `scsi_error_counter_log.non_medium_errors` should a later version
    /// add it there.
    pub non_medium_errors: Option<u64>,
}

/// What one `smartctl --json` run says about one device. Every field is
/// optional: what smartctl did not print (or printed oddly) is `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SmartReport {
    /// `smartctl.exit_status` (0 if absent); decode with [`Self::exit`].
    pub exit_status: u8,
    /// The `string` of every `smartctl.messages[]` entry, any severity.
    pub messages: Vec<String>,
    /// `device.name`, e.g. "/dev/sda".
    pub device_name: Option<String>,
    /// `device.type`, e.g. "sat", "ata", "nvme", "scsi", "sntjmicron",
    /// "megaraid,1".
    pub device_type: Option<String>,
    /// `device.protocol`: "ATA", "NVMe" or "SCSI".
    pub protocol: Option<String>,
    /// `model_name`, else `scsi_model_name`, else vendor and product
    /// (`scsi_vendor`/`vendor`, `scsi_product`/`product`) joined by a space.
    pub model: Option<String>,
    /// `serial_number`.
    pub serial: Option<String>,
    /// World wide name as `0x` and 16 hex digits, built from `wwn.naa`,
    /// `wwn.oui` and `wwn.id` as `naa << 60 | oui << 36 | id` (ATA); else
    /// SCSI's `logical_unit_id` string as smartctl prints it. None for NVMe.
    pub wwn: Option<String>,
    /// `firmware_version`, else `scsi_revision`, else `revision`.
    pub firmware: Option<String>,
    /// `user_capacity.bytes`, else `nvme_total_capacity`.
    pub capacity_bytes: Option<u64>,
    /// `rotation_rate` in rpm; 0 means a solid-state device.
    pub rotation_rate: Option<u64>,
    /// `smart_status.passed`: false when the device says it is failing.
    pub healthy: Option<bool>,
    /// `power_on_time.hours`, else the NVMe log's `power_on_hours`.
    pub power_on_hours: Option<u64>,
    /// `temperature.current`, else the NVMe log's `temperature`.
    pub temperature_celsius: Option<f64>,
    /// `ata_smart_attributes.table[]`, in smartctl's order. Rows without a
    /// usable `id` (an integer 0-255) are skipped.
    pub ata_attributes: Vec<AtaAttribute>,
    /// `ata_smart_error_log.summary.count` (`--log=error`), else
    /// `ata_smart_error_log.extended.count` (`-x`).
    pub ata_error_count: Option<u64>,
    /// Failed entries in the self-test log: ATA
    /// (`ata_smart_self_test_log.extended` or `.standard`), else NVMe
    /// (`nvme_self_test_log`), else SCSI (`scsi_self_test_0`...). None when
    /// no log is present.
    pub self_test_failed_count: Option<u64>,
    /// Whether the most recent self-test (the first log entry) passed; None
    /// when there is no entry, or it was aborted or is still running.
    pub self_test_latest_passed: Option<bool>,
    /// NVMe health log, when present.
    pub nvme: Option<NvmeHealth>,
    /// SCSI health, when any of its fields is present.
    pub scsi: Option<ScsiHealth>,
    /// Values dropped because no disk can report them (a temperature of
    /// 30,000 °C, a normalised attribute above 255): field and value, one
    /// entry each. A misparsed or corrupted output must not pass for data.
    pub out_of_range: Vec<String>,
}

impl SmartReport {
    /// The decoded exit status.
    pub fn exit(&self) -> ExitStatus {
        exit_status_bits(self.exit_status)
    }

    /// True when the report holds any identity or health data: model,
    /// serial, WWN, firmware, capacity, health verdict, power-on hours,
    /// temperature, attributes, error or self-test counts, NVMe or SCSI
    /// health. The `device` section alone does not count: smartctl prints
    /// it even when it could not open the device.
    pub fn has_data(&self) -> bool {
        self.model.is_some()
            || self.serial.is_some()
            || self.wwn.is_some()
            || self.firmware.is_some()
            || self.capacity_bytes.is_some()
            || self.healthy.is_some()
            || self.power_on_hours.is_some()
            || self.temperature_celsius.is_some()
            || !self.ata_attributes.is_empty()
            || self.ata_error_count.is_some()
            || self.self_test_failed_count.is_some()
            || self.nvme.is_some()
            || self.scsi.is_some()
    }

    /// Same as [`Self::has_data`].
    pub fn report_has_data(&self) -> bool {
        self.has_data()
    }

    /// Why this report describes a device error, or None when it does not.
    ///
    /// It does when exit status bit 0 or 1 is set ([`ExitStatus::fatal`]) or
    /// when there is no data at all. The text is smartctl's messages joined
    /// by "; ", else the descriptions of the fatal bits, else a generic
    /// "no device data".
    pub fn device_error(&self) -> Option<String> {
        let exit = self.exit();
        if !exit.fatal() && self.has_data() {
            return None;
        }
        if !self.messages.is_empty() {
            return Some(self.messages.join("; "));
        }
        let fatal: Vec<&str> = exit
            .flags()
            .filter(|f| f.is_fatal())
            .map(ExitFlag::description)
            .collect();
        if !fatal.is_empty() {
            return Some(fatal.join("; "));
        }
        Some(format!(
            "no device data in smartctl output (exit status {})",
            self.exit_status
        ))
    }

    /// The first attribute with this id.
    pub fn attribute(&self, id: u8) -> Option<&AtaAttribute> {
        self.ata_attributes.iter().find(|a| a.id == id)
    }
}

/// One bit of smartctl's exit status (see smartctl(8), "RETURN VALUES").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitFlag {
    /// Bit 0: the command line did not parse.
    CommandLine,
    /// Bit 1: the device could not be opened, or was in a low-power mode
    /// and skipped (`--nocheck`).
    DeviceOpen,
    /// Bit 2: some SMART or other command to the device failed, or a
    /// checksum error in a SMART data structure.
    CommandFailed,
    /// Bit 3: SMART status says "DISK FAILING".
    DiskFailing,
    /// Bit 4: prefail attributes are at or below their threshold.
    PrefailBelowThreshold,
    /// Bit 5: some attributes were at or below threshold in the past.
    BelowThresholdInPast,
    /// Bit 6: the device error log contains errors.
    ErrorLog,
    /// Bit 7: the self-test log contains errors.
    SelfTestLog,
}

impl ExitFlag {
    /// All flags, bit 0 first.
    pub const ALL: [ExitFlag; 8] = [
        ExitFlag::CommandLine,
        ExitFlag::DeviceOpen,
        ExitFlag::CommandFailed,
        ExitFlag::DiskFailing,
        ExitFlag::PrefailBelowThreshold,
        ExitFlag::BelowThresholdInPast,
        ExitFlag::ErrorLog,
        ExitFlag::SelfTestLog,
    ];

    /// The bit number, 0-7.
    pub fn bit(self) -> u8 {
        match self {
            ExitFlag::CommandLine => 0,
            ExitFlag::DeviceOpen => 1,
            ExitFlag::CommandFailed => 2,
            ExitFlag::DiskFailing => 3,
            ExitFlag::PrefailBelowThreshold => 4,
            ExitFlag::BelowThresholdInPast => 5,
            ExitFlag::ErrorLog => 6,
            ExitFlag::SelfTestLog => 7,
        }
    }

    /// The flag's mask in the exit status.
    pub fn mask(self) -> u8 {
        1 << self.bit()
    }

    /// True for bits 0 and 1: smartctl produced no usable device data.
    pub fn is_fatal(self) -> bool {
        self.bit() < 2
    }

    /// A short stable name, fit for a metric label.
    pub fn name(self) -> &'static str {
        match self {
            ExitFlag::CommandLine => "command_line",
            ExitFlag::DeviceOpen => "device_open",
            ExitFlag::CommandFailed => "command_failed",
            ExitFlag::DiskFailing => "disk_failing",
            ExitFlag::PrefailBelowThreshold => "prefail_below_threshold",
            ExitFlag::BelowThresholdInPast => "below_threshold_in_past",
            ExitFlag::ErrorLog => "error_log",
            ExitFlag::SelfTestLog => "self_test_log",
        }
    }

    /// A short English description.
    pub fn description(self) -> &'static str {
        match self {
            ExitFlag::CommandLine => "command line did not parse",
            ExitFlag::DeviceOpen => "device open failed, or device in low-power mode",
            ExitFlag::CommandFailed => "some SMART or ATA command to the device failed",
            ExitFlag::DiskFailing => "SMART status: DISK FAILING",
            ExitFlag::PrefailBelowThreshold => "prefail attributes at or below threshold",
            ExitFlag::BelowThresholdInPast => "attributes were at or below threshold in the past",
            ExitFlag::ErrorLog => "device error log contains errors",
            ExitFlag::SelfTestLog => "self-test log contains errors",
        }
    }
}

/// smartctl's exit status, decoded. Build it with [`exit_status_bits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitStatus(pub u8);

impl ExitStatus {
    /// The raw status.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether `flag` is set.
    pub fn has(self, flag: ExitFlag) -> bool {
        self.0 & flag.mask() != 0
    }

    /// Bit 0 or 1 set: smartctl produced no usable data.
    pub fn fatal(self) -> bool {
        self.has(ExitFlag::CommandLine) || self.has(ExitFlag::DeviceOpen)
    }

    /// Every set flag, bit 0 first.
    pub fn flags(self) -> impl Iterator<Item = ExitFlag> {
        ExitFlag::ALL.into_iter().filter(move |f| self.has(*f))
    }

    /// The set informational flags (bits 2-7), bit 2 first.
    pub fn informational(self) -> impl Iterator<Item = ExitFlag> {
        self.flags().filter(|f| !f.is_fatal())
    }
}

/// Decodes smartctl's exit status bit mask.
pub fn exit_status_bits(status: u8) -> ExitStatus {
    ExitStatus(status)
}

/// Parses the output of `smartctl --json` (any of `-i -H -A -l error -x`...).
///
/// Fails only when the text is not JSON, not an object, or has no
/// `smartctl` section; every other oddity leaves the affected field `None`.
pub fn parse(json: &str) -> Result<SmartReport, ParseError> {
    if json.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let root: Value = serde_json::from_str(json).map_err(json_error)?;
    let Value::Object(_) = root else {
        return Err(ParseError::NotAnObject {
            found: type_name(&root),
        });
    };
    let Some(smartctl) = root.get("smartctl") else {
        return Err(ParseError::NoSmartctlSection);
    };
    let nvme_log = get(&root, &["nvme_smart_health_information_log"]).filter(|v| v.is_object());
    let nvme = nvme_log.map(nvme_health);
    let (self_test_failed_count, self_test_latest_passed) = self_tests(&root);
    let mut report = SmartReport {
        exit_status: u64_at(smartctl, &["exit_status"])
            .and_then(|s| u8::try_from(s).ok())
            .unwrap_or(0),
        messages: array_at(smartctl, &["messages"])
            .iter()
            .filter_map(|m| str_at(m, &["string"]))
            .collect(),
        device_name: str_at(&root, &["device", "name"]),
        device_type: str_at(&root, &["device", "type"]),
        protocol: str_at(&root, &["device", "protocol"]),
        model: model(&root),
        serial: str_at(&root, &["serial_number"]),
        wwn: wwn(&root),
        firmware: str_at(&root, &["firmware_version"])
            .or_else(|| str_at(&root, &["scsi_revision"]))
            .or_else(|| str_at(&root, &["revision"])),
        capacity_bytes: u64_at(&root, &["user_capacity", "bytes"])
            .or_else(|| u64_at(&root, &["nvme_total_capacity"])),
        rotation_rate: u64_at(&root, &["rotation_rate"]),
        healthy: bool_at(&root, &["smart_status", "passed"]),
        power_on_hours: u64_at(&root, &["power_on_time", "hours"])
            .or_else(|| nvme_log.and_then(|l| u64_at(l, &["power_on_hours"]))),
        temperature_celsius: f64_at(&root, &["temperature", "current"])
            .or_else(|| nvme.as_ref().and_then(|n| n.temperature)),
        ata_attributes: array_at(&root, &["ata_smart_attributes", "table"])
            .iter()
            .filter_map(ata_attribute)
            .collect(),
        ata_error_count: u64_at(&root, &["ata_smart_error_log", "summary", "count"])
            .or_else(|| u64_at(&root, &["ata_smart_error_log", "extended", "count"])),
        self_test_failed_count,
        self_test_latest_passed,
        nvme,
        scsi: scsi_health(&root),
        out_of_range: Vec::new(),
    };
    drop_out_of_range(&mut report);
    Ok(report)
}

/// Temperatures a disk can report, in °C (a drive is rated -40..85; beyond
/// this it is a misread field, not a reading).
const TEMPERATURE_RANGE: std::ops::RangeInclusive<f64> = -60.0..=200.0;
/// 150 years of power-on time.
const MAX_POWER_ON_HOURS: u64 = 150 * 366 * 24;
/// The fastest disks spin at 15,000 rpm.
const MAX_RPM: u64 = 30_000;
/// 1 EiB: far above any single device.
const MAX_CAPACITY_BYTES: u64 = 1 << 60;
/// ATA error log count: a 16-bit field.
const MAX_ATA_ERROR_COUNT: u64 = u16::MAX as u64;

/// Sets to None, and lists in `out_of_range`, every value outside what any
/// disk can physically report.
fn drop_out_of_range(r: &mut SmartReport) {
    let mut bad = Vec::new();
    fn check_u64(v: &mut Option<u64>, max: u64, what: &str, bad: &mut Vec<String>) {
        if let Some(x) = *v
            && x > max
        {
            bad.push(format!("{what} {x} (at most {max})"));
            *v = None;
        }
    }
    fn check_temp(v: &mut Option<f64>, what: &str, bad: &mut Vec<String>) {
        if let Some(x) = *v
            && !TEMPERATURE_RANGE.contains(&x)
        {
            bad.push(format!("{what} {x} °C"));
            *v = None;
        }
    }
    check_u64(
        &mut r.power_on_hours,
        MAX_POWER_ON_HOURS,
        "power_on_time.hours",
        &mut bad,
    );
    check_u64(&mut r.rotation_rate, MAX_RPM, "rotation_rate", &mut bad);
    check_u64(
        &mut r.capacity_bytes,
        MAX_CAPACITY_BYTES,
        "user_capacity.bytes",
        &mut bad,
    );
    check_u64(
        &mut r.ata_error_count,
        MAX_ATA_ERROR_COUNT,
        "ata_smart_error_log count",
        &mut bad,
    );
    check_temp(&mut r.temperature_celsius, "temperature.current", &mut bad);
    for a in &mut r.ata_attributes {
        let id = a.id;
        check_u64(
            &mut a.value,
            255,
            &format!("attribute {id} value"),
            &mut bad,
        );
        check_u64(
            &mut a.worst,
            255,
            &format!("attribute {id} worst"),
            &mut bad,
        );
        check_u64(
            &mut a.thresh,
            255,
            &format!("attribute {id} thresh"),
            &mut bad,
        );
        // raw.value is left alone: smartctl decodes some attributes past
        // their 48 bits (Seagate's 240 Head_Flying_Hours with milliseconds).
    }
    if let Some(n) = &mut r.nvme {
        check_u64(
            &mut n.critical_warning,
            255,
            "nvme critical_warning",
            &mut bad,
        );
        check_u64(
            &mut n.percentage_used,
            255,
            "nvme percentage_used",
            &mut bad,
        );
        check_u64(
            &mut n.available_spare,
            100,
            "nvme available_spare",
            &mut bad,
        );
        check_u64(
            &mut n.available_spare_threshold,
            100,
            "nvme available_spare_threshold",
            &mut bad,
        );
        check_temp(&mut n.temperature, "nvme temperature", &mut bad);
    }
    r.out_of_range = bad;
}

/// Maps serde_json's error to ours, keeping its position.
fn json_error(e: serde_json::Error) -> ParseError {
    let (line, column) = (e.line(), e.column());
    if e.is_eof() {
        return ParseError::Truncated { line, column };
    }
    // serde_json's Display appends " at line L column C"; drop it, we
    // print the position ourselves.
    let full = e.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(r, _)| r)
        .to_string();
    ParseError::Invalid {
        line,
        column,
        reason,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value at `path` (object keys), if every step is an object holding
/// the key.
fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// A JSON unsigned integer; negative, fractional or non-numbers are None.
fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    get(v, path)?.as_u64()
}

fn f64_at(v: &Value, path: &[&str]) -> Option<f64> {
    get(v, path)?.as_f64().filter(|f| f.is_finite())
}

fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path)?.as_bool()
}

/// A string that is not empty or only spaces (kept untrimmed otherwise:
/// smartctl prints model names such as "WDC  WUH721816ALE6L4" verbatim).
fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    get(v, path)?
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// The array at `path`, or an empty slice.
fn array_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn model(root: &Value) -> Option<String> {
    if let Some(m) = str_at(root, &["model_name"]).or_else(|| str_at(root, &["scsi_model_name"])) {
        return Some(m);
    }
    let vendor = str_at(root, &["scsi_vendor"]).or_else(|| str_at(root, &["vendor"]));
    let product = str_at(root, &["scsi_product"]).or_else(|| str_at(root, &["product"]));
    match (vendor, product) {
        (Some(v), Some(p)) => Some(format!("{} {}", v.trim_end(), p.trim_start())),
        (v, p) => p.or(v),
    }
}

fn wwn(root: &Value) -> Option<String> {
    let naa = u64_at(root, &["wwn", "naa"]);
    let oui = u64_at(root, &["wwn", "oui"]);
    let id = u64_at(root, &["wwn", "id"]);
    if let (Some(naa), Some(oui), Some(id)) = (naa, oui, id) {
        // NAA is 4 bits, the OUI 24 and the vendor id 36: a field out of
        // range cannot be a real WWN.
        if naa <= 0xf && oui <= 0xff_ffff && id <= 0xf_ffff_ffff {
            return Some(format!("0x{:016x}", (naa << 60) | (oui << 36) | id));
        }
    }
    str_at(root, &["logical_unit_id"])
}

fn ata_attribute(row: &Value) -> Option<AtaAttribute> {
    let id = u8::try_from(u64_at(row, &["id"])?).ok()?;
    let prefail = bool_at(row, &["flags", "prefailure"])
        .or_else(|| u64_at(row, &["flags", "value"]).map(|f| f & 1 == 1))
        .unwrap_or(false);
    Some(AtaAttribute {
        id,
        name: str_at(row, &["name"]).unwrap_or_else(|| "Unknown_Attribute".to_string()),
        value: u64_at(row, &["value"]),
        worst: u64_at(row, &["worst"]),
        thresh: u64_at(row, &["thresh"]),
        raw: u64_at(row, &["raw", "value"]),
        raw_string: str_at(row, &["raw", "string"]),
        prefail,
        when_failed: str_at(row, &["when_failed"]),
    })
}

fn nvme_health(log: &Value) -> NvmeHealth {
    NvmeHealth {
        critical_warning: u64_at(log, &["critical_warning"]),
        media_errors: u64_at(log, &["media_errors"]),
        num_err_log_entries: u64_at(log, &["num_err_log_entries"]),
        percentage_used: u64_at(log, &["percentage_used"]),
        available_spare: u64_at(log, &["available_spare"]),
        available_spare_threshold: u64_at(log, &["available_spare_threshold"]),
        unsafe_shutdowns: u64_at(log, &["unsafe_shutdowns"]),
        temperature: f64_at(log, &["temperature"]),
    }
}

fn scsi_health(root: &Value) -> Option<ScsiHealth> {
    let log = |page: &str| {
        u64_at(
            root,
            &["scsi_error_counter_log", page, "total_uncorrected_errors"],
        )
    };
    let h = ScsiHealth {
        grown_defect_list: u64_at(root, &["scsi_grown_defect_list"]),
        read_uncorrected: log("read"),
        write_uncorrected: log("write"),
        verify_uncorrected: log("verify"),
        non_medium_errors: u64_at(root, &["scsi_error_counter_log", "non_medium_errors"]),
    };
    (h != ScsiHealth::default()).then_some(h)
}

/// The verdict on one self-test log entry.
#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Passed,
    Failed,
    /// Aborted, interrupted, running, or unreadable.
    Other,
}

/// (failed count, latest passed) from whichever self-test log is present.
fn self_tests(root: &Value) -> (Option<u64>, Option<bool>) {
    let verdicts = ata_self_tests(root)
        .or_else(|| nvme_self_tests(root))
        .or_else(|| scsi_self_tests(root));
    let Some(verdicts) = verdicts else {
        return (None, None);
    };
    let failed = verdicts.iter().filter(|v| **v == Verdict::Failed).count();
    let latest = match verdicts.first() {
        Some(Verdict::Passed) => Some(true),
        Some(Verdict::Failed) => Some(false),
        _ => None,
    };
    (u64::try_from(failed).ok(), latest)
}

/// `ata_smart_self_test_log.{extended,standard}.table[]`: `status.passed`,
/// else the status byte's upper nibble (0 completed without error, 3-8
/// failures, others aborted or in progress).
fn ata_self_tests(root: &Value) -> Option<Vec<Verdict>> {
    let log = get(root, &["ata_smart_self_test_log"])?;
    let table = ["extended", "standard"]
        .iter()
        .find_map(|k| get(log, &[k, "table"]).and_then(Value::as_array));
    let Some(table) = table else {
        // The log section exists (e.g. "no self-tests have been logged")
        // but holds no table: zero failures, no latest result.
        return Some(Vec::new());
    };
    Some(
        table
            .iter()
            .map(|e| match bool_at(e, &["status", "passed"]) {
                Some(true) => Verdict::Passed,
                Some(false) => Verdict::Failed,
                None => match u64_at(e, &["status", "value"]).map(|s| s >> 4) {
                    Some(0) => Verdict::Passed,
                    Some(3..=8) => Verdict::Failed,
                    _ => Verdict::Other,
                },
            })
            .collect(),
    )
}

/// `nvme_self_test_log.table[]`: `self_test_result.value` 0 passed, 5-7
/// failed (fatal error, unknown segment, failed segment), others aborted.
fn nvme_self_tests(root: &Value) -> Option<Vec<Verdict>> {
    let log = get(root, &["nvme_self_test_log"])?;
    Some(
        array_at(log, &["table"])
            .iter()
            .map(|e| match u64_at(e, &["self_test_result", "value"]) {
                Some(0) => Verdict::Passed,
                Some(5..=7) => Verdict::Failed,
                _ => Verdict::Other,
            })
            .collect(),
    )
}

/// `scsi_self_test_0` ... `scsi_self_test_19`: `result.value` 0 completed,
/// 3-7 failed, 1-2 aborted, 15 in progress.
fn scsi_self_tests(root: &Value) -> Option<Vec<Verdict>> {
    let entries: Vec<Verdict> = (0..20)
        .map_while(|k| root.get(format!("scsi_self_test_{k}")))
        .map(|e| match u64_at(e, &["result", "value"]) {
            Some(0) => Verdict::Passed,
            Some(3..=7) => Verdict::Failed,
            _ => Verdict::Other,
        })
        .collect();
    (!entries.is_empty()).then_some(entries)
}

#[cfg(test)]
#[path = "smart_json_tests.rs"]
mod tests;
