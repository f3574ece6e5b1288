//! Where user claims come from: the user record, then whatever the embedding
//! application adds or changes, separately for ID tokens and for UserInfo (DOT's
//! `get_additional_claims` and `get_userinfo_claims`).

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value, json};
use tollgate_core::model::{Application, User};
use tollgate_core::scope::Scopes;

/// What a claims hook is told about the request.
#[derive(Debug, Clone, Copy)]
pub struct ClaimsContext<'a> {
    /// The end-user the claims describe.
    pub user: &'a User,
    /// The client that will receive them.
    pub client: &'a Application,
    /// The scopes granted.
    pub scope: &'a Scopes,
}

/// The claims a hook hands back.
pub type ClaimsFuture<'a> = Pin<Box<dyn Future<Output = Map<String, Value>> + Send + 'a>>;

/// Adds or changes user claims. Both methods receive the claims Tollgate chose
/// (by scope and by the `claims` parameter) and return the ones to send. The
/// protocol claims (`iss`, `sub`, `aud`, `nonce`, `at_hash`, …) are removed from
/// what they return and set by Tollgate alone. The defaults change nothing.
pub trait ClaimsSource: Send + Sync + 'static {
    /// The claims of an ID token.
    fn id_token_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        let _ = context;
        Box::pin(async move { claims })
    }

    /// The claims of a UserInfo response.
    fn userinfo_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        let _ = context;
        Box::pin(async move { claims })
    }
}

/// The claims of the user record alone.
pub struct StandardClaims;

impl ClaimsSource for StandardClaims {}

/// The subject identifier: the user's id, stable and never reassigned (OIDC Core §8, public).
pub(crate) fn subject(user: &User) -> String {
    user.id.to_string()
}

/// Every claim the user record can answer, blanks left out.
pub(crate) fn of_user(user: &User) -> Map<String, Value> {
    let mut out = Map::new();
    let mut text = |name: &str, value: &str| {
        if !value.is_empty() {
            out.insert(name.to_owned(), value.into());
        }
    };
    let name = format!("{} {}", user.given_name, user.family_name);
    text("name", name.trim());
    text("given_name", &user.given_name);
    text("family_name", &user.family_name);
    text("preferred_username", &user.username);
    text("email", &user.email);
    text("phone_number", &user.phone_number);
    out.insert("updated_at".into(), user.updated_at.into());
    if !user.email.is_empty() {
        out.insert("email_verified".into(), user.email_verified.into());
    }
    if !user.phone_number.is_empty() {
        out.insert(
            "phone_number_verified".into(),
            user.phone_number_verified.into(),
        );
    }
    if !user.address.is_empty() {
        out.insert("address".into(), json!({ "formatted": user.address }));
    }
    out
}
