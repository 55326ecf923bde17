//! What an import changes, worked out by the core and applied by a store in one transaction.

use recert_domain::{
    AccessProfile, Account, Assignment, Entitlement, Id, Identity, Role, Source, Timestamp,
};
use serde::{Deserialize, Serialize};

/// The kinds of record an import carries, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImportKind {
    Identities,
    Sources,
    Accounts,
    Entitlements,
    AccessProfiles,
    Roles,
    Assignments,
}

impl ImportKind {
    pub const ALL: [ImportKind; 7] = [
        Self::Identities,
        Self::Sources,
        Self::Accounts,
        Self::Entitlements,
        Self::AccessProfiles,
        Self::Roles,
        Self::Assignments,
    ];

    /// The JSON key of this kind in an import document.
    pub fn json_key(&self) -> &'static str {
        match self {
            Self::Identities => "identities",
            Self::Sources => "sources",
            Self::Accounts => "accounts",
            Self::Entitlements => "entitlements",
            Self::AccessProfiles => "accessProfiles",
            Self::Roles => "roles",
            Self::Assignments => "assignments",
        }
    }

    /// The CSV file name of this kind in an import folder.
    pub fn csv_file(&self) -> &'static str {
        match self {
            Self::Identities => "identities.csv",
            Self::Sources => "sources.csv",
            Self::Accounts => "accounts.csv",
            Self::Entitlements => "entitlements.csv",
            Self::AccessProfiles => "access_profiles.csv",
            Self::Roles => "roles.csv",
            Self::Assignments => "assignments.csv",
        }
    }
}

/// New, changed and removed records of one kind. A record "added" may be one that had been
/// removed by an earlier import and is back: stores upsert by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindChanges<T> {
    pub added: Vec<T>,
    pub changed: Vec<T>,
    pub removed: Vec<Id>,
}

impl<T> Default for KindChanges<T> {
    fn default() -> Self {
        KindChanges {
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
        }
    }
}

impl<T> KindChanges<T> {
    pub fn summary(&self) -> KindSummary {
        KindSummary {
            added: self.added.len() as u64,
            changed: self.changed.len() as u64,
            removed: self.removed.len() as u64,
        }
    }

    pub fn upserts(&self) -> impl Iterator<Item = &T> + Clone {
        self.added.iter().chain(self.changed.iter())
    }
}

/// Counts of one kind's changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSummary {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// Counts of an import's changes, per kind; `unchanged` says the import changed nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub identities: KindSummary,
    pub sources: KindSummary,
    pub accounts: KindSummary,
    pub entitlements: KindSummary,
    pub access_profiles: KindSummary,
    pub roles: KindSummary,
    pub assignments: KindSummary,
}

impl ImportSummary {
    pub fn get(&self, kind: ImportKind) -> KindSummary {
        match kind {
            ImportKind::Identities => self.identities,
            ImportKind::Sources => self.sources,
            ImportKind::Accounts => self.accounts,
            ImportKind::Entitlements => self.entitlements,
            ImportKind::AccessProfiles => self.access_profiles,
            ImportKind::Roles => self.roles,
            ImportKind::Assignments => self.assignments,
        }
    }

    pub fn unchanged(&self) -> bool {
        ImportKind::ALL
            .iter()
            .all(|k| self.get(*k) == KindSummary::default())
    }
}

/// Everything one import writes.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The id of this import run.
    pub run_id: Id,
    pub at: Timestamp,
    /// Where the data came from (a path), for the import log.
    pub source: String,
    /// Which kinds the import carried; kinds it did not carry were left as they were.
    pub kinds: Vec<ImportKind>,
    /// The store generation the plan was computed from.
    pub base_generation: i64,
    pub identities: KindChanges<Identity>,
    pub sources: KindChanges<Source>,
    pub accounts: KindChanges<Account>,
    pub entitlements: KindChanges<Entitlement>,
    pub access_profiles: KindChanges<AccessProfile>,
    pub roles: KindChanges<Role>,
    /// New grants, each with the id of its new record.
    pub assignments_added: Vec<(Id, Assignment)>,
    /// Ids of assignment records whose grant is gone.
    pub assignments_removed: Vec<Id>,
}

impl ImportPlan {
    pub fn summary(&self) -> ImportSummary {
        ImportSummary {
            identities: self.identities.summary(),
            sources: self.sources.summary(),
            accounts: self.accounts.summary(),
            entitlements: self.entitlements.summary(),
            access_profiles: self.access_profiles.summary(),
            roles: self.roles.summary(),
            assignments: KindSummary {
                added: self.assignments_added.len() as u64,
                changed: 0,
                removed: self.assignments_removed.len() as u64,
            },
        }
    }
}

/// One import as recorded in the import log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRun {
    pub id: Id,
    pub at: Timestamp,
    pub source: String,
    pub kinds: Vec<ImportKind>,
    pub summary: ImportSummary,
}
