//! Units shared by the exporter half and the generator half: durations
//! (parsing `5m`, writing them the way Prometheus does, human display),
//! wall-clock time and calendar dates. Nothing else is shared between them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `500ms`, `15s`, `5m`, `1h`, `1d` (and combinations such as `1m30s`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("{s:?} is not a duration; write e.g. 500ms, 15s, 5m, 1h or 1d");
    let s = s.trim();
    if s.is_empty() {
        return Err(err());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(err());
        }
        let too_long = || format!("{s:?} is too long a duration");
        let n: u64 = rest[..digits].parse().map_err(|_| too_long())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = |mult: u64| n.checked_mul(mult).map(Duration::from_secs);
        let d = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => secs(1),
            "m" => secs(60),
            "h" => secs(3600),
            "d" => secs(86400),
            _ => return Err(err()),
        };
        total = d.and_then(|d| total.checked_add(d)).ok_or_else(too_long)?;
    }
    Ok(total)
}

/// The longest interval or timeout vigie accepts (a year).
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86400);

/// A duration for a flag: more than zero and at most [`MAX_DURATION`].
pub fn parse_flag_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "{s:?} is zero; give a positive duration such as 15s"
        ));
    }
    if d > MAX_DURATION {
        return Err(format!("{s:?} is longer than a year"));
    }
    Ok(d)
}

/// Seconds since the Unix epoch, as a float.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `1.5s`, `250ms`.
pub fn human(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// A duration as Prometheus writes it: `90s` -> `90s`, `600` -> `10m`.
pub fn prom_duration(secs: u64) -> String {
    if secs == 0 {
        "0s".into()
    } else if secs.is_multiple_of(86400) {
        format!("{}d", secs / 86400)
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// civil-from-days inverse).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DD` as days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in[m as usize - 1] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Today (UTC) in days since the epoch.
pub fn today() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86400) as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172800)));
        for bad in ["", "5", "5 minutes", "s", "1.5s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_flag_duration("0s").unwrap_err().contains("zero"));
        assert!(parse_flag_duration("99999999999999999999d").is_err());
        // No silent clamp: a duration beyond what a Duration holds is an error.
        for long in [
            "18446744073709551616s",
            "213503982334601d25216s",
            "18446744073709551615d",
        ] {
            assert!(
                parse_duration(long).unwrap_err().contains("too long"),
                "{long}"
            );
        }
        for max in ["18446744073709551615s", "213503982334601d25215s"] {
            assert_eq!(parse_duration(max), Ok(Duration::from_secs(u64::MAX)));
        }
        assert_eq!(
            parse_duration("18446744073709551615ms"),
            Ok(Duration::from_millis(u64::MAX))
        );
        assert!(parse_flag_duration("400d").unwrap_err().contains("year"));
        assert_eq!(parse_flag_duration("2s"), Ok(Duration::from_secs(2)));
    }
}
