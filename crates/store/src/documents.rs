//! Clients described by a client ID metadata document: the last good copy of
//! what the document said, and until when it is fresh.

use tollgate_core::GrantType;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, NewApplication};

use crate::applications::{APPLICATION_CONFLICT, columns, insert_application};
use crate::rows::ApplicationRow;
use crate::{Result, Store, StoreError, on_db};

#[derive(sqlx::FromRow)]
struct DescribedRow {
    #[sqlx(flatten)]
    application: ApplicationRow,
    document_expires_at: Option<i64>,
}

impl Store {
    /// The client `client_id`, with, when a metadata document describes it,
    /// until when the copy is fresh (`None`: registered here). One lookup.
    pub async fn application_and_document(
        &self,
        client_id: &str,
    ) -> Result<Option<(Application, Option<UnixTime>)>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            ", d.expires_at AS document_expires_at FROM tollgate_applications \
             LEFT JOIN tollgate_client_documents d ON d.application_id = id WHERE client_id = $1"
        );
        let row: Option<DescribedRow> = on_db!(read &self.db, p => sqlx::query_as(sql).bind(client_id).fetch_optional(p).await)?;
        row.map(|r| Ok((r.application.try_into()?, r.document_expires_at)))
            .transpose()
    }

    /// Keeps what a metadata document says of its client, fresh until
    /// `expires_at`: a new client, or the changes to the one an earlier copy
    /// described. A client registered here under the same id is a
    /// [`StoreError::Conflict`], never overwritten.
    pub async fn save_document_client(
        &self,
        new: &NewApplication,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Application> {
        let update = concat!(
            "UPDATE tollgate_applications SET name = $2, grant_types = $3, redirect_uris = $4, \
             post_logout_redirect_uris = $5, updated_at = $6, algorithm = $7 WHERE client_id = $1 \
             AND id IN (SELECT application_id FROM tollgate_client_documents) RETURNING ",
            columns!()
        );
        let row: ApplicationRow = on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            // Consent was given to send users to the old URIs, not to new ones.
            sqlx::query(
                "DELETE FROM tollgate_consents WHERE application_id IN (SELECT id FROM tollgate_applications \
                 WHERE client_id = $1 AND redirect_uris <> $2 \
                 AND id IN (SELECT application_id FROM tollgate_client_documents))")
                .bind(&new.client_id)
                .bind(new.redirect_uris.join(" "))
                .execute(&mut *tx)
                .await?;
            let updated: Option<ApplicationRow> = sqlx::query_as(update)
                .bind(&new.client_id)
                .bind(&new.name)
                .bind(GrantType::format_list(&new.grant_types))
                .bind(new.redirect_uris.join(" "))
                .bind(new.post_logout_redirect_uris.join(" "))
                .bind(now)
                .bind(new.algorithm.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let row = match updated {
                Some(row) => row,
                None => insert_application!(&mut *tx, new, now)
                    .await
                    .map_err(StoreError::conflict_on(APPLICATION_CONFLICT))?,
            };
            sqlx::query(
                "INSERT INTO tollgate_client_documents (application_id, fetched_at, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (application_id) \
                 DO UPDATE SET fetched_at = excluded.fetched_at, expires_at = excluded.expires_at")
                .bind(row.id())
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        row.try_into()
    }
}
