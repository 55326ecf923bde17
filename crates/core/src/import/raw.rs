//! Import records as read from a file, before any rule is checked: every field optional, so that
//! a missing one is reported by name rather than as a parse failure.

use std::collections::BTreeMap;

use recert_domain::{AccessType, Id};
use serde::{Deserialize, Deserializer};

use super::problem::Origin;

/// The records of one kind and where they came from.
#[derive(Debug, Clone)]
pub struct Part<T> {
    pub records: Vec<T>,
    pub origin: Origin,
}

/// A whole import: each kind present (a full list of that kind) or absent (left as stored).
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub identities: Option<Part<RawIdentity>>,
    pub sources: Option<Part<RawSource>>,
    pub accounts: Option<Part<RawAccount>>,
    pub entitlements: Option<Part<RawEntitlement>>,
    pub access_profiles: Option<Part<RawAccessProfile>>,
    pub roles: Option<Part<RawRole>>,
    pub assignments: Option<Part<RawAssignment>>,
}

/// PostgreSQL cannot store it in text, and no real name or attribute contains it.
pub(crate) const NUL_MESSAGE: &str = "contains a NUL character (\\u0000), which text cannot hold";

fn no_nul<E: serde::de::Error>(s: String) -> Result<String, E> {
    if s.contains('\0') {
        Err(E::custom(NUL_MESSAGE))
    } else {
        Ok(s)
    }
}

/// Reads an empty string as absent: spreadsheets and exports write `""` for "no value".
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .filter(|s| !s.trim().is_empty())
        .map(no_nul)
        .transpose()
}

fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Option::<Vec<String>>::deserialize(d)?
        .map(|v| v.into_iter().map(no_nul).collect())
        .transpose()
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
    match Option::<String>::deserialize(d)?.filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(s) => Id::parse(s.trim())
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// An attribute value: strings, numbers and booleans are kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => no_nul(s).map(Scalar),
            serde_json::Value::Number(n) => Ok(Scalar(n.to_string())),
            serde_json::Value::Bool(b) => Ok(Scalar(b.to_string())),
            serde_json::Value::Null => Ok(Scalar(String::new())),
            _ => Err(serde::de::Error::custom(
                "an attribute value must be a string, number or boolean",
            )),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawIdentity {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub manager_id: Option<Id>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub lifecycle_state: Option<String>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, Scalar>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawSource {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub source_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub owner_id: Option<Id>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAccount {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "id")]
    pub source_id: Option<Id>,
    #[serde(default, deserialize_with = "id")]
    pub identity_id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub native_identity: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub locked: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPermission {
    #[serde(default, deserialize_with = "texts")]
    pub rights: Option<Vec<String>>,
    #[serde(default, deserialize_with = "text")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawEntitlement {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub source_id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub attribute_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub attribute_value: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default)]
    pub privileged: Option<bool>,
    #[serde(default, deserialize_with = "id")]
    pub owner_id: Option<Id>,
    #[serde(default)]
    pub permissions: Option<Vec<RawPermission>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAccessProfile {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub source_id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub owner_id: Option<Id>,
    #[serde(default)]
    pub entitlement_ids: Option<Vec<Id>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawRole {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "id")]
    pub owner_id: Option<Id>,
    #[serde(default)]
    pub access_profile_ids: Option<Vec<Id>>,
    #[serde(default)]
    pub entitlement_ids: Option<Vec<Id>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAssignment {
    #[serde(default, deserialize_with = "id")]
    pub identity_id: Option<Id>,
    #[serde(default, rename = "type")]
    pub access_type: Option<AccessType>,
    #[serde(default, deserialize_with = "id")]
    pub id: Option<Id>,
    #[serde(default, deserialize_with = "id")]
    pub account_id: Option<Id>,
}

/// The JSON document as a whole.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JsonDocument {
    pub identities: Option<Vec<RawIdentity>>,
    pub sources: Option<Vec<RawSource>>,
    pub accounts: Option<Vec<RawAccount>>,
    pub entitlements: Option<Vec<RawEntitlement>>,
    pub access_profiles: Option<Vec<RawAccessProfile>>,
    pub roles: Option<Vec<RawRole>>,
    pub assignments: Option<Vec<RawAssignment>>,
}
