//! RFC 6749 §4.3: the resource owner's password, for clients registered for it.
//! Throttled like the sign-in page, and switchable off (`password_grant_enabled`).

use std::net::IpAddr;

use tollgate_core::OAuthError;
use tollgate_core::model::Application;

use super::Asked;
use super::issue::Grant;

use super::issue::Refresh;

use super::issue::TokenResponse;

use super::invalid_grant;
use super::issue::issue;
use super::spent;
use crate::http::json::Fault;
use crate::http::json::JsonResult;
use crate::pages::login::SignIn;
use crate::pages::login::verify_user;
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    address: Option<IpAddr>,
    username: String,
    password: String,
    scope: Option<&str>,
    asked: Asked<'_>,
) -> JsonResult<TokenResponse> {
    let settings = &inner.settings;
    if !settings.password_grant_allowed() {
        return Err(OAuthError::unauthorized_client(
            "the password grant is disabled on this server",
        )
        .into());
    }
    let scope = inner.new_grant_scope(client, scope)?;
    let user = match verify_user(inner, &username, password, address).await? {
        SignIn::Verified(user) => user,
        SignIn::Refused => return Err(invalid_grant("invalid resource owner credentials")),
        SignIn::Throttled(_) => {
            return Err(invalid_grant("too many failed attempts; try again later"));
        }
        SignIn::Unavailable => {
            return Err(Fault::new("the user directory failed").into());
        }
    };
    let refresh = Some(Refresh {
        family: None,
        scope: scope.to_string(),
        resource: asked.resource.clone(),
    });
    let grant = Grant {
        grant_type: "password",
        client,
        user: Some(&user),
        scope: &scope,
        resource: asked.resource,
        refresh,
        authorization_code_id: None,
        // The password was checked just now: that is the sign-in.
        auth_time: Some(inner.clock.now()),
        claims: None,
        nonce: None,
        spends: None,
        dpop_jkt: asked.dpop_jkt,
        sid: None,
    };
    issue(inner, grant).await?.ok_or_else(spent)
}
