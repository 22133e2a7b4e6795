//! The SMART series: what one disk's cached state (its last report with
//! data, standby, error, timings) looks like as metric families. Rendering
//! only reads memory; it runs once per change of the disks' states, and
//! scrapes reuse it.

use super::smart::DeviceState;
use super::smart_json::{ExitFlag, SmartReport};
use crate::metrics::{Families, Unit};
use crate::schema::Desc;

// The families this file emits: the metric schema's part for the smart collector.

/// A disk: its path, smartctl's type, and its stable identity.
const DISK: &[&str] = &["device", "type", "model", "serial", "wwn"];
const DISK_INFO: &[&str] = &[
    "device", "type", "model", "serial", "wwn", "firmware", "protocol",
];
const DISK_BIT: &[&str] = &["device", "type", "model", "serial", "wwn", "bit", "meaning"];
const DISK_ATTRIBUTE: &[&str] = &[
    "device", "type", "model", "serial", "wwn", "id", "name", "prefail",
];
const DISK_OPERATION: &[&str] = &["device", "type", "model", "serial", "wwn", "operation"];

pub const SMART_DEVICE_ERROR: Desc = Desc::gauge(
    "vigie_smart_device_error",
    "1 if the last smartctl run on the device gave no usable data (see the log), else 0.",
    DISK,
);
pub const SMART_DEVICE_STANDBY: Desc = Desc::gauge(
    "vigie_smart_device_standby",
    "1 if the disk was asleep at the last run and was left asleep (its last values are kept), else 0.",
    DISK,
);
pub const SMART_LAST_SUCCESS_TIMESTAMP_SECONDS: Desc = Desc::gauge(
    "vigie_smart_last_success_timestamp_seconds",
    "Unix time of the last smartctl run that gave data for the device; 0 if none yet.",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_RUN_DURATION_SECONDS: Desc = Desc::gauge(
    "vigie_smart_run_duration_seconds",
    "How long the last smartctl run on the device took.",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_OUT_OF_RANGE_VALUES: Desc = Desc::gauge(
    "vigie_smart_out_of_range_values",
    "Values of the last smartctl report dropped because no disk can report them (a 30,000 °C temperature): parse errors, counted; 0 when every value was plausible.",
    DISK,
);
pub const SMART_DEVICE_INFO: Desc = Desc::gauge(
    "vigie_smart_device_info",
    "Always 1: identity of a disk (model, serial, firmware, protocol).",
    DISK_INFO,
);
pub const SMART_EXIT_STATUS_BIT: Desc = Desc::gauge(
    "vigie_smart_exit_status_bit",
    "smartctl exit status bits 2-7 of the last run with data: 3 disk failing, 4 prefail attributes at or below threshold, 6 errors in the error log, 7 self-test errors.",
    DISK_BIT,
);
pub const SMART_HEALTHY: Desc = Desc::gauge(
    "vigie_smart_healthy",
    "1 if the disk's overall SMART self-assessment passed, 0 if the disk says it is failing.",
    DISK,
);
pub const SMART_CAPACITY_BYTES: Desc = Desc::gauge(
    "vigie_smart_capacity_bytes",
    "User capacity of the disk.",
    DISK,
)
.unit(Unit::Bytes);
pub const SMART_ROTATION_RATE_RPM: Desc = Desc::gauge(
    "vigie_smart_rotation_rate_rpm",
    "Rotation rate in rpm; 0 for solid-state disks.",
    DISK,
);
pub const SMART_POWER_ON_SECONDS: Desc = Desc::gauge(
    "vigie_smart_power_on_seconds",
    "Time the disk has been powered on (power-on hours x 3600).",
    DISK,
)
.unit(Unit::Seconds);
pub const SMART_TEMPERATURE_CELSIUS: Desc = Desc::gauge(
    "vigie_smart_temperature_celsius",
    "Current temperature of the disk.",
    DISK,
);
pub const SMART_ATTRIBUTE_RAW: Desc = Desc::gauge(
    "vigie_smart_attribute_raw",
    "Raw value of an ATA SMART attribute (raw.value as smartctl decodes it; some vendors pack several fields).",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_VALUE: Desc = Desc::gauge(
    "vigie_smart_attribute_value",
    "Normalised value of an ATA SMART attribute (lower is worse).",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_WORST: Desc = Desc::gauge(
    "vigie_smart_attribute_worst",
    "Worst normalised value an ATA SMART attribute has had.",
    DISK_ATTRIBUTE,
);
pub const SMART_ATTRIBUTE_THRESHOLD: Desc = Desc::gauge(
    "vigie_smart_attribute_threshold",
    "Failure threshold of an ATA SMART attribute: at or below it, the disk says it fails.",
    DISK_ATTRIBUTE,
);
pub const SMART_ERROR_LOG_ENTRIES: Desc = Desc::gauge(
    "vigie_smart_error_log_entries",
    "Errors recorded in the disk's ATA error log.",
    DISK,
);
pub const SMART_SELF_TEST_FAILED: Desc = Desc::gauge(
    "vigie_smart_self_test_failed",
    "Failed tests in the disk's self-test log.",
    DISK,
);
pub const SMART_SELF_TEST_LATEST_PASSED: Desc = Desc::gauge(
    "vigie_smart_self_test_latest_passed",
    "1 if the most recent completed self-test passed, 0 if it failed.",
    DISK,
);
pub const SMART_NVME_CRITICAL_WARNING: Desc = Desc::gauge(
    "vigie_smart_nvme_critical_warning",
    "NVMe critical warning byte; anything but 0 needs attention.",
    DISK,
);
pub const SMART_NVME_CRITICAL_WARNING_BIT: Desc = Desc::gauge(
    "vigie_smart_nvme_critical_warning_bit",
    "One bit of the NVMe critical warning byte, with its meaning.",
    DISK_BIT,
);
pub const SMART_SCSI_GROWN_DEFECTS: Desc = Desc::gauge(
    "vigie_smart_scsi_grown_defects",
    "Sectors the SCSI/SAS disk has remapped since it left the factory (grown defect list).",
    DISK,
);
pub const SMART_SCSI_UNCORRECTED_ERRORS: Desc = Desc::gauge(
    "vigie_smart_scsi_uncorrected_errors",
    "Errors the SCSI/SAS disk could not correct, by operation.",
    DISK_OPERATION,
);
pub const SMART_DEVICES: Desc = Desc::gauge(
    "vigie_smart_devices",
    "Disks vigie reads with smartctl.",
    &[],
);
pub const SMART_REALLOCATED_SECTORS: Desc = Desc::gauge(
    "vigie_smart_reallocated_sectors",
    "Reallocated sectors (ATA attribute 5, raw value).",
    DISK,
);
pub const SMART_REPORTED_UNCORRECTABLE: Desc = Desc::gauge(
    "vigie_smart_reported_uncorrectable",
    "Errors the drive could not correct (ATA attribute 187, raw value).",
    DISK,
);
pub const SMART_COMMAND_TIMEOUTS: Desc = Desc::gauge(
    "vigie_smart_command_timeouts",
    "Aborted commands due to timeouts (ATA attribute 188; the low 16 bits of the raw value, which Seagate packs with two other counters).",
    DISK,
);
pub const SMART_PENDING_SECTORS: Desc = Desc::gauge(
    "vigie_smart_pending_sectors",
    "Unstable sectors waiting to be remapped (ATA attribute 197, raw value).",
    DISK,
);
pub const SMART_OFFLINE_UNCORRECTABLE: Desc = Desc::gauge(
    "vigie_smart_offline_uncorrectable",
    "Sectors found uncorrectable by offline scans (ATA attribute 198, raw value).",
    DISK,
);
pub const SMART_UDMA_CRC_ERRORS: Desc = Desc::gauge(
    "vigie_smart_udma_crc_errors",
    "Interface CRC errors, usually a bad cable (ATA attribute 199, raw value).",
    DISK,
);
pub const SMART_NVME_MEDIA_ERRORS: Desc = Desc::gauge(
    "vigie_smart_nvme_media_errors",
    "Unrecovered data integrity errors (NVMe media_errors).",
    DISK,
);
pub const SMART_NVME_ERROR_LOG_ENTRIES: Desc = Desc::gauge(
    "vigie_smart_nvme_error_log_entries",
    "Entries in the NVMe error log over the device's life.",
    DISK,
);
pub const SMART_NVME_WEAR_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_wear_ratio",
    "Estimated share of the device's rated endurance used (percentage_used / 100; may exceed 1).",
    DISK,
);
pub const SMART_NVME_AVAILABLE_SPARE_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_available_spare_ratio",
    "Remaining spare capacity (available_spare / 100).",
    DISK,
);
pub const SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO: Desc = Desc::gauge(
    "vigie_smart_nvme_available_spare_threshold_ratio",
    "Spare capacity below which the device raises a critical warning (available_spare_threshold / 100).",
    DISK,
);
pub const SMART_NVME_UNSAFE_SHUTDOWNS: Desc = Desc::gauge(
    "vigie_smart_nvme_unsafe_shutdowns",
    "Power losses without a clean shutdown.",
    DISK,
);

/// The families this collector exports, in export order.
pub const FAMILIES: &[&Desc] = &[
    &SMART_DEVICE_ERROR,
    &SMART_DEVICE_STANDBY,
    &SMART_LAST_SUCCESS_TIMESTAMP_SECONDS,
    &SMART_RUN_DURATION_SECONDS,
    &SMART_OUT_OF_RANGE_VALUES,
    &SMART_DEVICE_INFO,
    &SMART_EXIT_STATUS_BIT,
    &SMART_HEALTHY,
    &SMART_CAPACITY_BYTES,
    &SMART_ROTATION_RATE_RPM,
    &SMART_POWER_ON_SECONDS,
    &SMART_TEMPERATURE_CELSIUS,
    &SMART_ATTRIBUTE_RAW,
    &SMART_ATTRIBUTE_VALUE,
    &SMART_ATTRIBUTE_WORST,
    &SMART_ATTRIBUTE_THRESHOLD,
    &SMART_ERROR_LOG_ENTRIES,
    &SMART_SELF_TEST_FAILED,
    &SMART_SELF_TEST_LATEST_PASSED,
    &SMART_NVME_CRITICAL_WARNING,
    &SMART_NVME_CRITICAL_WARNING_BIT,
    &SMART_SCSI_GROWN_DEFECTS,
    &SMART_SCSI_UNCORRECTED_ERRORS,
    &SMART_DEVICES,
    &SMART_REALLOCATED_SECTORS,
    &SMART_REPORTED_UNCORRECTABLE,
    &SMART_COMMAND_TIMEOUTS,
    &SMART_PENDING_SECTORS,
    &SMART_OFFLINE_UNCORRECTABLE,
    &SMART_UDMA_CRC_ERRORS,
    &SMART_NVME_MEDIA_ERRORS,
    &SMART_NVME_ERROR_LOG_ENTRIES,
    &SMART_NVME_WEAR_RATIO,
    &SMART_NVME_AVAILABLE_SPARE_RATIO,
    &SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO,
    &SMART_NVME_UNSAFE_SHUTDOWNS,
];

/// NVMe critical_warning bits (NVMe base specification, SMART / Health log).
const NVME_WARNINGS: [(u8, &str); 6] = [
    (0, "spare_below_threshold"),
    (1, "temperature"),
    (2, "reliability_degraded"),
    (3, "read_only"),
    (4, "volatile_memory_backup_failed"),
    (5, "persistent_memory_read_only"),
];

/// The ATA pre-fail counters exported under their own names.
const ATA_COUNTERS: [(u8, &Desc); 6] = [
    (5, &SMART_REALLOCATED_SECTORS),
    (187, &SMART_REPORTED_UNCORRECTABLE),
    // The low 16 bits of the raw value, which Seagate packs with two other
    // counters.
    (188, &SMART_COMMAND_TIMEOUTS),
    (197, &SMART_PENDING_SECTORS),
    (198, &SMART_OFFLINE_UNCORRECTABLE),
    (199, &SMART_UDMA_CRC_ERRORS),
];

/// Writes the series of one device from its cached state: its status
/// always, its figures once a run gave data; the ATA attribute table only
/// with `attribute_table`.
pub(super) fn render_device(
    out: &mut Families,
    name: &str,
    st: &DeviceState,
    attribute_table: bool,
) {
    let none = SmartReport::default();
    let r = st.report.as_ref().unwrap_or(&none);
    let (model, serial, wwn) = (
        r.model.clone().unwrap_or_default(),
        r.serial.clone().unwrap_or_default(),
        r.wwn.clone().unwrap_or_default(),
    );
    let l: [(&'static str, &str); 5] = [
        ("device", name),
        ("type", st.kind.as_str()),
        ("model", model.as_str()),
        ("serial", serial.as_str()),
        ("wwn", wwn.as_str()),
    ];
    let b = |v: bool| if v { 1.0 } else { 0.0 };
    out.family(&SMART_DEVICE_ERROR)
        .sample(&l, b(st.error.is_some()));
    out.family(&SMART_DEVICE_STANDBY).sample(&l, b(st.standby));
    out.family(&SMART_LAST_SUCCESS_TIMESTAMP_SECONDS)
        .sample(&l, st.last_success.unwrap_or(0.0));
    out.family(&SMART_RUN_DURATION_SECONDS)
        .sample(&l, st.duration.as_secs_f64());
    if st.report.is_none() {
        return;
    }
    out.family(&SMART_OUT_OF_RANGE_VALUES)
        .sample(&l, r.out_of_range.len() as f64);
    let firmware = r.firmware.clone().unwrap_or_default();
    let protocol = r.protocol.clone().unwrap_or_default();
    out.family(&SMART_DEVICE_INFO).sample(
        &[
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            ("firmware", firmware.as_str()),
            ("protocol", protocol.as_str()),
        ],
        1.0,
    );
    for flag in ExitFlag::ALL.into_iter().filter(|f| !f.is_fatal()) {
        let bit = flag.bit().to_string();
        out.family(&SMART_EXIT_STATUS_BIT).sample(
            &[
                l[0],
                l[1],
                l[2],
                l[3],
                l[4],
                ("bit", bit.as_str()),
                ("meaning", flag.name()),
            ],
            b(r.exit().has(flag)),
        );
    }
    out.family(&SMART_HEALTHY).sample_some(&l, r.healthy.map(b));
    out.family(&SMART_CAPACITY_BYTES)
        .sample_some(&l, r.capacity_bytes.map(|v| v as f64));
    out.family(&SMART_ROTATION_RATE_RPM)
        .sample_some(&l, r.rotation_rate.map(|v| v as f64));
    out.family(&SMART_POWER_ON_SECONDS)
        .sample_some(&l, r.power_on_hours.map(|v| v as f64 * 3600.0));
    out.family(&SMART_TEMPERATURE_CELSIUS)
        .sample_some(&l, r.temperature_celsius);
    let mut seen = [false; 256];
    for a in r.ata_attributes.iter().filter(|_| attribute_table) {
        // Firmware that lists an attribute twice would give duplicate
        // series: the first row wins.
        if std::mem::replace(&mut seen[a.id as usize], true) {
            continue;
        }
        let id = a.id.to_string();
        let al = [
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            ("id", id.as_str()),
            ("name", a.name.as_str()),
            ("prefail", if a.prefail { "1" } else { "0" }),
        ];
        out.family(&SMART_ATTRIBUTE_RAW)
            .sample_some(&al, a.raw.map(|v| v as f64));
        out.family(&SMART_ATTRIBUTE_VALUE)
            .sample_some(&al, a.value.map(|v| v as f64));
        out.family(&SMART_ATTRIBUTE_WORST)
            .sample_some(&al, a.worst.map(|v| v as f64));
        out.family(&SMART_ATTRIBUTE_THRESHOLD)
            .sample_some(&al, a.thresh.map(|v| v as f64));
    }
    for (id, desc) in ATA_COUNTERS {
        if let Some(raw) = r.attribute(id).and_then(|a| a.raw) {
            let v = if id == 188 { raw & 0xffff } else { raw };
            out.family(desc).sample(&l, v as f64);
        }
    }
    out.family(&SMART_ERROR_LOG_ENTRIES)
        .sample_some(&l, r.ata_error_count.map(|v| v as f64));
    out.family(&SMART_SELF_TEST_FAILED)
        .sample_some(&l, r.self_test_failed_count.map(|v| v as f64));
    out.family(&SMART_SELF_TEST_LATEST_PASSED)
        .sample_some(&l, r.self_test_latest_passed.map(b));
    if let Some(n) = &r.nvme {
        if let Some(cw) = n.critical_warning {
            out.family(&SMART_NVME_CRITICAL_WARNING)
                .sample(&l, cw as f64);
            for (bit, meaning) in NVME_WARNINGS {
                let bs = bit.to_string();
                out.family(&SMART_NVME_CRITICAL_WARNING_BIT).sample(
                    &[
                        l[0],
                        l[1],
                        l[2],
                        l[3],
                        l[4],
                        ("bit", bs.as_str()),
                        ("meaning", meaning),
                    ],
                    b(cw & (1 << bit) != 0),
                );
            }
        }
        for (desc, v, scale) in [
            (&SMART_NVME_MEDIA_ERRORS, n.media_errors, 1.0),
            (&SMART_NVME_ERROR_LOG_ENTRIES, n.num_err_log_entries, 1.0),
            (&SMART_NVME_WEAR_RATIO, n.percentage_used, 0.01),
            (&SMART_NVME_AVAILABLE_SPARE_RATIO, n.available_spare, 0.01),
            (
                &SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO,
                n.available_spare_threshold,
                0.01,
            ),
            (&SMART_NVME_UNSAFE_SHUTDOWNS, n.unsafe_shutdowns, 1.0),
        ] {
            out.family(desc)
                .sample_some(&l, v.map(|v| v as f64 * scale));
        }
    }
    if let Some(s) = &r.scsi {
        out.family(&SMART_SCSI_GROWN_DEFECTS)
            .sample_some(&l, s.grown_defect_list.map(|v| v as f64));
        for (op, v) in [
            ("read", s.read_uncorrected),
            ("write", s.write_uncorrected),
            ("verify", s.verify_uncorrected),
        ] {
            if let Some(v) = v {
                out.family(&SMART_SCSI_UNCORRECTED_ERRORS)
                    .sample(&[l[0], l[1], l[2], l[3], l[4], ("operation", op)], v as f64);
            }
        }
    }
}
