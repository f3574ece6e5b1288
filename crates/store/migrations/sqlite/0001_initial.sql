-- Times are Unix seconds (BIGINT) on both databases: one SQL text, exact comparisons.
-- Secrets are SHA-256 hashes (BLOB); the plaintext is never stored.

CREATE TABLE tollgate_users (
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

CREATE TABLE tollgate_applications (
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
    owner_id                  BIGINT  REFERENCES tollgate_users (id) ON DELETE CASCADE,
    created_at                BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL
);
CREATE INDEX tollgate_applications_owner ON tollgate_applications (owner_id);

CREATE TABLE tollgate_authorization_codes (
    id                    INTEGER PRIMARY KEY,
    code_hash             BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    user_id               BIGINT NOT NULL REFERENCES tollgate_users (id) ON DELETE CASCADE,
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
CREATE INDEX tollgate_authorization_codes_expires ON tollgate_authorization_codes (expires_at);
CREATE INDEX tollgate_authorization_codes_application ON tollgate_authorization_codes (application_id);
CREATE INDEX tollgate_authorization_codes_user ON tollgate_authorization_codes (user_id);

CREATE TABLE tollgate_access_tokens (
    id                    INTEGER PRIMARY KEY,
    token_hash            BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    user_id               BIGINT REFERENCES tollgate_users (id) ON DELETE CASCADE,
    scope                 TEXT   NOT NULL,
    expires_at            BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    authorization_code_id BIGINT REFERENCES tollgate_authorization_codes (id) ON DELETE SET NULL
);
CREATE INDEX tollgate_access_tokens_expires ON tollgate_access_tokens (expires_at);
CREATE INDEX tollgate_access_tokens_application ON tollgate_access_tokens (application_id);
CREATE INDEX tollgate_access_tokens_user ON tollgate_access_tokens (user_id);
CREATE INDEX tollgate_access_tokens_code ON tollgate_access_tokens (authorization_code_id);

CREATE TABLE tollgate_refresh_tokens (
    id                    INTEGER PRIMARY KEY,
    token_hash            BLOB   NOT NULL UNIQUE,
    application_id        BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    user_id               BIGINT REFERENCES tollgate_users (id) ON DELETE CASCADE,
    access_token_id       BIGINT REFERENCES tollgate_access_tokens (id) ON DELETE SET NULL,
    family                TEXT   NOT NULL,
    scope                 TEXT   NOT NULL,
    expires_at            BIGINT,
    created_at            BIGINT NOT NULL,
    revoked_at            BIGINT,
    -- Retired by rotation (not revoked): presentable again within the grace period.
    rotated               BOOLEAN NOT NULL DEFAULT FALSE,
    authorization_code_id BIGINT REFERENCES tollgate_authorization_codes (id) ON DELETE SET NULL
);
CREATE INDEX tollgate_refresh_tokens_family ON tollgate_refresh_tokens (family);
CREATE INDEX tollgate_refresh_tokens_expires ON tollgate_refresh_tokens (expires_at);
CREATE INDEX tollgate_refresh_tokens_revoked ON tollgate_refresh_tokens (revoked_at);
CREATE INDEX tollgate_refresh_tokens_access_token ON tollgate_refresh_tokens (access_token_id);
CREATE INDEX tollgate_refresh_tokens_application ON tollgate_refresh_tokens (application_id);
CREATE INDEX tollgate_refresh_tokens_user ON tollgate_refresh_tokens (user_id);
CREATE INDEX tollgate_refresh_tokens_code ON tollgate_refresh_tokens (authorization_code_id);

CREATE TABLE tollgate_id_tokens (
    id             INTEGER PRIMARY KEY,
    jti            TEXT   NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    user_id        BIGINT REFERENCES tollgate_users (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX tollgate_id_tokens_expires ON tollgate_id_tokens (expires_at);
CREATE INDEX tollgate_id_tokens_application ON tollgate_id_tokens (application_id);
CREATE INDEX tollgate_id_tokens_user ON tollgate_id_tokens (user_id);

CREATE TABLE tollgate_signing_keys (
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
CREATE UNIQUE INDEX tollgate_signing_keys_one_active ON tollgate_signing_keys (active) WHERE active;

CREATE TABLE tollgate_consents (
    user_id        BIGINT NOT NULL REFERENCES tollgate_users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, application_id)
);
CREATE INDEX tollgate_consents_application ON tollgate_consents (application_id);

CREATE TABLE tollgate_sessions (
    id           INTEGER PRIMARY KEY,
    session_hash BLOB   NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES tollgate_users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX tollgate_sessions_expires ON tollgate_sessions (expires_at);
CREATE INDEX tollgate_sessions_user ON tollgate_sessions (user_id);
