-- What `tollgate import-dot` brought over, by kind and the key it had at the
-- source (a user's id, a client's client_id, a token's hash, a key's kid): a
-- record imported once is never imported again, so a second run cannot bring
-- back what was revoked or deleted here since.
CREATE TABLE tollgate_imported (
    kind        TEXT   NOT NULL,
    source_key  TEXT   NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (kind, source_key)
);
