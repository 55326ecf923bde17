-- The foundation: who has what, the import log and API clients.
-- Ids are 32 lowercase hex characters (text); timestamps are timestamptz, kept to milliseconds.
-- Records are never deleted by an import: `removed_at` marks the import that no longer carried
-- them, so history (and later, review snapshots) keep their references.

CREATE TABLE store_meta (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    import_generation BIGINT NOT NULL
);
INSERT INTO store_meta (id, import_generation) VALUES (1, 0);

CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    manager_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    active BOOLEAN NOT NULL,
    lifecycle_state TEXT,
    attributes JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);
CREATE INDEX identities_manager ON identities (manager_id);
CREATE INDEX identities_email ON identities (lower(email));

CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_type TEXT,
    description TEXT,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id) DEFERRABLE INITIALLY DEFERRED,
    identity_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    native_identity TEXT NOT NULL,
    name TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    locked BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
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
    privileged BOOLEAN NOT NULL,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    -- JSON array of {"rights": [..], "target": ".."}
    permissions JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);
CREATE INDEX entitlements_source ON entitlements (source_id);

CREATE TABLE access_profiles (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id) DEFERRABLE INITIALLY DEFERRED,
    name TEXT NOT NULL,
    description TEXT,
    owner_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
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
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
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
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ,
    removed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX assignments_active
    ON assignments (identity_id, access_type, access_id, coalesce(account_id, ''))
    WHERE removed_at IS NULL;

CREATE TABLE import_runs (
    id TEXT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    generation BIGINT NOT NULL,
    source TEXT NOT NULL,
    -- JSON array of kind names the import carried
    kinds JSONB NOT NULL,
    -- JSON object of per-kind added/changed/removed counts
    summary JSONB NOT NULL
);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    -- comma-separated role names, e.g. 'CERT_ADMIN,REPORT_ADMIN'
    roles TEXT NOT NULL,
    identity_id TEXT REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
