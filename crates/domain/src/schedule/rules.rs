//! The selectors of a [`Schedule`], checked and compiled into sets of months, days and hours.

use jiff::civil::Date;

use super::{Schedule, ScheduleError, ScheduleType, Selector, SelectorType};

const ALL_MONTHS: u16 = 0b1_1111_1111_1110;
const WEEKDAY: &str = "a day of the week (1-7, 1 = Sunday)";
const MONTH_DAY: &str = "a day of the month (1-31, L, L-1 .. L-30)";
const MONTH_DAY_NOT_DATE: &str = "a day of the month (1-31, L, L-1 .. L-30); \
     dates without year (--MM-DD) are for ANNUALLY schedules without months";
const YEAR_DAY: &str = "a date without year (--MM-DD); days of the month need months to be set";
const DATE: &str = "a date (YYYY-MM-DD)";
const HOUR: &str = "an hour (0-23)";
const MONTH: &str = "a month (1-12)";

/// What a schedule selects, in forms that are cheap to test a date against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rules {
    /// Bit `m` for each active month, 1 = January.
    pub months: u16,
    pub days: Days,
    /// Bit `h` for each active hour, 0..=23.
    pub hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Days {
    /// Bit `d` for each active weekday, 1 = Sunday .. 7 = Saturday.
    Weekdays(u8),
    OfMonth(MonthDays),
    /// (month, day) pairs: ANNUALLY without months.
    OfYear(Vec<(i8, i8)>),
    /// CALENDAR dates, sorted, without duplicates.
    Dates(Vec<Date>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DayOfMonth {
    Day(i8),
    /// `L` is `FromLast(0)`, `L-1` is `FromLast(1)`.
    FromLast(i8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MonthDays {
    List(Vec<DayOfMonth>),
    Range {
        start: DayOfMonth,
        end: DayOfMonth,
        step: usize,
    },
}

/// A selector after its shape was checked. A LIST of one value with an interval is a RANGE to
/// the end of the period.
enum Shape<T> {
    List(Vec<T>),
    Range(T, T, usize),
}

impl Rules {
    pub fn parse(s: &Schedule) -> Result<Self, ScheduleError> {
        if s.months.is_some() && s.kind != ScheduleType::Annually {
            return Err(ScheduleError::invalid(
                "months",
                format!("only valid for ANNUALLY schedules, not {}", s.kind.as_str()),
            ));
        }
        let days = s
            .days
            .as_ref()
            .ok_or(ScheduleError::Missing { field: "days" })?;
        let (months, days) = match (s.kind, &s.months) {
            (ScheduleType::Weekly, _) => (ALL_MONTHS, Days::Weekdays(weekdays(days)?)),
            (ScheduleType::Monthly, _) => (ALL_MONTHS, Days::OfMonth(month_days(days)?)),
            (ScheduleType::Annually, Some(m)) => (months(m)?, Days::OfMonth(month_days(days)?)),
            (ScheduleType::Annually, None) => (ALL_MONTHS, Days::OfYear(year_days(days)?)),
            (ScheduleType::Calendar, _) => (ALL_MONTHS, Days::Dates(dates(days)?)),
        };
        let hours = hours(
            s.hours
                .as_ref()
                .ok_or(ScheduleError::Missing { field: "hours" })?,
        )?;
        Ok(Rules {
            months,
            days,
            hours,
        })
    }
}

impl Days {
    /// Bit `d` for each active day of the month that starts on `first`.
    pub fn mask(&self, first: Date) -> u32 {
        let last = first.days_in_month();
        match self {
            Days::Weekdays(active) => {
                let w0 = first.weekday().to_sunday_one_offset();
                (1..=last)
                    .filter(|d| active & (1 << ((w0 + d - 2) % 7 + 1)) != 0)
                    .fold(0, |m, d| m | 1u32 << d)
            }
            Days::OfMonth(days) => days.mask(last),
            Days::OfYear(days) => days
                .iter()
                .filter(|&&(m, d)| m == first.month() && d <= last)
                .fold(0, |m, &(_, d)| m | 1u32 << d),
            // CALENDAR dates are looked up directly, not month by month.
            Days::Dates(_) => 0,
        }
    }
}

impl DayOfMonth {
    fn resolve(self, last: i8) -> Option<i8> {
        match self {
            DayOfMonth::Day(d) => (d <= last).then_some(d),
            DayOfMonth::FromLast(n) => (last - n >= 1).then_some(last - n),
        }
    }
}

impl MonthDays {
    fn mask(&self, last: i8) -> u32 {
        match self {
            MonthDays::List(days) => days
                .iter()
                .filter_map(|d| d.resolve(last))
                .fold(0, |m, d| m | 1u32 << d),
            MonthDays::Range { start, end, step } => {
                let Some(s) = start.resolve(last) else {
                    return 0;
                };
                let e = match *end {
                    DayOfMonth::Day(d) => d.min(last),
                    DayOfMonth::FromLast(n) => last - n,
                };
                (s..=e).step_by(*step).fold(0, |m, d| m | 1u32 << d)
            }
        }
    }
}

fn weekdays(sel: &Selector) -> Result<u8, ScheduleError> {
    let parse = |v: &str| number(v, 1, 7);
    let mask = match shape("days", sel, parse, WEEKDAY, Some(7))? {
        Shape::List(days) => days.iter().fold(0u32, |m, d| m | 1 << d),
        Shape::Range(start, end, step) => cyclic(1, 7, start, end, step),
    };
    Ok(mask as u8)
}

fn months(sel: &Selector) -> Result<u16, ScheduleError> {
    let parse = |v: &str| number(v, 1, 12);
    let mask = match shape("months", sel, parse, MONTH, Some(12))? {
        Shape::List(months) => months.iter().fold(0u32, |m, d| m | 1 << d),
        Shape::Range(start, end, step) => cyclic(1, 12, start, end, step),
    };
    Ok(mask as u16)
}

fn hours(sel: &Selector) -> Result<u32, ScheduleError> {
    let parse = |v: &str| number(v, 0, 23);
    Ok(match shape("hours", sel, parse, HOUR, Some(23))? {
        Shape::List(hours) => hours.iter().fold(0u32, |m, h| m | 1 << h),
        Shape::Range(start, mut end, step) => {
            // "9".."5" is business hours: read the end on a 12-hour clock when that makes a
            // range of the same day; otherwise the range wraps past midnight.
            if end < start && end < 12 && end + 12 > start {
                end += 12;
            }
            cyclic(0, 23, start, end, step)
        }
    })
}

fn month_days(sel: &Selector) -> Result<MonthDays, ScheduleError> {
    let parse = |v: &str| match v {
        "L" => Some(DayOfMonth::FromLast(0)),
        _ => match v.strip_prefix("L-") {
            Some(n) => number(n, 1, 30).map(|n| DayOfMonth::FromLast(n as i8)),
            None => number(v, 1, 31).map(|d| DayOfMonth::Day(d as i8)),
        },
    };
    let expected = if sel.values.iter().any(|v| v.starts_with("--")) {
        MONTH_DAY_NOT_DATE
    } else {
        MONTH_DAY
    };
    let end = Some(DayOfMonth::FromLast(0));
    Ok(match shape("days", sel, parse, expected, end)? {
        Shape::List(days) => MonthDays::List(days),
        Shape::Range(start, end, step) => {
            use DayOfMonth::{Day, FromLast};
            let problem = match (start, end) {
                (Day(a), Day(b)) if a > b => Some(format!("range start {a} is after its end {b}")),
                (FromLast(a), FromLast(b)) if a < b => {
                    Some(format!("range start L-{a} is after its end L-{b}"))
                }
                (FromLast(_), Day(_)) => {
                    Some("a RANGE that starts at L-n must end at L or L-m".into())
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(ScheduleError::invalid("days.values", problem));
            }
            MonthDays::Range { start, end, step }
        }
    })
}

fn year_days(sel: &Selector) -> Result<Vec<(i8, i8)>, ScheduleError> {
    let only_list = || {
        ScheduleError::invalid(
            "days.type",
            "ANNUALLY schedules without months support only LIST days (--MM-DD)",
        )
    };
    if sel.kind == SelectorType::Range {
        return Err(only_list());
    }
    let parse = |v: &str| {
        let (m, d) = v.strip_prefix("--")?.split_once('-')?;
        let (m, d) = (two_digits(m)?, two_digits(d)?);
        // 2000 was a leap year: 29 February is a day of the year.
        Date::new(2000, m, d).ok().map(|_| (m, d))
    };
    match shape("days", sel, parse, YEAR_DAY, None)? {
        Shape::List(days) => Ok(days),
        Shape::Range(..) => Err(only_list()),
    }
}

fn dates(sel: &Selector) -> Result<Vec<Date>, ScheduleError> {
    let only_list = || ScheduleError::invalid("days.type", "CALENDAR supports only LIST days");
    if sel.kind == SelectorType::Range {
        return Err(only_list());
    }
    let parse = |v: &str| {
        let b = v.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = number(&v[..4], 0, 9999)?;
        Date::new(y as i16, two_digits(&v[5..7])?, two_digits(&v[8..])?).ok()
    };
    match shape("days", sel, parse, DATE, None)? {
        Shape::List(mut days) => {
            days.sort();
            days.dedup();
            Ok(days)
        }
        // Not reached: RANGE is refused above, and intervals by `shape`.
        Shape::Range(..) => Err(only_list()),
    }
}

/// Checks what every selector needs: a non-empty LIST, a RANGE of exactly two values, an
/// interval of at least 1 where one makes sense (`end` is the last value of the period, `None`
/// where intervals are refused), and each value.
fn shape<T: Copy>(
    name: &'static str,
    sel: &Selector,
    parse: impl Fn(&str) -> Option<T>,
    expected: &'static str,
    end: Option<T>,
) -> Result<Shape<T>, ScheduleError> {
    let values = sel
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse(v).ok_or_else(|| ScheduleError::InvalidValue {
                field: format!("{name}.values[{i}]"),
                value: v.clone(),
                expected,
            })
        })
        .collect::<Result<Vec<T>, _>>()?;
    let step = match sel.interval {
        None => None,
        Some(n) if n < 1 => {
            return Err(ScheduleError::invalid(
                format!("{name}.interval"),
                format!("must be at least 1, got {n}"),
            ));
        }
        Some(_) if end.is_none() => {
            return Err(ScheduleError::invalid(
                format!("{name}.interval"),
                "not valid with dates",
            ));
        }
        // Past 1000 every step lands beyond the period anyway.
        Some(n) => Some(n.min(1000) as usize),
    };
    match (sel.kind, values.as_slice(), step, end) {
        (SelectorType::List, [], _, _) => Err(ScheduleError::invalid(
            format!("{name}.values"),
            "must not be empty",
        )),
        (SelectorType::List, _, None, _) => Ok(Shape::List(values)),
        (SelectorType::List, &[v], Some(step), Some(end)) => Ok(Shape::Range(v, end, step)),
        (SelectorType::List, _, Some(_), _) => Err(ScheduleError::invalid(
            format!("{name}.interval"),
            "only valid with a RANGE or a LIST of one value",
        )),
        (SelectorType::Range, &[start, end], step, _) => {
            Ok(Shape::Range(start, end, step.unwrap_or(1)))
        }
        (SelectorType::Range, _, _, _) => Err(ScheduleError::invalid(
            format!("{name}.values"),
            format!(
                "a RANGE has exactly two values, start and end; got {}",
                values.len()
            ),
        )),
    }
}

/// Every `step`-th value from `start` to `end` in `lo..=hi`, wrapping past `hi` when `end` is
/// before `start`.
fn cyclic(lo: u32, hi: u32, start: u32, end: u32, step: usize) -> u32 {
    let n = hi - lo + 1;
    let len = (end + n - start) % n + 1;
    (0..len)
        .step_by(step)
        .fold(0u32, |m, i| m | 1 << (lo + (start - lo + i) % n))
}

/// A plain decimal number in `lo..=hi` (no sign, no spaces; leading zeros allowed).
fn number(s: &str, lo: u32, hi: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| (lo..=hi).contains(n))
}

fn two_digits(s: &str) -> Option<i8> {
    (s.len() == 2)
        .then(|| number(s, 0, 99))
        .flatten()
        .map(|n| n as i8)
}
