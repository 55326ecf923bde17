//! Applying an import plan in one transaction on the writer connection.

use recert_domain::Id;
use recert_store::{ImportKind, ImportPlan, KindChanges, StoreError};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::db_err;

fn s(id: &Id) -> String {
    id.to_string()
}

fn os(id: &Option<Id>) -> Option<String> {
    id.as_ref().map(Id::to_string)
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))
}

fn remove(tx: &Transaction<'_>, table: &str, ids: &[Id], at: &str) -> Result<(), StoreError> {
    let mut st = tx
        .prepare_cached(&format!(
            "UPDATE {table} SET removed_at = ?2, updated_at = ?2 WHERE id = ?1 AND removed_at IS NULL"
        ))
        .map_err(db_err)?;
    for id in ids {
        st.execute(params![s(id), at]).map_err(db_err)?;
    }
    Ok(())
}

fn replace_members(
    tx: &Transaction<'_>,
    table: &str,
    owner_col: &str,
    member_col: &str,
    owner: &Id,
    ids: &[Id],
) -> Result<(), StoreError> {
    tx.prepare_cached(&format!("DELETE FROM {table} WHERE {owner_col} = ?1"))
        .and_then(|mut st| st.execute([s(owner)]))
        .map_err(db_err)?;
    let mut ins = tx
        .prepare_cached(&format!(
            "INSERT INTO {table} ({owner_col}, {member_col}) VALUES (?1, ?2)"
        ))
        .map_err(db_err)?;
    for m in ids {
        ins.execute([s(owner), s(m)]).map_err(db_err)?;
    }
    Ok(())
}

pub(crate) fn apply(c: &mut Connection, plan: &ImportPlan) -> Result<(), StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let bumped = tx
        .execute(
            "UPDATE store_meta SET import_generation = import_generation + 1
             WHERE id = 1 AND import_generation = ?1",
            [plan.base_generation],
        )
        .map_err(db_err)?;
    if bumped != 1 {
        return Err(StoreError::Conflict(
            "another import changed the data while this one was being prepared; run it again"
                .into(),
        ));
    }
    let at = plan.at.to_string();
    write_entities(&tx, plan, &at)?;
    write_assignments(&tx, plan, &at)?;
    crate::remediation::reconcile(&tx, &at, None)?;
    tx.execute(
        "INSERT INTO import_runs (id, at, generation, source, kinds, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            s(&plan.run_id),
            at,
            plan.base_generation + 1,
            plan.source,
            json(&plan.kinds)?,
            json(&plan.summary())?,
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

/// Whether `table` holds removed records, which an "added" record might be coming back as.
fn has_removed(tx: &Transaction<'_>, table: &str) -> Result<bool, StoreError> {
    tx.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE removed_at IS NOT NULL)"),
        [],
        |r| r.get(0),
    )
    .map_err(db_err)
}

/// Writes one kind's new and changed records. New records are plain INSERTs unless the table
/// holds removed records (one of them may be coming back); an upsert makes SQLite keep a
/// statement journal per row, which measured a third slower on large loads.
fn write_kind<T>(
    tx: &Transaction<'_>,
    table: &str,
    insert: &str,
    update: &str,
    changes: &KindChanges<T>,
    mut bind: impl FnMut(&mut rusqlite::CachedStatement<'_>, &T) -> rusqlite::Result<usize>,
) -> Result<(), StoreError> {
    let upsert = format!("{insert} ON CONFLICT (id) DO UPDATE SET {update}, removed_at = NULL");
    if !changes.added.is_empty() {
        let sql = if has_removed(tx, table)? {
            upsert.as_str()
        } else {
            insert
        };
        let mut st = tx.prepare_cached(sql).map_err(db_err)?;
        for x in &changes.added {
            bind(&mut st, x).map_err(db_err)?;
        }
    }
    let mut st = tx.prepare_cached(&upsert).map_err(db_err)?;
    for x in &changes.changed {
        bind(&mut st, x).map_err(db_err)?;
    }
    Ok(())
}

fn write_entities(tx: &Transaction<'_>, plan: &ImportPlan, at: &str) -> Result<(), StoreError> {
    write_kind(
        tx,
        "identities",
        "INSERT INTO identities (id, name, display_name, email, manager_id, active,
            lifecycle_state, attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        "name = excluded.name, display_name = excluded.display_name, email = excluded.email,
         manager_id = excluded.manager_id, active = excluded.active,
         lifecycle_state = excluded.lifecycle_state, attributes = excluded.attributes,
         updated_at = excluded.updated_at",
        &plan.identities,
        |st, i| {
            let attributes = serde_json::to_string(&i.attributes).unwrap_or_else(|_| "{}".into());
            st.execute(params![
                s(&i.id),
                i.name,
                i.display_name,
                i.email,
                os(&i.manager_id),
                i.active,
                i.lifecycle_state,
                attributes,
                at
            ])
        },
    )?;
    remove(tx, "identities", &plan.identities.removed, at)?;
    write_kind(
        tx,
        "sources",
        "INSERT INTO sources (id, name, source_type, description, owner_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        "name = excluded.name, source_type = excluded.source_type,
         description = excluded.description, owner_id = excluded.owner_id,
         updated_at = excluded.updated_at",
        &plan.sources,
        |st, x| {
            st.execute(params![
                s(&x.id),
                x.name,
                x.source_type,
                x.description,
                os(&x.owner_id),
                at
            ])
        },
    )?;
    remove(tx, "sources", &plan.sources.removed, at)?;
    write_kind(
        tx,
        "accounts",
        "INSERT INTO accounts (id, source_id, identity_id, native_identity, name, disabled,
            locked, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        "source_id = excluded.source_id, identity_id = excluded.identity_id,
         native_identity = excluded.native_identity, name = excluded.name,
         disabled = excluded.disabled, locked = excluded.locked,
         updated_at = excluded.updated_at",
        &plan.accounts,
        |st, x| {
            st.execute(params![
                s(&x.id),
                s(&x.source_id),
                os(&x.identity_id),
                x.native_identity,
                x.name,
                x.disabled,
                x.locked,
                at
            ])
        },
    )?;
    remove(tx, "accounts", &plan.accounts.removed, at)?;
    write_kind(
        tx,
        "entitlements",
        "INSERT INTO entitlements (id, source_id, name, attribute_name, attribute_value,
            description, privileged, owner_id, permissions, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        "source_id = excluded.source_id, name = excluded.name,
         attribute_name = excluded.attribute_name, attribute_value = excluded.attribute_value,
         description = excluded.description, privileged = excluded.privileged,
         owner_id = excluded.owner_id, permissions = excluded.permissions,
         updated_at = excluded.updated_at",
        &plan.entitlements,
        |st, x| {
            let permissions = serde_json::to_string(&x.permissions).unwrap_or_else(|_| "[]".into());
            st.execute(params![
                s(&x.id),
                s(&x.source_id),
                x.name,
                x.attribute_name,
                x.attribute_value,
                x.description,
                x.privileged,
                os(&x.owner_id),
                permissions,
                at
            ])
        },
    )?;
    remove(tx, "entitlements", &plan.entitlements.removed, at)?;
    write_kind(
        tx,
        "access_profiles",
        "INSERT INTO access_profiles (id, source_id, name, description, owner_id, created_at,
            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        "source_id = excluded.source_id, name = excluded.name,
         description = excluded.description, owner_id = excluded.owner_id,
         updated_at = excluded.updated_at",
        &plan.access_profiles,
        |st, x| {
            st.execute(params![
                s(&x.id),
                s(&x.source_id),
                x.name,
                x.description,
                os(&x.owner_id),
                at
            ])
        },
    )?;
    for x in plan.access_profiles.upserts() {
        replace_members(
            tx,
            "access_profile_entitlements",
            "access_profile_id",
            "entitlement_id",
            &x.id,
            &x.entitlement_ids,
        )?;
    }
    remove(tx, "access_profiles", &plan.access_profiles.removed, at)?;
    write_kind(
        tx,
        "roles",
        "INSERT INTO roles (id, name, description, owner_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        "name = excluded.name, description = excluded.description,
         owner_id = excluded.owner_id, updated_at = excluded.updated_at",
        &plan.roles,
        |st, x| {
            st.execute(params![
                s(&x.id),
                x.name,
                x.description,
                os(&x.owner_id),
                at
            ])
        },
    )?;
    for x in plan.roles.upserts() {
        replace_members(
            tx,
            "role_access_profiles",
            "role_id",
            "access_profile_id",
            &x.id,
            &x.access_profile_ids,
        )?;
        replace_members(
            tx,
            "role_entitlements",
            "role_id",
            "entitlement_id",
            &x.id,
            &x.entitlement_ids,
        )?;
    }
    remove(tx, "roles", &plan.roles.removed, at)?;
    Ok(())
}

fn write_assignments(tx: &Transaction<'_>, plan: &ImportPlan, at: &str) -> Result<(), StoreError> {
    if !plan.assignments_removed.is_empty() {
        // The last import that carried assignments is the last one that saw these.
        let last_seen: Option<String> = tx
            .query_row(
                "SELECT max(at) FROM import_runs WHERE kinds LIKE ?1",
                [format!("%\"{}\"%", ImportKind::Assignments.json_key())],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let mut st = tx
            .prepare_cached(
                "UPDATE assignments SET removed_at = ?2, last_seen_at = ?3
                 WHERE id = ?1 AND removed_at IS NULL",
            )
            .map_err(db_err)?;
        for id in &plan.assignments_removed {
            st.execute(params![s(id), at, last_seen]).map_err(db_err)?;
        }
    }
    let mut st = tx
        .prepare_cached(
            "INSERT INTO assignments (id, identity_id, access_type, access_id, account_id,
                first_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db_err)?;
    let mut buf = [[0u8; 32]; 4];
    for (id, a) in &plan.assignments_added {
        let [b0, b1, b2, b3] = &mut buf;
        st.execute(params![
            id.encode(b0),
            a.identity_id.encode(b1),
            a.access_type.as_str(),
            a.access_id.encode(b2),
            a.account_id.as_ref().map(|x| x.encode(b3)),
            at
        ])
        .map_err(db_err)?;
    }
    Ok(())
}
