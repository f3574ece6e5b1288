-- Clients described by a client ID metadata document: when the copy was
-- fetched and until when it is fresh. A client without a row is registered here.
CREATE TABLE tollgate_client_documents (
    application_id BIGINT PRIMARY KEY REFERENCES tollgate_applications (id) ON DELETE CASCADE,
    fetched_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
