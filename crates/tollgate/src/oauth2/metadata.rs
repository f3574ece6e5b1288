//! RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0 (one
//! document: what this server really does, built once at start-up) and the JWKS.

use axum::extract::State;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use bytes::Bytes;
use serde_json::json;
use tollgate_core::SigningAlgorithm;
use tollgate_core::authorize::ResponseType;
use tollgate_core::claims::{PROTOCOL_CLAIMS, user_claim_names};
use tollgate_core::client_auth::TokenEndpointAuthMethod;
use tollgate_core::id_token::ACR_PASSWORD;
use tollgate_core::request_object;

use crate::keys::KEY_ALGORITHMS;

use crate::provider::Shared;
use crate::settings::Settings;
use tollgate_core::Endpoints;

/// One document written out whole (over 80 lines on purpose), so it reads as RFC 8414 §2 lists it.
pub(crate) fn document(settings: &Settings, endpoints: &Endpoints) -> Bytes {
    let endpoint = |path: &str| endpoints.url(path);
    let oidc = settings.oidc_enabled;
    let mut grant_types = vec!["authorization_code", "client_credentials", "refresh_token"];
    // Without front-channel access tokens, OIDC's `id_token` is what is left of implicit.
    if (settings.front_channel_access_tokens() || oidc) && !settings.fapi2_security_profile {
        grant_types.insert(1, "implicit");
    }
    if settings.password_grant_allowed() {
        grant_types.push("password");
    }
    grant_types.push(tollgate_core::DEVICE_CODE_URN);
    let mut pkce = vec!["S256"];
    if settings.pkce_plain_accepted() {
        pkce.push("plain");
    }
    let response_types: Vec<&str> = if oidc {
        ResponseType::SUPPORTED.to_vec()
    } else {
        vec!["code", "token"]
    }
    .into_iter()
    .filter(|rt| settings.front_channel_access_tokens() || !rt.split(' ').any(|p| p == "token"))
    // FAPI 2.0 §5.3.2.2: `code` only.
    .filter(|rt| !settings.fapi2_security_profile || *rt == "code")
    .collect();
    // client_secret_jwt checks with the secret, which is kept only when it can be sealed.
    let auth_methods: Vec<&str> = TokenEndpointAuthMethod::ALL
        .into_iter()
        .filter(|m| !m.reads_secret() || settings.secret_key.is_some())
        // FAPI 2.0 §5.3.2.1: private_key_jwt (mTLS is not served).
        .filter(|m| {
            !settings.fapi2_security_profile || *m == TokenEndpointAuthMethod::PrivateKeyJwt
        })
        .map(TokenEndpointAuthMethod::as_str)
        .collect();
    let confidential_methods: Vec<&str> = auth_methods
        .iter()
        .copied()
        .filter(|m| *m != "none")
        .collect();
    let fapi2 = settings.fapi2_security_profile;
    let mut assertion_algs = request_object::signing_algorithms(fapi2).to_vec();
    // client_secret_jwt, which FAPI 2.0 does not take.
    if settings.secret_key.is_some() && !fapi2 {
        assertion_algs.push("HS256");
    }
    let mut request_object_algs = request_object::signing_algorithms(fapi2).to_vec();
    if settings.unsigned_request_objects_allowed() {
        request_object_algs.push("none");
    }
    let mut doc = json!({
        "issuer": settings.issuer,
        "authorization_endpoint": endpoint("/authorize/"),
        "token_endpoint": endpoint("/token/"),
        "device_authorization_endpoint": endpoint("/device-authorization/"),
        "pushed_authorization_request_endpoint": endpoint("/par/"),
        "require_pushed_authorization_requests": settings.pushed_authorization_required(),
        "request_parameter_supported": true,
        // A request_uri is only ever one /o/par/ gave; none is fetched.
        "request_uri_parameter_supported": false,
        "request_object_signing_alg_values_supported": request_object_algs,
        "dpop_signing_alg_values_supported": tollgate_core::dpop::ALGORITHMS,
        "revocation_endpoint": endpoint("/revoke_token/"),
        "introspection_endpoint": endpoint("/introspect/"),
        "response_types_supported": response_types,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": confidential_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": pkce,
        "scopes_supported": settings.scope_names(),
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": settings.cimd_enabled,
    });
    if settings.dcr_enabled {
        let fields = doc.as_object_mut().expect("an object");
        fields.insert(
            "registration_endpoint".into(),
            endpoint("/register/").into(),
        );
    }
    if oidc {
        // HS256 signs with client secrets, which are kept only when they can be sealed.
        let mut algorithms: Vec<&str> = KEY_ALGORITHMS.iter().map(|a| a.as_str()).collect();
        if settings.secret_key.is_some() {
            algorithms.push(SigningAlgorithm::HS256.as_str());
        }
        let claims: Vec<&str> = PROTOCOL_CLAIMS
            .iter()
            .copied()
            .chain(user_claim_names())
            .collect();
        let extra = json!({
            "userinfo_endpoint": endpoint("/userinfo/"),
            "jwks_uri": endpoint("/.well-known/jwks.json"),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
            "userinfo_signing_alg_values_supported": algorithms,
            "claims_supported": claims,
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": true,
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "acr_values_supported": [ACR_PASSWORD],
            // Back-Channel Logout 1.0 §2.1: logout tokens, with `sid`, which ID tokens carry too.
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        });
        let fields = doc.as_object_mut().expect("an object");
        fields.extend(extra.as_object().expect("an object").clone());
        if settings.oidc_rp_initiated_logout_enabled {
            fields.insert("end_session_endpoint".into(), endpoint("/logout/").into());
        }
    }
    Bytes::from(serde_json::to_vec(&doc).expect("metadata serialises"))
}

pub(crate) async fn serve(State(inner): State<Shared>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        inner.metadata.clone(),
    )
}

/// The JWKS: public keys only, of every key not yet retired (scheduled ones included).
pub(crate) async fn jwks(State(inner): State<Shared>) -> crate::http::json::JsonResult {
    let ring = inner.keys.ring(&inner.store, inner.clock.now()).await?;
    let cache = format!(
        "public, max-age={}",
        inner.settings.oidc_jwks_max_age_seconds
    );
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_owned()),
            (CACHE_CONTROL, cache),
        ],
        ring.jwks.clone(),
    )
        .into_response())
}
