-- The web interface: people sign in as identities, with a local password (argon2id) or single
-- sign-on; what they may do beyond reviewing their own work comes from `roles`.
CREATE TABLE web_users (
    identity_id TEXT PRIMARY KEY,
    -- argon2id PHC string; NULL: no local password (single sign-on only)
    password_hash TEXT,
    -- comma-separated role names (ORG_ADMIN, CERT_ADMIN, OPERATOR, REPORT_ADMIN); '' = reviewer
    roles TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Signed-in browsers. The cookie carries a random token; only its SHA-256 is kept here.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    -- the token every form of this session carries
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX identities_name ON identities (lower(name));
