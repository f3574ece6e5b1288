-- Failed sign-ins, client authentications and device-code guesses of the last
-- minutes, one row each, shared by every node: what the throttle counts. The
-- subject (a username, a client id, a user's id) is kept as a SHA-256 hash, as
-- people type passwords into the username field.
CREATE TABLE tollgate_failures (
    id      INTEGER PRIMARY KEY,
    kind    TEXT   NOT NULL,
    subject TEXT   NOT NULL,
    address TEXT   NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX tollgate_failures_subject ON tollgate_failures (kind, subject, at);
CREATE INDEX tollgate_failures_address ON tollgate_failures (kind, address, at);

-- Where each subject last succeeded from: its own places, which its failures
-- from elsewhere do not slow down.
CREATE TABLE tollgate_familiar_addresses (
    kind    TEXT   NOT NULL,
    subject TEXT   NOT NULL,
    address TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (kind, subject, address)
);
CREATE INDEX tollgate_familiar_addresses_at ON tollgate_familiar_addresses (at);
