//! Web users (identities that sign in) and their browser sessions on SQLite.

use recert_domain::web::{WebSession, WebUser};
use recert_domain::{ClientRole, Id, Identity, Timestamp};
use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db_err;
use crate::queries::{IDENTITY_COLUMNS, get_id, get_ts, identity_from_row};

pub(crate) fn set_user(
    c: &Connection,
    identity: Id,
    hash: Option<&str>,
    roles: Option<&[ClientRole]>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM identities WHERE id = ?1 AND removed_at IS NULL)",
            [identity.to_string()],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if !exists {
        return Ok(false);
    }
    // A new password or new roles end the identity's sessions: whoever signed in before signs
    // in again, with the new password and under the new roles.
    let tx = c.unchecked_transaction().map_err(db_err)?;
    tx.execute(
        "DELETE FROM web_sessions WHERE identity_id = ?1",
        [identity.to_string()],
    )
    .map_err(db_err)?;
    tx.execute(
        "INSERT INTO web_users (identity_id, password_hash, roles, created_at, updated_at)
         VALUES (?1, ?2, coalesce(?3, ''), ?4, ?4)
         ON CONFLICT (identity_id) DO UPDATE SET password_hash = excluded.password_hash,
            roles = coalesce(?3, web_users.roles), updated_at = excluded.updated_at",
        params![
            identity.to_string(),
            hash,
            roles.map(ClientRole::encode_list),
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

pub(crate) fn user(c: &Connection, identity: Id) -> Result<Option<WebUser>, StoreError> {
    let row = c
        .query_row(
            "SELECT identity_id, password_hash, roles, created_at, updated_at FROM web_users
             WHERE identity_id = ?1",
            [identity.to_string()],
            |r| {
                Ok((
                    get_id(r, 0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    get_ts(r, 3)?,
                    get_ts(r, 4)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    row.map(
        |(identity_id, password_hash, roles, created_at, updated_at)| {
            Ok(WebUser {
                identity_id,
                password_hash,
                roles: ClientRole::decode_list(&roles)
                    .map_err(|e| StoreError::corrupt("web_users", e))?,
                created_at,
                updated_at,
            })
        },
    )
    .transpose()
}

pub(crate) fn identity_by_login(
    c: &Connection,
    login: &str,
) -> Result<Option<Identity>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities
             WHERE (lower(name) = lower(?1) OR lower(email) = lower(?1))
               AND active = 1 AND removed_at IS NULL
             LIMIT 2"
        ))
        .map_err(db_err)?;
    let found: Vec<Identity> = stmt
        .query_map([login.trim()], identity_from_row)
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    Ok(if found.len() == 1 {
        found.into_iter().next()
    } else {
        None
    })
}

pub(crate) fn create_session(c: &Connection, s: &WebSession) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO web_sessions (token_hash, identity_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            s.token_hash,
            s.identity_id.to_string(),
            s.csrf,
            s.created_at.to_string(),
            s.expires_at.to_string()
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn session(
    c: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    c.prepare_cached(
        "SELECT token_hash, identity_id, csrf, created_at, expires_at FROM web_sessions
         WHERE token_hash = ?1 AND expires_at > ?2",
    )
    .map_err(db_err)?
    .query_row(params![token_hash, now.to_string()], |r| {
        Ok(WebSession {
            token_hash: r.get(0)?,
            identity_id: get_id(r, 1)?,
            csrf: r.get(2)?,
            created_at: get_ts(r, 3)?,
            expires_at: get_ts(r, 4)?,
        })
    })
    .optional()
    .map_err(db_err)
}

pub(crate) fn delete_session(
    c: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM web_sessions WHERE token_hash = ?1 OR expires_at <= ?2",
        params![token_hash, now.to_string()],
    )
    .map_err(db_err)?;
    Ok(())
}
