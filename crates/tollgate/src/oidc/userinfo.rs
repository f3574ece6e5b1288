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
use crate::http::json::JsonResult;
use crate::http::json::{Challenge, JsonError};
use crate::oauth2::bearer;
use crate::oauth2::dpop;
use crate::oidc::claims::subject;
use crate::oidc::id_token::sign_for;
use crate::provider::Inner;
use crate::provider::Shared;

pub(crate) async fn get(State(inner): State<Shared>, headers: HeaderMap) -> JsonResult {
    if let Some(token) = bearer::dpop_from_header(&headers) {
        return answer(&inner, token, Some((&headers, "GET"))).await;
    }
    let token = bearer::presented(&headers, None).map_err(JsonError::bearer)?;
    answer(&inner, token, None).await
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
    if let Some(token) = bearer::dpop_from_header(&headers) {
        return answer(&inner, token, Some((&headers, "POST"))).await;
    }
    let token = bearer::presented(&headers, params.as_ref()).map_err(JsonError::bearer)?;
    answer(&inner, token, None).await
}

fn invalid(why: &str) -> JsonResult {
    Err(JsonError::bearer(OAuthError::new(
        ErrorCode::InvalidToken,
        why,
    )))
}

/// RFC 9449 §7: a bound token is accepted only as `Authorization: DPoP` with
/// a proof of its key for this request; a bearer token only as a bearer token.
async fn proof_of_possession(
    inner: &Inner,
    token: &str,
    bound_to: Option<&str>,
    dpop: Option<(&HeaderMap, &str)>,
    url: &str,
) -> JsonResult<()> {
    let refuse = |code, why: &str| Err(JsonError::dpop(OAuthError::new(code, why)));
    match (bound_to, dpop) {
        (None, None) => Ok(()),
        (Some(_), None) => refuse(
            ErrorCode::InvalidToken,
            "the access token is DPoP-bound: send it as Authorization: DPoP, with a proof",
        ),
        (None, Some(_)) => refuse(
            ErrorCode::InvalidToken,
            "the access token is not DPoP-bound",
        ),
        (Some(jkt), Some((headers, method))) => {
            let request = dpop::Request {
                method,
                url,
                access_token: Some(token),
            };
            let proven = dpop::proof(inner, headers, &request)
                .await
                .map_err(|e| match e {
                    JsonError::OAuth(e, _) => JsonError::dpop(e),
                    JsonError::Nonce(e, _, nonce) => JsonError::Nonce(e, Challenge::Dpop, nonce),
                    other => other,
                })?;
            match proven {
                Some(key) if key == jkt => Ok(()),
                Some(_) => refuse(
                    ErrorCode::InvalidDpopProof,
                    "the DPoP proof is not signed by the key the token is bound to",
                ),
                None => refuse(ErrorCode::InvalidDpopProof, "a DPoP proof is required"),
            }
        }
    }
}

fn insufficient(why: &str) -> JsonResult {
    Err(JsonError::bearer(OAuthError::new(
        ErrorCode::InsufficientScope,
        why,
    )))
}

/// `dpop`: the request's headers and method when the token came as
/// `Authorization: DPoP`; `None` for a bearer token.
async fn answer(
    inner: &Inner,
    token: impl Into<Option<&str>>,
    dpop: Option<(&HeaderMap, &str)>,
) -> JsonResult {
    let Some(token) = token.into() else {
        return invalid("no access token was sent");
    };
    let Some(bearer) = bearer::live_bearer(inner, token).await? else {
        return invalid("the access token is unknown or expired");
    };
    let userinfo = inner.endpoints.url("/userinfo/");
    proof_of_possession(
        inner,
        token,
        bearer.token.dpop_jkt.as_deref(),
        dpop,
        &userinfo,
    )
    .await?;
    // RFC 8707: a token for other resources is not for this server's UserInfo.

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
    let jwt = sign_for(inner, &client, &body, "JWT").await?;
    Ok(json::no_store(
        ([(CONTENT_TYPE, "application/jwt")], jwt).into_response(),
    ))
}
