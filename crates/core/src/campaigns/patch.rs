//! JSON Patch (RFC 6902) on a campaign. The patch runs on the campaign's patchable view (its
//! editable fields as JSON); then every field that changed must be one its status allows, and
//! must have the right type. `test` ops are honoured, so a client can patch conditionally.

use recert_domain::Timestamp;
use recert_domain::campaign::check_patch;
use recert_domain::review::{Campaign, CampaignSettings};
use serde::Deserialize;
use serde_json::Value;

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

/// The tokens of a JSON Pointer (`/a/b~1c` → `a`, `b/c`).
fn tokens(pointer: &str, n: usize) -> Result<Vec<String>, CampaignError> {
    if pointer.is_empty() {
        return Err(invalid(format!(
            "operation {n}: the whole document cannot be replaced; name a field"
        )));
    }
    let rest = pointer.strip_prefix('/').ok_or_else(|| {
        invalid(format!(
            "operation {n}: path '{pointer}' is not a JSON Pointer (it starts with /)"
        ))
    })?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent<'a>(
    doc: &'a mut Value,
    toks: &[String],
    pointer: &str,
    n: usize,
) -> Result<&'a mut Value, CampaignError> {
    let mut at = doc;
    for t in &toks[..toks.len() - 1] {
        at = match at {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("operation {n}: path '{pointer}' does not exist")))?;
    }
    Ok(at)
}

fn get(doc: &Value, pointer: &str) -> Option<Value> {
    doc.pointer(pointer).cloned()
}

fn add(
    doc: &mut Value,
    pointer: &str,
    v: Value,
    n: usize,
    replace: bool,
) -> Result<(), CampaignError> {
    let toks = tokens(pointer, n)?;
    let last = toks.last().cloned().unwrap_or_default();
    let missing = || invalid(format!("operation {n}: path '{pointer}' does not exist"));
    match parent(doc, &toks, pointer, n)? {
        Value::Object(m) => {
            if replace && !m.contains_key(&last) {
                return Err(missing());
            }
            m.insert(last, v);
        }
        Value::Array(a) => {
            if last == "-" && !replace {
                a.push(v);
            } else {
                let i: usize = last.parse().map_err(|_| missing())?;
                if replace {
                    *a.get_mut(i).ok_or_else(missing)? = v;
                } else if i <= a.len() {
                    a.insert(i, v);
                } else {
                    return Err(missing());
                }
            }
        }
        _ => {
            return Err(invalid(format!(
                "operation {n}: path '{pointer}' goes into a value that has no fields"
            )));
        }
    }
    Ok(())
}

fn remove(doc: &mut Value, pointer: &str, n: usize) -> Result<Value, CampaignError> {
    let toks = tokens(pointer, n)?;
    let last = toks.last().cloned().unwrap_or_default();
    let missing = || {
        invalid(format!(
            "operation {n}: remove of '{pointer}' which does not exist"
        ))
    };
    match parent(doc, &toks, pointer, n)? {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i < a.len() {
                Ok(a.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

/// Applies `ops` to `doc` with RFC 6902's semantics (objects and arrays, `-` to append).
/// All or nothing: on an error `doc` is left as it was.
pub fn apply_patch(doc: &mut Value, ops: &[PatchOp]) -> Result<(), CampaignError> {
    if ops.is_empty() {
        return Err(invalid("the patch has no operations".into()));
    }
    let mut work = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        let n = i + 1;
        let value = || {
            op.value
                .clone()
                .ok_or_else(|| invalid(format!("operation {n} ({}) needs a value", op.op)))
        };
        let from = || {
            op.from
                .clone()
                .ok_or_else(|| invalid(format!("operation {n} ({}) needs from", op.op)))
        };
        match op.op.as_str() {
            "add" => add(&mut work, &op.path, value()?, n, false)?,
            "replace" => add(&mut work, &op.path, value()?, n, true)?,
            "remove" => {
                remove(&mut work, &op.path, n)?;
            }
            "copy" => {
                let f = from()?;
                let v = get(&work, &f)
                    .ok_or_else(|| invalid(format!("operation {n}: from '{f}' does not exist")))?;
                add(&mut work, &op.path, v, n, false)?;
            }
            "move" => {
                let f = from()?;
                let v = remove(&mut work, &f, n)?;
                add(&mut work, &op.path, v, n, false)?;
            }
            "test" => {
                let want = value()?;
                if get(&work, &op.path).as_ref() != Some(&want) {
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
    *doc = work;
    Ok(())
}

/// The settings after `ops`, checked against what the campaign's status allows.
pub(crate) fn patched_settings(
    k: &Campaign,
    ops: &[PatchOp],
    now: Timestamp,
) -> Result<CampaignSettings, CampaignError> {
    let before = view(k);
    let mut after = before.clone();
    apply_patch(&mut after, ops)?;
    let (Value::Object(before), Value::Object(doc)) = (before, after) else {
        return Err(invalid("campaign view is not an object".into()));
    };
    if let Some(gone) = before.keys().find(|f| !doc.contains_key(*f)) {
        check_patch(k.status, gone)?;
    }
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
    fn rfc6902_operations_all_or_nothing() {
        let mut doc = json!({"name": "a", "description": null, "campaign": {"ids": [1]}});
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
        apply_patch(
            &mut doc,
            &ops(json!([{"op": "add", "path": "/campaign/ids/-", "value": 2},
                        {"op": "replace", "path": "/campaign/ids/0", "value": 0}])),
        )
        .unwrap();
        assert_eq!(doc["campaign"]["ids"], json!([0, 2]));
        let before = doc.clone();
        let e = apply_patch(
            &mut doc,
            &ops(json!([{"op": "remove", "path": "/name"},
                        {"op": "replace", "path": "/x/y", "value": 1}])),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert_eq!(doc, before, "all or nothing");
        let e = apply_patch(&mut doc, &ops(json!([{"op": "frob", "path": "/name"}])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'frob' is not a JSON Patch operation"), "{e}");
    }
}
