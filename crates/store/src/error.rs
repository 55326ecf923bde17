use recert_domain::Id;

/// What can go wrong in a store. Kept small: the core decides what each means to a user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A concurrent change got there first; the caller may retry.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(Id),
    /// The schema is newer than this binary, or a migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Stored data that cannot be read back (a bug or manual tampering).
    #[error("corrupt data in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    /// Anything else the driver reported.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    pub fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            table,
            detail: detail.to_string(),
        }
    }
}
