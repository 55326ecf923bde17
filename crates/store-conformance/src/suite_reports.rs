//! Cases about campaign reports: each of the four types built from a campaign through its life
//! (names with commas, quotes and formulas in them, configured attribute columns), stable ids
//! across runs, failure and deletion; and a report large enough to span several chunks. They
//! drive the store through the core's use-cases and run the jobs by hand.

use std::sync::Arc;

use recert_core::auth::Principal;
use recert_core::campaigns::{CampaignOptions, Campaigns, NewCampaign};
use recert_core::import;
use recert_core::jobs::JobHandler;
use recert_core::reports::{ReportError, Reports, ReportsConfig};
use recert_domain::campaign::{CampaignType, CommentRequirement, Decision};
use recert_domain::review::{Campaign, CorrelatedStatus, ReportStatus, ReportType};
use recert_domain::{
    AccessType, Assignment, ClientRole, Clock, Dataset, Duration, Id, Identity, JobOutcome,
    ManualClock,
};
use recert_store::Store;
use recert_store::reports::REPORT_CHUNK_BYTES;

use crate::fixture::{id, small_org};
use crate::suite::clock;

fn principal(role: ClientRole) -> Principal {
    Principal {
        client_id: Id::generate(),
        name: format!("{role}"),
        roles: vec![role],
        identity_id: None,
    }
}

struct World {
    campaigns: Campaigns,
    reports: Reports,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    admin: Principal,
}

async fn world<S: Store + Clone>(store: &S, org: Dataset) -> World {
    let clock = Arc::new(clock());
    import::import_dataset(store, clock.as_ref(), org, "test")
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store.clone());
    let campaigns = Campaigns::new(
        store.clone(),
        clock.clone(),
        CampaignOptions {
            fallback_reviewer: Some(id(1, 1)),
        },
    );
    World {
        reports: Reports::new(store.clone(), clock.clone()),
        campaigns,
        clock,
        store,
        admin: principal(ClientRole::CertAdmin),
    }
}

impl World {
    /// Runs every due campaign and report job once, in order, as a runner would.
    async fn run_jobs(&self) {
        let campaign_kinds = recert_core::campaigns::JOB_KINDS;
        let report_kinds = recert_core::reports::REPORT_JOB_KINDS;
        let kinds: Vec<String> = campaign_kinds
            .iter()
            .chain(report_kinds)
            .map(|k| k.to_string())
            .collect();
        let campaign_jobs = self.campaigns.jobs();
        let report_jobs = self.reports.jobs();
        loop {
            let now = self.clock.now();
            let Some(job) = crate::suite::claim(self.store.as_ref(), &self.clock, &kinds).await
            else {
                return;
            };
            let result = if report_kinds.contains(&job.kind.as_str()) {
                report_jobs.run(&job).await
            } else {
                campaign_jobs.run(&job).await
            };
            if let Err(e) = result {
                panic!("job {} failed: {e}", job.kind);
            }
            self.store
                .finish_job(job.id, "test", job.attempts, &JobOutcome::Succeeded, now)
                .await
                .unwrap();
        }
    }

    async fn create(&self, name: &str, t: CampaignType, config: serde_json::Value) -> Campaign {
        let k = self
            .campaigns
            .create(
                self.admin.campaign_creator().unwrap(),
                NewCampaign {
                    name: name.into(),
                    description: None,
                    deadline: Some(self.clock.now().plus(Duration::days(14))),
                    campaign_type: t,
                    email_notification_enabled: false,
                    auto_revoke_allowed: true,
                    recommendations_enabled: false,
                    sunset_comments_required: true,
                    mandatory_comment_requirement: CommentRequirement::NoDecisions,
                    correlated_status: CorrelatedStatus::Correlated,
                    config,
                    template_id: None,
                },
            )
            .await
            .unwrap();
        self.run_jobs().await;
        self.store.campaign(k.id).await.unwrap().unwrap()
    }

    async fn run(&self, k: Id, t: ReportType) -> Id {
        self.reports
            .run(self.admin.report_reader().unwrap(), k, t)
            .await
            .unwrap()
    }

    /// The whole CSV of a finished report, read as a download reads it.
    async fn csv(&self, report: Id) -> String {
        let mut file = self
            .reports
            .file(self.admin.report_reader().unwrap(), report)
            .await
            .unwrap();
        assert!(
            file.file_name().ends_with(" Report.csv"),
            "{}",
            file.file_name()
        );
        let mut all = String::new();
        while let Some(chunk) = file.next_chunk().await.unwrap() {
            all.push_str(&chunk);
        }
        all
    }
}

/// Parses CSV as a spreadsheet would, with an independent reader.
fn records(text: &str) -> Vec<Vec<String>> {
    assert!(text.ends_with("\r\n"), "rows end with CRLF");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn row(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|s| (*s).to_owned()).collect()
}

const CAMPAIGN: &str = "Q1 \"access\", review";
const FORMULA: &str = "=cmd|' /C calc'!A0";

/// The small organisation with awkward names: bob's display name is a spreadsheet formula;
/// cyd's name and display name hold commas and quotes, and an attribute starts with `-`.
fn awkward_org() -> Dataset {
    let mut org = small_org();
    org.identities[1].display_name = FORMULA.into();
    let cyd = &mut org.identities[2];
    cyd.name = "cyd \"cj\", worker".into();
    cyd.display_name = "Cyd \"CJ\", Worker".into();
    cyd.attributes
        .insert("department".into(), "Sales, North".into());
    cyd.attributes.insert("costCenter".into(), "-42".into());
    org
}

pub async fn campaign_reports_of_each_type<S: Store + Clone>(store: &S) {
    let w = world(store, awkward_org()).await;
    let admin = w.admin.clone();
    let reader = admin.report_reader().unwrap();
    w.reports
        .set_config(
            admin.cert_admin().unwrap(),
            ReportsConfig {
                identity_attribute_columns: vec!["department".into(), "costCenter".into()],
            },
        )
        .await
        .unwrap();
    let k = w
        .create(CAMPAIGN, CampaignType::Manager, serde_json::json!({}))
        .await;
    assert!(w.reports.list(reader, k.id).await.unwrap().is_empty());

    // Composition, while STAGED. PENDING until built: no file yet.
    let composition = w.run(k.id, ReportType::CampaignComposition).await;
    let listed = w.reports.list(reader, k.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, ReportStatus::Pending);
    assert_eq!(listed[0].last_run_at, Some(w.clock.now()));
    match w.reports.file(reader, composition).await {
        Err(ReportError::NotReady(m)) => assert!(m.contains("PENDING"), "{m}"),
        other => panic!("a pending report has no file: {other:?}"),
    }
    w.run_jobs().await;
    let text = w.csv(composition).await;
    assert!(
        text.starts_with(
            "Campaign Name,Certification Name,Reviewer Name,Reviewer Email,Identity Name,\
             Identity Display Name,Identity Email,department,costCenter,Access Type,Access Name,\
             Source,Privileged,Account,New Access\r\n"
        ),
        "{text}"
    );
    // Quoting and neutralised formulas, as they are written.
    assert!(
        text.contains(",\"cyd \"\"cj\"\", worker\",\"Cyd \"\"CJ\"\", Worker\","),
        "{text}"
    );
    assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
    assert!(text.contains(",\"Sales, North\",'-42,"), "{text}");
    let ada_cert = format!("{CAMPAIGN} - ada boss");
    let bob_cert = format!("{CAMPAIGN} - {FORMULA}");
    let formula = format!("'{FORMULA}");
    let cyd = [
        "cyd \"cj\", worker",
        "Cyd \"CJ\", Worker",
        "cyd.worker@example.com",
        "Sales, North",
        "'-42",
    ];
    let by_bob = |rest: &[&str]| {
        let mut v = row(&[CAMPAIGN, &bob_cert, &formula, "bob.manager@example.com"]);
        v.extend(row(rest));
        v
    };
    let expected_composition = [
        row(&[
            CAMPAIGN,
            &ada_cert,
            "ada boss",
            "ada.boss@example.com",
            "bob.manager",
            &formula,
            "bob.manager@example.com",
            "Sales",
            "",
            "ENTITLEMENT",
            "Sales-Read",
            "Active Directory",
            "false",
            "CN=bob",
            "false",
        ]),
        by_bob(
            &[
                &cyd[..],
                &[
                    "ACCESS_PROFILE",
                    "Sales basics",
                    "Active Directory",
                    "false",
                    "CN=cyd",
                    "false",
                ],
            ]
            .concat(),
        ),
        by_bob(
            &[
                &cyd[..],
                &[
                    "ENTITLEMENT",
                    "Sales-Read",
                    "Active Directory",
                    "false",
                    "CN=cyd",
                    "false",
                ],
            ]
            .concat(),
        ),
        by_bob(
            &[
                &cyd[..],
                &[
                    "ENTITLEMENT",
                    "Ledger-Admin",
                    "Ledger",
                    "true",
                    "cyd",
                    "false",
                ],
            ]
            .concat(),
        ),
        by_bob(&[&cyd[..], &["ROLE", "Salesperson", "", "true", "", "false"]].concat()),
        by_bob(&[
            "dave.leaver",
            "dave leaver",
            "",
            "Sales",
            "",
            "ENTITLEMENT",
            "Sales-Write",
            "Active Directory",
            "false",
            "CN=dave",
            "false",
        ]),
    ];
    let parsed = records(&text);
    assert_eq!(parsed[1..], expected_composition[..], "{text}");
    let built = w.reports.list(reader, k.id).await.unwrap();
    assert_eq!(built[0].status, ReportStatus::Success);
    assert_eq!(built[0].row_count, 6);
    assert_eq!(built[0].id, composition);

    // Through activation and completion (every item revoked), then the other three.
    let creator = admin.campaign_creator().unwrap();
    w.campaigns
        .activate(creator, k.id, Some("Z"))
        .await
        .unwrap();
    w.run_jobs().await;
    let due = w
        .store
        .campaign(k.id)
        .await
        .unwrap()
        .unwrap()
        .deadline
        .unwrap();
    w.clock.advance(Duration::days(15));
    w.campaigns
        .complete(creator, k.id, Decision::Revoke)
        .await
        .unwrap();
    w.run_jobs().await;
    let done = w.clock.now().to_string();
    let status = w.run(k.id, ReportType::CampaignStatus).await;
    let signoff = w.run(k.id, ReportType::CertificationSignoff).await;
    let remediation = w.run(k.id, ReportType::CampaignRemediationStatus).await;
    // Running a report again keeps its id.
    assert_eq!(
        w.run(k.id, ReportType::CampaignComposition).await,
        composition
    );
    w.run_jobs().await;
    let listed = w.reports.list(reader, k.id).await.unwrap();
    let types: Vec<ReportType> = listed.iter().map(|r| r.report_type).collect();
    assert_eq!(types, ReportType::ALL.to_vec());
    assert!(
        listed.iter().all(|r| r.status == ReportStatus::Success),
        "{listed:?}"
    );
    assert_eq!(
        parsed,
        records(&w.csv(composition).await),
        "the same after a rerun"
    );

    let auto = "Decided automatically when the campaign was completed";
    let text = w.csv(status).await;
    let parsed = records(&text);
    assert_eq!(
        parsed[0],
        row(&[
            "Campaign Name",
            "Certification Name",
            "Reviewer Name",
            "Reviewer Email",
            "Identity Name",
            "Identity Display Name",
            "Identity Email",
            "department",
            "costCenter",
            "Access Type",
            "Access Name",
            "Source",
            "Account",
            "Decision",
            "Comments",
            "Decided At",
            "Decided By",
            "Certification Phase",
        ])
    );
    assert_eq!(parsed.len(), 7, "{text}");
    assert_eq!(
        parsed[1],
        row(&[
            CAMPAIGN,
            &ada_cert,
            "ada boss",
            "ada.boss@example.com",
            "bob.manager",
            &formula,
            "bob.manager@example.com",
            "Sales",
            "",
            "ENTITLEMENT",
            "Sales-Read",
            "Active Directory",
            "CN=bob",
            "REVOKE",
            auto,
            &done,
            "",
            "SIGNED",
        ])
    );
    assert!(
        parsed[1..]
            .iter()
            .all(|r| r[13] == "REVOKE" && r[17] == "SIGNED"),
        "{text}"
    );

    let text = w.csv(signoff).await;
    let due = due.to_string();
    assert_eq!(
        records(&text),
        vec![
            row(&[
                "Campaign Name",
                "Certification Name",
                "Reviewer Name",
                "Reviewer Email",
                "Phase",
                "Decisions Made",
                "Decisions Total",
                "Identities Completed",
                "Identities Total",
                "Due",
                "Signed At",
            ]),
            // By reviewer name: "=" sorts before "a".
            row(&[
                CAMPAIGN,
                &bob_cert,
                &formula,
                "bob.manager@example.com",
                "SIGNED",
                "5",
                "5",
                "2",
                "2",
                &due,
                &done,
            ]),
            row(&[
                CAMPAIGN,
                &ada_cert,
                "ada boss",
                "ada.boss@example.com",
                "SIGNED",
                "1",
                "1",
                "1",
                "1",
                &due,
                &done,
            ]),
        ],
        "{text}"
    );

    let text = w.csv(remediation).await;
    let parsed = records(&text);
    assert_eq!(
        parsed[0],
        row(&[
            "Campaign Name",
            "Reviewer Name",
            "Identity Name",
            "Identity Display Name",
            "Identity Email",
            "department",
            "costCenter",
            "Access Type",
            "Access Name",
            "Source",
            "Account",
            "Status",
            "Attempts",
            "Last Error",
            "Created",
            "Completed",
        ])
    );
    assert_eq!(parsed.len(), 7, "one row per revoked item: {text}");
    let mut got: Vec<(String, String, String)> = parsed[1..]
        .iter()
        .map(|r| (r[2].clone(), r[8].clone(), r[14].clone()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = [
        ("bob.manager", "Sales-Read"),
        ("cyd \"cj\", worker", "Sales basics"),
        ("cyd \"cj\", worker", "Sales-Read"),
        ("cyd \"cj\", worker", "Ledger-Admin"),
        ("cyd \"cj\", worker", "Salesperson"),
        ("dave.leaver", "Sales-Write"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string(), done.clone()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{text}");
    let ledger = parsed.iter().find(|r| r[8] == "Ledger-Admin").unwrap();
    assert_eq!(
        ledger[..12],
        row(&[
            CAMPAIGN,
            &formula,
            "cyd \"cj\", worker",
            "Cyd \"CJ\", Worker",
            "cyd.worker@example.com",
            "Sales, North",
            "'-42",
            "ENTITLEMENT",
            "Ledger-Admin",
            "Ledger",
            "cyd",
            // Remediation is delivered by its own jobs, which this world does not run.
            &ledger[11],
        ])[..]
    );

    // A failed build shows ERROR with the reason and has no file; a new run clears it.
    w.run(k.id, ReportType::CampaignStatus).await;
    w.store
        .fail_report(k.id, ReportType::CampaignStatus, "disk full", w.clock.now())
        .await
        .unwrap();
    let failed = w.store.report(status).await.unwrap().unwrap();
    assert_eq!(failed.status, ReportStatus::Error);
    assert_eq!(failed.error.as_deref(), Some("disk full"));
    match w.reports.file(reader, status).await {
        Err(ReportError::NotReady(m)) => assert!(m.contains("disk full"), "{m}"),
        other => panic!("a failed report has no file: {other:?}"),
    }
    w.run(k.id, ReportType::CampaignStatus).await;
    w.run_jobs().await;
    let again = w.store.report(status).await.unwrap().unwrap();
    assert_eq!(
        (again.status, again.error, again.row_count),
        (ReportStatus::Success, None, 6)
    );

    // A build that cannot succeed (a configuration broken behind the API's back) fails its
    // job for good, and the report shows why.
    w.store
        .put_setting(
            recert_core::reports::CONFIG_KEY,
            &serde_json::json!({"identityAttributeColumns": ["no spaces"]}),
        )
        .await
        .unwrap();
    w.run(k.id, ReportType::CertificationSignoff).await;
    let kinds = vec![recert_core::reports::BUILD.to_owned()];
    let job = crate::suite::claim(w.store.as_ref(), &w.clock, &kinds)
        .await
        .unwrap();
    let e = w.reports.jobs().run(&job).await.unwrap_err();
    assert!(
        matches!(e, recert_core::jobs::JobError::Permanent(_)),
        "{e}"
    );
    let failed = w.store.report(signoff).await.unwrap().unwrap();
    assert_eq!(failed.status, ReportStatus::Error);
    assert!(
        failed.error.as_deref().unwrap().contains("'no spaces'"),
        "{failed:?}"
    );

    // Who may see what: an OPERATOR only its own campaigns' reports.
    let op = principal(ClientRole::Operator);
    let op_reader = op.report_reader().unwrap();
    assert!(matches!(
        w.reports.list(op_reader, k.id).await,
        Err(ReportError::NotFound(_))
    ));
    assert!(matches!(
        w.reports.file(op_reader, composition).await,
        Err(ReportError::NotFound(_))
    ));
    assert!(matches!(
        w.reports
            .run(op_reader, Id::generate(), ReportType::CampaignStatus)
            .await,
        Err(ReportError::NotFound(_))
    ));

    // Deleting the campaign takes its reports and their chunks with it.
    w.campaigns.delete(creator, &[k.id]).await.unwrap();
    w.run_jobs().await;
    assert!(w.store.campaign_reports(k.id).await.unwrap().is_empty());
    assert!(w.store.report(composition).await.unwrap().is_none());
    assert!(
        w.store
            .report_chunk(composition, 0)
            .await
            .unwrap()
            .is_none()
    );
}

fn numbered(family: u8, n: u16) -> Id {
    let mut b = [0u8; 16];
    b[13] = family;
    b[14..].copy_from_slice(&n.to_be_bytes());
    Id::from_bytes(b)
}

pub async fn campaign_report_spans_chunks<S: Store + Clone>(store: &S) {
    // 2,500 people with long names, each with one grant, all reviewed by ada: about 2.5 MB.
    let mut org = small_org();
    let long = "x".repeat(1000);
    for n in 0..2500u16 {
        org.identities.push(Identity {
            id: numbered(9, n),
            name: format!("person{n:04}"),
            display_name: format!("Person {n:04}, {long}"),
            email: None,
            manager_id: Some(id(1, 1)),
            active: true,
            lifecycle_state: None,
            attributes: Default::default(),
        });
        org.assignments.push(Assignment {
            identity_id: numbered(9, n),
            access_type: AccessType::Entitlement,
            access_id: id(4, 1),
            account_id: None,
        });
    }
    let w = world(store, org).await;
    let k = w
        .create(
            "big",
            CampaignType::Search,
            serde_json::json!({"searchCampaignInfo": {"type": "ACCESS",
                "query": "name sw \"person\"",
                "reviewer": {"type": "IDENTITY", "id": id(1, 1).to_string()}}}),
        )
        .await;
    let report = w.run(k.id, ReportType::CampaignComposition).await;
    w.run_jobs().await;
    let r = w.store.report(report).await.unwrap().unwrap();
    assert_eq!((r.status, r.row_count), (ReportStatus::Success, 2500));
    let mut chunks = Vec::new();
    while let Some(c) = w
        .store
        .report_chunk(report, chunks.len() as u32)
        .await
        .unwrap()
    {
        chunks.push(c);
    }
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    for c in &chunks[..chunks.len() - 1] {
        assert!(c.len() >= REPORT_CHUNK_BYTES && c.len() < REPORT_CHUNK_BYTES + 4096);
    }
    assert!(
        chunks.iter().all(|c| c.ends_with("\r\n")),
        "chunks end at a row's end"
    );
    let all = chunks.concat();
    assert_eq!(
        all,
        w.csv(report).await,
        "a download is the chunks in order"
    );
    let parsed = records(&all);
    assert_eq!(parsed.len(), 2501);
    assert_eq!(parsed[1][4], "person0000");
    assert_eq!(parsed[2500][5], format!("Person 2499, {long}"));
}
