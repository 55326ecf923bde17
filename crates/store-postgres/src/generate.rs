//! Campaign generation on PostgreSQL. The scope's grants are counted per (subject, candidate
//! reviewer) pair, and each pair's reviewer resolved once; summaries (with the number of their
//! first item, a running count in (reviewer, subject) order) and certifications are grouped from
//! those pairs; then the scope is read once more and each grant inserted as an item under its
//! pair's summary, numbered within it in access order. No per-grant temporary table is written
//! or sorted whole. One transaction; temporary tables dropped at commit; sorts and hashes get
//! `work_mem` for the transaction only.

use recert_domain::Id;
use recert_domain::campaign::CampaignStatus;
use recert_domain::review::{Alert, Generation, GenerationReport, ReassignmentTrail, Scope};
use recert_store::StoreError;
use recert_store::campaigns::id_prefix;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::queries::id;
use crate::scope_sql::{Arg, candidates, exec_args};
use crate::{db_err, ts};

async fn exec(c: &mut PgConnection, sql: &str) -> Result<u64, StoreError> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

async fn campaign_status(
    c: &mut PgConnection,
    cid: Id,
) -> Result<Option<CampaignStatus>, StoreError> {
    let s: Option<String> =
        sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1 FOR UPDATE")
            .bind(cid.to_string())
            .fetch_optional(&mut *c)
            .await
            .map_err(db_err)?;
    s.map(|s| {
        s.parse()
            .map_err(|e: String| StoreError::corrupt("campaigns", e))
    })
    .transpose()
}

pub(crate) async fn generate(
    pool: &PgPool,
    g: &Generation,
    analyze_after_items: u64,
) -> Result<Option<GenerationReport>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The scope is read three times (pairs, the access snapshot, the items): one snapshot for
    // all of them, or an import committing in between would make them disagree.
    exec(&mut tx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
    // Locks the campaign row: a second worker generating the same campaign waits, then finds
    // it changed since its snapshot (a serialization failure) or STAGED, and leaves it alone.
    match campaign_status(&mut tx, g.campaign_id).await {
        Ok(Some(CampaignStatus::Pending)) => {}
        Ok(_) | Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    let cid = g.campaign_id.to_string();
    // One sort at a time with room to work in memory: parallel workers would each take
    // work_mem (server memory growing with the items up to three times it), and JIT costs
    // seconds of compilation on the big statements. For this transaction only.
    // A server that does not know a setting (a PostgreSQL-compatible engine) skips it.
    for setting in [
        "SET LOCAL work_mem = '256MB'",
        "SET LOCAL max_parallel_workers_per_gather = 0",
        "SET LOCAL jit = off",
    ] {
        exec(&mut tx, "SAVEPOINT tuning").await?;
        if exec(&mut tx, setting).await.is_err() {
            exec(&mut tx, "ROLLBACK TO SAVEPOINT tuning").await?;
        } else {
            exec(&mut tx, "RELEASE SAVEPOINT tuning").await?;
        }
    }
    let fallback: Option<String> = match g.fallback_reviewer {
        Some(f) => sqlx::query_scalar(
            "SELECT id FROM identities WHERE id = $1 AND active AND removed_at IS NULL",
        )
        .bind(f.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?,
        None => None,
    };
    // The reviewer depends on the subject and the scope's candidate only, so it is resolved
    // once per such pair (about one per person), not per grant: the grants are only counted.
    let (scope_sql, mut args) = candidates(&g.scope, 2)?;
    args.insert(0, Arg::Opt(fallback));
    exec_args(
        &mut tx,
        format!(
            "CREATE TEMP TABLE gen_pairs ON COMMIT DROP AS
             SELECT coalesce(CASE
                    WHEN r.id IS NOT NULL AND r.id <> p.subject_id THEN r.id
                    WHEN r.id = p.subject_id AND m.id IS NOT NULL THEN m.id
                    WHEN $1::text IS NOT NULL AND $1::text <> p.subject_id THEN $1::text
                END, '') AS reviewer_id,
                p.subject_id, p.cand, p.items,
                CASE WHEN r.id = p.subject_id THEN r.id END AS rerouted_from
             FROM (
                SELECT c.subject_id, coalesce(c.candidate, '') AS cand, count(*) AS items
                FROM ({scope_sql}) c GROUP BY 1, 2
             ) p
             LEFT JOIN identities r ON r.id = nullif(p.cand, '') AND r.active
                AND r.removed_at IS NULL
             LEFT JOIN identities m ON r.id = p.subject_id AND m.id = r.manager_id
                AND m.active AND m.removed_at IS NULL"
        ),
        args,
    )
    .await?;
    // The planner knows nothing of a new temporary table; a sample is enough.
    exec(&mut tx, "ANALYZE gen_pairs").await?;
    let mut report = GenerationReport::default();
    let (subjects, lost): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT subject_id) FILTER (WHERE rerouted_from IS NULL),
            coalesce(sum(items) FILTER (WHERE rerouted_from IS NOT NULL), 0)::bigint
         FROM gen_pairs WHERE reviewer_id = ''",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    report.unreviewed_subjects = subjects as u64;
    report.unassigned_items = lost as u64;
    let rows = sqlx::query(
        "SELECT DISTINCT rerouted_from, reviewer_id FROM gen_pairs
         WHERE rerouted_from IS NOT NULL AND reviewer_id <> '' ORDER BY 1, 2",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    report.reassignments = rows
        .iter()
        .map(|r| {
            Ok((
                id(r, "rerouted_from", "gen_pairs")?,
                id(r, "reviewer_id", "gen_pairs")?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;

    // Items are numbered in (reviewer, subject, access type, access, account) order: a
    // summary's first number is the running count of the items before it (those nobody reviews
    // first, under the empty reviewer), its items follow in access order.
    let (cert_prefix, summary_prefix, item_prefix) = (id_prefix(), id_prefix(), id_prefix());
    exec_args(
        &mut tx,
        "CREATE TEMP TABLE gen_subjects ON COMMIT DROP AS
         WITH s AS (
            SELECT reviewer_id, subject_id, sum(items)::bigint AS items
            FROM gen_pairs GROUP BY reviewer_id, subject_id),
         q AS (
            SELECT reviewer_id, subject_id, items,
                (sum(items) OVER (ORDER BY reviewer_id COLLATE \"C\", subject_id COLLATE \"C\"))
                    ::bigint - items + 1 AS first_seq
            FROM s)
         SELECT reviewer_id, subject_id, items, first_seq,
            $1 || lpad(to_hex(dense_rank() OVER (ORDER BY reviewer_id)), 16, '0') AS cert_id,
            $2 || lpad(to_hex(first_seq), 16, '0') AS summary_id,
            coalesce((SELECT display_name FROM identities WHERE id = q.subject_id),
                     (SELECT name FROM roles WHERE id = q.subject_id),
                     (SELECT name FROM accounts WHERE id = q.subject_id), '') AS name
         FROM q WHERE reviewer_id <> ''"
            .into(),
        vec![Arg::Text(cert_prefix), Arg::Text(summary_prefix)],
    )
    .await?;
    // Each grant finds its summary by one text key of (subject, candidate): the planner
    // estimates that join right, where two columns made it guess a handful of rows.
    exec(
        &mut tx,
        "ANALYZE gen_subjects;
         CREATE TEMP TABLE gen_map ON COMMIT DROP AS
            SELECT p.subject_id || '/' || p.cand AS pair, s.first_seq, s.cert_id, s.summary_id,
                s.name
            FROM gen_pairs p JOIN gen_subjects s USING (reviewer_id, subject_id);
         ANALYZE gen_map;
         CREATE TEMP TABLE gen_certs ON COMMIT DROP AS
            SELECT reviewer_id, cert_id, sum(items) AS items, count(*) AS subjects
            FROM gen_subjects GROUP BY reviewer_id, cert_id;",
    )
    .await?;
    report.certifications = sqlx::query(
        "INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
            reviewer_email, phase, decisions_total, identities_total, created_at, modified_at)
         SELECT c.cert_id, $1, replace($2, '{reviewer}', i.display_name), c.reviewer_id,
            i.display_name, i.email, 'STAGED', c.items, c.subjects, $3, $3
         FROM gen_certs c JOIN identities i ON i.id = c.reviewer_id",
    )
    .bind(&cid)
    .bind(&g.certification_name)
    .bind(ts(g.now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    exec(
        &mut tx,
        "INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
         SELECT s.summary_id, s.cert_id, s.subject_id, s.name, s.items
         FROM gen_subjects s",
    )
    .await?;
    // The snapshot first: the items copy their access's name and source from it.
    snapshot(&mut tx, &cid, &g.scope).await?;

    // The scope is read again, each grant with its summary, number and account: each item
    // carries the names it is filtered and sorted by (its access's, or its account's, the
    // source's, the summary's). Grants of pairs nobody reviews find no summary.
    let (scope_sql, scope_args) = candidates(&g.scope, 4)?;
    let mut args = vec![
        Arg::Text(item_prefix.clone()),
        Arg::Text(cid.clone()),
        Arg::Opt(g.new_access_since.map(|t| t.to_string())),
    ];
    args.extend(scope_args);
    report.items = exec_args(
        &mut tx,
        format!(
            "INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
                access_type, access_id, account_id, assignment_id, account_name,
                account_native_identity, account_source_id, account_disabled, account_locked,
                new_access, access_name, source_name, subject_name)
             SELECT $1 || lpad(to_hex(w.first_seq + w.k - 1), 16, '0'), w.cert_id, $2,
                w.summary_id, w.subject_id, w.access_type, w.access_id, w.account_id,
                w.assignment_id, acct.name, acct.native_identity, acct.source_id, acct.disabled,
                acct.locked,
                coalesce($3::timestamptz IS NOT NULL AND w.first_seen > $3::timestamptz, FALSE),
                coalesce(n.name, acct.name, ''), n.source_name, w.name
             FROM (
                SELECT c.subject_id, c.access_type, c.access_id, c.account_id, c.assignment_id,
                    c.first_seen, m.first_seq, m.cert_id, m.summary_id, m.name,
                    row_number() OVER (PARTITION BY m.first_seq ORDER BY
                        c.access_type COLLATE \"C\", c.access_id COLLATE \"C\",
                        c.account_id COLLATE \"C\") AS k
                FROM ({scope_sql}) c
                JOIN gen_map m ON m.pair = c.subject_id || '/' || coalesce(c.candidate, '')
             ) w
             LEFT JOIN accounts acct ON acct.id = w.account_id
             LEFT JOIN gen_names n ON n.access_type = w.access_type
                AND n.access_id = w.access_id"
        ),
        args,
    )
    .await?;

    let alerts_text: String =
        sqlx::query_scalar("SELECT alerts::text FROM campaigns WHERE id = $1")
            .bind(&cid)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
    let mut alerts: Vec<Alert> =
        serde_json::from_str(&alerts_text).map_err(|e| StoreError::corrupt("campaigns", e))?;
    alerts.extend(recert_store::campaigns::generation_alerts(
        &report,
        g.fallback_reviewer.is_some(),
    ));
    // Row 0 of the dialect's result rows: the first item inserted. Each summary starts at its
    // first item's number (16 hex digits after its prefix), so the smallest summary id holds the
    // smallest number, and the small table answers for the big one.
    sqlx::query(
        "UPDATE campaigns SET status = 'STAGED', total_certifications = $2,
            completed_certifications = 0, generated_at = $3, modified_at = $3, alerts = $4::jsonb,
            first_item_id = (SELECT $5 || substr(min(summary_id), 17) FROM gen_subjects)
         WHERE id = $1",
    )
    .bind(&cid)
    .bind(report.certifications as i64)
    .bind(ts(g.now))
    .bind(to_json(&alerts))
    .bind(&item_prefix)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let trails: Vec<ReassignmentTrail> = report
        .reassignments
        .iter()
        .map(|(from, to)| ReassignmentTrail {
            previous_owner: *from,
            new_owner: *to,
            reassignment_type: "AUTOMATIC_REASSIGNMENT".into(),
        })
        .collect();
    sqlx::query(
        "UPDATE certification_tasks SET status = 'SUCCESS', reassignment_trails = $2::jsonb,
            updated_at = $3
         WHERE target_id = $1 AND type = 'CAMPAIGN_CREATE'",
    )
    .bind(&cid)
    .bind(to_json(&trails))
    .bind(ts(g.now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    // A generation changes the review tables' statistics at once, and autovacuum analyzes
    // only after a tenth of a table has changed (where it runs at all): until then the planner
    // would take the new certifications for unknown, small ones and plan their pages so (a
    // sort of every item instead of reading the sorted index to the page's end).
    if report.items >= analyze_after_items {
        refresh_statistics(pool).await;
    }
    Ok(Some(report))
}

/// Re-reads the statistics of the tables a generation fills. The generation has committed
/// already: a failure here is logged, not returned.
async fn refresh_statistics(pool: &PgPool) {
    let sql = "ANALYZE review_items, certification_subjects, certifications, campaign_access, \
        campaign_identities";
    if let Err(e) = sqlx::query(sql).execute(pool).await {
        tracing::warn!(error = %e, "statistics not refreshed after a generation");
    }
}

/// Copies what the items refer to into the campaign's snapshot tables.
async fn snapshot(c: &mut PgConnection, cid: &str, scope: &Scope) -> Result<(), StoreError> {
    // The access of every grant someone reviews (the few pairs nobody reviews left out).
    let (scope_sql, args) = candidates(scope, 1)?;
    exec(
        c,
        "CREATE TEMP TABLE gen_access (access_type TEXT NOT NULL, access_id TEXT NOT NULL,
            PRIMARY KEY (access_type, access_id)) ON COMMIT DROP",
    )
    .await?;
    exec_args(
        c,
        format!(
            "INSERT INTO gen_access SELECT DISTINCT c.access_type, c.access_id
             FROM ({scope_sql}) c
             WHERE c.access_type <> 'ACCOUNT' AND NOT EXISTS (
                SELECT 1 FROM gen_pairs u WHERE u.reviewer_id = ''
                    AND u.subject_id = c.subject_id AND u.cand = coalesce(c.candidate, ''))
             ON CONFLICT DO NOTHING"
        ),
        args,
    )
    .await?;
    exec(
        c,
        "INSERT INTO gen_access SELECT 'ROLE', subject_id FROM gen_subjects
            WHERE subject_id IN (SELECT id FROM roles) ON CONFLICT DO NOTHING;
         INSERT INTO gen_access SELECT DISTINCT 'ACCESS_PROFILE', x.access_profile_id
            FROM role_access_profiles x
            JOIN gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id
            ON CONFLICT DO NOTHING;
         INSERT INTO gen_access SELECT DISTINCT 'ENTITLEMENT', x.entitlement_id
            FROM role_entitlements x
            JOIN gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id
            ON CONFLICT DO NOTHING;
         INSERT INTO gen_access SELECT DISTINCT 'ENTITLEMENT', x.entitlement_id
            FROM access_profile_entitlements x
            JOIN gen_access a ON a.access_type = 'ACCESS_PROFILE'
                AND a.access_id = x.access_profile_id
            ON CONFLICT DO NOTHING;",
    )
    .await?;
    for sql in [
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, attribute_name, attribute_value,
            owner_id, owner_name, owner_email, permissions, contents)
         SELECT $1, 'ENTITLEMENT', e.id, e.name, e.description, e.privileged, s.id, s.name,
            s.source_type, e.attribute_name, e.attribute_value, e.owner_id, o.display_name,
            o.email, e.permissions, '{}'::jsonb
         FROM gen_access a JOIN entitlements e ON e.id = a.access_id
         JOIN sources s ON s.id = e.source_id
         LEFT JOIN identities o ON o.id = e.owner_id
         WHERE a.access_type = 'ENTITLEMENT'",
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, owner_id, owner_name, owner_email,
            contents)
         SELECT $1, 'ACCESS_PROFILE', p.id, p.name, p.description,
            EXISTS (SELECT 1 FROM access_profile_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.access_profile_id = p.id AND e.privileged),
            s.id, s.name, s.source_type, p.owner_id, o.display_name, o.email,
            jsonb_build_object('entitlements', coalesce((SELECT jsonb_agg(x.entitlement_id)
                FROM access_profile_entitlements x WHERE x.access_profile_id = p.id), '[]'::jsonb))
         FROM gen_access a JOIN access_profiles p ON p.id = a.access_id
         JOIN sources s ON s.id = p.source_id
         LEFT JOIN identities o ON o.id = p.owner_id
         WHERE a.access_type = 'ACCESS_PROFILE'",
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, owner_id, owner_name, owner_email, contents)
         SELECT $1, 'ROLE', r.id, r.name, r.description,
            EXISTS (SELECT 1 FROM role_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.role_id = r.id AND e.privileged),
            r.owner_id, o.display_name, o.email,
            jsonb_build_object(
                'entitlements', coalesce((SELECT jsonb_agg(x.entitlement_id)
                    FROM role_entitlements x WHERE x.role_id = r.id), '[]'::jsonb),
                'accessProfiles', coalesce((SELECT jsonb_agg(x.access_profile_id)
                    FROM role_access_profiles x WHERE x.role_id = r.id), '[]'::jsonb))
         FROM gen_access a JOIN roles r ON r.id = a.access_id
         LEFT JOIN identities o ON o.id = r.owner_id
         WHERE a.access_type = 'ROLE'",
        "INSERT INTO campaign_identities (campaign_id, identity_id, name, display_name, email,
            manager_id, active, lifecycle_state, attributes)
         SELECT $1, i.id, i.name, i.display_name, i.email, i.manager_id, i.active,
            i.lifecycle_state, i.attributes
         FROM identities i
         WHERE i.id IN (SELECT subject_id FROM gen_subjects UNION SELECT reviewer_id FROM gen_certs)",
        // The names the items copy, keyed as the items refer to them.
        "CREATE TEMP TABLE gen_names ON COMMIT DROP AS
         SELECT access_type, access_id, name, source_name FROM campaign_access
         WHERE campaign_id = $1",
    ] {
        exec_args(c, sql.into(), vec![Arg::Text(cid.to_owned())]).await?;
    }
    exec(c, "ANALYZE gen_names").await?;
    Ok(())
}
