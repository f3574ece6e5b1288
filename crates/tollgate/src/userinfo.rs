//! UserInfo `/o/userinfo/` (OIDC Core §5.3): the claims of the user behind an
//! access token, as its scopes and `claims` request allow. Errors per RFC 6750 §3.

use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, CONTENT_TYPE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tollgate_core::claims::{self, ClaimsRequest, PROTOCOL_CLAIMS, Target};
use tollgate_core::scope::Scopes;
use tollgate_core::{ErrorCode, OAuthError};

use crate::claims::{ClaimsContext, of_user, subject};
use crate::id_token::sign_for;
use crate::oauth_json::{self, Challenge};
use crate::provider::{Inner, Shared};
use crate::{bearer, form};

pub(crate) async fn get(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    let token = bearer::presented(&headers, None);
    cors(answer(&inner, token).await)
}

pub(crate) async fn post(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    // A body is read only when it is a form; a bearer header alone needs none.
    let params = if form::is_form(&headers) {
        match form::params(&headers, &body) {
            Ok(p) => Some(p),
            Err(e) => return cors(refuse(&e)),
        }
    } else {
        None
    };
    let token = bearer::presented(&headers, params.as_ref());
    cors(answer(&inner, token).await)
}

/// CORS preflight: any origin may call UserInfo with a bearer token (no cookies are involved).
pub(crate) async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

async fn answer(inner: &Inner, token: Result<Option<&str>, OAuthError>) -> Response {
    let invalid = |why: &str| refuse(&OAuthError::new(ErrorCode::InvalidToken, why));
    let insufficient = |why: &str| refuse(&OAuthError::new(ErrorCode::InsufficientScope, why));
    let token = match token {
        Ok(Some(t)) => t,
        Ok(None) => return invalid("no access token was sent"),
        Err(e) => return refuse(&e),
    };
    let found = match bearer::live_bearer(inner, token).await {
        Ok(found) => found,
        Err(e) => return oauth_json::server_error("userinfo: token lookup failed", e),
    };
    let Some(bearer) = found else {
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
    let client = match inner.client(&bearer.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return invalid("the access token's client no longer exists"),
        Err(e) => return oauth_json::server_error("userinfo: client lookup failed", e),
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
        return oauth_json::ok(&body);
    }
    // OIDC Core §5.3.2: a signed response names its issuer and audience.
    body.insert("iss".into(), inner.settings.issuer.clone().into());
    body.insert("aud".into(), client.client_id.clone().into());
    match sign_for(inner, &client, &body).await {
        Ok(jwt) => oauth_json::no_store(([(CONTENT_TYPE, "application/jwt")], jwt).into_response()),
        Err(e) => oauth_json::server_error("userinfo: signing failed", e.to_string()),
    }
}

fn refuse(error: &OAuthError) -> Response {
    oauth_json::error(error, Challenge::Bearer)
}

fn cors(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    // A browser client may read why its token was refused.
    h.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("www-authenticate"),
    );
    response
}
