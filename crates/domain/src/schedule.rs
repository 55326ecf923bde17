//! Campaign template schedules, as SailPoint's `Schedule` schema describes them: a cadence
//! (`WEEKLY`, `MONTHLY`, `ANNUALLY`, `CALENDAR`), selectors for months, days and hours, an
//! optional expiration and a time zone. [`Schedule`] is the wire shape, taken as sent;
//! [`Schedule::validate`] turns it into a [`ValidSchedule`], which can say when it fires next.
//!
//! What the spec leaves open, and what recert decided:
//!
//! - **Values.** WEEKLY days are `1`..`7` with `1` = Sunday (Quartz, which SailPoint runs on).
//!   MONTHLY days, and ANNUALLY days when `months` is set, are `1`..`31`, `L` (the last day) or
//!   `L-n` (`n` = 1..30 days before the last). ANNUALLY days without `months` are dates without
//!   a year (`--03-02`, LIST only); CALENDAR days are dates (`2021-03-02`, LIST only). Hours are
//!   `0`..`23`, months `1`..`12`. A day that a month lacks (`31` in April, `L-30` in February)
//!   is skipped in that month, not moved.
//! - **Ranges.** A RANGE has exactly two values, start and end, both included. Hours whose end
//!   is before the start: when `end + 12` is later than the start (and still an hour of the
//!   day), the end is read on a 12-hour clock, so the spec's "business hours" `9`..`5` is
//!   9 AM to 5 PM (`9`..`17`); otherwise the range wraps past midnight (`22`..`2` is 22, 23, 0,
//!   1, 2). Months and weekdays wrap (`11`..`2` is November to February). Days of the month do
//!   not wrap: a start after the end (`25`..`5`, `L-1`..`L-3`) is refused, and a range that
//!   starts at `L-n` must end at `L` or `L-m`.
//! - **Intervals** (`>= 1`) count within the enclosing period, as in cron: a RANGE with an
//!   interval takes every n-th value from its start; a LIST of one value with an interval
//!   takes every n-th value from it to the end of the period (hours `8` every 3 → 8, 11, .., 23;
//!   months `1` every 3 → 1, 4, 7, 10; days `L-5` every 2 → L-5, L-3, L-1). An interval with a
//!   LIST of several values, or with dates, is refused.
//! - **Occurrences** are at minute 0 of each selected hour, local time in the zone. A local time
//!   skipped by a daylight saving change fires at the first instant after the gap (2:00 on the
//!   day Chicago springs forward fires at 3:00 CDT); a local time that happens twice fires
//!   once, at the earlier instant.
//! - **Expiration** is the last instant at which the schedule may fire (an occurrence exactly
//!   at it still counts). It is RFC 3339, or the spec's example form `2022-09-19 13:55:26`
//!   (also with `T`), read as local time in the schedule's zone. A validated schedule writes it
//!   back as RFC 3339 in UTC, so that it validates against the spec's `date-time` format.
//! - **Time zones** (`timeZoneId`, default UTC): `UTC`, `Z`, `GMT`, `UT`; fixed offsets
//!   (`+05:30`, `-0500`, `+05`, also after `UTC`/`GMT`, at most 18 hours); the abbreviations of
//!   [`ABBREVIATIONS`], mapped to a zone that keeps daylight saving time (so `EST` means New
//!   York's time all year, unlike Java's fixed `EST`); then any IANA name known to the system's
//!   time zone database (`/usr/share/zoneinfo`).

mod next;
mod rules;
mod zone;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

pub use zone::ABBREVIATIONS;

/// A schedule as SailPoint sends and expects it (`Schedule` in its v3 description). Nothing is
/// checked here; see [`Schedule::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    #[serde(rename = "type")]
    pub kind: ScheduleType,
    /// Only for ANNUALLY schedules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Selector>,
    /// Required for every type (the spec says so in prose, not in its `required` list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Selector>,
    /// Required; optional here so that [`Schedule::validate`] can say so by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Selector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleType {
    Weekly,
    Monthly,
    Annually,
    Calendar,
}

impl ScheduleType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleType::Weekly => "WEEKLY",
            ScheduleType::Monthly => "MONTHLY",
            ScheduleType::Annually => "ANNUALLY",
            ScheduleType::Calendar => "CALENDAR",
        }
    }
}

/// Which months, days or hours are active: a LIST of values or a RANGE of two, with an optional
/// interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    #[serde(rename = "type")]
    pub kind: SelectorType,
    pub values: Vec<String>,
    /// Omitted rather than `null` when absent: the spec makes `months.interval` non-nullable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SelectorType {
    List,
    Range,
}

impl Selector {
    pub fn list<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        Selector {
            kind: SelectorType::List,
            values: values.into_iter().map(Into::into).collect(),
            interval: None,
        }
    }

    pub fn range(start: impl Into<String>, end: impl Into<String>) -> Self {
        Selector {
            kind: SelectorType::Range,
            values: vec![start.into(), end.into()],
            interval: None,
        }
    }

    pub fn every(mut self, interval: i64) -> Self {
        self.interval = Some(interval);
        self
    }
}

/// Why a [`Schedule`] is refused. Every message starts with the field at fault, as a path into
/// the schedule (`days.values[1]`, `hours.interval`, `timeZoneId`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field}: {value:?} is not {expected}")]
    InvalidValue {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

impl ScheduleError {
    /// The path of the field at fault, e.g. `days.values[1]`.
    pub fn field(&self) -> &str {
        match self {
            ScheduleError::Missing { field } => field,
            ScheduleError::InvalidValue { field, .. } | ScheduleError::Invalid { field, .. } => {
                field
            }
        }
    }

    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ScheduleError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// A schedule that passed [`Schedule::validate`], with its rules compiled for
/// [`ValidSchedule::next_after`]. It serializes as its normalized [`Schedule`] and deserializes
/// through [`Schedule::validate`], so it can stand in a wire type to be checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Schedule", into = "Schedule")]
pub struct ValidSchedule {
    schedule: Schedule,
    zone: jiff::tz::TimeZone,
    expiration: Option<Timestamp>,
    rules: rules::Rules,
}

impl Schedule {
    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<ValidSchedule, ScheduleError> {
        let rules = rules::Rules::parse(self)?;
        let zone = zone::resolve(self.time_zone_id.as_deref())?;
        let expiration = match &self.expiration {
            None => None,
            Some(s) => Some(zone::parse_expiration(s, &zone)?),
        };
        let mut schedule = self.clone();
        schedule.expiration = expiration.map(|t| t.to_string());
        Ok(ValidSchedule {
            schedule,
            zone,
            expiration,
            rules,
        })
    }
}

impl ValidSchedule {
    /// The schedule as given, except that `expiration` is RFC 3339 in UTC.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn kind(&self) -> ScheduleType {
        self.schedule.kind
    }

    pub fn expiration(&self) -> Option<Timestamp> {
        self.expiration
    }

    /// The IANA name of the zone the schedule runs in (`America/Chicago` for `CST`), or its
    /// fixed offset (`+05:30`), or `UTC`.
    pub fn time_zone_name(&self) -> String {
        zone::name(&self.zone)
    }

    /// The zone's offset from UTC at `at` (for formatting local dates), `None` out of range.
    pub fn offset_at(&self, at: Timestamp) -> Option<time::UtcOffset> {
        let t = zone::from_timestamp(at)?;
        let secs = self.zone.to_offset(t).seconds();
        time::UtcOffset::from_whole_seconds(secs).ok()
    }
}

impl TryFrom<Schedule> for ValidSchedule {
    type Error = ScheduleError;

    fn try_from(s: Schedule) -> Result<Self, ScheduleError> {
        s.validate()
    }
}

impl From<ValidSchedule> for Schedule {
    fn from(v: ValidSchedule) -> Self {
        v.schedule
    }
}
