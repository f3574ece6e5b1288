-- RFC 8707: the resources a grant and its tokens are for (their audience),
-- and those a remembered consent was given for; space-separated, empty for
-- an unrestricted grant or consent.
ALTER TABLE tollgate_authorization_codes ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE tollgate_access_tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE tollgate_refresh_tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE tollgate_device_codes ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE tollgate_consents ADD COLUMN resource TEXT NOT NULL DEFAULT '';
