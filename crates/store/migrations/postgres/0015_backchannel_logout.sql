-- OpenID Connect Back-Channel Logout 1.0 §2.2: where a client is told that a
-- user signed out, and whether it needs the session's `sid` to act on it.
ALTER TABLE tollgate_applications ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE tollgate_applications
    ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;
-- A session's public id, the `sid` of its ID tokens and logout tokens; NULL
-- for sessions older than this column. Codes and refresh tokens carry it to
-- the ID tokens the token endpoint makes.
ALTER TABLE tollgate_sessions ADD COLUMN sid TEXT;
ALTER TABLE tollgate_authorization_codes ADD COLUMN sid TEXT;
ALTER TABLE tollgate_refresh_tokens ADD COLUMN sid TEXT;
-- The clients with a back-channel logout URI that a session signed in to,
-- each told when it ends.
CREATE TABLE tollgate_session_clients (
    session_id     BIGINT NOT NULL REFERENCES tollgate_sessions (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (session_id, application_id)
);
CREATE INDEX tollgate_session_clients_application ON tollgate_session_clients (application_id);
