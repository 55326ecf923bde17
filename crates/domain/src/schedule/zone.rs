//! Time zones and local times: `timeZoneId`, `expiration`, and the instant at which a local time
//! fires.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};

use super::ScheduleError;
use crate::time::Timestamp;

/// The abbreviations accepted as `timeZoneId` (in any case), with the zone each stands for.
/// The standard and the daylight name of a zone both map to it, and the zone keeps its
/// daylight saving time all year: a schedule "at 1 AM CST" runs at 1 AM in Chicago in July too.
/// They are looked up before IANA names, where `EST`, `MST` and `HST` are fixed offsets.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("EST", "America/New_York"),
    ("EDT", "America/New_York"),
    ("CST", "America/Chicago"),
    ("CDT", "America/Chicago"),
    ("MST", "America/Denver"),
    ("MDT", "America/Denver"),
    ("PST", "America/Los_Angeles"),
    ("PDT", "America/Los_Angeles"),
    ("AKST", "America/Anchorage"),
    ("AKDT", "America/Anchorage"),
    ("HST", "Pacific/Honolulu"),
    ("WET", "Europe/Lisbon"),
    ("WEST", "Europe/Lisbon"),
    ("BST", "Europe/London"),
    ("CET", "Europe/Paris"),
    ("CEST", "Europe/Paris"),
    ("EET", "Europe/Athens"),
    ("EEST", "Europe/Athens"),
    ("MSK", "Europe/Moscow"),
];

const UTC_NAMES: [&str; 4] = ["UTC", "Z", "GMT", "UT"];

/// The zone named by `timeZoneId`; UTC when there is none.
pub(super) fn resolve(id: Option<&str>) -> Result<TimeZone, ScheduleError> {
    let Some(id) = id else {
        return Ok(TimeZone::UTC);
    };
    if UTC_NAMES.iter().any(|u| id.eq_ignore_ascii_case(u)) {
        return Ok(TimeZone::UTC);
    }
    if let Some(offset) = fixed_offset(id) {
        return Ok(TimeZone::fixed(offset));
    }
    if let Some((_, iana)) = ABBREVIATIONS
        .iter()
        .find(|(abbr, _)| id.eq_ignore_ascii_case(abbr))
    {
        return TimeZone::get(iana).map_err(|_| {
            ScheduleError::invalid(
                "timeZoneId",
                format!("{id:?} stands for {iana}, which the system's time zone database lacks"),
            )
        });
    }
    TimeZone::get(id)
        .map_err(|_| ScheduleError::invalid("timeZoneId", format!("unknown time zone {id:?}")))
}

/// `+05:30`, `-0500`, `+5`, optionally after `UTC` or `GMT` (as Java reads `GMT+5`: five hours
/// east, unlike the IANA `Etc/GMT+5`); at most 18 hours.
fn fixed_offset(id: &str) -> Option<Offset> {
    let rest = match id.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("UTC") || p.eq_ignore_ascii_case("GMT") => &id[3..],
        _ => id,
    };
    let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &rest[1..];
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) if h.len() == 2 && m.len() == 2 => (h, m),
        Some(_) => return None,
        None if digits.len() == 4 => digits.split_at(2),
        None if digits.len() <= 2 => (digits, "00"),
        None => return None,
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(h) || !all_digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h * 60 + m > 18 * 60 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// The zone's IANA name, or its offset for a fixed one.
pub(super) fn name(tz: &TimeZone) -> String {
    match (tz.iana_name(), tz.to_fixed_offset()) {
        (Some(name), _) => name.to_owned(),
        (None, Ok(offset)) => offset.to_string(),
        (None, Err(_)) => "UTC".to_owned(),
    }
}

/// RFC 3339, or a local date-time in `tz` as the spec's example writes it.
pub(super) fn parse_expiration(s: &str, tz: &TimeZone) -> Result<Timestamp, ScheduleError> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| DateTime::strptime(f, s).ok())
        .and_then(|dt| instant(tz, dt))
        .map(to_timestamp)
        .ok_or_else(|| ScheduleError::InvalidValue {
            field: "expiration".into(),
            value: s.to_owned(),
            expected: "an RFC 3339 date-time or a local one such as 2022-09-19 13:55:26",
        })
}

/// When the local time `dt` happens in `tz`. A time skipped by a change of offset happens at
/// the change (the first instant after the gap); a time that happens twice, at the first.
/// `None` only at the ends of the representable range.
pub(super) fn instant(tz: &TimeZone, dt: DateTime) -> Option<jiff::Timestamp> {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, after } => {
            let (a, b) = (before.to_timestamp(dt).ok()?, after.to_timestamp(dt).ok()?);
            Some(a.min(b))
        }
        AmbiguousOffset::Gap { before, after } => {
            let (a, b) = (before.to_timestamp(dt).ok()?, after.to_timestamp(dt).ok()?);
            let (early, late) = (a.min(b), a.max(b));
            // Read with the offset after the gap, `dt` is just before the change; the clock
            // jumps past `dt` at the change itself.
            let change = tz
                .following(early)
                .next()
                .map(|t| t.timestamp())
                .filter(|t| *t <= late);
            Some(change.unwrap_or(late))
        }
    }
}

pub(super) fn to_timestamp(t: jiff::Timestamp) -> Timestamp {
    Timestamp::from_unix_millis(t.as_millisecond())
}

pub(super) fn from_timestamp(t: Timestamp) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(t.unix_millis()).ok()
}
