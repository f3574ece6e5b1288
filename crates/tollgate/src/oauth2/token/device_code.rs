//! The device code grant (RFC 8628 §3.4): each poll is told to wait, to slow
//! down, that the user refused or that the code expired, until the user has
//! approved; then the tokens, once.

use tollgate_core::device::{DEVICE_POLL_SLOWDOWN, Poll, poll};
use tollgate_core::model::Application;
use tollgate_core::scope::Scopes;
use tollgate_core::{DEVICE_CODE_URN, ErrorCode, OAuthError, SecretHash};

use super::Asked;
use super::issue::Grant;

use super::issue::Refresh;

use super::issue::TokenResponse;

use super::invalid_grant;
use super::issue::issue;
use super::spent;
use crate::http::json::Fault;
use crate::http::json::JsonResult;
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    device_code: &str,
    asked: Asked<'_>,
) -> JsonResult<TokenResponse> {
    let store = &inner.store;
    let now = inner.clock.now();
    let Some(found) = store
        .device_code_by_device_code(&SecretHash::of(device_code))
        .await?
        .filter(|d| d.application_id == client.id)
    else {
        // RFC over DOT: an unknown code is `invalid_grant`, not a 404.
        return Err(invalid_grant("unknown device_code"));
    };
    let answer = poll(
        found.status,
        found.expires_at,
        found.last_polled_at,
        found.poll_interval,
        now,
    );
    let wait = |code, description: &str| Err(OAuthError::new(code, description).into());
    match answer {
        Poll::Pending | Poll::SlowDown => {
            let slow_down = answer == Poll::SlowDown;
            store.record_device_poll(found.id, slow_down, now).await?;
            if slow_down {
                wait(
                    ErrorCode::SlowDown,
                    &format!(
                        "polled too often: wait {DEVICE_POLL_SLOWDOWN} more seconds between polls"
                    ),
                )
            } else {
                wait(
                    ErrorCode::AuthorizationPending,
                    "the user has not decided yet",
                )
            }
        }
        Poll::Denied => wait(ErrorCode::AccessDenied, "the user refused"),
        Poll::Expired => wait(ErrorCode::ExpiredToken, "the device code has expired"),
        Poll::Used => Err(invalid_grant("the device code was already used")),
        Poll::Approved => {
            let resource = found.resource.narrow(asked.resource)?;
            if !store.consume_device_code(found.id).await? {
                return Err(invalid_grant("the device code was already used"));
            }
            let user = match found.user_id {
                Some(id) => store.user_by_id(id).await?.filter(|u| u.active),
                None => None,
            };
            let Some(user) = user else {
                return Err(invalid_grant("the user who approved is no longer active"));
            };
            let scope = Scopes::parse(&found.scope)
                .map_err(|_| Fault::new("a stored device scope does not parse"))?;
            let grant = Grant {
                grant_type: DEVICE_CODE_URN,
                client,
                user: Some(&user),
                scope: &scope,
                resource,
                refresh: Some(Refresh {
                    family: None,
                    scope: scope.to_string(),
                    resource: found.resource.clone(),
                }),
                authorization_code_id: None,
                auth_time: found.auth_time,
                claims: None,
                nonce: None,
                spends: None,
                dpop_jkt: asked.dpop_jkt,
                sid: None,
            };
            issue(inner, grant).await?.ok_or_else(spent)
        }
    }
}
