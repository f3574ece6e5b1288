//! What commands print for scripts (`--json`): one document on standard output,
//! the records as JSON objects without their secrets or hashes.

use serde_json::{Value, json};
use tollgate::core::GrantType;
use tollgate::core::client_auth::TokenEndpointAuthMethod;
use tollgate::core::model::{Application, User};

/// Prints `document` as the command's one JSON document.
pub fn print_json(document: &Value) {
    println!("{document}");
}

/// A client's registration; never its secret's hash or sealed copy.
pub fn application(app: &Application) -> Value {
    json!({
        "id": app.id,
        "client_id": app.client_id,
        "name": app.name,
        "client_type": app.client_type.as_str(),
        "grant_types": app.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "redirect_uris": app.redirect_uris,
        "post_logout_redirect_uris": app.post_logout_redirect_uris,
        "allowed_origins": app.allowed_origins,
        "algorithm": app.algorithm.as_str(),
        "userinfo_signed": app.userinfo_signed,
        "skip_authorization": app.skip_authorization,
        "require_pushed_authorization_requests": app.security.require_pushed_authorization_requests,
        "token_endpoint_auth_method": app
            .security
            .token_endpoint_auth_method
            .unwrap_or(TokenEndpointAuthMethod::default_for(app.client_type))
            .as_str(),
        "jwks_uri": app.security.jwks_uri,
        "dpop_bound_access_tokens": app.security.dpop_bound_access_tokens,
        "backchannel_logout_uri": app.security.backchannel_logout_uri,
        "backchannel_logout_session_required": app.security.backchannel_logout_session_required,
        "jwks": app.security.jwks.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok()),
        "owner_id": app.owner_id,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
    })
}

/// A user; whether they have a password, never its hash.
pub fn user(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "phone_number": user.phone_number,
        "phone_number_verified": user.phone_number_verified,
        "address": user.address,
        "active": user.active,
        "staff": user.staff,
        "has_password": user.password_hash.is_some(),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

/// DOT's grant names, space-separated, for the text output.
pub fn grants(app: &Application) -> String {
    GrantType::format_list(&app.grant_types)
}
