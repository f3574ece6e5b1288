//! RFC 8628 device authorization: the endpoint a device asks for its codes
//! (`/o/device-authorization/`), and the pages where the user enters the user
//! code and decides (`pages.rs`). The device then polls the token endpoint
//! (`token/device_code.rs`).

use axum::extract::State;
use serde::Serialize;
use tollgate_core::device::{display_user_code, generate_user_code};
use tollgate_core::model::NewDeviceCode;
use tollgate_core::resource_indicator::Resources;
use tollgate_core::{GrantType, NewSecret, OAuthError, SecretHash, SecretKind};
use tollgate_store::StoreError;

use crate::http::json;
use crate::http::json::JsonResult;
use crate::oauth2::client_auth::ClientRequest;
use crate::oauth2::token;
use crate::provider::Shared;

/// RFC 8628 §3.2.
#[derive(Serialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// Draws of a user code before giving up: two collide only among live codes (20^8 of them).
const USER_CODE_DRAWS: usize = 3;

/// Public clients are allowed: a television keeps no secret (RFC 8628 §3.1).
pub(crate) async fn authorize(
    State(inner): State<Shared>,
    ClientRequest { client, params, .. }: ClientRequest,
) -> JsonResult {
    if !client.grant_types.contains(&GrantType::DeviceCode) {
        let e = OAuthError::unauthorized_client("this client may not use the device grant");
        return Err(e.into());
    }
    let scope = inner.new_grant_scope(&client, params.get("scope"))?;
    let resource = Resources::requested(params.resources(), &inner.settings.allowed_resources)?;
    let settings = &inner.settings;
    let now = inner.clock.now();
    let device = NewSecret::generate(SecretKind::DeviceCode, inner.entropy.as_ref());
    let mut stored = Err(StoreError::Conflict {
        what: "a user code",
    });
    let mut user_code = String::new();
    for _ in 0..USER_CODE_DRAWS {
        user_code = generate_user_code(inner.entropy.as_ref());
        let new = NewDeviceCode {
            device_code_hash: device.hash,
            user_code_hash: SecretHash::of(&user_code),
            application_id: client.id,
            scope: scope.to_string(),
            resource: resource.clone(),
            poll_interval: token::issue::seconds(settings.device_code_interval_seconds),
            expires_at: now
                .saturating_add(token::issue::seconds(settings.device_code_expire_seconds)),
        };
        stored = inner.store.insert_device_code(&new, now).await;
        if !matches!(stored, Err(StoreError::Conflict { .. })) {
            break;
        }
    }
    stored?;
    let shown = display_user_code(&user_code);
    let verification_uri = inner.endpoints.url("/device/");
    let response = DeviceAuthorization {
        device_code: device.plaintext,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: settings.device_code_expire_seconds,
        interval: settings.device_code_interval_seconds,
    };
    Ok(json::ok(&response))
}
