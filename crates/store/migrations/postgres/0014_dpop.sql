-- RFC 9449 DPoP: the RFC 7638 thumbprint of the key a token is bound to
-- (cnf.jkt); NULL for a bearer token. Refresh tokens are bound for public clients.
ALTER TABLE tollgate_access_tokens ADD COLUMN dpop_jkt TEXT;
ALTER TABLE tollgate_refresh_tokens ADD COLUMN dpop_jkt TEXT;
-- RFC 9449 §10: the key an authorization code's token request must prove (dpop_jkt).
ALTER TABLE tollgate_authorization_codes ADD COLUMN dpop_jkt TEXT;
-- RFC 9449 §5.2: a client whose token requests must carry a DPoP proof.
ALTER TABLE tollgate_applications
    ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;
