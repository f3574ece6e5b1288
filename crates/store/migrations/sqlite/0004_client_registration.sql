-- RFC 7592: the registration access token of a dynamically registered client,
-- kept as its SHA-256 hash; the client is managed with it at its client URI.
CREATE TABLE tollgate_client_registrations (
    application_id BIGINT PRIMARY KEY REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    token_hash     BLOB   NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
