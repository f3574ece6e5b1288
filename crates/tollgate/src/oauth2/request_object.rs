//! Request objects (RFC 9101) sent by value, to the authorization endpoint or
//! inside a pushed request: the signature checked with the client's registered
//! keys, the object's own claims with [`request_object::check`], and its `jti`
//! used once across every node sharing the database.

use tollgate_core::OAuthError;
use tollgate_core::model::Application;
use tollgate_core::request_object::{self, Expected};
use tollgate_store::StoreError;

use crate::http::json::JsonError;
use crate::keys::client_keys;
use crate::oauth2::client_jwks;
use crate::provider::Inner;

/// Why a request object was not read.
#[derive(Debug)]
pub(crate) enum ObjectError {
    /// The client's fault: `invalid_request_object`.
    Invalid(OAuthError),
    /// The store's: its jti could not be recorded.
    Store(StoreError),
}

impl From<OAuthError> for ObjectError {
    fn from(e: OAuthError) -> Self {
        ObjectError::Invalid(e)
    }
}

impl From<StoreError> for ObjectError {
    fn from(e: StoreError) -> Self {
        ObjectError::Store(e)
    }
}

impl From<ObjectError> for JsonError {
    fn from(e: ObjectError) -> Self {
        match e {
            ObjectError::Invalid(e) => e.into(),
            ObjectError::Store(e) => e.into(),
        }
    }
}

/// The authorization parameters the request object `jwt` of `client` stands for.
pub(crate) async fn read(
    inner: &Inner,
    client: &Application,
    jwt: &str,
) -> Result<Vec<(String, String)>, ObjectError> {
    let (claims, signed) = verified_claims(inner, client, jwt).await?;
    let now = inner.clock.now();
    let expected = Expected {
        client_id: &client.client_id,
        issuer: &inner.settings.issuer,
        now,
        signed,
        fapi2: inner.settings.fapi2_security_profile,
    };
    request_object::check(&claims, &expected)?;
    if let Some((digest, until)) = request_object::replay_key(&claims, &client.client_id, now)?
        && !inner.store.use_jwt_id(&digest, until, now).await?
    {
        return Err(
            request_object::invalid("this request object (its jti) was used before").into(),
        );
    }
    Ok(request_object::parameters(&claims, &client.client_id))
}

/// The object's claims, if its algorithm is accepted and its signature holds,
/// and whether it was signed (an unsecured one only where the setting allows).
async fn verified_claims(
    inner: &Inner,
    client: &Application,
    jwt: &str,
) -> Result<(serde_json::Map<String, serde_json::Value>, bool), OAuthError> {
    let unreadable = |e: client_keys::ClientJwtError| {
        request_object::invalid(format!("the request object was not accepted: {e}"))
    };
    let (alg, typ) = client_keys::header_alg_typ(jwt).map_err(unreadable)?;
    request_object::typ_accepted(typ.as_deref())?;
    let settings = &inner.settings;
    let algorithms = request_object::signing_algorithms(settings.fapi2_security_profile);
    request_object::algorithm_accepted(
        &alg,
        algorithms,
        settings.unsigned_request_objects_allowed(),
    )?;
    if alg == "none" {
        let claims = client_keys::unsecured_claims(jwt).map_err(unreadable)?;
        return Ok((claims, false));
    }
    let claims = client_jwks::verify(inner, client, jwt, algorithms)
        .await
        .map_err(unreadable)?;
    Ok((claims, true))
}
