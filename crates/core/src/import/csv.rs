//! Reading a folder of CSV files, one per kind. Columns are named as the JSON fields
//! (`id,name,displayName,...`); lists are separated by `;`; `permissions` holds a JSON array;
//! extra columns of `identities.csv` become identity attributes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use recert_domain::{AccessType, Id};
use recert_store::ImportKind;

use super::problem::{InvalidImport, Origin, Problem, Problems};
use super::raw::{
    Document, Part, RawAccessProfile, RawAccount, RawAssignment, RawEntitlement, RawIdentity,
    RawPermission, RawRole, RawSource, Scalar,
};

/// One CSV row with its header, reporting bad values into `problems`.
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    location: &'a str,
    problems: &'a mut Problems,
}

impl Row<'_> {
    fn text(&self, name: &str) -> Option<String> {
        let i = *self.columns.get(name)?;
        self.record
            .get(i)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    fn id(&mut self, name: &str) -> Option<Id> {
        let s = self.text(name)?;
        match Id::parse(&s) {
            Ok(id) => Some(id),
            Err(e) => {
                self.problems.add(self.location, Some(name), e.to_string());
                None
            }
        }
    }

    fn ids(&mut self, name: &str) -> Option<Vec<Id>> {
        let s = self.text(name)?;
        let mut out = Vec::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match Id::parse(part) {
                Ok(id) => out.push(id),
                Err(e) => self.problems.add(self.location, Some(name), e.to_string()),
            }
        }
        Some(out)
    }

    fn flag(&mut self, name: &str) -> Option<bool> {
        let s = self.text(name)?;
        match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(true),
            "false" | "no" | "n" | "0" => Some(false),
            _ => {
                self.problems.add(
                    self.location,
                    Some(name),
                    format!("'{s}' is not a boolean: use true or false"),
                );
                None
            }
        }
    }
}

const IDENTITY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "displayName",
    "email",
    "managerId",
    "active",
    "lifecycleState",
];

/// The columns each kind accepts and those it requires.
fn columns(kind: ImportKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ImportKind::Identities => (IDENTITY_COLUMNS, &["id", "name"]),
        ImportKind::Sources => (
            &["id", "name", "type", "description", "ownerId"],
            &["id", "name"],
        ),
        ImportKind::Accounts => (
            &[
                "id",
                "sourceId",
                "identityId",
                "nativeIdentity",
                "name",
                "disabled",
                "locked",
            ],
            &["id", "sourceId", "nativeIdentity"],
        ),
        ImportKind::Entitlements => (
            &[
                "id",
                "name",
                "sourceId",
                "attributeName",
                "attributeValue",
                "description",
                "privileged",
                "ownerId",
                "permissions",
            ],
            &["id", "name", "sourceId", "attributeName", "attributeValue"],
        ),
        ImportKind::AccessProfiles => (
            &[
                "id",
                "name",
                "sourceId",
                "description",
                "ownerId",
                "entitlementIds",
            ],
            &["id", "name", "sourceId"],
        ),
        ImportKind::Roles => (
            &[
                "id",
                "name",
                "description",
                "ownerId",
                "accessProfileIds",
                "entitlementIds",
            ],
            &["id", "name"],
        ),
        ImportKind::Assignments => (
            &["identityId", "type", "id", "accountId"],
            &["identityId", "type", "id"],
        ),
    }
}

/// Reads every `*.csv` file of `dir`. A file whose name is not one of the kinds' is refused, so
/// that a misspelt file name does not silently leave a kind out.
pub fn parse_dir(dir: &Path) -> Result<Document, InvalidImport> {
    let dir_name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        InvalidImport::one(Problem::new(
            &dir_name,
            None,
            format!("cannot read folder: {e}"),
        ))
    })?;
    let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.to_ascii_lowercase().ends_with(".csv") {
            files.insert(name, entry.path());
        }
    }
    let mut problems = Problems::default();
    for name in files.keys() {
        if !ImportKind::ALL.iter().any(|k| k.csv_file() == name) {
            problems.add(
                format!("{dir_name}/{name}"),
                None,
                format!(
                    "unexpected file: the CSV files of an import are {}",
                    ImportKind::ALL.map(|k| k.csv_file()).join(", ")
                ),
            );
        }
    }
    if files.is_empty() {
        problems.add(
            &dir_name,
            None,
            "no CSV files: expected at least one of identities.csv, sources.csv, accounts.csv, \
             entitlements.csv, access_profiles.csv, roles.csv, assignments.csv",
        );
    }
    problems.into_result()?;
    let mut doc = Document::default();
    let mut problems = Problems::default();
    for kind in ImportKind::ALL {
        let Some(path) = files.get(kind.csv_file()) else {
            continue;
        };
        let file = kind.csv_file().to_owned();
        let bytes = std::fs::read(path).map_err(|e| {
            InvalidImport::one(Problem::new(&file, None, format!("cannot read: {e}")))
        })?;
        parse_file(kind, &file, &bytes, &mut doc, &mut problems);
    }
    problems.into_result()?;
    Ok(doc)
}

fn parse_file(
    kind: ImportKind,
    file: &str,
    bytes: &[u8],
    doc: &mut Document,
    problems: &mut Problems,
) {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(
                format!("{file} line 1"),
                None,
                format!("malformed CSV: {e}"),
            );
            return;
        }
    };
    let (known, required) = columns(kind);
    let mut cols: HashMap<String, usize> = HashMap::new();
    let mut attribute_cols: Vec<(String, usize)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if cols.insert(h.to_owned(), i).is_some() {
            problems.add(
                format!("{file} line 1"),
                Some(h),
                "the column appears twice",
            );
        }
        if !known.contains(&h) {
            if kind == ImportKind::Identities {
                attribute_cols.push((h.to_owned(), i));
            } else {
                problems.add(
                    format!("{file} line 1"),
                    Some(h),
                    format!("unknown column: expected {}", known.join(", ")),
                );
            }
        }
    }
    for r in required {
        if !cols.contains_key(*r) {
            problems.add(
                format!("{file} line 1"),
                Some(r),
                "required column is missing",
            );
        }
    }
    if !problems.is_empty() {
        return;
    }
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut parsed = Parsed::default();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.add(
                    format!("{file} line {line}"),
                    None,
                    format!("malformed CSV: {e}"),
                );
                return;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        let location = format!("{file} line {line}");
        if record.iter().any(|f| f.contains('\0')) {
            problems.add(format!("{file} line {line}"), None, super::raw::NUL_MESSAGE);
            lines.push(line);
            continue;
        }
        let mut row = Row {
            record: &record,
            columns: &cols,
            location: &location,
            problems,
        };
        parsed.push(kind, &mut row, &attribute_cols);
        lines.push(line);
    }
    let origin = Origin::Csv {
        file: file.to_owned(),
        lines,
    };
    parsed.into_document(kind, origin, doc);
}

#[derive(Default)]
struct Parsed {
    identities: Vec<RawIdentity>,
    sources: Vec<RawSource>,
    accounts: Vec<RawAccount>,
    entitlements: Vec<RawEntitlement>,
    access_profiles: Vec<RawAccessProfile>,
    roles: Vec<RawRole>,
    assignments: Vec<RawAssignment>,
}

impl Parsed {
    fn push(&mut self, kind: ImportKind, row: &mut Row<'_>, attribute_cols: &[(String, usize)]) {
        match kind {
            ImportKind::Identities => {
                let attributes = attribute_cols
                    .iter()
                    .filter_map(|(name, i)| {
                        let v = row.record.get(*i)?.trim();
                        (!v.is_empty()).then(|| (name.clone(), Scalar(v.to_owned())))
                    })
                    .collect();
                self.identities.push(RawIdentity {
                    id: row.id("id"),
                    name: row.text("name"),
                    display_name: row.text("displayName"),
                    email: row.text("email"),
                    manager_id: row.id("managerId"),
                    active: row.flag("active"),
                    lifecycle_state: row.text("lifecycleState"),
                    attributes: Some(attributes),
                });
            }
            ImportKind::Sources => self.sources.push(RawSource {
                id: row.id("id"),
                name: row.text("name"),
                source_type: row.text("type"),
                description: row.text("description"),
                owner_id: row.id("ownerId"),
            }),
            ImportKind::Accounts => self.accounts.push(RawAccount {
                id: row.id("id"),
                source_id: row.id("sourceId"),
                identity_id: row.id("identityId"),
                native_identity: row.text("nativeIdentity"),
                name: row.text("name"),
                disabled: row.flag("disabled"),
                locked: row.flag("locked"),
            }),
            ImportKind::Entitlements => {
                let permissions =
                    row.text("permissions").and_then(|s| {
                        match serde_json::from_str::<Vec<RawPermission>>(&s) {
                            Ok(p) => Some(p),
                            Err(e) => {
                                row.problems.add(
                                    row.location,
                                    Some("permissions"),
                                    format!(
                                        "must be a JSON array such as \
                                     [{{\"rights\":[\"read\"],\"target\":\"db.table\"}}]: {e}"
                                    ),
                                );
                                None
                            }
                        }
                    });
                self.entitlements.push(RawEntitlement {
                    id: row.id("id"),
                    name: row.text("name"),
                    source_id: row.id("sourceId"),
                    attribute_name: row.text("attributeName"),
                    attribute_value: row.text("attributeValue"),
                    description: row.text("description"),
                    privileged: row.flag("privileged"),
                    owner_id: row.id("ownerId"),
                    permissions,
                });
            }
            ImportKind::AccessProfiles => self.access_profiles.push(RawAccessProfile {
                id: row.id("id"),
                name: row.text("name"),
                source_id: row.id("sourceId"),
                description: row.text("description"),
                owner_id: row.id("ownerId"),
                entitlement_ids: row.ids("entitlementIds"),
            }),
            ImportKind::Roles => self.roles.push(RawRole {
                id: row.id("id"),
                name: row.text("name"),
                description: row.text("description"),
                owner_id: row.id("ownerId"),
                access_profile_ids: row.ids("accessProfileIds"),
                entitlement_ids: row.ids("entitlementIds"),
            }),
            ImportKind::Assignments => {
                let access_type = row
                    .text("type")
                    .and_then(|t| match t.parse::<AccessType>() {
                        Ok(t) => Some(t),
                        Err(e) => {
                            row.problems.add(row.location, Some("type"), e.to_string());
                            None
                        }
                    });
                self.assignments.push(RawAssignment {
                    identity_id: row.id("identityId"),
                    access_type,
                    id: row.id("id"),
                    account_id: row.id("accountId"),
                });
            }
        }
    }

    fn into_document(self, kind: ImportKind, origin: Origin, doc: &mut Document) {
        match kind {
            ImportKind::Identities => {
                doc.identities = Some(Part {
                    records: self.identities,
                    origin,
                })
            }
            ImportKind::Sources => {
                doc.sources = Some(Part {
                    records: self.sources,
                    origin,
                })
            }
            ImportKind::Accounts => {
                doc.accounts = Some(Part {
                    records: self.accounts,
                    origin,
                })
            }
            ImportKind::Entitlements => {
                doc.entitlements = Some(Part {
                    records: self.entitlements,
                    origin,
                })
            }
            ImportKind::AccessProfiles => {
                doc.access_profiles = Some(Part {
                    records: self.access_profiles,
                    origin,
                })
            }
            ImportKind::Roles => {
                doc.roles = Some(Part {
                    records: self.roles,
                    origin,
                })
            }
            ImportKind::Assignments => {
                doc.assignments = Some(Part {
                    records: self.assignments,
                    origin,
                })
            }
        }
    }
}
