-- Every write that can revoke a token or change what a token lookup answers
-- (its user, its client) notifies `tollgate_tokens` when it commits, whichever
-- process or application makes it: each Tollgate process then drops its cache
-- of token lookups. Per statement, not per row; NOTIFY folds repeats in one
-- transaction into one.
CREATE FUNCTION tollgate_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tollgate_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER tollgate_access_tokens_changed
    AFTER UPDATE OR DELETE OR TRUNCATE ON tollgate_access_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_tokens_changed();
CREATE TRIGGER tollgate_refresh_tokens_changed
    AFTER UPDATE OR DELETE OR TRUNCATE ON tollgate_refresh_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_tokens_changed();
CREATE TRIGGER tollgate_users_changed
    AFTER UPDATE OR DELETE OR TRUNCATE ON tollgate_users
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_tokens_changed();
CREATE TRIGGER tollgate_applications_changed
    AFTER UPDATE OR DELETE OR TRUNCATE ON tollgate_applications
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_tokens_changed();
