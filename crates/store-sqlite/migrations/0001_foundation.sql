-- The foundation: who has what, the import log and API clients.
-- Ids are 32 lowercase hex characters; timestamps are RFC 3339 UTC text with milliseconds
-- (2026-01-01T00:00:00.000Z), which sorts as time does.
-- Records are never deleted by an import: `removed_at` marks the import that no longer carried
-- them, so history (and later, review snapshots) keep their references.

CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    import_generation INTEGER NOT NULL
);
INSERT INTO store_meta (id, import_generation) VALUES (1, 0);

CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    manager_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    lifecycle_state TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX identities_manager ON identities (manager_id);
CREATE INDEX identities_email ON identities (lower(email));

CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_type TEXT,
    description TEXT,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id) DEFERRABLE INITIALLY DEFERRED,
    identity_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    native_identity TEXT NOT NULL,
    name TEXT NOT NULL,
    disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    locked INTEGER NOT NULL CHECK (locked IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX accounts_identity ON accounts (identity_id);
CREATE INDEX accounts_source ON accounts (source_id);

CREATE TABLE entitlements (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id) DEFERRABLE INITIALLY DEFERRED,
    name TEXT NOT NULL,
    attribute_name TEXT NOT NULL,
    attribute_value TEXT NOT NULL,
    description TEXT,
    privileged INTEGER NOT NULL CHECK (privileged IN (0, 1)),
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    -- JSON array of {"rights": [..], "target": ".."}
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX entitlements_source ON entitlements (source_id);

CREATE TABLE access_profiles (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id) DEFERRABLE INITIALLY DEFERRED,
    name TEXT NOT NULL,
    description TEXT,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);

CREATE TABLE access_profile_entitlements (
    access_profile_id TEXT NOT NULL REFERENCES access_profiles (id) DEFERRABLE INITIALLY DEFERRED,
    entitlement_id TEXT NOT NULL REFERENCES entitlements (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (access_profile_id, entitlement_id)
);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);

CREATE TABLE role_access_profiles (
    role_id TEXT NOT NULL REFERENCES roles (id) DEFERRABLE INITIALLY DEFERRED,
    access_profile_id TEXT NOT NULL REFERENCES access_profiles (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (role_id, access_profile_id)
);

CREATE TABLE role_entitlements (
    role_id TEXT NOT NULL REFERENCES roles (id) DEFERRABLE INITIALLY DEFERRED,
    entitlement_id TEXT NOT NULL REFERENCES entitlements (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (role_id, entitlement_id)
);

-- One row per grant over its lifetime. A grant that disappears and later comes back is a new row.
-- access_id points at an entitlement, access profile or role (by access_type), so it has no
-- foreign key; the import checks it.
CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    access_type TEXT NOT NULL CHECK (access_type IN ('ENTITLEMENT', 'ACCESS_PROFILE', 'ROLE')),
    access_id TEXT NOT NULL,
    account_id TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT,
    removed_at TEXT
);
CREATE UNIQUE INDEX assignments_active
    ON assignments (identity_id, access_type, access_id, coalesce(account_id, ''))
    WHERE removed_at IS NULL;

CREATE TABLE import_runs (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    generation INTEGER NOT NULL,
    source TEXT NOT NULL,
    -- JSON array of kind names the import carried
    kinds TEXT NOT NULL,
    -- JSON object of per-kind added/changed/removed counts
    summary TEXT NOT NULL
);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    -- comma-separated role names, e.g. 'CERT_ADMIN,REPORT_ADMIN'
    roles TEXT NOT NULL,
    identity_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
