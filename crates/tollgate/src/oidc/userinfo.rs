//! UserInfo `/o/userinfo/` (OIDC Core §5.3): the claims of the user behind an
//! access token, as its scopes and `claims` request allow. Errors per RFC 6750 §3.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use bytes::Bytes;
use tollgate_core::claims::{self, ClaimsRequest, PROTOCOL_CLAIMS, Target};
use tollgate_core::scope::Scopes;
use tollgate_core::{ErrorCode, OAuthError};

use crate::oidc::claims::ClaimsContext;

use crate::oidc::claims::of_user;

use crate::http::form;
use crate::http::json;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::oauth2::bearer;
use crate::oidc::claims::subject;
use crate::oidc::id_token::sign_for;
use crate::provider::Inner;
use crate::provider::Shared;

pub(crate) async fn get(State(inner): State<Shared>, headers: HeaderMap) -> JsonResult {
    let token = bearer::presented(&headers, None).map_err(JsonError::bearer)?;
    answer(&inner, token).await
}

pub(crate) async fn post(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> JsonResult {
    // A body is read only when it is a form; a bearer header alone needs none.
    let params = if form::is_form(&headers) {
        Some(form::params(&headers, &body).map_err(JsonError::bearer)?)
    } else {
        None
    };
    let token = bearer::presented(&headers, params.as_ref()).map_err(JsonError::bearer)?;
    answer(&inner, token).await
}

fn invalid(why: &str) -> JsonResult {
    Err(JsonError::bearer(OAuthError::new(
        ErrorCode::InvalidToken,
        why,
    )))
}

fn insufficient(why: &str) -> JsonResult {
    Err(JsonError::bearer(OAuthError::new(
        ErrorCode::InsufficientScope,
        why,
    )))
}

async fn answer(inner: &Inner, token: Option<&str>) -> JsonResult {
    let Some(token) = token else {
        return invalid("no access token was sent");
    };
    let Some(bearer) = bearer::live_bearer(inner, token).await? else {
        return invalid("the access token is unknown or expired");
    };
    // RFC 8707: a token for other resources is not for this server's UserInfo.
    let userinfo = inner.endpoints.url("/userinfo/");
    if !bearer.token.resource.admit(&userinfo) {
        return invalid("the access token is for another resource");
    }
    let scope = Scopes::parse(&bearer.token.scope).unwrap_or_default();
    if !scope.contains("openid") {
        return insufficient("the access token was not granted the openid scope");
    }
    let Some(user) = bearer.user else {
        return insufficient("the access token has no end-user behind it");
    };
    if !user.active {
        return invalid("the access token's user is deactivated");
    }
    let Some(client) = inner.client(&bearer.client_id).await? else {
        return invalid("the access token's client no longer exists");
    };
    let request = bearer
        .token
        .claims
        .as_deref()
        .and_then(|text| ClaimsRequest::parse(text).ok());
    let selected = claims::select(
        &of_user(&user),
        &scope,
        true,
        request.as_ref(),
        Target::UserInfo,
    );
    let context = ClaimsContext {
        user: &user,
        client: &client,
        scope: &scope,
    };
    let mut body = inner.claims.userinfo_claims(context, selected).await;
    body.retain(|name, _| !PROTOCOL_CLAIMS.contains(&name.as_str()));
    body.insert("sub".into(), subject(&user).into());
    if !client.userinfo_signed {
        return Ok(json::ok(&body));
    }
    // OIDC Core §5.3.2: a signed response names its issuer and audience.
    body.insert("iss".into(), inner.settings.issuer.clone().into());
    body.insert("aud".into(), client.client_id.clone().into());
    let jwt = sign_for(inner, &client, &body).await?;
    Ok(json::no_store(
        ([(CONTENT_TYPE, "application/jwt")], jwt).into_response(),
    ))
}
