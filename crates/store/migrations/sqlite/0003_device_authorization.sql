-- RFC 8628 device authorization: the device code and the user code are kept
-- only as SHA-256 hashes; a row moves pending -> approved or denied -> used.
CREATE TABLE tollgate_device_codes (
    id              INTEGER PRIMARY KEY,
    device_code_hash BLOB  NOT NULL UNIQUE,
    user_code_hash  BLOB   NOT NULL UNIQUE,
    application_id  BIGINT NOT NULL REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    scope           TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    user_id         BIGINT REFERENCES tollgate_users (id) ON DELETE CASCADE,
    auth_time       BIGINT,
    poll_interval   BIGINT NOT NULL,
    last_polled_at  BIGINT,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX tollgate_device_codes_expires ON tollgate_device_codes (expires_at);
CREATE INDEX tollgate_device_codes_application ON tollgate_device_codes (application_id);
CREATE INDEX tollgate_device_codes_user ON tollgate_device_codes (user_id);
