//! Where a bad record is and what is wrong with it, so that a refusal names the file, the record
//! (index or line) and the field.

use std::fmt;

use recert_store::ImportKind;

/// Where the records of one kind came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A JSON document: records are named `key[index]`.
    Json { file: String },
    /// A CSV file: records are named by line; `lines[i]` is the line of record `i`.
    Csv { file: String, lines: Vec<u64> },
    /// Not in the import: the data already stored, kept because the import left this kind out.
    Stored,
    /// Generated (demo data).
    Generated,
}

impl Origin {
    /// Names record `index` of `kind`.
    pub fn locate(&self, kind: ImportKind, index: usize) -> String {
        match self {
            Origin::Json { file } => format!("{file}: {}[{index}]", kind.json_key()),
            Origin::Csv { file, lines } => match lines.get(index) {
                Some(line) => format!("{file} line {line}"),
                None => format!("{file} record {}", index + 1),
            },
            Origin::Stored => format!("stored {} #{}", kind.json_key(), index + 1),
            Origin::Generated => format!("generated {}[{index}]", kind.json_key()),
        }
    }
}

/// One thing wrong with an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file and record, e.g. `org.json: identities[3]` or `identities.csv line 5`.
    pub location: String,
    /// The field at fault, in the import's spelling (`managerId`), if one is.
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(
        location: impl Into<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            location: location.into(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}, field {field}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// Collects problems up to a limit, so a file with a systematic mistake gives a readable answer.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    more: usize,
}

pub const MAX_PROBLEMS: usize = 50;

impl Problems {
    pub fn push(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.more += 1;
        }
    }

    pub fn add(
        &mut self,
        location: impl Into<String>,
        field: Option<&str>,
        msg: impl Into<String>,
    ) {
        self.push(Problem::new(location, field, msg));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn into_result(self) -> Result<(), InvalidImport> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(InvalidImport {
                problems: self.list,
                more: self.more,
            })
        }
    }
}

/// An import refused because of its content; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidImport {
    pub problems: Vec<Problem>,
    /// Problems found beyond the first [`MAX_PROBLEMS`].
    pub more: usize,
}

impl InvalidImport {
    pub fn one(p: Problem) -> Self {
        InvalidImport {
            problems: vec![p],
            more: 0,
        }
    }
}

impl fmt::Display for InvalidImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len() + self.more;
        write!(
            f,
            "import refused, nothing was changed: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        if self.more > 0 {
            write!(f, "\n  ... and {} more", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidImport {}
