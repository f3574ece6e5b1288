//! Token introspection `/o/introspect/` (RFC 7662), for authenticated clients
//! and for bearers of a token with the `introspection` scope.

use axum::extract::State;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use tollgate_core::model::{TokenDetails, TokenKind};
use tollgate_core::scope::Scopes;
use tollgate_core::{ErrorCode, OAuthError, Params, SecretHash};

use crate::client_auth::{self, Public, Refusal};
use crate::oauth_json::{self, Challenge};
use crate::provider::{Inner, Shared};
use crate::settings::INTROSPECTION_SCOPE;
use crate::{bearer, form};

pub(crate) async fn introspect(
    State(inner): State<Shared>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let params = match form::params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return oauth_json::error(&e, Challenge::None),
    };
    if let Err(refusal) = authorize_caller(&inner, &headers, &extensions, &params).await {
        return refusal.into_response();
    }
    let token = match params.require("token") {
        Ok(t) => t,
        Err(e) => return oauth_json::error(&e, Challenge::None),
    };
    let refresh_first = params.get("token_type_hint") == Some("refresh_token");
    match inner
        .store
        .token_details(&SecretHash::of(token), refresh_first)
        .await
    {
        Ok(found) => oauth_json::ok(&describe(&inner, found)),
        Err(e) => oauth_json::server_error("introspection failed", e),
    }
}

/// A bearer token with the introspection scope, or a confidential client's credentials.
async fn authorize_caller(
    inner: &Inner,
    headers: &HeaderMap,
    extensions: &Extensions,
    params: &Params,
) -> Result<(), Refusal> {
    let Some(bearer) = bearer::from_header(headers) else {
        return client_auth::authenticate(inner, headers, extensions, params, Public::Refused)
            .await
            .map(drop);
    };
    let found = bearer::live_bearer(inner, bearer)
        .await
        .map_err(|e| Refusal::Internal(e.into()))?;
    let refuse = |code, description: &str| {
        Err(Refusal::Client(
            OAuthError::new(code, description),
            Challenge::Bearer,
        ))
    };
    match found {
        None => refuse(
            ErrorCode::InvalidToken,
            "the bearer token is unknown or expired",
        ),
        Some(t)
            if !Scopes::parse(&t.token.scope).is_ok_and(|s| s.contains(INTROSPECTION_SCOPE)) =>
        {
            refuse(
                ErrorCode::InsufficientScope,
                "the bearer token needs the introspection scope",
            )
        }
        Some(_) => Ok(()),
    }
}

fn describe(inner: &Inner, found: Option<TokenDetails>) -> Value {
    let now = inner.clock.now();
    // A deactivated user's tokens stop being active with the user.
    let Some(token) = found.filter(|t| {
        t.revoked_at.is_none()
            && t.expires_at.is_none_or(|exp| now < exp)
            && t.user_active != Some(false)
    }) else {
        return json!({ "active": false });
    };
    let mut out = Map::new();
    out.insert("active".into(), true.into());
    out.insert("scope".into(), token.scope.into());
    out.insert("client_id".into(), token.client_id.into());
    if let Some(username) = token.username {
        out.insert("username".into(), username.into());
    }
    if let Some(user_id) = token.user_id {
        out.insert("sub".into(), user_id.to_string().into());
    }
    let token_type = match token.kind {
        TokenKind::Access => "Bearer",
        TokenKind::Refresh => "refresh_token",
    };
    out.insert("token_type".into(), token_type.into());
    if let Some(exp) = token.expires_at {
        out.insert("exp".into(), exp.into());
    }
    out.insert("iat".into(), token.created_at.into());
    out.insert("iss".into(), inner.settings.issuer.clone().into());
    // RFC 8707 §2: the resources the token is for; none for an unrestricted token.
    if !token.resource.is_empty() {
        let aud: Vec<Value> = token.resource.iter().map(Value::from).collect();
        out.insert("aud".into(), aud.into());
    }
    Value::Object(out)
}
