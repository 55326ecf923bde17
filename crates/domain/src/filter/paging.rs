//! `limit`, `offset` and `count`, as SailPoint's collection endpoints take them.

use super::FilterError;

/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 250;

/// A page request. `limit` 0 answers an empty page; an `offset` past the end answers an empty
/// page too (never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: u32,
    pub offset: u64,
    /// Whether to send the total as `X-Total-Count`.
    pub count: bool,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            limit: MAX_LIMIT,
            offset: 0,
            count: false,
        }
    }
}

impl Paging {
    /// Reads the three parameters as they came in the query string (absent = `None`).
    pub fn parse(
        limit: Option<&str>,
        offset: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, FilterError> {
        let mut p = Paging::default();
        if let Some(l) = limit {
            p.limit = l
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_LIMIT)
                .ok_or_else(|| {
                    FilterError(format!(
                        "limit must be a whole number from 0 to {MAX_LIMIT}, not '{l}'"
                    ))
                })?;
        }
        if let Some(o) = offset {
            p.offset = o.trim().parse::<u64>().map_err(|_| {
                FilterError(format!("offset must be a whole number from 0, not '{o}'"))
            })?;
        }
        if let Some(c) = count {
            p.count = match c.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(FilterError(format!(
                        "count must be true or false, not '{c}'"
                    )));
                }
            };
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_limits_and_refusals() {
        assert_eq!(Paging::parse(None, None, None).unwrap(), Paging::default());
        let p = Paging::parse(Some("0"), Some("1000000"), Some("TRUE")).unwrap();
        assert_eq!((p.limit, p.offset, p.count), (0, 1_000_000, true));
        assert_eq!(Paging::parse(Some("250"), None, None).unwrap().limit, 250);
        for (l, o, c, want) in [
            (
                Some("251"),
                None,
                None,
                "limit must be a whole number from 0 to 250",
            ),
            (Some("-1"), None, None, "limit"),
            (Some("ten"), None, None, "limit"),
            (None, Some("-5"), None, "offset"),
            (None, None, Some("yes"), "count must be true or false"),
        ] {
            let e = Paging::parse(l, o, c).unwrap_err().0;
            assert!(e.contains(want), "{e}");
        }
    }
}
