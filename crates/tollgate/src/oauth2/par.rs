//! RFC 9126 pushed authorization requests at `/o/par/`: an authenticated
//! client posts its authorization request and gets a `request_uri` to send the
//! browser with. The request is validated here, so its errors come back in
//! JSON to the client rather than by a redirect. A request object (RFC 9101)
//! may carry the request; it is checked here, and its parameters are kept.

use axum::extract::State;
use serde::Serialize;
use tollgate_core::authorize::AuthorizeError;
use tollgate_core::model::NewPushedRequest;
use tollgate_core::{NewSecret, OAuthError, Params, SecretKind, par};

use crate::http::json;
use crate::http::json::JsonResult;
use crate::oauth2::authorize;
use crate::oauth2::client_auth::ClientRequest;
use crate::oauth2::dpop;
use crate::oauth2::request_object;
use crate::oauth2::token;
use crate::oidc::id_token;
use crate::provider::Shared;

/// RFC 9126 §2.2.
#[derive(Serialize)]
struct Pushed {
    request_uri: String,
    expires_in: u64,
}

pub(crate) async fn push(
    State(inner): State<Shared>,
    ClientRequest {
        client,
        params,
        headers,
        ..
    }: ClientRequest,
) -> JsonResult {
    // RFC 9126 §3: with a request object, its parameters are the request.
    let params = match params.get("request") {
        Some(object) => Params::from_pairs(request_object::read(&inner, &client, object).await?)?,
        None => params,
    };
    let mut kept = par::to_keep(&params, &client.client_id)?;
    // RFC 9449 §10.1: a proof at the push binds the code to its key, as dpop_jkt would.
    let par_endpoint = inner.endpoints.url("/par/");
    let proof = dpop::Request {
        method: "POST",
        url: &par_endpoint,
        access_token: None,
    };
    if let Some(jkt) = dpop::proof(&inner, &headers, &proof).await? {
        match params.get("dpop_jkt") {
            Some(named) if named != jkt => {
                return Err(tollgate_core::dpop::invalid(
                    "dpop_jkt is not the thumbprint of the DPoP proof's key",
                )
                .into());
            }
            Some(_) => {}
            None => {
                kept.push(("dpop_jkt".to_owned(), jkt));
                kept.sort();
            }
        }
    }
    let request_params = Params::from_pairs(kept.iter().cloned())?;
    let request =
        authorize::validate(&inner, &request_params, &[], Some(&client)).map_err(|e| match e {
            AuthorizeError::Fatal(message) => OAuthError::invalid_request(message),
            AuthorizeError::Redirect { error, .. } => error,
        })?;
    if request.is_openid() && !id_token::can_sign_for(&inner, &client) {
        return Err(authorize::unsignable().into());
    }
    let secret = NewSecret::generate(SecretKind::PushedRequest, inner.entropy.as_ref());
    let lifetime = inner.settings.pushed_authorization_request_expire_seconds;
    let now = inner.clock.now();
    let new = NewPushedRequest {
        request_uri_hash: secret.hash,
        application_id: client.id,
        parameters: kept,
        expires_at: now.saturating_add(token::issue::seconds(lifetime)),
    };
    inner.store.push_request(&new, now).await?;
    Ok(json::created(&Pushed {
        request_uri: par::request_uri(&secret.plaintext),
        expires_in: lifetime,
    }))
}
