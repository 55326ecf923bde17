//! Campaign generation on SQLite: the scope's grants, each with its reviewer already resolved,
//! are written once into a temporary table in (reviewer, person, access) order, numbered as
//! they go; certifications and per-person summaries are grouped from it, and the items are
//! copied from it in that order, so review_items is appended in key order and no item passes
//! through Rust. The temporary tables live in a file (not memory), so memory stays flat
//! whatever the number of items. All in one transaction.

use recert_domain::Id;
use recert_domain::campaign::CampaignStatus;
use recert_domain::review::{Alert, Generation, GenerationReport, ReassignmentTrail, Scope};
use recert_store::StoreError;
use recert_store::campaigns::id_prefix;
use recert_store::scope_sql::{self, ScopeArg, ScopeDialect};
use recert_store::sql::Placeholder;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::db_err;
use crate::params::sql_value;
use crate::queries::{get_id, get_json};

/// How SQLite spells a scope query (see [`recert_store::scope_sql`]): id lists are bound as
/// JSON arrays.
const DIALECT: ScopeDialect = ScopeDialect {
    placeholder: Placeholder::Question,
    attributes: &[
        (
            "attributes.department",
            "json_extract(i.attributes, '$.department')",
        ),
        ("attributes.title", "json_extract(i.attributes, '$.title')"),
        (
            "attributes.location",
            "json_extract(i.attributes, '$.location')",
        ),
        (
            "attributes.employeeNumber",
            "json_extract(i.attributes, '$.employeeNumber')",
        ),
        (
            "attributes.costCenter",
            "json_extract(i.attributes, '$.costCenter')",
        ),
        (
            "attributes.employeeType",
            "json_extract(i.attributes, '$.employeeType')",
        ),
        (
            "attributes.company",
            "json_extract(i.attributes, '$.company')",
        ),
        (
            "attributes.country",
            "json_extract(i.attributes, '$.country')",
        ),
    ],
    in_ids: |expr, p| format!("{expr} IN (SELECT value FROM json_each({p}))"),
    null_text: "NULL",
    null_time: "NULL",
};

fn ids_json(ids: &[Id]) -> String {
    let v: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// The scope as a SELECT of (subject_id, access_type, access_id, account_id, assignment_id,
/// first_seen, candidate reviewer), with its parameters numbered from 2 (?1 is the fallback).
fn candidates(scope: &Scope) -> Result<(String, Vec<Value>), StoreError> {
    let (sql, args) = scope_sql::candidates(scope, &DIALECT, 2)
        .map_err(|e| StoreError::Database(format!("campaign query: {}", e.0)))?;
    let args = args
        .into_iter()
        .map(|a| match a {
            ScopeArg::Text(s) => Value::Text(s),
            ScopeArg::Ids(ids) => Value::Text(ids_json(&ids)),
            ScopeArg::Value(v) => sql_value(&v),
        })
        .collect();
    Ok((sql, args))
}

const GEN_TABLES: &str = "DROP TABLE IF EXISTS temp.gen_items;
    DROP TABLE IF EXISTS temp.gen_certs;
    DROP TABLE IF EXISTS temp.gen_subjects;
    DROP TABLE IF EXISTS temp.gen_access;
    DROP TABLE IF EXISTS temp.gen_names;";

pub(crate) fn generate(
    c: &mut Connection,
    g: &Generation,
    cache_kib: i64,
) -> Result<Option<GenerationReport>, StoreError> {
    // Temporary tables and sorts go to a file, with a page cache as large as the main one:
    // memory stays flat in the number of items.
    c.execute_batch(&format!(
        "{GEN_TABLES} PRAGMA temp_store = FILE; PRAGMA temp.cache_size = -{cache_kib};"
    ))
    .map_err(db_err)?;
    let result = generate_in(c, g);
    // Temporary tables belong to the connection, not the transaction.
    let _ = c.execute_batch(&format!("{GEN_TABLES} PRAGMA temp_store = MEMORY;"));
    result
}

fn campaign_status(c: &Connection, id: Id) -> Result<Option<CampaignStatus>, StoreError> {
    let s: Option<String> = c
        .query_row(
            "SELECT status FROM campaigns WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    s.map(|s| {
        s.parse()
            .map_err(|e: String| StoreError::corrupt("campaigns", e))
    })
    .transpose()
}

fn generate_in(c: &mut Connection, g: &Generation) -> Result<Option<GenerationReport>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    if campaign_status(&tx, g.campaign_id)? != Some(CampaignStatus::Pending) {
        return Ok(None);
    }
    let cid = g.campaign_id.to_string();
    let now = g.now.to_string();
    // The fallback reviewer counts only if it can review.
    let fallback: Option<String> = match g.fallback_reviewer {
        Some(f) => tx
            .query_row(
                "SELECT id FROM identities WHERE id = ?1 AND active = 1 AND removed_at IS NULL",
                [f.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?,
        None => None,
    };
    tx.execute_batch(
        "CREATE TEMP TABLE gen_items (
            seq INTEGER PRIMARY KEY, reviewer_id TEXT NOT NULL, subject_id TEXT NOT NULL,
            access_type TEXT NOT NULL, access_id TEXT NOT NULL, account_id TEXT,
            assignment_id TEXT, first_seen TEXT, rerouted_from TEXT, account_name TEXT,
            account_native_identity TEXT, account_source_id TEXT, account_disabled INTEGER,
            account_locked INTEGER);",
    )
    .map_err(db_err)?;
    // Each grant's reviewer: the first choice if present, active and not the person reviewed;
    // a self-review goes to that person's manager; otherwise the fallback reviewer; otherwise
    // nobody (''), counted and left out below. Rows are numbered in (reviewer, person, access)
    // order as they are written: that order is the items' id order.
    let (scope_sql, mut args) = candidates(&g.scope)?;
    args.insert(0, fallback.clone().map(Value::Text).unwrap_or(Value::Null));
    let t = std::time::Instant::now();
    tx.execute(
        &format!(
            "INSERT INTO temp.gen_items (reviewer_id, subject_id, access_type, access_id,
                account_id, assignment_id, first_seen, rerouted_from, account_name,
                account_native_identity, account_source_id, account_disabled, account_locked)
             SELECT coalesce(CASE
                    WHEN r.id IS NOT NULL AND r.id <> c.subject_id THEN r.id
                    WHEN r.id = c.subject_id AND m.id IS NOT NULL THEN m.id
                    WHEN ?1 IS NOT NULL AND ?1 <> c.subject_id THEN ?1
                END, '') AS reviewer,
                c.subject_id, c.access_type, c.access_id, c.account_id, c.assignment_id,
                c.first_seen, CASE WHEN r.id = c.subject_id THEN r.id END,
                acct.name, acct.native_identity, acct.source_id, acct.disabled, acct.locked
             FROM ({scope_sql}) c
             LEFT JOIN accounts acct ON acct.id = c.account_id
             LEFT JOIN identities r ON r.id = c.candidate AND r.active = 1 AND r.removed_at IS NULL
             LEFT JOIN identities m ON r.id = c.subject_id AND m.id = r.manager_id
                AND m.active = 1 AND m.removed_at IS NULL
             ORDER BY reviewer, c.subject_id, c.access_type, c.access_id, c.account_id"
        ),
        params_from_iter(args.iter()),
    )
    .map_err(db_err)?;
    tracing::debug!(
        step = "candidates",
        millis = t.elapsed().as_millis() as u64,
        "generation step"
    );
    let mut report = GenerationReport::default();
    // What nobody can review is left out, and counted for the campaign's alerts.
    let (subjects, lost): (i64, i64) = tx
        .query_row(
            "SELECT count(DISTINCT CASE WHEN rerouted_from IS NULL THEN subject_id END),
                count(CASE WHEN rerouted_from IS NOT NULL THEN 1 END)
             FROM temp.gen_items WHERE reviewer_id = ''",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_err)?;
    report.unreviewed_subjects = subjects as u64;
    report.unassigned_items = lost as u64;
    {
        let mut stmt = tx
            .prepare(
                "SELECT DISTINCT rerouted_from, reviewer_id FROM temp.gen_items
                 WHERE rerouted_from IS NOT NULL AND reviewer_id <> '' ORDER BY 1, 2",
            )
            .map_err(db_err)?;
        report.reassignments = stmt
            .query_map([], |r| Ok((get_id(r, 0)?, get_id(r, 1)?)))
            .map_err(db_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
    }

    // One summary per (reviewer, person reviewed); one certification per reviewer. Rows are
    // in (reviewer, person) order, so the groups come out of one pass.
    let t = std::time::Instant::now();
    tx.execute_batch(
        "CREATE TEMP TABLE gen_subjects (reviewer_id TEXT NOT NULL, subject_id TEXT NOT NULL,
            items INTEGER NOT NULL, first_seq INTEGER NOT NULL, cert_id TEXT, summary_id TEXT,
            name TEXT, PRIMARY KEY (reviewer_id, subject_id)) WITHOUT ROWID;
         INSERT INTO temp.gen_subjects (reviewer_id, subject_id, items, first_seq)
            SELECT reviewer_id, subject_id, count(*), min(seq) FROM temp.gen_items
            WHERE reviewer_id <> '' GROUP BY reviewer_id, subject_id;
         CREATE TEMP TABLE gen_certs AS
            SELECT reviewer_id, sum(items) AS items, count(*) AS subjects,
                row_number() OVER (ORDER BY reviewer_id) AS n
            FROM temp.gen_subjects GROUP BY reviewer_id;
         CREATE UNIQUE INDEX temp.gen_certs_reviewer ON gen_certs (reviewer_id);",
    )
    .map_err(db_err)?;
    tracing::debug!(
        step = "summaries",
        millis = t.elapsed().as_millis() as u64,
        "generation step"
    );
    let (cert_prefix, summary_prefix, item_prefix) = (id_prefix(), id_prefix(), id_prefix());
    // The summary's name (the person's, or the role's in a ROLE_COMPOSITION campaign, or the
    // uncorrelated account's) goes to the summary and to each of its items.
    tx.execute(
        "UPDATE temp.gen_subjects SET
            cert_id = ?1 || printf('%016x', (SELECT n FROM temp.gen_certs c
                                             WHERE c.reviewer_id = gen_subjects.reviewer_id)),
            summary_id = ?2 || printf('%016x', first_seq),
            name = coalesce(
                (SELECT display_name FROM identities WHERE id = gen_subjects.subject_id),
                (SELECT name FROM roles WHERE id = gen_subjects.subject_id),
                (SELECT name FROM accounts WHERE id = gen_subjects.subject_id), '')",
        params![cert_prefix, summary_prefix],
    )
    .map_err(db_err)?;
    report.certifications = tx
        .execute(
            "INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
                reviewer_email, phase, decisions_total, identities_total, created_at, modified_at)
             SELECT ?1 || printf('%016x', c.n), ?2, replace(?3, '{reviewer}', i.display_name),
                c.reviewer_id, i.display_name, i.email, 'STAGED', c.items, c.subjects, ?4, ?4
             FROM temp.gen_certs c JOIN identities i ON i.id = c.reviewer_id",
            params![cert_prefix, cid, g.certification_name, now],
        )
        .map_err(db_err)? as u64;
    let t = std::time::Instant::now();
    tx.execute(
        "INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
         SELECT s.summary_id, s.cert_id, s.subject_id, s.name, s.items
         FROM temp.gen_subjects s",
        [],
    )
    .map_err(db_err)?;
    tracing::debug!(
        step = "certification_subjects",
        millis = t.elapsed().as_millis() as u64,
        "generation step"
    );

    // The snapshot first: the items copy their access's name and source from it.
    let t = std::time::Instant::now();
    snapshot(&tx, &cid)?;
    tracing::debug!(
        step = "snapshot",
        millis = t.elapsed().as_millis() as u64,
        "generation step"
    );

    // The items, in the order they were numbered: review_items grows at its end. Each carries
    // the names it is filtered and sorted by (its access's, or its account's, the source's,
    // the summary's), looked up in the small tables of the campaign's access and summaries.
    let t = std::time::Instant::now();
    report.items = tx
        .execute(
            "INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
                access_type, access_id, account_id, assignment_id, account_name,
                account_native_identity, account_source_id, account_disabled, account_locked,
                new_access, access_name, source_name, subject_name)
             SELECT ?1 || printf('%016x', g.seq), s.cert_id, ?2, s.summary_id, g.subject_id,
                g.access_type, g.access_id, g.account_id, g.assignment_id, g.account_name,
                g.account_native_identity, g.account_source_id, g.account_disabled,
                g.account_locked,
                CASE WHEN ?3 IS NOT NULL AND g.first_seen > ?3 THEN 1 ELSE 0 END,
                coalesce(n.name, g.account_name, ''), n.source_name, s.name
             FROM temp.gen_items g
             CROSS JOIN temp.gen_subjects s
                ON s.reviewer_id = g.reviewer_id AND s.subject_id = g.subject_id
             LEFT JOIN temp.gen_names n
                ON n.access_type = g.access_type AND n.access_id = g.access_id
             WHERE g.reviewer_id <> ''
             ORDER BY g.seq",
            params![item_prefix, cid, g.new_access_since.map(|t| t.to_string())],
        )
        .map_err(db_err)? as u64;
    tracing::debug!(
        step = "items",
        millis = t.elapsed().as_millis() as u64,
        "generation step"
    );

    let mut alerts: Vec<Alert> = tx
        .query_row("SELECT alerts FROM campaigns WHERE id = ?1", [&cid], |r| {
            get_json(r, 0)
        })
        .map_err(db_err)?;
    alerts.extend(recert_store::campaigns::generation_alerts(
        &report,
        g.fallback_reviewer.is_some(),
    ));
    tx.execute(
        "UPDATE campaigns SET status = 'STAGED', total_certifications = ?2,
            completed_certifications = 0, generated_at = ?3, modified_at = ?3, alerts = ?4,
            first_item_id = (SELECT CASE WHEN min(seq) IS NOT NULL
                THEN ?5 || printf('%016x', min(seq)) END
                FROM temp.gen_items WHERE reviewer_id <> '')
         WHERE id = ?1",
        params![
            cid,
            report.certifications as i64,
            now,
            serde_json::to_string(&alerts).unwrap_or_else(|_| "[]".into()),
            item_prefix
        ],
    )
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
    tx.execute(
        "UPDATE certification_tasks SET status = 'SUCCESS', reassignment_trails = ?2, updated_at = ?3
         WHERE target_id = ?1 AND type = 'CAMPAIGN_CREATE'",
        params![
            cid,
            serde_json::to_string(&trails).unwrap_or_else(|_| "[]".into()),
            now
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(report))
}

/// Copies what the items refer to into the campaign's snapshot tables.
fn snapshot(tx: &Connection, cid: &str) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TEMP TABLE gen_access (access_type TEXT NOT NULL, access_id TEXT NOT NULL,
            PRIMARY KEY (access_type, access_id)) WITHOUT ROWID;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT DISTINCT access_type, access_id FROM temp.gen_items
            WHERE access_type <> 'ACCOUNT' AND reviewer_id <> '';
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ROLE', subject_id FROM temp.gen_subjects
            WHERE subject_id IN (SELECT id FROM roles);
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ACCESS_PROFILE', x.access_profile_id FROM role_access_profiles x
            JOIN temp.gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ENTITLEMENT', x.entitlement_id FROM role_entitlements x
            JOIN temp.gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ENTITLEMENT', x.entitlement_id FROM access_profile_entitlements x
            JOIN temp.gen_access a ON a.access_type = 'ACCESS_PROFILE'
                AND a.access_id = x.access_profile_id;",
    )
    .map_err(db_err)?;
    let run = |sql: &str| tx.execute(sql, [cid]).map_err(db_err);
    run(
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, attribute_name, attribute_value,
            owner_id, owner_name, owner_email, permissions, contents)
         SELECT ?1, 'ENTITLEMENT', e.id, e.name, e.description, e.privileged, s.id, s.name,
            s.source_type, e.attribute_name, e.attribute_value, e.owner_id, o.display_name,
            o.email, e.permissions, '{}'
         FROM temp.gen_access a JOIN entitlements e ON e.id = a.access_id
         JOIN sources s ON s.id = e.source_id
         LEFT JOIN identities o ON o.id = e.owner_id
         WHERE a.access_type = 'ENTITLEMENT'",
    )?;
    run("INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, owner_id, owner_name, owner_email,
            contents)
         SELECT ?1, 'ACCESS_PROFILE', p.id, p.name, p.description,
            EXISTS (SELECT 1 FROM access_profile_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.access_profile_id = p.id AND e.privileged = 1),
            s.id, s.name, s.source_type, p.owner_id, o.display_name, o.email,
            json_object('entitlements', (SELECT json_group_array(x.entitlement_id)
                FROM access_profile_entitlements x WHERE x.access_profile_id = p.id))
         FROM temp.gen_access a JOIN access_profiles p ON p.id = a.access_id
         JOIN sources s ON s.id = p.source_id
         LEFT JOIN identities o ON o.id = p.owner_id
         WHERE a.access_type = 'ACCESS_PROFILE'")?;
    run(
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, owner_id, owner_name, owner_email, contents)
         SELECT ?1, 'ROLE', r.id, r.name, r.description,
            EXISTS (SELECT 1 FROM role_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.role_id = r.id AND e.privileged = 1),
            r.owner_id, o.display_name, o.email,
            json_object(
                'entitlements', (SELECT json_group_array(x.entitlement_id)
                    FROM role_entitlements x WHERE x.role_id = r.id),
                'accessProfiles', (SELECT json_group_array(x.access_profile_id)
                    FROM role_access_profiles x WHERE x.role_id = r.id))
         FROM temp.gen_access a JOIN roles r ON r.id = a.access_id
         LEFT JOIN identities o ON o.id = r.owner_id
         WHERE a.access_type = 'ROLE'",
    )?;
    // The names the items copy, keyed as the items refer to them: a narrow table looked up
    // once per item.
    tx.execute_batch(
        "CREATE TEMP TABLE gen_names (access_type TEXT NOT NULL, access_id TEXT NOT NULL,
            name TEXT NOT NULL, source_name TEXT, PRIMARY KEY (access_type, access_id))
            WITHOUT ROWID",
    )
    .map_err(db_err)?;
    run(
        "INSERT INTO temp.gen_names (access_type, access_id, name, source_name)
         SELECT access_type, access_id, name, source_name FROM campaign_access
         WHERE campaign_id = ?1",
    )?;
    run(
        "INSERT INTO campaign_identities (campaign_id, identity_id, name, display_name, email,
            manager_id, active, lifecycle_state, attributes)
         SELECT ?1, i.id, i.name, i.display_name, i.email, i.manager_id, i.active,
            i.lifecycle_state, i.attributes
         FROM identities i
         WHERE i.id IN (SELECT subject_id FROM temp.gen_subjects
                        UNION SELECT reviewer_id FROM temp.gen_certs)",
    )?;
    Ok(())
}
