//! What both stores share about campaign reports: each report's columns, and the CSV writer that
//! cuts a report into chunks of about a megabyte as its rows stream out of the database.
//!
//! The CSV is RFC 4180: UTF-8 without a byte order mark, a header row first, lines ended by CRLF,
//! commas between fields. A field is quoted when it holds a comma, a double quote, CR or LF, and a
//! double quote inside is doubled. A field that starts with `=`, `+`, `-`, `@`, a tab or CR gets a
//! leading `'` so that a spreadsheet shows it as text instead of running it as a formula
//! (CSV injection). An absent value is an empty field.

use recert_domain::review::ReportType;

/// A report's CSV is stored in chunks of at least this many bytes (the last one excepted), each
/// ending at a row's end. A row longer than this is a chunk of its own.
pub const REPORT_CHUNK_BYTES: usize = 1 << 20;

/// A report's columns: `before`, then one per configured identity attribute (only if
/// `attributes`), then `after`. Each store selects its values in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportColumns {
    pub before: &'static [&'static str],
    pub attributes: bool,
    pub after: &'static [&'static str],
}

const IDENTITY: [&str; 3] = ["Identity Name", "Identity Display Name", "Identity Email"];

/// The columns of each report type.
pub fn report_columns(t: ReportType) -> ReportColumns {
    match t {
        ReportType::CampaignComposition => ReportColumns {
            before: &[
                "Campaign Name",
                "Certification Name",
                "Reviewer Name",
                "Reviewer Email",
                IDENTITY[0],
                IDENTITY[1],
                IDENTITY[2],
            ],
            attributes: true,
            after: &[
                "Access Type",
                "Access Name",
                "Source",
                "Privileged",
                "Account",
                "New Access",
            ],
        },
        ReportType::CampaignStatus => ReportColumns {
            before: &[
                "Campaign Name",
                "Certification Name",
                "Reviewer Name",
                "Reviewer Email",
                IDENTITY[0],
                IDENTITY[1],
                IDENTITY[2],
            ],
            attributes: true,
            after: &[
                "Access Type",
                "Access Name",
                "Source",
                "Account",
                "Decision",
                "Comments",
                "Decided At",
                "Decided By",
                "Certification Phase",
            ],
        },
        ReportType::CertificationSignoff => ReportColumns {
            before: &[
                "Campaign Name",
                "Certification Name",
                "Reviewer Name",
                "Reviewer Email",
                "Phase",
                "Decisions Made",
                "Decisions Total",
                "Identities Completed",
                "Identities Total",
                "Due",
                "Signed At",
            ],
            attributes: false,
            after: &[],
        },
        ReportType::CampaignRemediationStatus => ReportColumns {
            before: &[
                "Campaign Name",
                "Reviewer Name",
                IDENTITY[0],
                IDENTITY[1],
                IDENTITY[2],
            ],
            attributes: true,
            after: &[
                "Access Type",
                "Access Name",
                "Source",
                "Account",
                "Status",
                "Attempts",
                "Last Error",
                "Created",
                "Completed",
            ],
        },
    }
}

/// The header row of a report with the configured identity attribute columns.
pub fn report_header(t: ReportType, attributes: &[String]) -> Vec<String> {
    let c = report_columns(t);
    let mut h: Vec<String> = c.before.iter().map(|s| (*s).to_owned()).collect();
    if c.attributes {
        h.extend(attributes.iter().cloned());
    }
    h.extend(c.after.iter().map(|s| (*s).to_owned()));
    h
}

/// Appends one CSV field to `out`, quoted and neutralised as the module documentation says.
pub fn push_csv_field(out: &mut String, field: &str) {
    let formula = matches!(
        field.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let quoted = field.contains([',', '"', '\r', '\n']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quoted {
        for (n, part) in field.split('"').enumerate() {
            if n > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Writes a report's CSV row by row and hands out chunks to store as they fill up, so that a
/// report of millions of rows is never held whole.
#[derive(Debug)]
pub struct CsvChunks {
    buf: String,
    limit: usize,
    next_seq: u32,
    rows: u64,
    row_started: bool,
}

impl CsvChunks {
    /// Starts with the header row, cutting chunks at [`REPORT_CHUNK_BYTES`].
    pub fn new(header: &[String]) -> Self {
        Self::with_limit(header, REPORT_CHUNK_BYTES)
    }

    /// Starts with the header row, cutting chunks once they reach `limit` bytes.
    pub fn with_limit(header: &[String], limit: usize) -> Self {
        let mut c = CsvChunks {
            buf: String::with_capacity(limit.min(REPORT_CHUNK_BYTES) + 4096),
            limit: limit.max(1),
            next_seq: 0,
            rows: 0,
            row_started: false,
        };
        for h in header {
            c.field(Some(h));
        }
        c.buf.push_str("\r\n");
        c.row_started = false;
        c
    }

    /// Adds the next field of the current row (`None` is an empty field).
    pub fn field(&mut self, value: Option<&str>) {
        if self.row_started {
            self.buf.push(',');
        }
        self.row_started = true;
        if let Some(v) = value {
            push_csv_field(&mut self.buf, v);
        }
    }

    /// Ends the current row; returns `(seq, text)` of a chunk to store once the buffer is full.
    pub fn end_row(&mut self) -> Option<(u32, String)> {
        self.buf.push_str("\r\n");
        self.row_started = false;
        self.rows += 1;
        (self.buf.len() >= self.limit).then(|| self.take())
    }

    fn take(&mut self) -> (u32, String) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let cap = self.limit.min(REPORT_CHUNK_BYTES) + 4096;
        (
            seq,
            std::mem::replace(&mut self.buf, String::with_capacity(cap)),
        )
    }

    /// The last chunk, if anything is left (the header alone is a chunk: a report always has
    /// chunk 0), and the number of data rows written.
    pub fn finish(mut self) -> (Option<(u32, String)>, u64) {
        let last = (!self.buf.is_empty() || self.next_seq == 0).then(|| self.take());
        (last, self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = String::new();
        push_csv_field(&mut out, s);
        out
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("plain text"), "plain text");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(field("ünïcödé"), "ünïcödé");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(field("=SUM(A1:A9)"), "'=SUM(A1:A9)");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("@cmd"), "'@cmd");
        assert_eq!(field("\tx"), "'\tx");
        assert_eq!(
            field("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(field("a=b"), "a=b");
    }

    #[test]
    fn chunks_end_at_row_ends_and_count_rows() {
        let header = vec!["A".to_owned(), "B".to_owned()];
        let mut c = CsvChunks::with_limit(&header, 20);
        let mut chunks = Vec::new();
        for n in 0..10 {
            c.field(Some(&format!("row {n}")));
            c.field(None);
            chunks.extend(c.end_row());
        }
        let (last, rows) = c.finish();
        chunks.extend(last);
        assert_eq!(rows, 10);
        let seqs: Vec<u32> = chunks.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>());
        assert!(chunks.iter().all(|(_, t)| t.ends_with("\r\n")));
        assert!(
            chunks[..chunks.len() - 1]
                .iter()
                .all(|(_, t)| t.len() >= 20)
        );
        let all: String = chunks.into_iter().map(|(_, t)| t).collect();
        assert!(all.starts_with("A,B\r\nrow 0,\r\nrow 1,\r\n"));
        assert_eq!(all.lines().count(), 11);
    }

    #[test]
    fn an_empty_report_is_its_header() {
        let c = CsvChunks::new(&report_header(ReportType::CertificationSignoff, &[]));
        let (last, rows) = c.finish();
        let (seq, text) = last.unwrap();
        assert_eq!((seq, rows), (0, 0));
        assert!(text.starts_with("Campaign Name,Certification Name,"));
        assert!(text.ends_with("Signed At\r\n"));
    }

    #[test]
    fn attribute_columns_sit_after_the_identity() {
        let h = report_header(ReportType::CampaignComposition, &["department".into()]);
        let at = h.iter().position(|c| c == "department").unwrap();
        assert_eq!(h[at - 1], "Identity Email");
        assert_eq!(h[at + 1], "Access Type");
        let s = report_header(ReportType::CertificationSignoff, &["department".into()]);
        assert!(!s.contains(&"department".to_owned()));
    }
}
