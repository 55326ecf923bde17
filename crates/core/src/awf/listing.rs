//! The dialect's lists of workflows (campaign templates) and certifications (campaigns).

use recert_domain::review::CampaignTemplate;
use recert_domain::{ClientRole, Id};
use recert_store::ListQuery;

use super::paging::{self, Position};
use super::{Awf, AwfCertification, AwfError, Listed};
use crate::auth::Principal;

impl Awf {
    /// Campaign templates as workflows: administrators, operators and report administrators.
    pub async fn workflows(
        &self,
        p: &Principal,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<CampaignTemplate>, AwfError> {
        if p.report_reader().is_none() {
            return Err(AwfError::Forbidden(
                "listing workflows takes the admin, access_reviews_admin or operator role".into(),
            ));
        }
        let q = paging::query_digest(&["workflows", &p.client_id.to_string()]);
        let req = self.page(&q, page_size, page_token)?;
        let offset = match req.position {
            Some(Position::Offset(n)) => n,
            _ => 0,
        };
        let query = ListQuery {
            filter: None,
            sorters: Vec::new(),
            paging: recert_domain::filter::Paging {
                limit: 250.min(req.size),
                offset,
                count: true,
            },
        };
        // Templates list in pages of at most 250 from the store; gather a dialect page.
        let mut values = Vec::new();
        let mut total;
        let mut query = query;
        loop {
            let page = self.store.templates(&query).await?;
            total = page.total.unwrap_or(0);
            let n = page.items.len() as u64;
            values.extend(page.items);
            query.paging.offset += n;
            if n == 0 || values.len() as u32 >= req.size {
                break;
            }
            query.paging.limit = 250.min(req.size - values.len() as u32);
        }
        let end = offset + values.len() as u64;
        let next = if end < total {
            self.tokens().issue(&q, req.size, Position::Offset(end))
        } else {
            String::new()
        };
        Ok(Listed {
            values,
            next_page_token: next,
            total,
        })
    }

    /// Certifications (campaigns), newest first: all of them to administrators, an operator's
    /// own, and to a reviewer those (started) with rows assigned to them.
    pub async fn certifications(
        &self,
        p: &Principal,
        workflow_id: Option<&str>,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<AwfCertification>, AwfError> {
        let template = match workflow_id.map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(w) => match Id::parse(w) {
                Ok(id) => Some(Some(id)),
                // An unknown workflow has no certifications.
                Err(_) => {
                    return Ok(Listed {
                        values: Vec::new(),
                        next_page_token: String::new(),
                        total: 0,
                    });
                }
            },
        };
        let all = p.cert_admin().is_some() || p.has(ClientRole::ReportAdmin);
        let operator = !all && p.has(ClientRole::Operator);
        let reviewer = match (all || operator, p.identity_id) {
            (true, _) => None,
            (false, Some(me)) => Some(me),
            (false, None) => {
                return Err(AwfError::Forbidden(
                    "this API client has no reviewer identity and no admin role".into(),
                ));
            }
        };
        let q = paging::query_digest(&[
            "certifications",
            workflow_id.unwrap_or("\u{0}"),
            &p.client_id.to_string(),
        ]);
        let req = self.page(&q, page_size, page_token)?;
        let after = match &req.position {
            Some(Position::After(a)) => Some(Id::parse(a).map_err(|_| {
                AwfError::Invalid("page_token does not name a certification".into())
            })?),
            _ => None,
        };
        let creator = operator.then_some(p.client_id);
        let page = self
            .store
            .awf_campaign_ids(template, reviewer, creator, after, req.size + 1, true)
            .await?;
        let more = page.items.len() > req.size as usize;
        let mut campaigns = Vec::with_capacity(page.items.len());
        for id in page.items.iter().take(req.size as usize) {
            if let Some(c) = self.store.campaign(*id).await? {
                campaigns.push(c);
            }
        }
        let last = campaigns.last().map(|c| c.id);
        let values = self.with_rows(campaigns, reviewer).await?;
        let next = match (more, last) {
            (true, Some(last)) => {
                self.tokens()
                    .issue(&q, req.size, Position::After(last.to_string()))
            }
            _ => String::new(),
        };
        Ok(Listed {
            values,
            next_page_token: next,
            total: page.total.unwrap_or(0),
        })
    }
}
