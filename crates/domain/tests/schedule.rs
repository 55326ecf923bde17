//! Campaign template schedules through their public surface: JSON in, occurrences and errors out.

use recert_domain::Timestamp;
use recert_domain::schedule::{Schedule, ScheduleError, ValidSchedule};
use serde_json::{Value, json};

fn parse(v: Value) -> Result<ValidSchedule, ScheduleError> {
    serde_json::from_value::<Schedule>(v)
        .expect("the wire shape")
        .validate()
}

fn valid(v: Value) -> ValidSchedule {
    parse(v).unwrap_or_else(|e| panic!("{e}"))
}

fn list(values: &[&str]) -> Value {
    json!({"type": "LIST", "values": values})
}

fn range(start: &str, end: &str) -> Value {
    json!({"type": "RANGE", "values": [start, end]})
}

fn every(mut selector: Value, n: i64) -> Value {
    selector["interval"] = json!(n);
    selector
}

/// The next `n` occurrences after `from`, as UTC minutes (`2026-01-05T09:00`).
fn next(s: &ValidSchedule, from: &str, n: usize) -> Vec<String> {
    let mut at = Timestamp::parse(from).unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let Some(t) = s.next_after(at) else { break };
        assert!(t > at, "{t} is not after {at}");
        out.push(t.to_string()[..16].to_owned());
        at = t;
    }
    out
}

fn weekly(days: Value, hours: Value, tz: &str) -> ValidSchedule {
    valid(json!({"type": "WEEKLY", "days": days, "hours": hours, "timeZoneId": tz}))
}

#[test]
fn weekly_days_count_from_sunday() {
    // 2026-01-01 is a Thursday.
    let sundays = weekly(list(&["1"]), list(&["9"]), "UTC");
    assert_eq!(
        next(&sundays, "2026-01-01T00:00:00Z", 2),
        ["2026-01-04T09:00", "2026-01-11T09:00"]
    );
    let mon_wed = weekly(list(&["2", "4"]), list(&["0"]), "UTC");
    assert_eq!(
        next(&mon_wed, "2026-01-05T00:00:00Z", 3),
        ["2026-01-07T00:00", "2026-01-12T00:00", "2026-01-14T00:00"]
    );
    let fri_to_mon = weekly(range("6", "2"), list(&["0"]), "UTC");
    assert_eq!(
        next(&fri_to_mon, "2026-01-05T00:00:00Z", 4),
        [
            "2026-01-09T00:00",
            "2026-01-10T00:00",
            "2026-01-11T00:00",
            "2026-01-12T00:00"
        ]
    );
    let every_other = weekly(every(list(&["2"]), 2), list(&["0"]), "UTC");
    assert_eq!(
        next(&every_other, "2026-01-04T00:00:00Z", 4),
        [
            "2026-01-05T00:00",
            "2026-01-07T00:00",
            "2026-01-09T00:00",
            "2026-01-12T00:00"
        ]
    );
}

fn monthly(days: Value) -> ValidSchedule {
    valid(json!({"type": "MONTHLY", "days": days, "hours": list(&["0"])}))
}

#[test]
fn monthly_last_days_and_ranges() {
    assert_eq!(
        next(&monthly(list(&["L"])), "2026-02-01T00:00:00Z", 2),
        ["2026-02-28T00:00", "2026-03-31T00:00"]
    );
    assert_eq!(
        next(&monthly(list(&["L-1"])), "2028-02-01T00:00:00Z", 2),
        ["2028-02-28T00:00", "2028-03-30T00:00"]
    );
    // A day a month lacks is skipped in that month, not moved.
    assert_eq!(
        next(&monthly(list(&["31"])), "2026-03-31T01:00:00Z", 1),
        ["2026-05-31T00:00"]
    );
    assert_eq!(
        next(&monthly(list(&["L-30"])), "2026-01-01T01:00:00Z", 1),
        ["2026-03-01T00:00"]
    );
    assert_eq!(
        next(&monthly(range("20", "L")), "2026-04-29T01:00:00Z", 2),
        ["2026-04-30T00:00", "2026-05-20T00:00"]
    );
    assert_eq!(
        next(
            &monthly(every(range("1", "10"), 4)),
            "2026-04-01T01:00:00Z",
            3
        ),
        ["2026-04-05T00:00", "2026-04-09T00:00", "2026-05-01T00:00"]
    );
    assert_eq!(
        next(
            &monthly(every(list(&["L-5"]), 2)),
            "2026-02-01T00:00:00Z",
            4
        ),
        [
            "2026-02-23T00:00",
            "2026-02-25T00:00",
            "2026-02-27T00:00",
            "2026-03-26T00:00"
        ]
    );
}

#[test]
fn annually_with_months_and_intervals() {
    let quarterly = valid(json!({"type": "ANNUALLY", "months": every(list(&["1"]), 3),
        "days": list(&["1"]), "hours": list(&["8"])}));
    assert_eq!(
        next(&quarterly, "2026-01-01T08:00:00Z", 4),
        [
            "2026-04-01T08:00",
            "2026-07-01T08:00",
            "2026-10-01T08:00",
            "2027-01-01T08:00"
        ]
    );
    let second_half = valid(
        json!({"type": "ANNUALLY", "months": every(range("7", "12"), 2),
        "days": list(&["15"]), "hours": list(&["0"])}),
    );
    assert_eq!(
        next(&second_half, "2026-01-01T00:00:00Z", 4),
        [
            "2026-07-15T00:00",
            "2026-09-15T00:00",
            "2026-11-15T00:00",
            "2027-07-15T00:00"
        ]
    );
    let winter = valid(json!({"type": "ANNUALLY", "months": range("11", "2"),
        "days": list(&["1"]), "hours": list(&["0"])}));
    assert_eq!(
        next(&winter, "2026-03-01T12:00:00Z", 5),
        [
            "2026-11-01T00:00",
            "2026-12-01T00:00",
            "2027-01-01T00:00",
            "2027-02-01T00:00",
            "2027-11-01T00:00"
        ]
    );
}

#[test]
fn annually_dates_without_year_and_impossible_days() {
    let march_2nd = valid(json!({"type": "ANNUALLY", "days": list(&["--03-02"]),
        "hours": list(&["9"])}));
    assert_eq!(
        next(&march_2nd, "2026-03-02T10:00:00Z", 1),
        ["2027-03-02T09:00"]
    );
    let leap_day = valid(json!({"type": "ANNUALLY", "days": list(&["--02-29"]),
        "hours": list(&["0"])}));
    assert_eq!(
        next(&leap_day, "2026-01-01T00:00:00Z", 2),
        ["2028-02-29T00:00", "2032-02-29T00:00"]
    );
    // 2100 is not a leap year: the longest wait there is.
    assert_eq!(
        next(&leap_day, "2096-03-01T00:00:00Z", 1),
        ["2104-02-29T00:00"]
    );
    for (month, day) in [("2", "30"), ("2", "31"), ("4", "31")] {
        let never = valid(json!({"type": "ANNUALLY", "months": list(&[month]),
            "days": list(&[day]), "hours": list(&["0"])}));
        assert_eq!(
            next(&never, "2026-01-01T00:00:00Z", 1),
            Vec::<String>::new()
        );
    }
}

#[test]
fn calendar_dates_then_nothing() {
    let s = valid(json!({"type": "CALENDAR",
        "days": list(&["2026-03-02", "2021-03-02", "2026-03-02"]),
        "hours": list(&["17", "5"])}));
    assert_eq!(
        next(&s, "2020-01-01T00:00:00Z", 9),
        [
            "2021-03-02T05:00",
            "2021-03-02T17:00",
            "2026-03-02T05:00",
            "2026-03-02T17:00"
        ]
    );
    assert_eq!(next(&s, "2026-03-02T17:00:00Z", 1), Vec::<String>::new());
}

#[test]
fn hours_ranges_intervals_and_business_hours() {
    let every_day = || list(&["1", "2", "3", "4", "5", "6", "7"]);
    // "9" to "5" is 9 AM to 5 PM.
    let business = weekly(range("2", "6"), range("9", "5"), "UTC");
    let hours: Vec<String> = next(&business, "2026-01-05T00:00:00Z", 10);
    assert_eq!(hours.first().unwrap(), "2026-01-05T09:00");
    assert_eq!(hours[8], "2026-01-05T17:00");
    assert_eq!(hours[9], "2026-01-06T09:00");
    // A range that cannot be read on a 12-hour clock wraps past midnight.
    let night = weekly(every_day(), range("22", "2"), "UTC");
    assert_eq!(
        next(&night, "2026-01-05T20:00:00Z", 6),
        [
            "2026-01-05T22:00",
            "2026-01-05T23:00",
            "2026-01-06T00:00",
            "2026-01-06T01:00",
            "2026-01-06T02:00",
            "2026-01-06T22:00"
        ]
    );
    let from_8_every_3 = weekly(every_day(), every(list(&["8"]), 3), "UTC");
    assert_eq!(
        next(&from_8_every_3, "2026-01-05T00:00:00Z", 7),
        [
            "2026-01-05T08:00",
            "2026-01-05T11:00",
            "2026-01-05T14:00",
            "2026-01-05T17:00",
            "2026-01-05T20:00",
            "2026-01-05T23:00",
            "2026-01-06T08:00"
        ]
    );
    let every_4th = weekly(every_day(), every(range("9", "17"), 4), "UTC");
    assert_eq!(
        next(&every_4th, "2026-01-05T00:00:00Z", 4),
        [
            "2026-01-05T09:00",
            "2026-01-05T13:00",
            "2026-01-05T17:00",
            "2026-01-06T09:00"
        ]
    );
}

#[test]
fn chicago_daylight_saving_changes() {
    // 2026-03-08: 2:00 CST jumps to 3:00 CDT. The skipped 2:00 fires at the change, once with 3:00.
    let spring = weekly(list(&["1"]), list(&["1", "2", "3"]), "America/Chicago");
    assert_eq!(
        next(&spring, "2026-03-08T00:00:00Z", 3),
        ["2026-03-08T07:00", "2026-03-08T08:00", "2026-03-15T06:00"]
    );
    // 2026-11-01: 2:00 CDT falls back to 1:00 CST. 1:00 fires once, at 1:00 CDT.
    let fall = weekly(list(&["1"]), list(&["1", "2"]), "CST");
    assert_eq!(
        next(&fall, "2026-11-01T00:00:00Z", 3),
        ["2026-11-01T06:00", "2026-11-01T08:00", "2026-11-08T07:00"]
    );
    assert_eq!(next(&fall, "2026-11-01T06:30:00Z", 1), ["2026-11-01T08:00"]);
}

fn on(date: &str, hour: &str, tz: &str) -> Vec<String> {
    let s = valid(
        json!({"type": "CALENDAR", "days": list(&[date]), "hours": list(&[hour]),
        "timeZoneId": tz}),
    );
    next(&s, "1970-01-01T00:00:00Z", 1)
}

#[test]
fn time_zone_ids() {
    assert_eq!(on("2026-07-01", "1", "CST"), ["2026-07-01T06:00"]);
    assert_eq!(on("2026-01-01", "1", "cst"), ["2026-01-01T07:00"]);
    assert_eq!(on("2026-07-01", "9", "EST"), ["2026-07-01T13:00"]);
    assert_eq!(on("2026-07-01", "9", "CET"), ["2026-07-01T07:00"]);
    assert_eq!(on("2026-07-01", "9", "Europe/London"), ["2026-07-01T08:00"]);
    assert_eq!(on("2026-07-01", "9", "+05:30"), ["2026-07-01T03:30"]);
    assert_eq!(on("2026-07-01", "9", "-0500"), ["2026-07-01T14:00"]);
    assert_eq!(on("2026-07-01", "9", "GMT+2"), ["2026-07-01T07:00"]);
    for utc in ["UTC", "Z", "GMT", "Etc/UTC"] {
        assert_eq!(on("2026-07-01", "9", utc), ["2026-07-01T09:00"]);
    }
    // Lord Howe springs forward by half an hour: 2:00 fires at the change, 2:30 local.
    assert_eq!(
        on("2026-10-04", "2", "Australia/Lord_Howe"),
        ["2026-10-03T15:30"]
    );
    // Samoa skipped 30 December 2011 whole: its hours fire when the day would have begun.
    assert_eq!(on("2011-12-30", "10", "Pacific/Apia"), ["2011-12-30T10:00"]);

    let name = |tz: Value| {
        valid(
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": list(&["0"]),
            "timeZoneId": tz}),
        )
        .time_zone_name()
    };
    assert_eq!(name(json!("CST")), "America/Chicago");
    assert_eq!(name(json!("+05:30")), "+05:30");
    assert_eq!(name(Value::Null), "UTC");
}

#[test]
fn expiration_is_the_last_instant() {
    // 12:00 in Chicago in January is 18:00 UTC; an occurrence exactly then still counts.
    for expiration in [
        "2026-01-10 12:00:00",
        "2026-01-10T18:00:00Z",
        "2026-01-10T12:00:00-06:00",
    ] {
        let s = valid(
            json!({"type": "WEEKLY", "days": range("1", "7"), "hours": list(&["12"]),
            "expiration": expiration, "timeZoneId": "CST"}),
        );
        assert_eq!(
            s.schedule().expiration.as_deref(),
            Some("2026-01-10T18:00:00.000Z")
        );
        assert_eq!(
            next(&s, "2026-01-08T19:00:00Z", 5),
            ["2026-01-09T18:00", "2026-01-10T18:00"]
        );
        assert_eq!(next(&s, "2026-01-10T18:00:00Z", 1), Vec::<String>::new());
        assert_eq!(next(&s, "2030-01-01T00:00:00Z", 1), Vec::<String>::new());
    }
}

fn error(v: Value) -> String {
    match parse(v) {
        Ok(s) => panic!("accepted {:?}", s.schedule()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_the_field_and_the_problem() {
    let h = || list(&["9"]);
    let cases = [
        (
            json!({"type": "MONTHLY", "days": list(&["1", "32"]), "hours": h()}),
            r#"days.values[1]: "32" is not a day of the month (1-31, L, L-1 .. L-30)"#,
        ),
        (
            json!({"type": "MONTHLY", "days": list(&["1"])}),
            "hours is required",
        ),
        (json!({"type": "WEEKLY", "hours": h()}), "days is required"),
        (
            json!({"type": "MONTHLY", "months": list(&["1"]), "days": list(&["1"]), "hours": h()}),
            "months: only valid for ANNUALLY schedules, not MONTHLY",
        ),
        (
            json!({"type": "CALENDAR", "days": range("2026-01-01", "2026-02-01"), "hours": h()}),
            "days.type: CALENDAR supports only LIST days",
        ),
        (
            json!({"type": "CALENDAR", "days": every(list(&["2026-01-01"]), 2), "hours": h()}),
            "days.interval: not valid with dates",
        ),
        (
            json!({"type": "CALENDAR", "days": list(&["2026-02-29"]), "hours": h()}),
            r#"days.values[0]: "2026-02-29" is not a date (YYYY-MM-DD)"#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["0"]), "hours": h()}),
            r#"days.values[0]: "0" is not a day of the week (1-7, 1 = Sunday)"#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&[]), "hours": h()}),
            "days.values: must not be empty",
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": list(&["24"])}),
            r#"hours.values[0]: "24" is not an hour (0-23)"#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]),
                "hours": {"type": "RANGE", "values": ["1", "2", "3"]}}),
            "hours.values: a RANGE has exactly two values, start and end; got 3",
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": every(list(&["1"]), 0)}),
            "hours.interval: must be at least 1, got 0",
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": every(list(&["1", "5"]), 2)}),
            "hours.interval: only valid with a RANGE or a LIST of one value",
        ),
        (
            json!({"type": "MONTHLY", "days": range("25", "5"), "hours": h()}),
            "days.values: range start 25 is after its end 5",
        ),
        (
            json!({"type": "MONTHLY", "days": range("L-3", "28"), "hours": h()}),
            "days.values: a RANGE that starts at L-n must end at L or L-m",
        ),
        (
            json!({"type": "MONTHLY", "days": list(&["L-31"]), "hours": h()}),
            r#"days.values[0]: "L-31" is not a day of the month (1-31, L, L-1 .. L-30)"#,
        ),
        (
            json!({"type": "ANNUALLY", "days": list(&["1"]), "hours": h()}),
            r#"days.values[0]: "1" is not a date without year (--MM-DD); days of the month need months to be set"#,
        ),
        (
            json!({"type": "ANNUALLY", "days": list(&["--02-30"]), "hours": h()}),
            r#"days.values[0]: "--02-30" is not a date without year (--MM-DD); days of the month need months to be set"#,
        ),
        (
            json!({"type": "ANNUALLY", "days": range("--01-01", "--02-01"), "hours": h()}),
            "days.type: ANNUALLY schedules without months support only LIST days (--MM-DD)",
        ),
        (
            json!({"type": "ANNUALLY", "months": list(&["13"]), "days": list(&["1"]), "hours": h()}),
            r#"months.values[0]: "13" is not a month (1-12)"#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": h(), "timeZoneId": "XYZ"}),
            r#"timeZoneId: unknown time zone "XYZ""#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": h(), "timeZoneId": "+19:00"}),
            r#"timeZoneId: unknown time zone "+19:00""#,
        ),
        (
            json!({"type": "WEEKLY", "days": list(&["1"]), "hours": h(), "expiration": "soon"}),
            r#"expiration: "soon" is not an RFC 3339 date-time or a local one such as 2022-09-19 13:55:26"#,
        ),
    ];
    for (schedule, message) in cases {
        assert_eq!(error(schedule), message);
    }
    let e = parse(json!({"type": "WEEKLY", "days": list(&["9"]), "hours": h()})).unwrap_err();
    assert_eq!(e.field(), "days.values[0]");
}

#[test]
fn serde_round_trip_and_spec_shape() {
    let wire = json!({
        "type": "ANNUALLY",
        "months": {"type": "LIST", "values": ["1"], "interval": 3},
        "days": {"type": "LIST", "values": ["L-1"], "interval": null},
        "hours": {"type": "RANGE", "values": ["9", "5"], "interval": null},
        "expiration": "2022-09-19 13:55:26",
        "timeZoneId": "CST"
    });
    let schedule: Schedule = serde_json::from_value(wire.clone()).unwrap();
    let back: Schedule = serde_json::from_value(serde_json::to_value(&schedule).unwrap()).unwrap();
    assert_eq!(back, schedule);

    let valid: ValidSchedule = serde_json::from_value(wire).unwrap();
    let written = serde_json::to_value(&valid).unwrap();
    assert_eq!(written["expiration"], "2022-09-19T18:55:26.000Z");
    assert_eq!(written["timeZoneId"], "CST");
    assert!(written["days"].get("interval").is_none());
    let again: ValidSchedule = serde_json::from_value(written.clone()).unwrap();
    assert_eq!(again, valid);

    let refused = serde_json::from_value::<ValidSchedule>(json!({"type": "WEEKLY",
        "days": list(&["1"])}))
    .unwrap_err();
    assert!(
        refused.to_string().contains("hours is required"),
        "{refused}"
    );

    let Some(spec) = recert_spec_check::sailpoint_spec() else {
        return;
    };
    let schema = spec.schema("Schedule").unwrap();
    let samples = [
        written,
        serde_json::to_value(weekly(list(&["1"]), list(&["1"]), "UTC")).unwrap(),
        serde_json::to_value(valid_calendar()).unwrap(),
    ];
    for sample in samples {
        if let Err(errors) = spec.check(schema, &sample) {
            panic!("{sample} does not match the spec: {errors:?}");
        }
    }
}

fn valid_calendar() -> ValidSchedule {
    valid(
        json!({"type": "CALENDAR", "days": list(&["2021-03-02"]), "hours": every(list(&["8"]), 3),
        "expiration": "2021-03-03T00:00:00+01:00", "timeZoneId": "Europe/Paris"}),
    )
}
