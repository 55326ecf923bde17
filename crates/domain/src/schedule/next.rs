//! When a schedule fires next.
//!
//! Local (date, hour) pairs are visited in order, and the instant of each is non-decreasing in
//! that order (a skipped hour fires at the end of the gap, a repeated one at its first
//! instant), so the first instant after `after` is the answer. The search is bounded: every
//! pattern but CALENDAR repeats within eight years (29 February is the rarest day), so nine
//! years without a match means never.

use jiff::ToSpan;
use jiff::civil::Date;

use super::ValidSchedule;
use super::rules::Days;
use super::zone::{from_timestamp, instant, to_timestamp};
use crate::time::Timestamp;

const MONTHS_SEARCHED: usize = 9 * 12;

impl ValidSchedule {
    /// The first occurrence strictly after `after`; `None` once the schedule has expired, when
    /// no CALENDAR date is left, or when the days never happen (31 February).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        if self.expiration.is_some_and(|e| after >= e) {
            return None;
        }
        let after = from_timestamp(after)?;
        let today = self.zone.to_datetime(after).date();
        let next = match &self.rules.days {
            Days::Dates(dates) => dates
                .iter()
                .filter(|d| **d >= today)
                .find_map(|d| self.first_on(*d, after)),
            _ => self.scan_months(today, after),
        };
        let next = to_timestamp(next?);
        match self.expiration {
            Some(e) if next > e => None,
            _ => Some(next),
        }
    }

    fn scan_months(&self, today: Date, after: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let mut first = today.first_of_month();
        for _ in 0..MONTHS_SEARCHED {
            if self.rules.months & (1 << first.month()) != 0 {
                let days = self.rules.days.mask(first);
                let found = (1..=first.days_in_month())
                    .filter(|d| days & (1 << d) != 0)
                    .filter_map(|d| first.with().day(d).build().ok())
                    .filter(|d| *d >= today)
                    .find_map(|d| self.first_on(d, after));
                if found.is_some() {
                    return found;
                }
            }
            first = first.checked_add(1.month()).ok()?;
        }
        None
    }

    /// The first selected hour of `date` that falls after `after`.
    fn first_on(&self, date: Date, after: jiff::Timestamp) -> Option<jiff::Timestamp> {
        (0..24)
            .filter(|h| self.rules.hours & (1 << h) != 0)
            .filter_map(|h| instant(&self.zone, date.at(h, 0, 0, 0)))
            .find(|t| *t > after)
    }
}
