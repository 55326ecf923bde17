//! What a campaign covers, read from the type's options as the API gives them
//! (`sourceOwnerCampaignInfo`, `searchCampaignInfo`, `roleCompositionCampaignInfo`) and checked
//! before anything is stored: a campaign that cannot be generated is refused at once, with the
//! field named.

use recert_domain::campaign::CampaignType;
use recert_domain::filter::{self, FieldKind, FieldSpec, Op};
use recert_domain::review::{AccessConstraint, CorrelatedStatus, Scope};
use recert_domain::{AccessType, Id};
use serde_json::Value;

use super::CampaignError;

const TEXT_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::Co, Op::Sw, Op::Pr, Op::IsNull];
const ID_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::Pr, Op::IsNull];

macro_rules! text_fields {
    ($($name:literal),*) => {
        [$(FieldSpec { name: $name, ops: TEXT_OPS, kind: FieldKind::String }),*]
    };
}

/// The identity fields a SEARCH campaign's `query` may use (the filters grammar).
pub const IDENTITY_QUERY_FIELDS: &[FieldSpec] = &{
    let t = text_fields!(
        "name",
        "displayName",
        "email",
        "lifecycleState",
        "attributes.department",
        "attributes.title",
        "attributes.location",
        "attributes.employeeNumber",
        "attributes.costCenter",
        "attributes.employeeType",
        "attributes.company",
        "attributes.country"
    );
    [
        FieldSpec {
            name: "id",
            ops: ID_OPS,
            kind: FieldKind::Id,
        },
        FieldSpec {
            name: "managerId",
            ops: ID_OPS,
            kind: FieldKind::Id,
        },
        FieldSpec::new("active", &[Op::Eq, Op::Ne], FieldKind::Bool),
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        t[6],
        t[7],
        t[8],
        t[9],
        t[10],
        t[11],
    ]
};

/// The role fields a ROLE_COMPOSITION campaign's `query` may use.
pub const ROLE_QUERY_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "id",
        ops: ID_OPS,
        kind: FieldKind::Id,
    },
    FieldSpec {
        name: "ownerId",
        ops: ID_OPS,
        kind: FieldKind::Id,
    },
    FieldSpec {
        name: "name",
        ops: TEXT_OPS,
        kind: FieldKind::String,
    },
    FieldSpec {
        name: "description",
        ops: TEXT_OPS,
        kind: FieldKind::String,
    },
];

fn invalid(msg: String) -> CampaignError {
    CampaignError::Invalid(msg)
}

fn ids(v: &Value, field: &str) -> Result<Vec<Id>, CampaignError> {
    let arr = v
        .as_array()
        .ok_or_else(|| invalid(format!("{field} must be an array of ids")))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str().and_then(|s| Id::parse(s).ok()).ok_or_else(|| {
                invalid(format!(
                    "{field}[{i}] must be an id of 32 hexadecimal characters, not {x}"
                ))
            })
        })
        .collect()
}

fn reviewer(info: &Value, field: &str) -> Result<Option<Id>, CampaignError> {
    let Some(r) = info.get("reviewer").filter(|r| !r.is_null()) else {
        return Ok(None);
    };
    match r.get("type").and_then(Value::as_str) {
        None | Some("IDENTITY") => {}
        Some("GOVERNANCE_GROUP") => {
            return Err(invalid(format!(
                "{field}.reviewer: governance groups are not supported; name an IDENTITY"
            )));
        }
        Some(other) => {
            return Err(invalid(format!(
                "{field}.reviewer.type '{other}' is not IDENTITY or GOVERNANCE_GROUP"
            )));
        }
    }
    let id = r
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{field}.reviewer.id is required")))?;
    Id::parse(id)
        .map(Some)
        .map_err(|_| invalid(format!("{field}.reviewer.id '{id}' is not an id")))
}

fn query(
    info: &Value,
    field: &str,
    fields: &[FieldSpec],
) -> Result<Option<filter::Filter>, CampaignError> {
    let Some(q) = info.get("query").filter(|q| !q.is_null()) else {
        return Ok(None);
    };
    let q = q
        .as_str()
        .ok_or_else(|| invalid(format!("{field}.query must be a string")))?;
    let f = filter::parse(q).map_err(|e| invalid(format!("{field}.query: {}", e.0)))?;
    filter::validate(&f, fields).map_err(|e| invalid(format!("{field}.query: {}", e.0)))?;
    Ok(Some(f))
}

fn info<'a>(config: &'a Value, key: &str) -> Option<&'a Value> {
    config.get(key).filter(|v| !v.is_null())
}

/// Reads the campaign's scope from its options; every problem names the field.
pub fn scope_of(
    t: CampaignType,
    correlated: CorrelatedStatus,
    config: &Value,
) -> Result<Scope, CampaignError> {
    for (key, owner) in [
        ("sourceOwnerCampaignInfo", CampaignType::SourceOwner),
        ("searchCampaignInfo", CampaignType::Search),
        ("roleCompositionCampaignInfo", CampaignType::RoleComposition),
    ] {
        if owner != t && info(config, key).is_some() {
            return Err(invalid(format!(
                "{key} must be set only on {owner} campaigns, not on {t}"
            )));
        }
    }
    match t {
        CampaignType::Manager => Ok(Scope::Manager),
        CampaignType::SourceOwner => {
            let f = "sourceOwnerCampaignInfo";
            let i = info(config, f).ok_or_else(|| invalid(format!("{f} is required")))?;
            let sources = ids(
                i.get("sourceIds").unwrap_or(&Value::Null),
                &format!("{f}.sourceIds"),
            )?;
            if sources.is_empty() {
                return Err(invalid(format!(
                    "{f}.sourceIds must name at least one source"
                )));
            }
            Ok(Scope::SourceOwner {
                source_ids: sources,
                uncorrelated: correlated == CorrelatedStatus::Uncorrelated,
            })
        }
        CampaignType::Search => {
            let f = "searchCampaignInfo";
            let i = info(config, f).ok_or_else(|| invalid(format!("{f} is required")))?;
            match i.get("type").and_then(Value::as_str) {
                Some("IDENTITY") | Some("ACCESS") => {}
                Some(other) => {
                    return Err(invalid(format!(
                        "{f}.type '{other}' is not IDENTITY or ACCESS"
                    )));
                }
                None => return Err(invalid(format!("{f}.type is required"))),
            }
            let identity_ids = match i.get("identityIds").filter(|v| !v.is_null()) {
                Some(v) => Some(ids(v, &format!("{f}.identityIds"))?),
                None => None,
            };
            let q = query(i, f, IDENTITY_QUERY_FIELDS)?;
            if identity_ids.is_none() && q.is_none() {
                return Err(invalid(format!(
                    "{f}: one of query or identityIds must be set"
                )));
            }
            let mut access = Vec::new();
            if let Some(list) = i.get("accessConstraints").filter(|v| !v.is_null()) {
                let list = list
                    .as_array()
                    .ok_or_else(|| invalid(format!("{f}.accessConstraints must be an array")))?;
                if list.len() > 1000 {
                    return Err(invalid(format!(
                        "{f}.accessConstraints has {} entries; at most 1000",
                        list.len()
                    )));
                }
                for (n, c) in list.iter().enumerate() {
                    let at = format!("{f}.accessConstraints[{n}]");
                    let ty = c
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(format!("{at}.type is required")))?;
                    let access_type: AccessType = ty.parse().map_err(|_| {
                        invalid(format!(
                            "{at}.type '{ty}' is not ENTITLEMENT, ACCESS_PROFILE or ROLE"
                        ))
                    })?;
                    let op = c
                        .get("operator")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(format!("{at}.operator is required")))?;
                    let selected = match op {
                        "ALL" => None,
                        "SELECTED" => {
                            let v =
                                ids(c.get("ids").unwrap_or(&Value::Null), &format!("{at}.ids"))?;
                            if v.is_empty() {
                                return Err(invalid(format!(
                                    "{at}.ids must name at least one id when operator is SELECTED"
                                )));
                            }
                            Some(v)
                        }
                        other => {
                            return Err(invalid(format!(
                                "{at}.operator '{other}' is not ALL or SELECTED"
                            )));
                        }
                    };
                    if selected.is_none() && c.get("ids").is_some_and(|v| !v.is_null()) {
                        return Err(invalid(format!(
                            "{at}.ids must be set only when operator is SELECTED"
                        )));
                    }
                    access.push(AccessConstraint {
                        access_type,
                        ids: selected,
                    });
                }
            }
            Ok(Scope::Search {
                identity_ids,
                query: q,
                access,
                reviewer: reviewer(i, f)?,
            })
        }
        CampaignType::RoleComposition => {
            let f = "roleCompositionCampaignInfo";
            let empty = Value::Object(Default::default());
            let i = info(config, f).unwrap_or(&empty);
            let role_ids = match i.get("roleIds").filter(|v| !v.is_null()) {
                Some(v) => Some(ids(v, &format!("{f}.roleIds"))?),
                None => None,
            };
            let q = query(i, f, ROLE_QUERY_FIELDS)?;
            if role_ids.is_some() && q.is_some() {
                return Err(invalid(format!(
                    "{f}: only one of roleIds and query may be set"
                )));
            }
            if let Some(r) = i.get("remediatorRef").filter(|v| !v.is_null()) {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                if Id::parse(id).is_err() {
                    return Err(invalid(format!("{f}.remediatorRef.id '{id}' is not an id")));
                }
            }
            Ok(Scope::RoleComposition {
                role_ids,
                query: q,
                reviewer: reviewer(i, f)?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(t: CampaignType, c: Value) -> String {
        scope_of(t, CorrelatedStatus::Correlated, &c)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn each_type_reads_its_options_and_names_what_is_wrong() {
        assert_eq!(
            scope_of(
                CampaignType::Manager,
                CorrelatedStatus::Correlated,
                &json!({})
            )
            .unwrap(),
            Scope::Manager
        );
        let e = err(CampaignType::SourceOwner, json!({}));
        assert!(e.contains("sourceOwnerCampaignInfo is required"), "{e}");
        let e = err(
            CampaignType::SourceOwner,
            json!({"sourceOwnerCampaignInfo": {"sourceIds": ["nope"]}}),
        );
        assert!(e.contains("sourceOwnerCampaignInfo.sourceIds[0]"), "{e}");
        let e = err(
            CampaignType::Manager,
            json!({"searchCampaignInfo": {"type": "IDENTITY"}}),
        );
        assert!(e.contains("only on SEARCH campaigns"), "{e}");
        let e = err(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "IDENTITY"}}),
        );
        assert!(e.contains("one of query or identityIds"), "{e}");
        let e = err(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "IDENTITY", "query": "salary gt 5"}}),
        );
        assert!(
            e.contains("searchCampaignInfo.query") && e.contains("salary"),
            "{e}"
        );
        let ok = scope_of(
            CampaignType::Search,
            CorrelatedStatus::Correlated,
            &json!({"searchCampaignInfo": {"type": "IDENTITY",
                "query": "attributes.department eq \"Finance\"",
                "accessConstraints": [{"type": "ENTITLEMENT", "operator": "ALL"}]}}),
        )
        .unwrap();
        assert!(matches!(ok, Scope::Search { ref access, .. } if access.len() == 1));
        let e = err(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "IDENTITY", "identityIds": [],
                "reviewer": {"type": "GOVERNANCE_GROUP", "id": "x"}}}),
        );
        assert!(e.contains("governance groups"), "{e}");
        let e = err(
            CampaignType::RoleComposition,
            json!({"roleCompositionCampaignInfo": {"roleIds": [], "query": "name eq \"x\""}}),
        );
        assert!(e.contains("only one of roleIds and query"), "{e}");
    }
}
