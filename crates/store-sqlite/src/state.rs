//! Reading the current state for an import to compare against: every kind from one read
//! transaction.

use std::collections::HashMap;

use recert_domain::{AccessProfile, Account, Assignment, Dataset, Entitlement, Id, Role, Source};
use recert_store::{CurrentState, StoreError};
use rusqlite::Connection;

use crate::db_err;
use crate::queries::{
    IDENTITY_COLUMNS, get_access_type, get_id, get_json, get_opt_id, identity_from_row,
};

fn collect<T>(
    c: &Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare(sql).map_err(db_err)?;
    let rows = st.query_map([], f).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn members(c: &Connection, sql: &str) -> Result<HashMap<Id, Vec<Id>>, StoreError> {
    let mut out: HashMap<Id, Vec<Id>> = HashMap::new();
    for (owner, member) in collect(c, sql, |r| Ok((get_id(r, 0)?, get_id(r, 1)?)))? {
        out.entry(owner).or_default().push(member);
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

pub(crate) fn current_state(
    c: &Connection,
    with_assignments: bool,
) -> Result<CurrentState, StoreError> {
    // One read transaction, so every kind comes from the same moment.
    c.execute_batch("BEGIN").map_err(db_err)?;
    let out = read_state(c, with_assignments);
    let _ = c.execute_batch("COMMIT");
    out
}

fn read_state(c: &Connection, with_assignments: bool) -> Result<CurrentState, StoreError> {
    let generation: i64 = c
        .query_row(
            "SELECT import_generation FROM store_meta WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let identities = collect(
        c,
        &format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE removed_at IS NULL"),
        identity_from_row,
    )?;
    let sources = collect(
        c,
        "SELECT id, name, source_type, description, owner_id FROM sources WHERE removed_at IS NULL",
        |r| {
            Ok(Source {
                id: get_id(r, 0)?,
                name: r.get(1)?,
                source_type: r.get(2)?,
                description: r.get(3)?,
                owner_id: get_opt_id(r, 4)?,
            })
        },
    )?;
    let accounts = collect(
        c,
        "SELECT id, source_id, identity_id, native_identity, name, disabled, locked
         FROM accounts WHERE removed_at IS NULL",
        |r| {
            Ok(Account {
                id: get_id(r, 0)?,
                source_id: get_id(r, 1)?,
                identity_id: get_opt_id(r, 2)?,
                native_identity: r.get(3)?,
                name: r.get(4)?,
                disabled: r.get(5)?,
                locked: r.get(6)?,
            })
        },
    )?;
    let entitlements = collect(
        c,
        "SELECT id, source_id, name, attribute_name, attribute_value, description, privileged,
                owner_id, permissions
         FROM entitlements WHERE removed_at IS NULL",
        |r| {
            Ok(Entitlement {
                id: get_id(r, 0)?,
                source_id: get_id(r, 1)?,
                name: r.get(2)?,
                attribute_name: r.get(3)?,
                attribute_value: r.get(4)?,
                description: r.get(5)?,
                privileged: r.get(6)?,
                owner_id: get_opt_id(r, 7)?,
                permissions: get_json(r, 8)?,
            })
        },
    )?;
    let mut ap_members = members(
        c,
        "SELECT access_profile_id, entitlement_id FROM access_profile_entitlements",
    )?;
    let access_profiles = collect(
        c,
        "SELECT id, source_id, name, description, owner_id FROM access_profiles
         WHERE removed_at IS NULL",
        |r| {
            Ok(AccessProfile {
                id: get_id(r, 0)?,
                source_id: get_id(r, 1)?,
                name: r.get(2)?,
                description: r.get(3)?,
                owner_id: get_opt_id(r, 4)?,
                entitlement_ids: Vec::new(),
            })
        },
    )?
    .into_iter()
    .map(|mut p| {
        p.entitlement_ids = ap_members.remove(&p.id).unwrap_or_default();
        p
    })
    .collect();
    let mut role_aps = members(
        c,
        "SELECT role_id, access_profile_id FROM role_access_profiles",
    )?;
    let mut role_ents = members(c, "SELECT role_id, entitlement_id FROM role_entitlements")?;
    let roles = collect(
        c,
        "SELECT id, name, description, owner_id FROM roles WHERE removed_at IS NULL",
        |r| {
            Ok(Role {
                id: get_id(r, 0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                owner_id: get_opt_id(r, 3)?,
                access_profile_ids: Vec::new(),
                entitlement_ids: Vec::new(),
            })
        },
    )?
    .into_iter()
    .map(|mut role| {
        role.access_profile_ids = role_aps.remove(&role.id).unwrap_or_default();
        role.entitlement_ids = role_ents.remove(&role.id).unwrap_or_default();
        role
    })
    .collect();
    let (assignment_ids, assignments) = if with_assignments {
        // Two vectors filled row by row: millions of grants are never held twice.
        let (mut ids, mut list) = (Vec::new(), Vec::new());
        let mut st = c
            .prepare(
                "SELECT id, identity_id, access_type, access_id, account_id FROM assignments
                 WHERE removed_at IS NULL",
            )
            .map_err(db_err)?;
        let mut rows = st.query([]).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            ids.push(get_id(r, 0).map_err(db_err)?);
            list.push(Assignment {
                identity_id: get_id(r, 1).map_err(db_err)?,
                access_type: get_access_type(r, 2).map_err(db_err)?,
                access_id: get_id(r, 3).map_err(db_err)?,
                account_id: get_opt_id(r, 4).map_err(db_err)?,
            });
        }
        (ids, list)
    } else {
        (Vec::new(), Vec::new())
    };
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
