//! The reviewer API's response bodies, in the shapes of SailPoint's description:
//! `IdentityCertificationDto`, `AccessReviewItem`, `PermissionDto` and
//! `IdentityReferenceWithNameAndEmail`. Optional values the description's examples show as
//! `null` are sent as `null`.

use recert_domain::certification::{
    AccessReviewItem, AccessSnapshot, AccountSnapshot, ReviewerRef,
};
use recert_domain::review::Certification;
use recert_domain::{Id, Permission, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

/// An `IdentityReferenceWithNameAndEmail` of a reviewer.
#[derive(Serialize)]
struct Reviewer<'a> {
    id: Id,
    name: &'a str,
    email: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    created: Option<Timestamp>,
    modified: Option<Timestamp>,
}

fn reviewer<'a>(id: Id, name: &'a str, email: Option<&'a str>) -> Reviewer<'a> {
    Reviewer {
        id,
        name,
        email,
        kind: "IDENTITY",
        created: None,
        modified: None,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CampaignRef<'a> {
    id: Id,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    campaign_type: &'static str,
    description: Option<&'a str>,
    correlated_status: &'static str,
    mandatory_comment_requirement: &'static str,
}

#[derive(Serialize)]
struct ReassignedFrom<'a> {
    id: Id,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    reviewer: Reviewer<'a>,
}

#[derive(Serialize)]
struct Reassignment<'a> {
    from: ReassignedFrom<'a>,
    comment: Option<&'a str>,
}

/// An `IdentityCertificationDto`, serialized straight from the certification (the answer of
/// get-certification, the most frequent request, and of every decision).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CertificationDto<'a> {
    id: Id,
    name: &'a str,
    campaign: CampaignRef<'a>,
    completed: bool,
    identities_completed: i64,
    identities_total: i64,
    created: Timestamp,
    modified: Timestamp,
    decisions_made: i64,
    decisions_total: i64,
    due: Option<Timestamp>,
    signed: Option<Timestamp>,
    reviewer: Reviewer<'a>,
    reassignment: Option<Reassignment<'a>>,
    has_errors: bool,
    error_message: Option<&'a str>,
    phase: &'static str,
}

/// An `IdentityCertificationDto`.
pub(crate) fn certification(c: &Certification) -> CertificationDto<'_> {
    let k = &c.campaign;
    CertificationDto {
        id: c.id,
        name: &c.name,
        campaign: CampaignRef {
            id: k.id,
            name: &k.name,
            kind: "CAMPAIGN",
            campaign_type: k.campaign_type.as_str(),
            description: k.description.as_deref(),
            correlated_status: k.correlated_status.as_str(),
            mandatory_comment_requirement: k.mandatory_comment_requirement.as_str(),
        },
        completed: c.decisions_made == c.decisions_total,
        identities_completed: c.identities_completed,
        identities_total: c.identities_total,
        created: c.created,
        modified: c.modified,
        decisions_made: c.decisions_made,
        decisions_total: c.decisions_total,
        due: c.due,
        signed: c.signed,
        reviewer: reviewer(c.reviewer_id, &c.reviewer_name, c.reviewer_email.as_deref()),
        reassignment: c.reassigned_from.as_ref().map(|r| Reassignment {
            from: ReassignedFrom {
                id: r.certification_id,
                name: &r.certification_name,
                kind: "CERTIFICATION",
                reviewer: reviewer(r.reviewer_id, &r.reviewer_name, r.reviewer_email.as_deref()),
            },
            comment: r.comment.as_deref(),
        }),
        has_errors: false,
        error_message: None,
        phase: c.phase.as_str(),
    }
}

fn owner(a: &AccessSnapshot) -> Value {
    match a.owner_id {
        Some(id) => json!({
            "type": "IDENTITY",
            "id": id.to_string(),
            "name": a.owner_name,
            "email": a.owner_email,
        }),
        None => Value::Null,
    }
}

fn account(acc: &AccountSnapshot) -> Value {
    json!({
        "nativeIdentity": acc.native_identity,
        "disabled": acc.disabled,
        "locked": acc.locked,
        "type": "ACCOUNT",
        "id": acc.id.map(|i| i.to_string()),
        "name": acc.name,
        "created": null,
        "modified": null,
    })
}

/// Contained ids of an access profile or role, as minimal objects of the item's shape.
fn contained(a: &AccessSnapshot, key: &str) -> Value {
    Value::Array(
        a.contents
            .get(key)
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(|id| json!({"id": id}))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

fn entitlement(i: &AccessReviewItem, a: &AccessSnapshot) -> Value {
    json!({
        "id": i.access_id.to_string(),
        "name": i.access_name,
        "description": a.description,
        "privileged": a.privileged,
        "owner": owner(a),
        "attributeName": a.attribute_name,
        "attributeValue": a.attribute_value,
        "sourceSchemaObjectType": null,
        "sourceName": a.source_name,
        "sourceType": a.source_type,
        "sourceId": a.source_id.map(|s| s.to_string()),
        "hasPermissions": a.has_permissions,
        "isPermission": false,
        "revocable": true,
        "cloudGoverned": false,
        "containsDataAccess": false,
        "dataAccess": null,
        "account": i.account.as_ref().map(account),
    })
}

fn access_profile(i: &AccessReviewItem, a: &AccessSnapshot) -> Value {
    json!({
        "id": i.access_id.to_string(),
        "name": i.access_name,
        "description": a.description,
        "privileged": a.privileged,
        "cloudGoverned": false,
        "endDate": null,
        "owner": owner(a),
        "entitlements": contained(a, "entitlements"),
    })
}

fn role(i: &AccessReviewItem, a: &AccessSnapshot) -> Value {
    json!({
        "id": i.access_id.to_string(),
        "name": i.access_name,
        "description": a.description,
        "privileged": a.privileged,
        "owner": owner(a),
        "revocable": true,
        "accessProfiles": contained(a, "accessProfiles"),
        "entitlements": contained(a, "entitlements"),
    })
}

/// An `AccessReviewItem`.
pub(crate) fn item(i: &AccessReviewItem) -> Value {
    let (mut ent, mut ap, mut ro) = (Value::Null, Value::Null, Value::Null);
    if let Some(a) = &i.access {
        match i.access_type.as_str() {
            "ENTITLEMENT" => ent = entitlement(i, a),
            "ACCESS_PROFILE" => ap = access_profile(i, a),
            "ROLE" => ro = role(i, a),
            _ => {}
        }
    }
    json!({
        "accessSummary": {
            "access": {
                "type": i.access_type,
                "id": i.access_id.to_string(),
                "name": i.access_name,
            },
            "entitlement": ent,
            "accessProfile": ap,
            "role": ro,
        },
        "identitySummary": {
            "id": i.summary_id.to_string(),
            "name": i.identity_name,
            "identityId": i.identity_id.to_string(),
            "completed": i.identity_completed,
        },
        "id": i.id.to_string(),
        "completed": i.decision.is_some(),
        "newAccess": i.new_access,
        "decision": i.decision.map(|d| d.as_str()),
        "comments": i.comments,
    })
}

/// A `PermissionDto`.
pub(crate) fn permission(p: &Permission) -> Value {
    json!({"rights": p.rights, "target": p.target})
}

/// An `IdentityReferenceWithNameAndEmail`.
pub(crate) fn reviewer_ref(r: &ReviewerRef) -> Value {
    json!({
        "type": "IDENTITY",
        "id": r.id.to_string(),
        "name": r.name,
        "email": r.email,
    })
}
