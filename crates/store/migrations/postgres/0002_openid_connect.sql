-- A signing key is published before it signs, so relying parties that cache the
-- JWKS have it first: the key that signs for an algorithm is the newest one
-- whose activation time has come. This replaces the single `active` flag.
DROP INDEX tollgate_signing_keys_one_active;
ALTER TABLE tollgate_signing_keys DROP COLUMN active;
ALTER TABLE tollgate_signing_keys ADD COLUMN activates_at BIGINT NOT NULL DEFAULT 0;
UPDATE tollgate_signing_keys SET activates_at = created_at;
CREATE INDEX tollgate_signing_keys_algorithm ON tollgate_signing_keys (algorithm, activates_at);

-- HS256 clients sign ID tokens with their secret, so it is kept, sealed
-- (AES-256-GCM under the server's secret_key), beside its hash.
ALTER TABLE tollgate_applications ADD COLUMN client_secret_sealed TEXT;
-- Answer this client's UserInfo requests with a JWT signed like its ID tokens.
ALTER TABLE tollgate_applications ADD COLUMN userinfo_signed BOOLEAN NOT NULL DEFAULT FALSE;

-- What an ID token minted at refresh repeats from the original sign-in, and the
-- OIDC claims request that UserInfo honours.
ALTER TABLE tollgate_refresh_tokens ADD COLUMN auth_time BIGINT;
ALTER TABLE tollgate_refresh_tokens ADD COLUMN claims TEXT;
ALTER TABLE tollgate_access_tokens ADD COLUMN claims TEXT;

-- Standard claims of the phone and address scopes.
ALTER TABLE tollgate_users ADD COLUMN phone_number TEXT NOT NULL DEFAULT '';
ALTER TABLE tollgate_users ADD COLUMN phone_number_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tollgate_users ADD COLUMN address TEXT NOT NULL DEFAULT '';
