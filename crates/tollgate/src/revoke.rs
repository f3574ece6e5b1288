//! Token revocation `/o/revoke_token/` (RFC 7009). Revoking an access token
//! revokes its refresh token; revoking a refresh token revokes its whole family
//! and their access tokens. Unknown tokens and other clients' tokens: 200, no change.

use axum::extract::State;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tollgate_core::SecretHash;
use tollgate_core::model::TokenKind;

use crate::client_auth::{self, Public};
use crate::events::Event;
use crate::form;
use crate::oauth_json::{self, Challenge};
use crate::provider::Shared;
use crate::token::allow_origin;

pub(crate) async fn revoke(
    State(inner): State<Shared>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let params = match form::params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return oauth_json::error(&e, Challenge::None),
    };
    let client =
        match client_auth::authenticate(&inner, &headers, &extensions, &params, Public::Allowed)
            .await
        {
            Ok(c) => c,
            Err(refusal) => return refusal.into_response(),
        };
    let token = match params.require("token") {
        Ok(t) => t,
        Err(e) => return allow_origin(oauth_json::error(&e, Challenge::None), &headers, &client),
    };
    // The hint only orders the lookups (RFC 7009 §2.1); an unknown hint is ignored.
    let refresh_first = params.get("token_type_hint") == Some("refresh_token");
    let now = inner.clock.now();
    let outcome = match inner
        .store
        .token_details(&SecretHash::of(token), refresh_first)
        .await
    {
        Ok(Some(found)) if found.application_id == client.id => {
            inner.events.emit(&Event::TokenRevoked {
                client_id: &client.client_id,
                user_id: found.user_id,
            });
            match (found.kind, found.family) {
                (TokenKind::Access, _) => inner.store.revoke_access_token(found.id, now).await,
                (TokenKind::Refresh, Some(family)) => inner
                    .store
                    .revoke_refresh_token_family(&family, now)
                    .await
                    .map(drop),
                (TokenKind::Refresh, None) => Ok(()),
            }
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    let response = match outcome {
        Ok(()) => oauth_json::no_store(Response::new(axum::body::Body::empty())),
        Err(e) => oauth_json::server_error("revocation failed", e),
    };
    allow_origin(response, &headers, &client)
}
