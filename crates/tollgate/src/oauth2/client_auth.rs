//! Authenticating the client at the token, revocation, introspection and
//! device authorization endpoints, and [`ClientRequest`], the preamble those
//! endpoints share.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use tollgate_core::client_assertion;
use tollgate_core::client_auth::{AuthMethod, TokenEndpointAuthMethod, credentials};
use tollgate_core::model::Application;
use tollgate_core::token::GrantRequest;
use tollgate_core::{OAuthError, Params};

use crate::credentials::is_slow_hash;
use crate::credentials::upgraded_client_secret_hash;
use crate::credentials::verify_client_secret;
use crate::http::cors::Caller;
use crate::http::form::OAuthForm;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::keys::client_keys::{self, ClientJwtError};
use crate::keys::sealing::opened_client_secret;
use crate::oauth2::client_jwks;
use crate::provider::Inner;
use crate::provider::Shared;
use crate::telemetry::{self, ClientAuthFailure as Failure};

/// Whether a public client may name itself with its `client_id` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Public {
    Allowed,
    Refused,
}

/// A form POST of an authenticated client — public clients by their
/// `client_id` alone — with `T`, what the endpoint reads of the form before
/// the client is authenticated (a malformed grant is told as such first).
pub(crate) struct ClientRequest<T = ()> {
    pub(crate) client: Arc<Application>,
    pub(crate) params: Params,
    pub(crate) request: T,
    pub(crate) address: Option<IpAddr>,
    /// The request's headers, for what is not client authentication (a DPoP proof).
    pub(crate) headers: HeaderMap,
}

/// What an endpoint reads of its form before authenticating the client.
pub(crate) trait ReadFirst: Sized + Send {
    fn read(params: &Params) -> Result<Self, OAuthError>;
}

impl ReadFirst for () {
    fn read(_: &Params) -> Result<Self, OAuthError> {
        Ok(())
    }
}

impl ReadFirst for GrantRequest {
    fn read(params: &Params) -> Result<Self, OAuthError> {
        GrantRequest::parse(params)
    }
}

impl<T: ReadFirst> FromRequest<Shared> for ClientRequest<T> {
    type Rejection = Response;

    async fn from_request(request: Request, inner: &Shared) -> Result<Self, Response> {
        let caller = request.extensions().get::<Caller>().cloned();
        let OAuthForm {
            headers,
            params,
            address,
        } = OAuthForm::from_request(request, inner).await?;
        let read = async {
            let request = T::read(&params)?;
            let client = authenticate(inner, &headers, address, &params, Public::Allowed).await?;
            JsonResult::Ok((request, client))
        };
        let (request, client) = read.await.map_err(IntoResponse::into_response)?;
        if let Some(caller) = caller {
            caller.authenticated(&client);
        }
        Ok(ClientRequest {
            client,
            params,
            request,
            address,
            headers,
        })
    }
}

/// The authenticated client, or why not: 401 `invalid_client` with a Basic
/// challenge (RFC 6749 §5.2), one message whether the client is unknown, its
/// secret wrong or its method not the one it registered; 429 once a client's
/// credentials have been guessed at too often from the address (RFC 6749 §10.10).
pub(crate) async fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    address: Option<IpAddr>,
    params: &Params,
    public: Public,
) -> JsonResult<Arc<Application>> {
    let refuse = |reason, description: &str| {
        telemetry::client_authentication_failed(reason);
        Err(JsonError::basic(OAuthError::invalid_client(description)))
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let creds = match credentials(authorization, params) {
        Ok(Some(c)) => c,
        Ok(None) => return refuse(Failure::Missing, "client authentication is required"),
        Err(e) => {
            telemetry::client_authentication_failed(Failure::Malformed);
            return Err(if e.basic {
                JsonError::basic(e.error)
            } else {
                e.error.into()
            });
        }
    };
    let locks = &inner.client_locks;
    if let Some(wait) = locks.wait(&creds.client_id, address, inner.clock.now()) {
        let e = OAuthError::invalid_client(format!(
            "too many failed client authentications; try again in {wait} seconds"
        ));
        telemetry::client_authentication_failed(Failure::Throttled);
        return Err(JsonError::Throttled(e, wait));
    }
    let client = inner.client(&creds.client_id).await?;
    let verdict = match client {
        // An unknown client is refused as a wrong secret is, and counted alike.
        None => Err(Refusal::Guess),
        Some(client) => {
            let method = client
                .security
                .token_endpoint_auth_method
                .unwrap_or(TokenEndpointAuthMethod::default_for(client.client_type));
            let outside_fapi2 = inner.settings.fapi2_security_profile
                && method != TokenEndpointAuthMethod::PrivateKeyJwt;
            match (creds.method, creds.secret, creds.assertion) {
                // FAPI 2.0 §5.3.2.1. Answered and counted as a wrong secret, so the
                // answer tells no one which clients exist; check --deploy (F001) tells the operator.
                _ if outside_fapi2 => {
                    tracing::debug!(client_id = %client.client_id, "not private_key_jwt under the FAPI 2.0 profile");
                    Err(Refusal::Guess)
                }
                (AuthMethod::None, ..) => {
                    return match method {
                        TokenEndpointAuthMethod::None if public == Public::Allowed => Ok(client),
                        _ => refuse(Failure::Invalid, FAILED),
                    };
                }
                // The same answer as a wrong secret: a guesser learns nothing of the client.
                (presented, ..) if !method.allows(presented) => Err(Refusal::Guess),
                (_, _, Some(jwt)) => assertion_verdict(inner, &client, method, &jwt).await?,
                (_, Some(secret), _) => match client.client_secret_hash.clone() {
                    Some(stored) => match secret_matches(inner, &client, secret, stored).await {
                        true => Ok(()),
                        false => Err(Refusal::Guess),
                    },
                    None => Err(Refusal::Guess),
                },
                (_, None, None) => Err(Refusal::Guess),
            }
            .map(|()| client)
        }
    };
    match verdict {
        Ok(client) => {
            locks.succeeded(inner, &creds.client_id, address).await?;
            Ok(client)
        }
        Err(Refusal::Guess) => {
            locks.failed(inner, &creds.client_id, address).await?;
            refuse(Failure::Invalid, FAILED)
        }
        Err(Refusal::Proven(description)) => refuse(Failure::Invalid, &description),
    }
}

/// What every failed client authentication says, unless the client proved
/// who it is (a client assertion that verified) and only a claim was wrong.
const FAILED: &str = "client authentication failed";

/// Why a client was not authenticated.
enum Refusal {
    /// Credentials that did not hold, or no such client: what a guesser sends,
    /// so it counts towards the throttle and says nothing more.
    Guess,
    /// An assertion signed by the client's own key whose claims are wrong (or
    /// replayed): no guess, so not counted, and the client is told what.
    Proven(String),
}

/// Whether the client assertion `jwt` authenticates `client`, registered with
/// `method`: signed with its key (or, for `client_secret_jwt`, its secret),
/// its claims right (RFC 7523 §3), and its `jti` not used before on any node.
async fn assertion_verdict(
    inner: &Inner,
    client: &Application,
    method: TokenEndpointAuthMethod,
    jwt: &str,
) -> JsonResult<Result<(), Refusal>> {
    let fapi2 = inner.settings.fapi2_security_profile;
    let algorithms = client_assertion::algorithms(method, fapi2);
    let verified = match method {
        TokenEndpointAuthMethod::ClientSecretJwt => {
            match opened_client_secret(inner.sealer.as_ref(), client) {
                Some(Ok(secret)) => client_keys::verify_with_secret(jwt, &secret),
                _ => Err(ClientJwtError::NoKeys),
            }
        }
        _ => client_jwks::verify(inner, client, jwt, algorithms).await,
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(e) => {
            tracing::debug!(client_id = %client.client_id, error = %e, "client assertion refused");
            return Ok(Err(Refusal::Guess));
        }
    };
    // Signed by the client, so a wrong type is its mistake, told, not a guess.
    let typ = client_keys::header_alg_typ(jwt)
        .ok()
        .and_then(|(_, typ)| typ);
    if let Err(e) = client_assertion::typ_accepted(typ.as_deref()) {
        return Ok(Err(Refusal::Proven(e.description)));
    }
    let now = inner.clock.now();
    let endpoints = [inner.endpoints.url("/token/"), inner.endpoints.url("/par/")];
    let expected = client_assertion::Expected {
        client_id: &client.client_id,
        issuer: &inner.settings.issuer,
        endpoints: &endpoints.each_ref().map(String::as_str),
        issuer_only: fapi2,
        now,
    };
    let (digest, until) = match client_assertion::check(&claims, &expected) {
        Ok(found) => found,
        Err(e) => return Ok(Err(Refusal::Proven(e.description))),
    };
    if !inner.store.use_jwt_id(&digest, until, now).await? {
        return Ok(Err(Refusal::Proven(
            "the client assertion was used before".into(),
        )));
    }
    Ok(Ok(()))
}

/// Tollgate's own generated secrets are checked at once. A slow hash (a chosen
/// secret, or one DOT hashed) is checked off the executor, a few at a time, on
/// permits of their own (sign-ins have theirs); one DOT hashed is then replaced
/// by Tollgate's, so its 0.2 s PBKDF2 is paid once per client, not per request.
async fn secret_matches(
    inner: &Inner,
    client: &Application,
    secret: String,
    stored: String,
) -> bool {
    if !is_slow_hash(&stored) {
        return verify_client_secret(&secret, &stored);
    }
    let Ok(_permit) = inner.client_secret_checks.acquire().await else {
        return false;
    };
    let (ok, upgrade) = tokio::task::spawn_blocking(move || {
        if !verify_client_secret(&secret, &stored) {
            return (false, None);
        }
        let upgrade = upgraded_client_secret_hash(&secret, &stored).map(|new| (stored, new));
        (true, upgrade)
    })
    .await
    .unwrap_or((false, None));
    if let Some((old, new)) = upgrade {
        let now = inner.clock.now();
        match inner
            .store
            .upgrade_client_secret_hash(client.id, &old, &new, now)
            .await
        {
            Ok(()) => inner.clients.forget(&client.client_id),
            Err(e) => tracing::warn!(error = %e, "could not replace a client secret hash from DOT"),
        }
    }
    ok
}
