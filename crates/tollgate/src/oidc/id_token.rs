//! Minting ID tokens (from the token and authorization endpoints) and reading
//! back the ones presented as `id_token_hint`.

use serde_json::Value;
use tollgate_core::claims::{self, ClaimsRequest, Target};
use tollgate_core::id_token::IdTokenClaims;
use tollgate_core::logout::Hint;
use tollgate_core::model::{Application, User};
use tollgate_core::scope::Scopes;
use tollgate_core::secret::random_id;
use tollgate_core::{SigningAlgorithm, env::UnixTime};

use crate::oidc::claims::ClaimsContext;

use crate::oidc::claims::of_user;

use crate::keys::sealing::opened_client_secret;
use crate::keys::signing;
use crate::keys::signing::SigningError;
use crate::keys::signing::Verifier;
use crate::oidc::claims::subject;
use crate::provider::Inner;

/// One ID token to make.
pub(crate) struct Mint<'a> {
    pub client: &'a Application,
    pub user: &'a User,
    pub scope: &'a Scopes,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The session's `sid`, when the grant came through one that has it.
    pub sid: Option<&'a str>,
    pub request: Option<&'a ClaimsRequest>,
    /// Scope claims go in the ID token only when no access token can fetch them
    /// from UserInfo (OIDC Core §5.4).
    pub claims_by_scope: bool,
}

pub(crate) async fn mint(inner: &Inner, mint: Mint<'_>) -> Result<String, SigningError> {
    let now = inner.clock.now();
    let selected = claims::select(
        &of_user(mint.user),
        mint.scope,
        mint.claims_by_scope,
        mint.request,
        Target::IdToken,
    );
    let context = ClaimsContext {
        user: mint.user,
        client: mint.client,
        scope: mint.scope,
    };
    let user_claims = inner.claims.id_token_claims(context, selected).await;
    let subject = subject(mint.user);
    let jti = random_id(16, inner.entropy.as_ref());
    let lifetime = i64::try_from(inner.settings.id_token_expire_seconds).unwrap_or(i64::MAX);
    let claims = IdTokenClaims {
        issuer: &inner.settings.issuer,
        subject: &subject,
        client_id: &mint.client.client_id,
        algorithm: mint.client.algorithm,
        issued_at: now,
        expires_at: now.saturating_add(lifetime),
        auth_time: mint.auth_time,
        jti: &jti,
        nonce: mint.nonce,
        access_token: mint.access_token,
        code: mint.code,
        sid: mint.sid,
        acr_requested: mint.request.is_some_and(|r| r.id_token.contains_key("acr")),
        user_claims,
    }
    .to_json();
    sign_for(inner, mint.client, &claims, "JWT").await
}

/// Signs claims for a client, typed `typ`: with its algorithm's current key,
/// or its secret for HS256.
pub(crate) async fn sign_for(
    inner: &Inner,
    client: &Application,
    claims: &serde_json::Map<String, Value>,
    typ: &str,
) -> Result<String, SigningError> {
    let now = inner.clock.now();
    let ring = inner.keys.ring(&inner.store, now).await?;
    let secret = client_secret(inner, client)?;
    signing::sign(&ring, client.algorithm, secret.as_deref(), claims, now, typ)
}

/// Whether ID tokens for this client can be signed: an HS256 client needs its
/// secret sealed under the configured `secret_key` (one registered before the
/// key was set, or under another key, cannot be served).
pub(crate) fn can_sign_for(inner: &Inner, client: &Application) -> bool {
    client_secret(inner, client).is_ok()
}

/// An HS256 client's secret, opened from its sealed copy.
fn client_secret(inner: &Inner, client: &Application) -> Result<Option<String>, SigningError> {
    if client.algorithm != SigningAlgorithm::HS256 {
        return Ok(None);
    }
    opened_client_secret(inner.sealer.as_ref(), client)
        .ok_or(SigningError::NoKey(SigningAlgorithm::HS256))?
        .map(Some)
        .map_err(|e| SigningError::Load(e.to_string()))
}

/// What an `id_token_hint` proves: an ID token this server signed, for which
/// client and user. `accept_expired` keeps an old hint good for logout.
pub(crate) async fn read_hint(inner: &Inner, token: &str, accept_expired: bool) -> Hint {
    match verify_hint(inner, token, accept_expired).await {
        Ok(Some(hint)) => hint,
        Ok(None) => Hint::Invalid,
        Err(e) => {
            tracing::warn!(error = %e, "id_token_hint could not be checked");
            Hint::Invalid
        }
    }
}

async fn verify_hint(
    inner: &Inner,
    token: &str,
    accept_expired: bool,
) -> Result<Option<Hint>, Box<dyn std::error::Error + Send + Sync>> {
    let now = inner.clock.now();
    let issuer = &inner.settings.issuer;
    let Some(algorithm) = signing::header_algorithm(token) else {
        return Ok(None);
    };
    let claims = if algorithm == SigningAlgorithm::HS256 {
        // The audience names the client whose secret signed it; it is checked by the signature.
        let Some(client_id) = unverified_audience(token) else {
            return Ok(None);
        };
        let Some(client) = inner.client(&client_id).await? else {
            return Ok(None);
        };
        let Some(secret) = client_secret(inner, &client)? else {
            return Ok(None);
        };
        signing::verify(token, Verifier::Secret(&secret), issuer)
    } else {
        let ring = inner.keys.ring(&inner.store, now).await?;
        signing::verify(token, Verifier::Ring(&ring), issuer)
    };
    let Some(claims) = claims else {
        return Ok(None);
    };
    let expired = claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_none_or(|exp| exp <= now);
    let (Some(client_id), Some(subject)) =
        (audience(&claims), claims.get("sub").and_then(Value::as_str))
    else {
        return Ok(None);
    };
    // Only ID tokens carry auth_time (a signed UserInfo answer does not), and a
    // JWT access token says `at+jwt` (RFC 9068 §4): neither is a hint.
    let is_id_token = claims.get("auth_time").is_some_and(Value::is_i64)
        && jsonwebtoken::decode_header(token).is_ok_and(|h| h.typ.as_deref() == Some("JWT"));
    if !is_id_token || (expired && !accept_expired) {
        return Ok(None);
    }
    Ok(Some(Hint::Valid {
        client_id,
        subject: subject.to_owned(),
    }))
}

/// The one client an ID token is for: `aud` as a string, or `azp` with it.
fn audience(claims: &serde_json::Map<String, Value>) -> Option<String> {
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(many) => {
            let azp = claims.get("azp")?.as_str()?;
            many.iter()
                .any(|a| a.as_str() == Some(azp))
                .then(|| azp.to_owned())
        }
        _ => None,
    }
}

fn unverified_audience(token: &str) -> Option<String> {
    let claims: serde_json::Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    audience(&claims)
}
