//! Date placeholders in campaign template names and descriptions, as SailPoint defines them: a
//! percent sign and one of `java.util.Formatter`'s date/time conversion letters, replaced with
//! the generation time (`%Y` → `2026`, `%B` → `November`). `%%` is a literal percent sign. An
//! unknown letter is refused, so that a typo is caught when the template is saved rather than
//! copied into every campaign it generates.
//!
//! SailPoint's page illustrates `%y` with a four-digit year; Java, which it names as the
//! reference, gives two digits, and so does recert.

use time::OffsetDateTime;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// An unknown or incomplete placeholder, with its character position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{placeholder}' at character {position} is not a date placeholder; use %Y, %y, %m, %B, %b, %d, %e, %A, %a, %j, %H, %M, %S, %F, %D, %T, %R or %% for a percent sign"
)]
pub struct PlaceholderError {
    pub placeholder: String,
    pub position: usize,
}

/// Checks a template text without expanding it.
pub fn check_placeholders(text: &str) -> Result<(), PlaceholderError> {
    expand_placeholders(text, OffsetDateTime::UNIX_EPOCH).map(|_| ())
}

/// Replaces every placeholder of `text` with `at` (already in the time zone wanted).
pub fn expand_placeholders(text: &str, at: OffsetDateTime) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().enumerate();
    while let Some((pos, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some((_, letter)) = chars.next() else {
            return Err(PlaceholderError {
                placeholder: "%".into(),
                position: pos + 1,
            });
        };
        match expand_one(letter, at) {
            Some(s) => out.push_str(&s),
            None => {
                return Err(PlaceholderError {
                    placeholder: format!("%{letter}"),
                    position: pos + 1,
                });
            }
        }
    }
    Ok(out)
}

fn expand_one(letter: char, t: OffsetDateTime) -> Option<String> {
    let month = usize::from(u8::from(t.month())) - 1;
    let weekday = usize::from(t.weekday().number_days_from_monday());
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset();
    let (oh, om, _) = offset.as_hms();
    let zone = format!(
        "{}{:02}{:02}",
        if offset.is_negative() { '-' } else { '+' },
        oh.unsigned_abs(),
        om.unsigned_abs()
    );
    Some(match letter {
        '%' => "%".into(),
        'Y' => format!("{:04}", t.year()),
        'y' => format!("{:02}", t.year().rem_euclid(100)),
        'C' => format!("{:02}", t.year().div_euclid(100)),
        'm' => format!("{:02}", u8::from(t.month())),
        'B' => MONTHS[month].into(),
        'b' | 'h' => MONTHS[month][..3].into(),
        'd' => format!("{:02}", t.day()),
        'e' => t.day().to_string(),
        'A' => DAYS[weekday].into(),
        'a' => DAYS[weekday][..3].into(),
        'j' => format!("{:03}", t.ordinal()),
        'H' => format!("{:02}", t.hour()),
        'k' => t.hour().to_string(),
        'I' => format!("{hour12:02}"),
        'l' => hour12.to_string(),
        'M' => format!("{:02}", t.minute()),
        'S' => format!("{:02}", t.second()),
        'L' => format!("{:03}", t.millisecond()),
        'N' => format!("{:09}", t.nanosecond()),
        'p' => (if t.hour() < 12 { "am" } else { "pm" }).into(),
        'z' => zone,
        'Z' => {
            if offset.is_utc() {
                "UTC".into()
            } else {
                zone
            }
        }
        's' => t.unix_timestamp().to_string(),
        'Q' => (t.unix_timestamp_nanos() / 1_000_000).to_string(),
        'R' => format!("{:02}:{:02}", t.hour(), t.minute()),
        'T' => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
        'r' => format!(
            "{hour12:02}:{:02}:{:02} {}",
            t.minute(),
            t.second(),
            if t.hour() < 12 { "AM" } else { "PM" }
        ),
        'D' => format!(
            "{:02}/{:02}/{:02}",
            u8::from(t.month()),
            t.day(),
            t.year().rem_euclid(100)
        ),
        'F' => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        'c' => format!(
            "{} {} {:02} {:02}:{:02}:{:02} {} {:04}",
            &DAYS[weekday][..3],
            &MONTHS[month][..3],
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            if offset.is_utc() {
                "UTC".to_owned()
            } else {
                zone
            },
            t.year()
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expands_as_java_does() {
        let t = datetime!(2026-03-05 14:07:09.123 UTC);
        let cases = [
            ("Q1 review %Y", "Q1 review 2026"),
            ("%y/%m/%d", "26/03/05"),
            ("%B %e, %Y", "March 5, 2026"),
            ("%a %b %d", "Thu Mar 05"),
            ("%A", "Thursday"),
            ("day %j", "day 064"),
            ("%H:%M:%S.%L", "14:07:09.123"),
            ("%I %l %p", "02 2 pm"),
            ("%F %T %R %D", "2026-03-05 14:07:09 14:07 03/05/26"),
            ("%c", "Thu Mar 05 14:07:09 UTC 2026"),
            ("100%% done", "100% done"),
            ("no placeholders", "no placeholders"),
            ("Ünïcødé %Y", "Ünïcødé 2026"),
        ];
        for (template, want) in cases {
            assert_eq!(
                expand_placeholders(template, t).unwrap(),
                want,
                "{template}"
            );
        }
        let east = datetime!(2026-12-31 23:30 +05:30);
        assert_eq!(
            expand_placeholders("%Y-%m-%d %z", east).unwrap(),
            "2026-12-31 +0530"
        );
    }

    #[test]
    fn refuses_unknown_or_cut_placeholders() {
        let e = check_placeholders("Review %q").unwrap_err();
        assert_eq!((e.placeholder.as_str(), e.position), ("%q", 8));
        assert!(e.to_string().contains("%Y"));
        let e = check_placeholders("50%").unwrap_err();
        assert_eq!(e.placeholder, "%");
        assert!(check_placeholders("Q%Y %B").is_ok());
    }
}
