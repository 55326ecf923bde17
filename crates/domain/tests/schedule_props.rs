//! Property tests of schedules: no input makes validation or the search panic, and every
//! occurrence found is after the instant asked about, stable, and before the expiration.

use proptest::prelude::*;
use recert_domain::Timestamp;
use recert_domain::schedule::{Schedule, ScheduleType, Selector, SelectorType};

const ZONES: &[&str] = &[
    "UTC",
    "America/Chicago",
    "CST",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "+05:30",
    "-11:00",
];

/// 1900-01-01 to 2200-01-01, in milliseconds.
const YEARS_1900_2200: std::ops::Range<i64> = -2_208_988_800_000..7_258_118_400_000;

fn selector(value: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = Selector> {
    prop_oneof![
        prop::collection::vec(value.clone(), 1..4).prop_map(Selector::list),
        (value.clone(), 1..30i64).prop_map(|(v, n)| Selector::list([v]).every(n)),
        (value.clone(), value.clone()).prop_map(|(a, b)| Selector::range(a, b)),
        (value.clone(), value, 1..30i64).prop_map(|(a, b, n)| Selector::range(a, b).every(n)),
    ]
}

fn number(range: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = String> + Clone {
    range.prop_map(|n| n.to_string())
}

fn month_day() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        number(1..=31),
        Just("L".to_owned()),
        (1..=30u32).prop_map(|n| format!("L-{n}")),
    ]
}

/// Mostly valid schedules of every type.
fn schedule() -> impl Strategy<Value = Schedule> {
    let days = prop_oneof![
        selector(number(1..=7)).prop_map(|d| (ScheduleType::Weekly, None, d)),
        selector(month_day()).prop_map(|d| (ScheduleType::Monthly, None, d)),
        (selector(number(1..=12)), selector(month_day())).prop_map(|(m, d)| (
            ScheduleType::Annually,
            Some(m),
            d
        )),
        prop::collection::vec((1..=12u32, 1..=29u32), 1..3).prop_map(|v| {
            let days = v.iter().map(|(m, d)| format!("--{m:02}-{d:02}"));
            (ScheduleType::Annually, None, Selector::list(days))
        }),
        prop::collection::vec((1950..2150u32, 1..=12u32, 1..=31u32), 1..4).prop_map(|v| {
            let days = v.iter().map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"));
            (ScheduleType::Calendar, None, Selector::list(days))
        }),
    ];
    let expiration = prop::option::of(
        YEARS_1900_2200.prop_map(|ms| Timestamp::from_unix_millis(ms).to_string()),
    );
    (
        days,
        selector(number(0..=23)),
        expiration,
        prop::sample::select(ZONES),
    )
        .prop_map(|((kind, months, days), hours, expiration, zone)| Schedule {
            kind,
            months,
            days: Some(days),
            hours: Some(hours),
            expiration,
            time_zone_id: Some(zone.to_owned()),
        })
}

/// Anything at all in the fields.
fn wild_schedule() -> impl Strategy<Value = Schedule> {
    let kind = prop::sample::select(vec![
        ScheduleType::Weekly,
        ScheduleType::Monthly,
        ScheduleType::Annually,
        ScheduleType::Calendar,
    ]);
    let selector = (
        prop::bool::ANY,
        prop::collection::vec("[-0-9L]{0,4}|\\PC{0,12}", 0..4),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(range, values, interval)| Selector {
            kind: if range {
                SelectorType::Range
            } else {
                SelectorType::List
            },
            values,
            interval,
        });
    (
        kind,
        prop::option::of(selector.clone()),
        prop::option::of(selector.clone()),
        prop::option::of(selector),
        prop::option::of("\\PC{0,25}"),
        prop::option::of("[A-Za-z/_+:0-9-]{0,20}"),
    )
        .prop_map(
            |(kind, months, days, hours, expiration, time_zone_id)| Schedule {
                kind,
                months,
                days,
                hours,
                expiration,
                time_zone_id,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn occurrences_are_after_stable_and_not_expired(
        s in schedule(),
        after in YEARS_1900_2200,
        probe in 0.0..1.0f64,
    ) {
        let Ok(v) = s.validate() else { return Ok(()) };
        let after = Timestamp::from_unix_millis(after);
        if let Some(next) = v.next_after(after) {
            prop_assert!(next > after, "{next} <= {after}");
            if let Some(e) = v.expiration() {
                prop_assert!(next <= e, "{next} is after the expiration {e}");
            }
            // Any instant between `after` and `next` leads to `next` too.
            let gap = next.unix_millis() - after.unix_millis();
            let between = after.unix_millis() + (gap as f64 * probe) as i64;
            let between = Timestamp::from_unix_millis(between.min(next.unix_millis() - 1));
            prop_assert_eq!(v.next_after(between), Some(next));
            if let Some(later) = v.next_after(next) {
                prop_assert!(later > next);
            }
        }
    }

    #[test]
    fn anything_is_refused_or_searched_without_panic(
        s in wild_schedule(),
        after in any::<i64>(),
    ) {
        if let Ok(v) = s.validate() {
            let after = Timestamp::from_unix_millis(after);
            if let Some(next) = v.next_after(after) {
                prop_assert!(next > after);
            }
        }
    }
}

#[test]
fn the_ends_of_time_are_no_trouble() {
    let s = Schedule {
        kind: ScheduleType::Weekly,
        months: None,
        days: Some(Selector::range("1", "7")),
        hours: Some(Selector::list(["23"])),
        expiration: None,
        time_zone_id: Some("Pacific/Apia".into()),
    }
    .validate()
    .unwrap();
    for ms in [
        i64::MIN,
        i64::MAX,
        -377_705_116_800_000,
        253_402_300_799_999,
    ] {
        let after = Timestamp::from_unix_millis(ms);
        if let Some(next) = s.next_after(after) {
            assert!(next > after);
        }
    }
}
