-- RFC 9126 pushed authorization requests. The random part of a request_uri is
-- kept only as its SHA-256 hash. A row may be first opened at the
-- authorization endpoint until expires_at; opening it gives the user time to
-- sign in and consent, and answering it deletes it, so it is used once.
CREATE TABLE tollgate_pushed_requests (
    id               INTEGER PRIMARY KEY,
    request_uri_hash BLOB  NOT NULL UNIQUE,
    application_id   BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    parameters       TEXT   NOT NULL,
    opened_at        BIGINT,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX tollgate_pushed_requests_expires ON tollgate_pushed_requests (expires_at);
CREATE INDEX tollgate_pushed_requests_application ON tollgate_pushed_requests (application_id);

-- RFC 9126 §6: a client whose authorization requests must be pushed.
ALTER TABLE tollgate_applications
    ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
