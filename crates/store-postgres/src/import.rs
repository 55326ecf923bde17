//! Applying an import plan in one transaction. New records are copied straight into their
//! tables; changed ones (and records coming back) go through temporary tables filled with COPY,
//! then one `INSERT ... SELECT ... ON CONFLICT` per kind.

use recert_domain::Id;
use recert_store::{ImportPlan, KindChanges, StoreError};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::copy::CopyWriter;
use crate::{db_err, ts};

fn hex(i: &Id) -> String {
    i.to_string()
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

async fn exec(conn: &mut PgConnection, sql: String) -> Result<u64, StoreError> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}

async fn remove(
    conn: &mut PgConnection,
    table: &'static str,
    ids: &[Id],
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {table} SET removed_at = $2, updated_at = $2
         WHERE id = ANY($1) AND removed_at IS NULL"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(ids.iter().map(hex).collect::<Vec<_>>())
        .bind(at)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Writes one kind's new and changed records. New records are copied straight into the table
/// unless it holds removed records (one of them may be coming back); the rest go through a
/// temporary table filled with COPY and one `INSERT ... ON CONFLICT (id) DO UPDATE`.
async fn upsert<T: Sync>(
    conn: &mut PgConnection,
    table: &'static str,
    columns: &'static str,
    update: &'static str,
    changes: &KindChanges<T>,
    at: &str,
    row: fn(&mut CopyWriter, &T, &str),
) -> Result<(), StoreError> {
    if changes.added.is_empty() && changes.changed.is_empty() {
        return Ok(());
    }
    let has_removed: bool = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE removed_at IS NOT NULL)"
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let through_temp: &[&[T]] = if has_removed {
        &[&changes.added, &changes.changed]
    } else {
        CopyWriter::copy(
            conn,
            &format!("COPY {table} ({columns}) FROM STDIN"),
            &[&changes.added],
            at,
            row,
        )
        .await?;
        &[&changes.changed]
    };
    if through_temp.iter().all(|p| p.is_empty()) {
        return Ok(());
    }
    exec(
        conn,
        format!("CREATE TEMP TABLE tmp_{table} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"),
    )
    .await?;
    CopyWriter::copy(
        conn,
        &format!("COPY tmp_{table} ({columns}) FROM STDIN"),
        through_temp,
        at,
        row,
    )
    .await?;
    exec(
        conn,
        format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM tmp_{table}
             ON CONFLICT (id) DO UPDATE SET {update}, removed_at = NULL"
        ),
    )
    .await?;
    Ok(())
}

/// Replaces the member rows of every owner in `owners`.
async fn replace_members(
    conn: &mut PgConnection,
    table: &'static str,
    owner_col: &'static str,
    member_col: &'static str,
    owners: Vec<(Id, Vec<Id>)>,
) -> Result<(), StoreError> {
    if owners.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = owners.iter().map(|(o, _)| hex(o)).collect();
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE {owner_col} = ANY($1)"
    )))
    .bind(ids)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let pairs: Vec<(Id, Id)> = owners
        .iter()
        .flat_map(|(o, ms)| ms.iter().map(|m| (*o, *m)))
        .collect();
    CopyWriter::copy(
        conn,
        &format!("COPY {table} ({owner_col}, {member_col}) FROM STDIN"),
        &[&pairs],
        "",
        |w, (o, m), _| {
            w.text(&hex(o)).text(&hex(m));
            w.end();
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn apply(pool: &PgPool, plan: &ImportPlan) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let bumped = sqlx::query(
        "UPDATE store_meta SET import_generation = import_generation + 1
         WHERE id = 1 AND import_generation = $1",
    )
    .bind(plan.base_generation)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if bumped.rows_affected() != 1 {
        return Err(StoreError::Conflict(
            "another import changed the data while this one was being prepared; run it again"
                .into(),
        ));
    }
    let at = plan.at.to_string();
    let when = ts(plan.at);
    let c = &mut *tx;

    upsert(
        c,
        "identities",
        "id, name, display_name, email, manager_id, active, lifecycle_state, attributes, \
         created_at, updated_at",
        "name = excluded.name, display_name = excluded.display_name, email = excluded.email, \
         manager_id = excluded.manager_id, active = excluded.active, \
         lifecycle_state = excluded.lifecycle_state, attributes = excluded.attributes, \
         updated_at = excluded.updated_at",
        &plan.identities,
        &at,
        |w, i, at| {
            w.text(&hex(&i.id))
                .text(&i.name)
                .text(&i.display_name)
                .field(i.email.as_deref())
                .field(i.manager_id.map(|m| hex(&m)).as_deref())
                .bool(i.active)
                .field(i.lifecycle_state.as_deref())
                .text(&json_text(&i.attributes))
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    remove(c, "identities", &plan.identities.removed, when).await?;

    upsert(
        c,
        "sources",
        "id, name, source_type, description, owner_id, created_at, updated_at",
        "name = excluded.name, source_type = excluded.source_type, \
         description = excluded.description, owner_id = excluded.owner_id, \
         updated_at = excluded.updated_at",
        &plan.sources,
        &at,
        |w, x, at| {
            w.text(&hex(&x.id))
                .text(&x.name)
                .field(x.source_type.as_deref())
                .field(x.description.as_deref())
                .field(x.owner_id.map(|m| hex(&m)).as_deref())
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    remove(c, "sources", &plan.sources.removed, when).await?;

    upsert(
        c,
        "accounts",
        "id, source_id, identity_id, native_identity, name, disabled, locked, created_at, \
         updated_at",
        "source_id = excluded.source_id, identity_id = excluded.identity_id, \
         native_identity = excluded.native_identity, name = excluded.name, \
         disabled = excluded.disabled, locked = excluded.locked, updated_at = excluded.updated_at",
        &plan.accounts,
        &at,
        |w, x, at| {
            w.text(&hex(&x.id))
                .text(&hex(&x.source_id))
                .field(x.identity_id.map(|m| hex(&m)).as_deref())
                .text(&x.native_identity)
                .text(&x.name)
                .bool(x.disabled)
                .bool(x.locked)
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    remove(c, "accounts", &plan.accounts.removed, when).await?;

    upsert(
        c,
        "entitlements",
        "id, source_id, name, attribute_name, attribute_value, description, privileged, \
         owner_id, permissions, created_at, updated_at",
        "source_id = excluded.source_id, name = excluded.name, \
         attribute_name = excluded.attribute_name, attribute_value = excluded.attribute_value, \
         description = excluded.description, privileged = excluded.privileged, \
         owner_id = excluded.owner_id, permissions = excluded.permissions, \
         updated_at = excluded.updated_at",
        &plan.entitlements,
        &at,
        |w, x, at| {
            w.text(&hex(&x.id))
                .text(&hex(&x.source_id))
                .text(&x.name)
                .text(&x.attribute_name)
                .text(&x.attribute_value)
                .field(x.description.as_deref())
                .bool(x.privileged)
                .field(x.owner_id.map(|m| hex(&m)).as_deref())
                .text(&json_text(&x.permissions))
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    remove(c, "entitlements", &plan.entitlements.removed, when).await?;

    upsert(
        c,
        "access_profiles",
        "id, source_id, name, description, owner_id, created_at, updated_at",
        "source_id = excluded.source_id, name = excluded.name, \
         description = excluded.description, owner_id = excluded.owner_id, \
         updated_at = excluded.updated_at",
        &plan.access_profiles,
        &at,
        |w, x, at| {
            w.text(&hex(&x.id))
                .text(&hex(&x.source_id))
                .text(&x.name)
                .field(x.description.as_deref())
                .field(x.owner_id.map(|m| hex(&m)).as_deref())
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    replace_members(
        c,
        "access_profile_entitlements",
        "access_profile_id",
        "entitlement_id",
        plan.access_profiles
            .upserts()
            .map(|p| (p.id, p.entitlement_ids.clone()))
            .collect(),
    )
    .await?;
    remove(c, "access_profiles", &plan.access_profiles.removed, when).await?;

    upsert(
        c,
        "roles",
        "id, name, description, owner_id, created_at, updated_at",
        "name = excluded.name, description = excluded.description, \
         owner_id = excluded.owner_id, updated_at = excluded.updated_at",
        &plan.roles,
        &at,
        |w, x, at| {
            w.text(&hex(&x.id))
                .text(&x.name)
                .field(x.description.as_deref())
                .field(x.owner_id.map(|m| hex(&m)).as_deref())
                .text(at)
                .text(at);
            w.end();
        },
    )
    .await?;
    replace_members(
        c,
        "role_access_profiles",
        "role_id",
        "access_profile_id",
        plan.roles
            .upserts()
            .map(|r| (r.id, r.access_profile_ids.clone()))
            .collect(),
    )
    .await?;
    replace_members(
        c,
        "role_entitlements",
        "role_id",
        "entitlement_id",
        plan.roles
            .upserts()
            .map(|r| (r.id, r.entitlement_ids.clone()))
            .collect(),
    )
    .await?;
    remove(c, "roles", &plan.roles.removed, when).await?;

    if !plan.assignments_removed.is_empty() {
        // The last import that carried assignments is the last one that saw these.
        sqlx::query(
            "UPDATE assignments SET removed_at = $2,
                last_seen_at = (SELECT max(at) FROM import_runs WHERE kinds ? 'assignments')
             WHERE id = ANY($1) AND removed_at IS NULL",
        )
        .bind(plan.assignments_removed.iter().map(hex).collect::<Vec<_>>())
        .bind(when)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    CopyWriter::copy(
        c,
        "COPY assignments (id, identity_id, access_type, access_id, account_id, first_seen_at) \
         FROM STDIN",
        &[&plan.assignments_added],
        &at,
        |w, (aid, a), at| {
            let mut b = [[0u8; 32]; 4];
            let [b0, b1, b2, b3] = &mut b;
            w.text(aid.encode(b0))
                .text(a.identity_id.encode(b1))
                .text(a.access_type.as_str())
                .text(a.access_id.encode(b2))
                .field(a.account_id.as_ref().map(|x| x.encode(b3)))
                .text(at);
            w.end();
        },
    )
    .await?;

    crate::remediation::reconcile(&mut *c, when, None).await?;
    sqlx::query(
        "INSERT INTO import_runs (id, at, generation, source, kinds, summary)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
    )
    .bind(hex(&plan.run_id))
    .bind(when)
    .bind(plan.base_generation + 1)
    .bind(&plan.source)
    .bind(json_text(&plan.kinds))
    .bind(json_text(&plan.summary()))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}
