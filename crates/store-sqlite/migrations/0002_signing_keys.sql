-- Keys that sign access tokens (Ed25519). The one with retired_at NULL signs; retired keys keep
-- verifying the tokens they signed until those expire.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL CHECK (algorithm = 'EdDSA'),
    -- hex of the 32-byte Ed25519 seed; protect the database as you would the key
    private_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
-- At most one current key, even with several processes starting at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;
