//! Reading the current state for an import to compare against: every kind from one
//! repeatable-read snapshot.

use std::collections::HashMap;

use recert_domain::{AccessProfile, Account, Assignment, Dataset, Entitlement, Id, Role, Source};
use recert_store::{CurrentState, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use crate::db_err;
use crate::queries::{
    IDENTITY_COLUMNS, access_type, flag, id, identity_from_row, json, opt_id, opt_text, text,
};

/// Streams the rows of `sql` through `f`, so that millions of rows never sit in memory as
/// driver rows, only as the records made of them.
async fn each<T>(
    conn: &mut PgConnection,
    sql: &'static str,
    mut f: impl FnMut(&PgRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    use futures_util::TryStreamExt;
    let mut out = Vec::new();
    let mut rows = sqlx::query(sql).fetch(conn);
    while let Some(row) = rows.try_next().await.map_err(db_err)? {
        out.push(f(&row)?);
    }
    Ok(out)
}

async fn rows(conn: &mut PgConnection, sql: &'static str) -> Result<Vec<PgRow>, StoreError> {
    sqlx::query(sql).fetch_all(conn).await.map_err(db_err)
}

async fn members(
    conn: &mut PgConnection,
    sql: &'static str,
    table: &'static str,
) -> Result<HashMap<Id, Vec<Id>>, StoreError> {
    let mut out: HashMap<Id, Vec<Id>> = HashMap::new();
    for r in rows(conn, sql).await? {
        out.entry(id(&r, "owner", table)?)
            .or_default()
            .push(id(&r, "member", table)?);
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

pub(crate) async fn current_state(
    pool: &PgPool,
    with_assignments: bool,
) -> Result<CurrentState, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // Every kind read from the same snapshot.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let c = &mut *tx;
    let generation: i64 = sqlx::query("SELECT import_generation FROM store_meta WHERE id = 1")
        .fetch_one(&mut *c)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE removed_at IS NULL");
    let identities = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?
        .iter()
        .map(identity_from_row)
        .collect::<Result<_, _>>()?;
    let sources = rows(
        c,
        "SELECT id, name, source_type, description, owner_id FROM sources WHERE removed_at IS NULL",
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Source {
            id: id(r, "id", "sources")?,
            name: text(r, "name")?,
            source_type: opt_text(r, "source_type")?,
            description: opt_text(r, "description")?,
            owner_id: opt_id(r, "owner_id", "sources")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let accounts = each(
        c,
        "SELECT id, source_id, identity_id, native_identity, name, disabled, locked
         FROM accounts WHERE removed_at IS NULL",
        |r| {
            Ok(Account {
                id: id(r, "id", "accounts")?,
                source_id: id(r, "source_id", "accounts")?,
                identity_id: opt_id(r, "identity_id", "accounts")?,
                native_identity: text(r, "native_identity")?,
                name: text(r, "name")?,
                disabled: flag(r, "disabled")?,
                locked: flag(r, "locked")?,
            })
        },
    )
    .await?;
    let entitlements = rows(
        c,
        "SELECT id, source_id, name, attribute_name, attribute_value, description, privileged,
                owner_id, permissions::text AS permissions
         FROM entitlements WHERE removed_at IS NULL",
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Entitlement {
            id: id(r, "id", "entitlements")?,
            source_id: id(r, "source_id", "entitlements")?,
            name: text(r, "name")?,
            attribute_name: text(r, "attribute_name")?,
            attribute_value: text(r, "attribute_value")?,
            description: opt_text(r, "description")?,
            privileged: flag(r, "privileged")?,
            owner_id: opt_id(r, "owner_id", "entitlements")?,
            permissions: json(r, "permissions", "entitlements")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let mut ap_members = members(
        c,
        "SELECT access_profile_id AS owner, entitlement_id AS member
         FROM access_profile_entitlements",
        "access_profile_entitlements",
    )
    .await?;
    let access_profiles = rows(
        c,
        "SELECT id, source_id, name, description, owner_id FROM access_profiles
         WHERE removed_at IS NULL",
    )
    .await?
    .iter()
    .map(|r| {
        let pid = id(r, "id", "access_profiles")?;
        Ok(AccessProfile {
            id: pid,
            source_id: id(r, "source_id", "access_profiles")?,
            name: text(r, "name")?,
            description: opt_text(r, "description")?,
            owner_id: opt_id(r, "owner_id", "access_profiles")?,
            entitlement_ids: ap_members.remove(&pid).unwrap_or_default(),
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let mut role_aps = members(
        c,
        "SELECT role_id AS owner, access_profile_id AS member FROM role_access_profiles",
        "role_access_profiles",
    )
    .await?;
    let mut role_ents = members(
        c,
        "SELECT role_id AS owner, entitlement_id AS member FROM role_entitlements",
        "role_entitlements",
    )
    .await?;
    let roles = rows(
        c,
        "SELECT id, name, description, owner_id FROM roles WHERE removed_at IS NULL",
    )
    .await?
    .iter()
    .map(|r| {
        let rid = id(r, "id", "roles")?;
        Ok(Role {
            id: rid,
            name: text(r, "name")?,
            description: opt_text(r, "description")?,
            owner_id: opt_id(r, "owner_id", "roles")?,
            access_profile_ids: role_aps.remove(&rid).unwrap_or_default(),
            entitlement_ids: role_ents.remove(&rid).unwrap_or_default(),
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let (assignment_ids, assignments) = if with_assignments {
        let (mut ids, mut list) = (Vec::new(), Vec::new());
        each(
            c,
            "SELECT id, identity_id, access_type, access_id, account_id FROM assignments
             WHERE removed_at IS NULL",
            |r| {
                ids.push(id(r, "id", "assignments")?);
                list.push(Assignment {
                    identity_id: id(r, "identity_id", "assignments")?,
                    access_type: access_type(r, "access_type")?,
                    access_id: id(r, "access_id", "assignments")?,
                    account_id: opt_id(r, "account_id", "assignments")?,
                });
                Ok(())
            },
        )
        .await?;
        (ids, list)
    } else {
        (Vec::new(), Vec::new())
    };
    tx.commit().await.map_err(db_err)?;
    Ok(CurrentState {
        dataset: Dataset {
            identities,
            sources,
            accounts,
            entitlements,
            access_profiles,
            roles,
            assignments,
        },
        assignment_ids,
        generation,
    })
}
