-- Times are Unix seconds (BIGINT) on both databases: one SQL text, exact comparisons.
-- Secrets are SHA-256 hashes (BLOB); the plaintext is never stored.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    password_hash  TEXT,
    email          TEXT    NOT NULL DEFAULT '',
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    given_name     TEXT    NOT NULL DEFAULT '',
    family_name    TEXT    NOT NULL DEFAULT '',
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    staff          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE TABLE applications (
    id                        INTEGER PRIMARY KEY,
    client_id                 TEXT    NOT NULL UNIQUE,
    client_secret_hash        TEXT,
    client_type               TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    grant_types               TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL DEFAULT '',
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '',
    allowed_origins           TEXT    NOT NULL DEFAULT '',
    algorithm                 TEXT    NOT NULL,
    skip_authorization        BOOLEAN NOT NULL DEFAULT FALSE,
    name                      TEXT    NOT NULL DEFAULT '',
    owner_id                  BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    created_at                BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL
);
CREATE INDEX applications_owner ON applications (owner_id);

CREATE TABLE authorization_codes (
    id                    INTEGER PRIMARY KEY,
    code_hash             BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id               BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT   NOT NULL,
    redirect_uri_given    BOOLEAN NOT NULL,
    scope                 TEXT   NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    claims                TEXT,
    auth_time             BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    redeemed_at           BIGINT
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_application ON authorization_codes (application_id);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);

CREATE TABLE access_tokens (
    id                    INTEGER PRIMARY KEY,
    token_hash            BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id               BIGINT REFERENCES users (id) ON DELETE CASCADE,
    scope                 TEXT   NOT NULL,
    expires_at            BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    authorization_code_id BIGINT REFERENCES authorization_codes (id) ON DELETE SET NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX access_tokens_application ON access_tokens (application_id);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_code ON access_tokens (authorization_code_id);

CREATE TABLE refresh_tokens (
    id                    INTEGER PRIMARY KEY,
    token_hash            BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id               BIGINT REFERENCES users (id) ON DELETE CASCADE,
    access_token_id       BIGINT REFERENCES access_tokens (id) ON DELETE SET NULL,
    family                TEXT   NOT NULL,
    scope                 TEXT   NOT NULL,
    expires_at            BIGINT,
    created_at            BIGINT NOT NULL,
    revoked_at            BIGINT,
    -- Retired by rotation (not revoked): presentable again within the grace period.
    rotated               BOOLEAN NOT NULL DEFAULT FALSE,
    authorization_code_id BIGINT REFERENCES authorization_codes (id) ON DELETE SET NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at);
CREATE INDEX refresh_tokens_access_token ON refresh_tokens (access_token_id);
CREATE INDEX refresh_tokens_application ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_code ON refresh_tokens (authorization_code_id);

CREATE TABLE id_tokens (
    id             INTEGER PRIMARY KEY,
    jti            TEXT   NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        BIGINT REFERENCES users (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX id_tokens_expires ON id_tokens (expires_at);
CREATE INDEX id_tokens_application ON id_tokens (application_id);
CREATE INDEX id_tokens_user ON id_tokens (user_id);

CREATE TABLE signing_keys (
    id              INTEGER PRIMARY KEY,
    kid             TEXT    NOT NULL UNIQUE,
    algorithm       TEXT    NOT NULL,
    private_key_pem TEXT    NOT NULL,
    public_jwk      TEXT    NOT NULL,
    active          BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    retire_at       BIGINT
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active;

CREATE TABLE consents (
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, application_id)
);
CREATE INDEX consents_application ON consents (application_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    session_hash BLOB   NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
