//! Token introspection `/o/introspect/` (RFC 7662), for authenticated clients
//! and for bearers of a token with the `introspection` scope.

use axum::extract::State;
use serde_json::{Map, Value, json};
use tollgate_core::model::{TokenDetails, TokenKind};
use tollgate_core::scope::Scopes;
use tollgate_core::{ErrorCode, OAuthError, SecretHash};

use crate::http::form::OAuthForm;
use crate::http::json;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::oauth2::bearer;
use crate::oauth2::client_auth;
use crate::oauth2::client_auth::Public;
use crate::provider::Inner;
use crate::provider::Shared;
use crate::settings::INTROSPECTION_SCOPE;

pub(crate) async fn introspect(State(inner): State<Shared>, form: OAuthForm) -> JsonResult {
    authorize_caller(&inner, &form).await?;
    let token = form.params.require("token")?;
    let refresh_first = form.params.get("token_type_hint") == Some("refresh_token");
    let found = inner
        .store
        .token_details(&SecretHash::of(token), refresh_first)
        .await?;
    let answer = describe(&inner, found);
    crate::telemetry::introspected(answer["active"] == true);
    Ok(json::ok(&answer))
}

/// A bearer token with the introspection scope, or a confidential client's credentials.
async fn authorize_caller(inner: &Inner, form: &OAuthForm) -> JsonResult<()> {
    let OAuthForm {
        headers,
        params,
        address,
    } = form;
    let Some(bearer) = bearer::from_header(headers) else {
        return client_auth::authenticate(inner, headers, *address, params, Public::Refused)
            .await
            .map(drop);
    };
    let refuse =
        |code, description: &str| Err(JsonError::bearer(OAuthError::new(code, description)));
    match bearer::live_bearer(inner, bearer).await? {
        None => refuse(
            ErrorCode::InvalidToken,
            "the bearer token is unknown or expired",
        ),
        Some(t) if t.token.dpop_jkt.is_some() => Err(JsonError::bearer(bearer::bound_as_bearer())),
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
    let token_type = match (token.kind, &token.dpop_jkt) {
        (TokenKind::Access, None) => "Bearer",
        (TokenKind::Access, Some(_)) => "DPoP",
        (TokenKind::Refresh, _) => "refresh_token",
    };
    // RFC 9449 §6.2: the key a resource server must see the proof of.
    if let Some(jkt) = &token.dpop_jkt {
        out.insert("cnf".into(), json!({ "jkt": jkt }));
    }
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
