//! The SMART series: what one disk's cached state (its last report with
//! data, standby, error, timings) looks like as metric families. Rendering
//! only reads memory; it runs on each scrape.

use super::smart::DeviceState;
use super::smart_json::{ExitFlag, SmartReport};
use crate::metrics::Families;
use crate::schema::{self, Desc};

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
    (5, &schema::SMART_REALLOCATED_SECTORS),
    (187, &schema::SMART_REPORTED_UNCORRECTABLE),
    // The low 16 bits of the raw value, which Seagate packs with two other
    // counters.
    (188, &schema::SMART_COMMAND_TIMEOUTS),
    (197, &schema::SMART_PENDING_SECTORS),
    (198, &schema::SMART_OFFLINE_UNCORRECTABLE),
    (199, &schema::SMART_UDMA_CRC_ERRORS),
];

/// Writes the series of one device from its cached state: its status
/// always, its figures once a run gave data.
pub(super) fn render_device(out: &mut Families, name: &str, st: &DeviceState) {
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
    out.family(&schema::SMART_DEVICE_ERROR)
        .sample(&l, b(st.error.is_some()));
    out.family(&schema::SMART_DEVICE_STANDBY)
        .sample(&l, b(st.standby));
    out.family(&schema::SMART_LAST_SUCCESS_TIMESTAMP_SECONDS)
        .sample(&l, st.last_success.unwrap_or(0.0));
    out.family(&schema::SMART_RUN_DURATION_SECONDS)
        .sample(&l, st.duration.as_secs_f64());
    if st.report.is_none() {
        return;
    }
    let firmware = r.firmware.clone().unwrap_or_default();
    let protocol = r.protocol.clone().unwrap_or_default();
    out.family(&schema::SMART_DEVICE_INFO).sample(
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
        out.family(&schema::SMART_EXIT_STATUS_BIT).sample(
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
    out.family(&schema::SMART_HEALTHY)
        .sample_some(&l, r.healthy.map(b));
    out.family(&schema::SMART_CAPACITY_BYTES)
        .sample_some(&l, r.capacity_bytes.map(|v| v as f64));
    out.family(&schema::SMART_ROTATION_RATE_RPM)
        .sample_some(&l, r.rotation_rate.map(|v| v as f64));
    out.family(&schema::SMART_POWER_ON_SECONDS)
        .sample_some(&l, r.power_on_hours.map(|v| v as f64 * 3600.0));
    out.family(&schema::SMART_TEMPERATURE_CELSIUS)
        .sample_some(&l, r.temperature_celsius);
    let mut seen = [false; 256];
    for a in &r.ata_attributes {
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
        out.family(&schema::SMART_ATTRIBUTE_RAW)
            .sample_some(&al, a.raw.map(|v| v as f64));
        out.family(&schema::SMART_ATTRIBUTE_VALUE)
            .sample_some(&al, a.value.map(|v| v as f64));
        out.family(&schema::SMART_ATTRIBUTE_WORST)
            .sample_some(&al, a.worst.map(|v| v as f64));
        out.family(&schema::SMART_ATTRIBUTE_THRESHOLD)
            .sample_some(&al, a.thresh.map(|v| v as f64));
    }
    for (id, desc) in ATA_COUNTERS {
        if let Some(raw) = r.attribute(id).and_then(|a| a.raw) {
            let v = if id == 188 { raw & 0xffff } else { raw };
            out.family(desc).sample(&l, v as f64);
        }
    }
    out.family(&schema::SMART_ERROR_LOG_ENTRIES)
        .sample_some(&l, r.ata_error_count.map(|v| v as f64));
    out.family(&schema::SMART_SELF_TEST_FAILED)
        .sample_some(&l, r.self_test_failed_count.map(|v| v as f64));
    out.family(&schema::SMART_SELF_TEST_LATEST_PASSED)
        .sample_some(&l, r.self_test_latest_passed.map(b));
    if let Some(n) = &r.nvme {
        if let Some(cw) = n.critical_warning {
            out.family(&schema::SMART_NVME_CRITICAL_WARNING)
                .sample(&l, cw as f64);
            for (bit, meaning) in NVME_WARNINGS {
                let bs = bit.to_string();
                out.family(&schema::SMART_NVME_CRITICAL_WARNING_BIT).sample(
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
            (&schema::SMART_NVME_MEDIA_ERRORS, n.media_errors, 1.0),
            (
                &schema::SMART_NVME_ERROR_LOG_ENTRIES,
                n.num_err_log_entries,
                1.0,
            ),
            (&schema::SMART_NVME_WEAR_RATIO, n.percentage_used, 0.01),
            (
                &schema::SMART_NVME_AVAILABLE_SPARE_RATIO,
                n.available_spare,
                0.01,
            ),
            (
                &schema::SMART_NVME_AVAILABLE_SPARE_THRESHOLD_RATIO,
                n.available_spare_threshold,
                0.01,
            ),
            (
                &schema::SMART_NVME_UNSAFE_SHUTDOWNS,
                n.unsafe_shutdowns,
                1.0,
            ),
        ] {
            out.family(desc)
                .sample_some(&l, v.map(|v| v as f64 * scale));
        }
    }
    if let Some(s) = &r.scsi {
        out.family(&schema::SMART_SCSI_GROWN_DEFECTS)
            .sample_some(&l, s.grown_defect_list.map(|v| v as f64));
        for (op, v) in [
            ("read", s.read_uncorrected),
            ("write", s.write_uncorrected),
            ("verify", s.verify_uncorrected),
        ] {
            if let Some(v) = v {
                out.family(&schema::SMART_SCSI_UNCORRECTED_ERRORS)
                    .sample(&[l[0], l[1], l[2], l[3], l[4], ("operation", op)], v as f64);
            }
        }
    }
}
