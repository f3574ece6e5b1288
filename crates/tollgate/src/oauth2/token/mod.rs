//! The token endpoint `/o/token/` (RFC 6749 §3.2, §4–6): one module per grant.

mod authorization_code;
mod client_credentials;
mod device_code;
pub(crate) mod issue;
mod password;
mod refresh_token;

use axum::extract::State;
use tollgate_core::resource_indicator::Resources;
use tollgate_core::token::{GrantRequest, client_may_use};
use tollgate_core::{ErrorCode, OAuthError};

use crate::http::json;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::oauth2::client_auth::ClientRequest;
use crate::oauth2::dpop;
use crate::provider::Shared;

pub(crate) async fn token(
    State(inner): State<Shared>,
    request: ClientRequest<GrantRequest>,
) -> JsonResult {
    let ClientRequest {
        client,
        params,
        request: grant,
        address,
        headers,
    } = request;
    let token_endpoint = inner.endpoints.url("/token/");
    let proof = dpop::Request {
        method: "POST",
        url: &token_endpoint,
        access_token: None,
    };
    let dpop_jkt = dpop::proof(&inner, &headers, &proof).await?;
    // FAPI 2.0 §5.3.2.1: every access token is sender-constrained.
    let must_bind =
        client.security.dpop_bound_access_tokens || inner.settings.fapi2_security_profile;
    if dpop_jkt.is_none() && must_bind {
        return Err(tollgate_core::dpop::invalid(
            "this client's token requests must carry a DPoP proof (RFC 9449)",
        )
        .into());
    }
    let asked = |resource| Asked {
        resource,
        dpop_jkt: dpop_jkt.as_deref(),
    };
    let requested = Resources::requested(params.resources(), &inner.settings.allowed_resources);
    let requested = client_may_use(&client, &grant).and(requested)?;
    let tokens = match grant {
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code::grant(
                &inner,
                &client,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_deref(),
                asked(requested),
            )
            .await
        }
        GrantRequest::ClientCredentials { scope } => {
            client_credentials::grant(&inner, &client, scope.as_deref(), asked(requested)).await
        }
        GrantRequest::Password {
            username,
            password,
            scope,
        } => {
            password::grant(
                &inner,
                &client,
                address,
                username,
                password,
                scope.as_deref(),
                asked(requested),
            )
            .await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            refresh_token::grant(
                &inner,
                &client,
                &refresh_token,
                scope.as_deref(),
                asked(requested),
            )
            .await
        }
        GrantRequest::DeviceCode { device_code } => {
            device_code::grant(&inner, &client, &device_code, asked(requested)).await
        }
    }?;
    Ok(json::ok(&tokens))
}

/// What a token request asks of whichever grant it is, beside the grant's own parameters.
pub(crate) struct Asked<'a> {
    /// RFC 8707: the resources the access token is for, as requested.
    pub(crate) resource: Resources,
    /// RFC 9449: the key of the request's DPoP proof, to bind the tokens to.
    pub(crate) dpop_jkt: Option<&'a str>,
}

/// Another request spent what the grant spends first ([`issue::Grant::spends`]).
fn spent() -> JsonError {
    invalid_grant("the grant was used by another request")
}

fn invalid_grant(description: &str) -> JsonError {
    OAuthError::new(ErrorCode::InvalidGrant, description).into()
}
