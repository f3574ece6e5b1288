-- Indexes on token columns that most rows leave NULL hold only the rows with a
-- value: a client-credentials token has no user and no code, a live refresh
-- token no revocation and (by default) no expiry, so writing one updates fewer
-- B-trees. Every query on these columns compares them with a value, which
-- implies NOT NULL, so the planner still uses them (a contract test checks).
DROP INDEX tollgate_access_tokens_user;
CREATE INDEX tollgate_access_tokens_user ON tollgate_access_tokens (user_id)
    WHERE user_id IS NOT NULL;
DROP INDEX tollgate_access_tokens_code;
CREATE INDEX tollgate_access_tokens_code ON tollgate_access_tokens (authorization_code_id)
    WHERE authorization_code_id IS NOT NULL;
DROP INDEX tollgate_refresh_tokens_user;
CREATE INDEX tollgate_refresh_tokens_user ON tollgate_refresh_tokens (user_id)
    WHERE user_id IS NOT NULL;
DROP INDEX tollgate_refresh_tokens_code;
CREATE INDEX tollgate_refresh_tokens_code ON tollgate_refresh_tokens (authorization_code_id)
    WHERE authorization_code_id IS NOT NULL;
DROP INDEX tollgate_refresh_tokens_revoked;
CREATE INDEX tollgate_refresh_tokens_revoked ON tollgate_refresh_tokens (revoked_at)
    WHERE revoked_at IS NOT NULL;
DROP INDEX tollgate_refresh_tokens_expires;
CREATE INDEX tollgate_refresh_tokens_expires ON tollgate_refresh_tokens (expires_at)
    WHERE expires_at IS NOT NULL;
