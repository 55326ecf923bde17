//! Reading a JSON import document.

use super::problem::{InvalidImport, Origin, Problem};
use super::raw::{Document, JsonDocument, Part};

/// Parses `bytes` (the content of `file`). A syntax or type error names the path of the bad
/// value (`identities[3].active`) and its line and column.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Document, InvalidImport> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let doc: JsonDocument = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let location = if path.is_empty() || path == "." {
            file.to_owned()
        } else {
            format!("{file}: {path}")
        };
        InvalidImport::one(Problem::new(
            location,
            None,
            format!("malformed JSON: {inner}"),
        ))
    })?;
    Ok(Document {
        identities: doc.identities.map(|r| part_of(file, r)),
        sources: doc.sources.map(|r| part_of(file, r)),
        accounts: doc.accounts.map(|r| part_of(file, r)),
        entitlements: doc.entitlements.map(|r| part_of(file, r)),
        access_profiles: doc.access_profiles.map(|r| part_of(file, r)),
        roles: doc.roles.map(|r| part_of(file, r)),
        assignments: doc.assignments.map(|r| part_of(file, r)),
    })
}

fn part_of<T>(file: &str, records: Vec<T>) -> Part<T> {
    Part {
        records,
        origin: Origin::Json {
            file: file.to_owned(),
        },
    }
}
