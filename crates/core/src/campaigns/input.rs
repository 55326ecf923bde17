//! Reading a campaign as the API sends it (a create, or the campaign inside a template), and
//! writing it back in the same shape for templates to store.

use recert_domain::Id;
use recert_domain::Timestamp;
use recert_domain::campaign::{CampaignType, CommentRequirement};
use recert_domain::review::CorrelatedStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CampaignError, NewCampaign};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CampaignBody {
    name: Option<String>,
    description: Option<String>,
    deadline: Option<String>,
    #[serde(rename = "type")]
    campaign_type: Option<String>,
    email_notification_enabled: Option<bool>,
    auto_revoke_allowed: Option<bool>,
    recommendations_enabled: Option<bool>,
    sunset_comments_required: Option<bool>,
    correlated_status: Option<String>,
    mandatory_comment_requirement: Option<String>,
    source_owner_campaign_info: Option<Value>,
    search_campaign_info: Option<Value>,
    role_composition_campaign_info: Option<Value>,
    machine_account_campaign_info: Option<Value>,
    filter: Option<Value>,
}

/// Reads a campaign as the API sends it (a create, or a template's campaign).
pub fn parse_campaign(body: Value, template_id: Option<Id>) -> Result<NewCampaign, CampaignError> {
    read(body, template_id).map_err(CampaignError::Invalid)
}

fn read(body: Value, template_id: Option<Id>) -> Result<NewCampaign, String> {
    let b: CampaignBody = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        format!("the campaign is not valid at {path}: {}", e.into_inner())
    })?;
    let name = b.name.ok_or("name is required")?;
    let ty = b.campaign_type.ok_or("type is required")?;
    if ty == "MACHINE_ACCOUNT" || b.machine_account_campaign_info.is_some() {
        return Err("MACHINE_ACCOUNT campaigns are not supported".into());
    }
    let campaign_type: CampaignType = ty.parse().map_err(|e| format!("type: {e}"))?;
    if b.filter.as_ref().is_some_and(|f| !f.is_null()) {
        return Err("filter: campaign filters are not supported".into());
    }
    let deadline = match b.deadline.as_deref() {
        Some(d) => Some(Timestamp::parse(d).map_err(|_| {
            format!("deadline '{d}' is not an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z")
        })?),
        None => None,
    };
    let correlated_status = match b.correlated_status.as_deref() {
        None => CorrelatedStatus::Correlated,
        Some(c) => CorrelatedStatus::parse(c)
            .ok_or_else(|| format!("correlatedStatus '{c}' is not CORRELATED or UNCORRELATED"))?,
    };
    let mandatory_comment_requirement = match b.mandatory_comment_requirement.as_deref() {
        None => CommentRequirement::NoDecisions,
        Some(m) => m
            .parse()
            .map_err(|e| format!("mandatoryCommentRequirement: {e}"))?,
    };
    let mut config = serde_json::Map::new();
    for (k, v) in [
        ("sourceOwnerCampaignInfo", b.source_owner_campaign_info),
        ("searchCampaignInfo", b.search_campaign_info),
        (
            "roleCompositionCampaignInfo",
            b.role_composition_campaign_info,
        ),
    ] {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            config.insert(k.into(), v);
        }
    }
    Ok(NewCampaign {
        name,
        description: b.description,
        deadline,
        campaign_type,
        email_notification_enabled: b.email_notification_enabled.unwrap_or(false),
        auto_revoke_allowed: b.auto_revoke_allowed.unwrap_or(false),
        recommendations_enabled: b.recommendations_enabled.unwrap_or(false),
        sunset_comments_required: b.sunset_comments_required.unwrap_or(true),
        mandatory_comment_requirement,
        correlated_status,
        config: Value::Object(config),
        template_id,
    })
}

/// The campaign as a template stores it: what a create takes, nothing read-only.
pub fn campaign_json(c: &NewCampaign) -> Value {
    let mut v = json!({
        "name": c.name,
        "description": c.description,
        "type": c.campaign_type.as_str(),
        "emailNotificationEnabled": c.email_notification_enabled,
        "autoRevokeAllowed": c.auto_revoke_allowed,
        "recommendationsEnabled": c.recommendations_enabled,
        "sunsetCommentsRequired": c.sunset_comments_required,
        "mandatoryCommentRequirement": c.mandatory_comment_requirement.as_str(),
        "correlatedStatus": c.correlated_status.as_str(),
    });
    if let (Value::Object(out), Value::Object(cfg)) = (&mut v, &c.config) {
        for (k, info) in cfg {
            out.insert(k.clone(), info.clone());
        }
    }
    v
}
