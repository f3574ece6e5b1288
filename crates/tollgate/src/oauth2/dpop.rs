//! DPoP proofs (RFC 9449) as requests carry them in the `DPoP` header: the
//! signature checked with the key the proof names, the rules of
//! [`tollgate_core::dpop`], and its `jti` used once across every node sharing
//! the database.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tollgate_core::OAuthError;
use tollgate_core::dpop::{self, Expected, Proven};

use crate::http::json::{Challenge, JsonError, JsonResult};
use crate::keys::client_keys;
use crate::provider::{Inner, Shared};
use sha2::{Digest, Sha256};

/// RFC 9449 §4.1: the request header that carries the proof.
pub(crate) const HEADER: &str = "dpop";

/// The request a proof must be for, as this server is reached.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    /// At a protected resource, the access token it comes with.
    pub(crate) access_token: Option<&'a str>,
}

/// The thumbprint of the key the request's DPoP proof was signed with, once
/// the proof holds for `request` and was not used before; `Ok(None)` when the
/// request carries none. Two `DPoP` headers are `invalid_dpop_proof`.
pub(crate) async fn proof(
    inner: &Inner,
    headers: &HeaderMap,
    request: &Request<'_>,
) -> JsonResult<Option<String>> {
    let now = inner.clock.now();
    let Some(proven) = read(headers, request, now)? else {
        return Ok(None);
    };
    if let Some(nonces) = &inner.dpop_nonces
        && !nonces.accepts(proven.nonce.as_deref(), now)
    {
        return Err(JsonError::Nonce(
            dpop::use_nonce(),
            Challenge::None,
            nonces.current(now),
        ));
    }
    if !inner
        .store
        .use_jwt_id(&proven.replay, proven.replay_until, now)
        .await?
    {
        return Err(used_before().into());
    }
    Ok(Some(proven.jkt))
}

/// Middleware of the endpoints that take proofs with client authentication
/// (token, PAR): a proof without a good server nonce is answered
/// `use_dpop_nonce` before the client is authenticated, so the retry RFC 9449
/// §8 expects may send the same client assertion again (its `jti` is spent
/// only by a request that goes on). The claims are read unverified: this can
/// only refuse early; the proof is checked in full by [`proof`] all the same.
pub(crate) async fn nonce_first(
    State(inner): State<Shared>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    if let Some(nonces) = &inner.dpop_nonces
        && let Some(proof) = request.headers().get(HEADER)
    {
        let now = inner.clock.now();
        let nonce = proof
            .to_str()
            .ok()
            .and_then(|jwt| {
                jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(jwt).ok()
            })
            .and_then(|claims| claims.get("nonce")?.as_str().map(str::to_owned));
        if !nonces.accepts(nonce.as_deref(), now) {
            let refused = JsonError::Nonce(dpop::use_nonce(), Challenge::None, nonces.current(now));
            return refused.into_response();
        }
    }
    next.run(request).await
}

/// Server nonces (RFC 9449 §8), when `dpop_nonce_required`: an HMAC of the
/// time window under a key derived from `secret_key`, so every node sharing the
/// configuration makes and accepts the same ones, with nothing stored.
pub(crate) struct Nonces {
    key: aws_lc_rs::hmac::Key,
}

impl Nonces {
    pub(crate) fn new(secret_key: &str) -> Self {
        let derived = Sha256::digest(format!("tollgate dpop nonce\n{secret_key}").as_bytes());
        Nonces {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &derived),
        }
    }

    fn of_window(&self, window: i64) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.key, &window.to_be_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// The nonce to hand out now.
    pub(crate) fn current(&self, now: i64) -> String {
        self.of_window(dpop::nonce_window(now))
    }

    /// Whether `nonce` is this window's or the last one's.
    pub(crate) fn accepts(&self, nonce: Option<&str>, now: i64) -> bool {
        let Some(nonce) = nonce else {
            return false;
        };
        let window = dpop::nonce_window(now);
        [window, window - 1].into_iter().any(|w| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                self.of_window(w).as_bytes(),
                nonce.as_bytes(),
            ))
        })
    }
}

/// A proof seen before within its window.
pub(crate) fn used_before() -> OAuthError {
    dpop::invalid("this DPoP proof was used before")
}

/// The request's proof, checked for `request` at `now` but for its `jti`,
/// which the caller must record; `Ok(None)` when there is none.
pub(crate) fn read(
    headers: &HeaderMap,
    request: &Request<'_>,
    now: i64,
) -> Result<Option<Proven>, OAuthError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(dpop::invalid("send one DPoP header, not several"));
    }
    let jwt = value
        .to_str()
        .map_err(|_| dpop::invalid("the DPoP header is not a JWT"))?;
    let (header, claims) = verified(jwt)?;
    let expected = Expected {
        method: request.method,
        url: request.url,
        now,
        access_token: request.access_token,
    };
    dpop::check(&header, &claims, &expected).map(Some)
}

/// A JWS's protected header and claims.
type HeaderAndClaims = (Map<String, Value>, Map<String, Value>);

/// The proof's header and claims, if the key in its header verifies it.
fn verified(jwt: &str) -> Result<HeaderAndClaims, OAuthError> {
    let unreadable = || dpop::invalid("the DPoP proof is not a JWT signed by the key it names");
    let header: Map<String, Value> = jwt
        .split('.')
        .next()
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(unreadable)?;
    let mut jwk = header.get("jwk").cloned().ok_or_else(unreadable)?;
    // The key is the header's own, whatever `kid` the header gives it.
    if let (Some(kid), Some(key)) = (header.get("kid"), jwk.as_object_mut()) {
        key.insert("kid".into(), kid.clone());
    }
    let set = serde_json::json!({ "keys": [jwk] }).to_string();
    let claims =
        client_keys::verify(jwt, Some(&set), &dpop::ALGORITHMS).map_err(|_| unreadable())?;
    Ok((header, claims))
}
