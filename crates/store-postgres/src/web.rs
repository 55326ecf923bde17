//! Web users (identities that sign in) and their browser sessions on PostgreSQL.

use recert_domain::web::{WebSession, WebUser};
use recert_domain::{ClientRole, Id, Identity, Timestamp};
use recert_store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool};

use crate::queries::{IDENTITY_COLUMNS, at, id, identity_from_row, opt_text, text};
use crate::{db_err, ts};

pub(crate) async fn set_user(
    pool: &PgPool,
    identity: Id,
    hash: Option<&str>,
    roles: Option<&[ClientRole]>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    // A new password or new roles end the identity's sessions.
    let mut tx = pool.begin().await.map_err(db_err)?;
    let n = sqlx::query(
        "INSERT INTO web_users (identity_id, password_hash, roles, created_at, updated_at)
         SELECT i.id, $2, coalesce($3, ''), $4, $4 FROM identities i
         WHERE i.id = $1 AND i.removed_at IS NULL
         ON CONFLICT (identity_id) DO UPDATE SET password_hash = excluded.password_hash,
            roles = coalesce($3, web_users.roles), updated_at = excluded.updated_at",
    )
    .bind(identity.to_string())
    .bind(hash)
    .bind(roles.map(ClientRole::encode_list))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if n == 1 {
        sqlx::query("DELETE FROM web_sessions WHERE identity_id = $1")
            .bind(identity.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
    }
    Ok(n == 1)
}

pub(crate) async fn user(pool: &PgPool, identity: Id) -> Result<Option<WebUser>, StoreError> {
    let row = sqlx::query(
        "SELECT identity_id, password_hash, roles, created_at, updated_at FROM web_users
         WHERE identity_id = $1",
    )
    .bind(identity.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.map(|r| {
        Ok(WebUser {
            identity_id: id(&r, "identity_id", "web_users")?,
            password_hash: opt_text(&r, "password_hash")?,
            roles: ClientRole::decode_list(&text(&r, "roles")?)
                .map_err(|e| StoreError::corrupt("web_users", e))?,
            created_at: at(&r, "created_at")?,
            updated_at: at(&r, "updated_at")?,
        })
    })
    .transpose()
}

pub(crate) async fn identity_by_login(
    pool: &PgPool,
    login: &str,
) -> Result<Option<Identity>, StoreError> {
    let sql = format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities
         WHERE (lower(name) = lower($1) OR lower(email) = lower($1))
           AND active AND removed_at IS NULL
         LIMIT 2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(login.trim())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    if rows.len() != 1 {
        return Ok(None);
    }
    identity_from_row(&rows[0]).map(Some)
}

pub(crate) async fn create_session(pool: &PgPool, s: &WebSession) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, identity_id, csrf, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&s.token_hash)
    .bind(s.identity_id.to_string())
    .bind(&s.csrf)
    .bind(ts(s.created_at))
    .bind(ts(s.expires_at))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn session_from_row(r: &PgRow) -> Result<WebSession, StoreError> {
    Ok(WebSession {
        token_hash: text(r, "token_hash")?,
        identity_id: id(r, "identity_id", "web_sessions")?,
        csrf: text(r, "csrf")?,
        created_at: at(r, "created_at")?,
        expires_at: at(r, "expires_at")?,
    })
}

pub(crate) async fn session(
    pool: &PgPool,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    let row = sqlx::query(
        "SELECT token_hash, identity_id, csrf, created_at, expires_at FROM web_sessions
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(ts(now))
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(session_from_row).transpose()
}

pub(crate) async fn delete_session(
    pool: &PgPool,
    token_hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1 OR expires_at <= $2")
        .bind(token_hash)
        .bind(ts(now))
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}
