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
    } = request;
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
                requested,
            )
            .await
        }
        GrantRequest::ClientCredentials { scope } => {
            client_credentials::grant(&inner, &client, scope.as_deref(), requested).await
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
                requested,
            )
            .await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            refresh_token::grant(&inner, &client, &refresh_token, scope.as_deref(), requested).await
        }
        GrantRequest::DeviceCode { device_code } => {
            device_code::grant(&inner, &client, &device_code, requested).await
        }
    }?;
    Ok(json::ok(&tokens))
}

/// Another request spent what the grant spends first ([`issue::Grant::spends`]).
fn spent() -> JsonError {
    invalid_grant("the grant was used by another request")
}

fn invalid_grant(description: &str) -> JsonError {
    OAuthError::new(ErrorCode::InvalidGrant, description).into()
}
