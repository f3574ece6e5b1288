-- A user's id is the OIDC `sub`, so a deleted user's id must never be given
-- to the next user. SQLite's INTEGER PRIMARY KEY hands out max(id) + 1, which
-- reuses the id of the newest user once deleted (and a table cannot be made
-- AUTOINCREMENT in place), so the highest id ever deleted is kept here and
-- `create_user` numbers above it. PostgreSQL's identity sequence never goes
-- back and needs no such table.
CREATE TABLE IF NOT EXISTS tollgate_user_id_floor (
    one             INTEGER PRIMARY KEY CHECK (one = 1),
    highest_deleted BIGINT  NOT NULL
);
INSERT OR IGNORE INTO tollgate_user_id_floor (one, highest_deleted)
    VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS tollgate_users_id_floor AFTER DELETE ON tollgate_users
BEGIN
    UPDATE tollgate_user_id_floor SET highest_deleted = max(highest_deleted, OLD.id);
END;
