//! ISO 8601 durations as campaign templates give `deadlineDuration` (`P2W`, `P1M`, `P1Y2M10DT2H`).
//! Years and months are calendar units: a month from 31 January is the last day of February.

use std::fmt;

use time::{Date, Month, OffsetDateTime};

use crate::Timestamp;

/// A parsed duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

/// Why a text is not an ISO 8601 duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an ISO 8601 duration such as P2W, P30D, P1M or P1Y2M10DT2H")]
pub struct InvalidDuration(pub String);

impl IsoDuration {
    pub fn parse(s: &str) -> Result<Self, InvalidDuration> {
        let bad = || InvalidDuration(s.to_owned());
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        if rest.is_empty() || rest.len() > 40 {
            return Err(bad());
        }
        let mut d = IsoDuration::default();
        let mut in_time = false;
        let mut number = String::new();
        let mut seen = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' => number.push(c),
                'T' if !in_time && number.is_empty() => in_time = true,
                unit => {
                    let n: u32 = number.parse().map_err(|_| bad())?;
                    number.clear();
                    let key = if in_time {
                        unit.to_ascii_lowercase()
                    } else {
                        unit
                    };
                    if seen.contains(key) {
                        return Err(bad());
                    }
                    seen.push(key);
                    let slot = match (in_time, unit) {
                        (false, 'Y') => &mut d.years,
                        (false, 'M') => &mut d.months,
                        (false, 'W') => &mut d.weeks,
                        (false, 'D') => &mut d.days,
                        (true, 'H') => &mut d.hours,
                        (true, 'M') => &mut d.minutes,
                        (true, 'S') => &mut d.seconds,
                        _ => return Err(bad()),
                    };
                    *slot = n;
                }
            }
        }
        if !number.is_empty() || seen.is_empty() {
            return Err(bad());
        }
        if d.years > 100 || d.months > 1200 || d.weeks > 5200 || d.days > 36600 {
            return Err(bad());
        }
        Ok(d)
    }

    /// `at` plus this duration, calendar-aware for years and months (in UTC).
    pub fn after(&self, at: Timestamp) -> Timestamp {
        let dt = at.datetime();
        let total_months =
            i64::from(dt.month() as u8) - 1 + i64::from(self.months) + 12 * i64::from(self.years);
        let year = dt.year() + (total_months / 12) as i32;
        let month = Month::try_from((total_months % 12 + 1) as u8).unwrap_or(Month::December);
        let last = last_day(year, month);
        let date = Date::from_calendar_date(year, month, dt.day().min(last)).unwrap_or(dt.date());
        let moved: OffsetDateTime = dt.replace_date(date);
        let extra = time::Duration::weeks(i64::from(self.weeks))
            + time::Duration::days(i64::from(self.days))
            + time::Duration::hours(i64::from(self.hours))
            + time::Duration::minutes(i64::from(self.minutes))
            + time::Duration::seconds(i64::from(self.seconds));
        Timestamp::from_datetime(moved + extra)
    }
}

fn last_day(year: i32, month: Month) -> u8 {
    time::util::days_in_month(month, year)
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P")?;
        for (n, u) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if n > 0 {
                write!(f, "{n}{u}")?;
            }
        }
        if self.hours + self.minutes + self.seconds > 0 {
            write!(f, "T")?;
            for (n, u) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if n > 0 {
                    write!(f, "{n}{u}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn parses_and_adds_calendar_units() {
        let d = IsoDuration::parse("P2W").unwrap();
        assert_eq!(d.weeks, 2);
        assert_eq!(
            d.after(ts("2020-01-01T00:00:00Z")),
            ts("2020-01-15T00:00:00Z")
        );
        let m = IsoDuration::parse("P1M").unwrap();
        assert_eq!(
            m.after(ts("2021-01-31T10:00:00Z")),
            ts("2021-02-28T10:00:00Z")
        );
        let y = IsoDuration::parse("P1Y2M10DT2H30M").unwrap();
        assert_eq!(
            y.after(ts("2020-12-01T00:00:00Z")),
            ts("2022-02-11T02:30:00Z")
        );
        assert_eq!(y.to_string(), "P1Y2M10DT2H30M");
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "", "P", "2W", "P2", "PT", "P1H", "P1W1W", "P-1D", "P1.5D", "P999Y",
        ] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad}");
        }
    }
}
