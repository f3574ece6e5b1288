-- RFC 7591 jwks: a client's public keys, a JWK Set as JSON text, which
-- verify its request objects (RFC 9101) and client assertions (RFC 7523).
ALTER TABLE tollgate_applications ADD COLUMN jwks TEXT;
-- RFC 7591 jwks_uri: where they are fetched instead (never both).
ALTER TABLE tollgate_applications ADD COLUMN jwks_uri TEXT;
-- RFC 7591 token_endpoint_auth_method; NULL: as DOT, a secret for a
-- confidential client, nothing for a public one.
ALTER TABLE tollgate_applications ADD COLUMN token_endpoint_auth_method TEXT;

-- JWT ids already used (request objects' and client assertions' jti), kept until the JWT they came
-- in has expired: the digest is SHA-256 over what the JWT is, who issued it
-- and its jti, so a replay on any node sharing this database finds it.
CREATE TABLE tollgate_used_jwt_ids (
    id         INTEGER PRIMARY KEY,
    digest     BLOB NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX tollgate_used_jwt_ids_expires ON tollgate_used_jwt_ids (expires_at);
