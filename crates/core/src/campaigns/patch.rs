//! JSON Patch (RFC 6902) on a campaign. The patch runs on the campaign's patchable view (its
//! editable fields as JSON); then every field that changed must be one its status allows, and
//! must have the right type. `test` ops are honoured, so a client can patch conditionally.

use recert_domain::Timestamp;
use recert_domain::campaign::check_patch;
use recert_domain::review::{Campaign, CampaignSettings};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::CampaignError;

/// One operation of a JSON Patch document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub from: Option<String>,
}

/// The JSON view a patch works on: every field a caller may read and might try to change.
fn view(k: &Campaign) -> Value {
    serde_json::json!({
        "id": k.id.to_string(),
        "name": k.name,
        "description": k.description,
        "deadline": k.deadline.map(|d| d.to_string()),
        "type": k.campaign_type.as_str(),
        "status": k.status.as_str(),
        "emailNotificationEnabled": k.email_notification_enabled,
        "autoRevokeAllowed": k.auto_revoke_allowed,
        "recommendationsEnabled": k.recommendations_enabled,
        "correlatedStatus": k.correlated_status.as_str(),
        "mandatoryCommentRequirement": k.mandatory_comment_requirement.as_str(),
        "sunsetCommentsRequired": k.sunset_comments_required,
    })
}

fn invalid(msg: String) -> CampaignError {
    CampaignError::Invalid(msg)
}

/// A JSON Pointer of one level (`/name`): the campaign's patchable fields are all top level.
fn key(pointer: &str, n: usize) -> Result<String, CampaignError> {
    let rest = pointer.strip_prefix('/').ok_or_else(|| {
        invalid(format!(
            "operation {n}: path '{pointer}' is not a JSON Pointer (it starts with /)"
        ))
    })?;
    if rest.contains('/') {
        return Err(invalid(format!(
            "operation {n}: path '{pointer}' does not name a top-level campaign field"
        )));
    }
    Ok(rest.replace("~1", "/").replace("~0", "~"))
}

/// Applies `ops` to `doc` (an object), RFC 6902 semantics for one-level paths.
pub fn apply_patch(doc: &mut Map<String, Value>, ops: &[PatchOp]) -> Result<(), CampaignError> {
    if ops.is_empty() {
        return Err(invalid("the patch has no operations".into()));
    }
    for (i, op) in ops.iter().enumerate() {
        let n = i + 1;
        let path = key(&op.path, n)?;
        let value = || {
            op.value
                .clone()
                .ok_or_else(|| invalid(format!("operation {n} ({}) needs a value", op.op)))
        };
        let from = || -> Result<String, CampaignError> {
            key(
                op.from
                    .as_deref()
                    .ok_or_else(|| invalid(format!("operation {n} ({}) needs from", op.op)))?,
                n,
            )
        };
        match op.op.as_str() {
            "add" | "replace" => {
                if op.op == "replace" && !doc.contains_key(&path) {
                    return Err(invalid(format!(
                        "operation {n}: replace of '{}' which does not exist",
                        op.path
                    )));
                }
                doc.insert(path, value()?);
            }
            "remove" => {
                if doc.insert(path, Value::Null).is_none() {
                    return Err(invalid(format!(
                        "operation {n}: remove of '{}' which does not exist",
                        op.path
                    )));
                }
            }
            "copy" | "move" => {
                let src = from()?;
                let v = doc.get(&src).cloned().ok_or_else(|| {
                    invalid(format!("operation {n}: from '/{src}' does not exist"))
                })?;
                if op.op == "move" {
                    doc.insert(src, Value::Null);
                }
                doc.insert(path, v);
            }
            "test" => {
                let want = value()?;
                if doc.get(&path) != Some(&want) {
                    return Err(invalid(format!(
                        "operation {n}: test failed: '{}' is not {want}",
                        op.path
                    )));
                }
            }
            other => {
                return Err(invalid(format!(
                    "operation {n}: '{other}' is not a JSON Patch operation (add, remove, \
                     replace, move, copy, test)"
                )));
            }
        }
    }
    Ok(())
}

/// The settings after `ops`, checked against what the campaign's status allows.
pub(crate) fn patched_settings(
    k: &Campaign,
    ops: &[PatchOp],
    now: Timestamp,
) -> Result<CampaignSettings, CampaignError> {
    let before = view(k);
    let Value::Object(mut doc) = before.clone() else {
        return Err(invalid("campaign view is not an object".into()));
    };
    apply_patch(&mut doc, ops)?;
    let Value::Object(before) = before else {
        return Err(invalid("campaign view is not an object".into()));
    };
    for (field, new) in &doc {
        if before.get(field) != Some(new) {
            if !before.contains_key(field) {
                return Err(invalid(format!("'{field}' is not a campaign field")));
            }
            check_patch(k.status, field)?;
        }
    }
    let mut s = k.settings();
    let flag = |f: &str| -> Result<bool, CampaignError> {
        doc.get(f)
            .and_then(Value::as_bool)
            .ok_or_else(|| invalid(format!("{f} must be true or false")))
    };
    s.name = doc
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("name must be a non-empty string".into()))?
        .to_owned();
    s.description = match doc.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(other) => {
            return Err(invalid(format!(
                "description must be a string, not {other}"
            )));
        }
    };
    let new_deadline = match doc.get("deadline") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(Timestamp::parse(d).map_err(|_| {
            invalid(format!(
                "deadline '{d}' is not an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z"
            ))
        })?),
        Some(other) => return Err(invalid(format!("deadline must be a string, not {other}"))),
    };
    if new_deadline != k.deadline {
        match new_deadline {
            Some(d) if d <= now => {
                return Err(invalid(format!("deadline {d} is not in the future")));
            }
            None if k.status == recert_domain::campaign::CampaignStatus::Active => {
                return Err(invalid("an ACTIVE campaign must keep a deadline".into()));
            }
            _ => {}
        }
    }
    s.deadline = new_deadline;
    s.email_notification_enabled = flag("emailNotificationEnabled")?;
    s.auto_revoke_allowed = flag("autoRevokeAllowed")?;
    s.recommendations_enabled = flag("recommendationsEnabled")?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(v: Value) -> Vec<PatchOp> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rfc6902_operations_on_one_level() {
        let Value::Object(mut doc) = json!({"name": "a", "description": null}) else {
            unreachable!()
        };
        apply_patch(
            &mut doc,
            &ops(json!([
                {"op": "replace", "path": "/name", "value": "b"},
                {"op": "copy", "from": "/name", "path": "/description"},
                {"op": "test", "path": "/description", "value": "b"}
            ])),
        )
        .unwrap();
        assert_eq!(doc["description"], json!("b"));
        let e = apply_patch(
            &mut doc,
            &ops(json!([{"op": "test", "path": "/name", "value": "z"}])),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("test failed"), "{e}");
        let e = apply_patch(
            &mut doc,
            &ops(json!([{"op": "replace", "path": "/x/y", "value": 1}])),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("top-level"), "{e}");
        let e = apply_patch(&mut doc, &ops(json!([{"op": "frob", "path": "/name"}])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'frob' is not a JSON Patch operation"), "{e}");
    }
}
