-- Kept in step with PostgreSQL's 0009, which adds triggers notifying other
-- processes of token revocations. SQLite has no such channel: a process sees
-- its own revocations at once and another process's within the token cache's
-- time to live (`token_cache_seconds`).
SELECT 1;
