//! Campaign templates: a stored campaign with date placeholders in its name and description and
//! a deadline duration, generated on demand or on a schedule. A due schedule fires once even
//! with several processes: its job is enqueued under a key made of the template and the
//! occurrence, and the campaign takes the job's id, so a retried job finds its campaign made.

use recert_domain::iso_duration::IsoDuration;
use recert_domain::placeholders::{check_placeholders, expand_placeholders};
use recert_domain::review::CampaignTemplate;
use recert_domain::schedule::{Schedule, ValidSchedule};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::{ListQuery, Page};
use serde_json::Value;

use super::{
    CampaignError, Campaigns, PatchOp, apply_patch, campaign_json, parse_campaign, scope_of,
};
use crate::auth::CertAdmin;

/// The job that generates a scheduled template's campaign.
pub(crate) const SCHEDULED: &str = "template.generate";

/// A template as a caller gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub deadline_duration: Option<String>,
    pub campaign: Option<Value>,
}

fn invalid(m: impl Into<String>) -> CampaignError {
    CampaignError::Invalid(m.into())
}

/// Checks a template's fields; returns the normalized campaign to store.
fn checked(
    input: &TemplateInput,
) -> Result<(String, String, Option<String>, Value), CampaignError> {
    let name = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("name is required"))?
        .to_owned();
    let description = input
        .description
        .clone()
        .ok_or_else(|| invalid("description is required"))?;
    if let Some(d) = &input.deadline_duration {
        IsoDuration::parse(d).map_err(|e| invalid(format!("deadlineDuration: {e}")))?;
    }
    let campaign = input
        .campaign
        .clone()
        .ok_or_else(|| invalid("campaign is required"))?;
    let mut c = parse_campaign(campaign, None).map_err(|e| invalid(format!("campaign: {e}")))?;
    check_placeholders(&c.name).map_err(|e| invalid(format!("campaign.name: {e}")))?;
    if let Some(d) = &c.description {
        check_placeholders(d).map_err(|e| invalid(format!("campaign.description: {e}")))?;
    }
    scope_of(c.campaign_type, c.correlated_status, &c.config)
        .map_err(|e| invalid(format!("campaign: {e}")))?;
    c.deadline = None;
    Ok((
        name,
        description,
        input.deadline_duration.clone(),
        campaign_json(&c),
    ))
}

/// The JSON a template patch works on.
fn patch_view(t: &CampaignTemplate) -> Value {
    serde_json::json!({
        "name": t.name,
        "description": t.description,
        "deadlineDuration": t.deadline_duration,
        "campaign": t.campaign,
    })
}

impl Campaigns {
    pub async fn create_template(
        &self,
        who: CertAdmin<'_>,
        input: TemplateInput,
    ) -> Result<CampaignTemplate, CampaignError> {
        let (name, description, deadline_duration, campaign) = checked(&input)?;
        let t = CampaignTemplate {
            id: Id::generate(),
            name,
            description,
            owner_id: who.principal().identity_id,
            deadline_duration,
            campaign,
            schedule: None,
            next_run_at: None,
            created: self.clock.now(),
            modified: None,
        };
        self.store.create_template(&t).await?;
        Ok(t)
    }

    pub async fn template(
        &self,
        _who: CertAdmin<'_>,
        id: Id,
    ) -> Result<CampaignTemplate, CampaignError> {
        self.store.template(id).await?.ok_or_else(|| not_found(id))
    }

    pub async fn templates(
        &self,
        _who: CertAdmin<'_>,
        query: &ListQuery,
    ) -> Result<Page<CampaignTemplate>, CampaignError> {
        Ok(self.store.templates(query).await?)
    }

    /// JSON Patch on name, description, deadlineDuration and campaign (any of its create fields).
    pub async fn patch_template(
        &self,
        who: CertAdmin<'_>,
        id: Id,
        ops: &[PatchOp],
    ) -> Result<CampaignTemplate, CampaignError> {
        let mut t = self.template(who, id).await?;
        let mut view = patch_view(&t);
        apply_patch(&mut view, ops)?;
        if let Value::Object(m) = &view
            && let Some(k) = m.keys().find(|k| {
                !matches!(
                    k.as_str(),
                    "name" | "description" | "deadlineDuration" | "campaign"
                )
            })
        {
            return Err(invalid(format!(
                "'{k}' cannot be patched; patchable: name, description, deadlineDuration, campaign"
            )));
        }
        let text = |k: &str| view.get(k).and_then(Value::as_str).map(str::to_owned);
        let input = TemplateInput {
            name: text("name"),
            description: text("description"),
            deadline_duration: text("deadlineDuration"),
            campaign: view.get("campaign").cloned(),
        };
        let (name, description, deadline_duration, campaign) = checked(&input)?;
        t.name = name;
        t.description = description;
        t.deadline_duration = deadline_duration;
        t.campaign = campaign;
        t.modified = Some(self.clock.now());
        if !self.store.update_template(&t).await? {
            return Err(not_found(id));
        }
        Ok(t)
    }

    pub async fn delete_template(&self, _who: CertAdmin<'_>, id: Id) -> Result<(), CampaignError> {
        if self.store.delete_template(id).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Generates a campaign from a template now (placeholders expanded in UTC, deadline = now +
    /// deadlineDuration).
    pub async fn generate_from_template(
        &self,
        who: CertAdmin<'_>,
        id: Id,
    ) -> Result<recert_domain::review::Campaign, CampaignError> {
        let t = self.template(who, id).await?;
        self.generate(
            &t,
            Id::generate(),
            Some(who.principal().client_id),
            time::UtcOffset::UTC,
        )
        .await
    }

    async fn generate(
        &self,
        t: &CampaignTemplate,
        campaign_id: Id,
        created_by: Option<Id>,
        offset: time::UtcOffset,
    ) -> Result<recert_domain::review::Campaign, CampaignError> {
        let now = self.clock.now();
        let local = now.datetime().to_offset(offset);
        let mut c = parse_campaign(t.campaign.clone(), Some(t.id))
            .map_err(|e| invalid(format!("the template's campaign: {e}")))?;
        c.name = expand_placeholders(&c.name, local)
            .map_err(|e| invalid(format!("campaign.name: {e}")))?;
        if let Some(d) = &c.description {
            c.description = Some(
                expand_placeholders(d, local)
                    .map_err(|e| invalid(format!("campaign.description: {e}")))?,
            );
        }
        c.deadline = match &t.deadline_duration {
            Some(d) => Some(
                IsoDuration::parse(d)
                    .map_err(|e| invalid(format!("deadlineDuration: {e}")))?
                    .after(now),
            ),
            None => None,
        };
        self.create_as(campaign_id, created_by, c).await
    }

    /// The template's schedule, if it has one.
    pub async fn schedule(
        &self,
        who: CertAdmin<'_>,
        id: Id,
    ) -> Result<Option<Value>, CampaignError> {
        Ok(self.template(who, id).await?.schedule)
    }

    /// Sets (or, with `None`, removes) a template's schedule; the next occurrence is computed
    /// from now.
    pub async fn set_schedule(
        &self,
        who: CertAdmin<'_>,
        id: Id,
        schedule: Option<Schedule>,
    ) -> Result<(), CampaignError> {
        let mut t = self.template(who, id).await?;
        match schedule {
            Some(s) => {
                let valid: ValidSchedule = s
                    .validate()
                    .map_err(|e| invalid(format!("schedule: {e}")))?;
                t.next_run_at = valid.next_after(self.clock.now());
                t.schedule = Some(
                    serde_json::to_value(&valid).map_err(|e| invalid(format!("schedule: {e}")))?,
                );
            }
            None => {
                t.schedule = None;
                t.next_run_at = None;
            }
        }
        t.modified = Some(self.clock.now());
        self.store.update_template(&t).await?;
        Ok(())
    }

    /// Fires every due schedule once: enqueues its generation job (deduplicated by template and
    /// occurrence, so two processes enqueue it once) and moves the schedule to its next
    /// occurrence. Returns how many occurrences this call fired.
    pub async fn run_due_schedules(&self) -> Result<u32, CampaignError> {
        let now = self.clock.now();
        let mut fired = 0;
        for t in self.store.due_templates(now, 100).await? {
            let Some(at) = t.next_run_at else { continue };
            let valid: Option<ValidSchedule> = t
                .schedule
                .clone()
                .and_then(|s| serde_json::from_value(s).ok());
            let next = valid.as_ref().and_then(|v| v.next_after(now));
            let job = NewJob {
                id: Id::generate(),
                kind: SCHEDULED.into(),
                payload: serde_json::json!({
                    "templateId": t.id.to_string(),
                    "occurrence": at.to_string(),
                }),
                dedupe_key: Some(format!("schedule:{}:{at}", t.id)),
                max_attempts: 5,
                run_at: now,
            };
            if self.store.enqueue_job(&job, now).await? {
                fired += 1;
            }
            self.store.advance_schedule(t.id, at, next).await?;
        }
        Ok(fired)
    }

    /// The scheduled generation job: the campaign takes the job's id, so a second run of the
    /// same job finds it made.
    pub(crate) async fn generate_scheduled(
        &self,
        job_id: Id,
        template_id: Id,
    ) -> Result<(), CampaignError> {
        if self.store.campaign(job_id).await?.is_some() {
            return Ok(());
        }
        let Some(t) = self.store.template(template_id).await? else {
            return Ok(());
        };
        let offset = t
            .schedule
            .clone()
            .and_then(|s| serde_json::from_value::<ValidSchedule>(s).ok())
            .and_then(|v| zone_offset(&v, self.clock.now()))
            .unwrap_or(time::UtcOffset::UTC);
        self.generate(&t, job_id, None, offset).await.map(|_| ())
    }
}

/// The schedule zone's offset at `at`, for the date placeholders.
fn zone_offset(v: &ValidSchedule, at: Timestamp) -> Option<time::UtcOffset> {
    v.offset_at(at)
}

fn not_found(id: Id) -> CampaignError {
    CampaignError::NotFoundTemplate(id)
}

/// Reads a template's generation job payload.
pub(crate) fn scheduled_payload(p: &Value) -> Option<Id> {
    p.get("templateId")
        .and_then(Value::as_str)
        .and_then(|s| Id::parse(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_names_what_is_wrong() {
        let input = |c: Value| TemplateInput {
            name: Some("t".into()),
            description: Some("d".into()),
            deadline_duration: Some("P2W".into()),
            campaign: Some(c),
        };
        assert!(checked(&input(json!({"name": "Review %Y", "type": "MANAGER"}))).is_ok());
        let e = checked(&input(json!({"name": "Review %K", "type": "MANAGER"})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("campaign.name"), "{e}");
        let mut i = input(json!({"name": "x", "type": "MANAGER"}));
        i.deadline_duration = Some("two weeks".into());
        let e = checked(&i).unwrap_err().to_string();
        assert!(e.contains("deadlineDuration"), "{e}");
        let e = checked(&input(json!({"name": "x", "type": "SOURCE_OWNER"})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sourceOwnerCampaignInfo is required"), "{e}");
    }
}
