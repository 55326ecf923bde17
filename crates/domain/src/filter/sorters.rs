//! The `sorters` parameter: comma-separated field names, `-` before a name for descending.

use super::FilterError;

/// One sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorter {
    pub field: &'static str,
    pub descending: bool,
}

/// Parses `sorters` against the fields an endpoint can sort by.
pub fn parse_sorters(input: &str, allowed: &[&'static str]) -> Result<Vec<Sorter>, FilterError> {
    let mut out: Vec<Sorter> = Vec::new();
    for raw in input.split(',') {
        let part = raw.trim();
        if part.is_empty() {
            return Err(FilterError("sorters has an empty entry".into()));
        }
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, part),
        };
        let Some(field) = allowed.iter().find(|a| **a == name) else {
            return Err(FilterError(format!(
                "sorter field '{name}' is not supported; supported: {}",
                allowed.join(", ")
            )));
        };
        if out.iter().any(|s| s.field == *field) {
            return Err(FilterError(format!("sorter field '{name}' is given twice")));
        }
        out.push(Sorter { field, descending });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let s = parse_sorters("name,-created", &["name", "created"]).unwrap();
        assert_eq!(
            s,
            vec![
                Sorter {
                    field: "name",
                    descending: false
                },
                Sorter {
                    field: "created",
                    descending: true
                }
            ]
        );
        assert!(
            parse_sorters("owner", &["name"])
                .unwrap_err()
                .0
                .contains("sorter field 'owner'")
        );
        assert!(parse_sorters("name,", &["name"]).is_err());
        assert!(
            parse_sorters("name,-name", &["name"])
                .unwrap_err()
                .0
                .contains("twice")
        );
    }
}
