//! The records recert reviews: who (identities), where (sources and their accounts), what
//! (entitlements, access profiles, roles) and who has what (assignments).
//!
//! These are the current state as last imported. Campaigns later take snapshots of them, so a
//! later import never rewrites what a reviewer saw.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Id, Timestamp};

/// A person (or a service identity) whose access is reviewed, and who may review others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: Id,
    /// The unique account name, e.g. `alice.smith`.
    pub name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub manager_id: Option<Id>,
    /// False for leavers and suspended people; inactive identities are still reviewed.
    pub active: bool,
    /// The HR lifecycle state as given (`active`, `leaver`, ...), free text.
    pub lifecycle_state: Option<String>,
    /// Free attributes such as `department`, `title`, `location`.
    pub attributes: BTreeMap<String, String>,
}

/// An application or system whose access is reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub id: Id,
    pub name: String,
    /// The kind of system (`Active Directory`, `SaaS`, `Database`, ...), free text.
    #[serde(rename = "type")]
    pub source_type: Option<String>,
    pub description: Option<String>,
    /// The application owner: reviews this source in source-owner campaigns.
    pub owner_id: Option<Id>,
}

/// An account on a source. Without an identity it is *uncorrelated*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: Id,
    pub source_id: Id,
    pub identity_id: Option<Id>,
    /// The account's key on its source (a DN, a user name, an employee number).
    pub native_identity: String,
    pub name: String,
    pub disabled: bool,
    pub locked: bool,
}

/// What an entitlement lets its holder do on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub rights: Vec<String>,
    pub target: String,
}

/// One grantable piece of access on a source, e.g. group membership `memberOf=CN=Admins,...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    pub id: Id,
    pub source_id: Id,
    pub name: String,
    pub attribute_name: String,
    pub attribute_value: String,
    pub description: Option<String>,
    pub privileged: bool,
    pub owner_id: Option<Id>,
    pub permissions: Vec<Permission>,
}

/// A named bundle of entitlements of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessProfile {
    pub id: Id,
    pub source_id: Id,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Option<Id>,
    /// Sorted, without duplicates.
    pub entitlement_ids: Vec<Id>,
}

/// A business role: access profiles and entitlements granted together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: Id,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Option<Id>,
    /// Sorted, without duplicates.
    pub access_profile_ids: Vec<Id>,
    /// Sorted, without duplicates.
    pub entitlement_ids: Vec<Id>,
}

/// The kinds of access an identity can be assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessType {
    Entitlement,
    AccessProfile,
    Role,
}

impl AccessType {
    pub const ALL: [AccessType; 3] = [Self::Entitlement, Self::AccessProfile, Self::Role];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Entitlement => "ENTITLEMENT",
            Self::AccessProfile => "ACCESS_PROFILE",
            Self::Role => "ROLE",
        }
    }
}

impl fmt::Display for AccessType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an [`AccessType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an assignment type: expected ENTITLEMENT, ACCESS_PROFILE or ROLE")]
pub struct InvalidAccessType(pub String);

impl FromStr for AccessType {
    type Err = InvalidAccessType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| InvalidAccessType(s.to_owned()))
    }
}

/// That an identity holds a piece of access, through an account where the access lives on one.
/// Two assignments with the same four fields are the same grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub identity_id: Id,
    #[serde(rename = "type")]
    pub access_type: AccessType,
    /// The entitlement, access profile or role (by `access_type`).
    #[serde(rename = "id")]
    pub access_id: Id,
    pub account_id: Option<Id>,
}

/// An assignment as recert has recorded it over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub id: Id,
    pub assignment: Assignment,
    /// The import that first contained it.
    pub first_seen_at: Timestamp,
    /// The last import that contained it; `None` while it is still present (then it was seen by
    /// the latest import that carried assignments).
    pub last_seen_at: Option<Timestamp>,
    /// The import that no longer contained it: the access is gone.
    pub removed_at: Option<Timestamp>,
}

/// Everything recert knows about who has what, as one value: what an import file describes and
/// what the store holds now (active records only). Serialized, it is an import document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub identities: Vec<Identity>,
    pub sources: Vec<Source>,
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub access_profiles: Vec<AccessProfile>,
    pub roles: Vec<Role>,
    pub assignments: Vec<Assignment>,
}
