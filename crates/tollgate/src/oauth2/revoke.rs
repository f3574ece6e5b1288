//! Token revocation `/o/revoke_token/` (RFC 7009). Revoking an access token
//! revokes its refresh token; revoking a refresh token revokes its whole family
//! and their access tokens. Unknown tokens and other clients' tokens: 200, no change.

use axum::extract::State;
use axum::response::Response;
use tollgate_core::SecretHash;
use tollgate_core::model::TokenKind;

use crate::events::Event;
use crate::http::json;
use crate::http::json::JsonResult;
use crate::oauth2::client_auth::ClientRequest;
use crate::provider::Shared;

pub(crate) async fn revoke(
    State(inner): State<Shared>,
    ClientRequest { client, params, .. }: ClientRequest,
) -> JsonResult {
    let token = params.require("token")?;
    // The hint only orders the lookups (RFC 7009 §2.1); an unknown hint is ignored.
    let refresh_first = params.get("token_type_hint") == Some("refresh_token");
    let now = inner.clock.now();
    let found = inner
        .store
        .token_details(&SecretHash::of(token), refresh_first)
        .await?;
    if let Some(found) = found.filter(|f| f.application_id == client.id) {
        inner.events.emit(&Event::TokenRevoked {
            client_id: &client.client_id,
            user_id: found.user_id,
        });
        match (found.kind, found.family) {
            (TokenKind::Access, _) => inner.store.revoke_access_token(found.id, now).await?,
            (TokenKind::Refresh, Some(family)) => {
                inner
                    .store
                    .revoke_refresh_token_family(&family, now)
                    .await?;
            }
            (TokenKind::Refresh, None) => {}
        }
    }
    Ok(json::no_store(Response::new(axum::body::Body::empty())))
}
