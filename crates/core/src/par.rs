//! Pushed authorization requests (RFC 9126): what a push keeps, the
//! `request_uri` that names it, whether a client must push, and which
//! parameters the authorization endpoint then acts on.

use crate::authorize::after_sign_in;
use crate::env::UnixTime;
use crate::error::OAuthError;
use crate::model::{Application, PushedRequest};
use crate::params::Params;
use crate::secret::{SecretHash, SecretKind};

/// RFC 9126 §2.2: the URN namespace of a pushed request's reference.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// What authenticates the client at the PAR endpoint: not part of the
/// authorization request, and never kept with it.
const CLIENT_AUTHENTICATION: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// The `request_uri` handed out for a pushed request whose random part is `secret`.
pub fn request_uri(secret: &str) -> String {
    format!("{REQUEST_URI_PREFIX}{secret}")
}

/// The hash a `request_uri` of this server's is stored under; `None` for any
/// other value, which no pushed request can answer to.
pub fn reference(request_uri: &str) -> Option<SecretHash> {
    let secret = request_uri.strip_prefix(REQUEST_URI_PREFIX)?;
    secret
        .starts_with(SecretKind::PushedRequest.prefix())
        .then(|| SecretHash::of(secret))
}

/// The authorization request `client_id` pushed: every parameter but the
/// client's authentication, with the `client_id` it authenticated as (Basic
/// authentication leaves it out of the body). A `request_uri` inside is
/// `invalid_request` (RFC 9126 §2.1).
pub fn to_keep(params: &Params, client_id: &str) -> Result<Vec<(String, String)>, OAuthError> {
    if params.get("request_uri").is_some() {
        return Err(OAuthError::invalid_request(
            "a pushed authorization request may not carry a `request_uri`",
        ));
    }
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| !CLIENT_AUTHENTICATION.contains(name) && *name != "client_id")
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .chain([("client_id".to_owned(), client_id.to_owned())])
        .collect();
    kept.sort();
    Ok(kept)
}

/// Pairs as the store keeps them: form-encoded, in one text column.
pub fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// What [`encode`] wrote, read back.
pub fn decode(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// How long a pushed request stays usable once the authorization endpoint
/// opened it: time for the user to sign in and consent (15 minutes).
pub const INTERACTION_SECONDS: i64 = 900;

/// RFC 9126 §5, §6: whether the client's authorization requests must come
/// through the PAR endpoint, by the server's setting or its own registration.
pub fn required(server_requires: bool, client: &Application) -> bool {
    server_requires || client.security.require_pushed_authorization_requests
}

/// The parameters the authorization endpoint acts on for `pushed` (which the
/// store finds only for the client that pushed it): those
/// pushed, never those beside `request_uri` in the browser's URL (RFC 9126 §4,
/// as RFC 9101 §6.3 for request objects). Once the user signed in during the
/// request (at or after it was first opened), the sign-in answered `prompt=login`,
/// `max_age` and `id_token_hint`, so they are dropped as
/// [`after_sign_in`] drops them from a request that travels in the URL.
pub fn resolve(pushed: &PushedRequest, signed_in_at: Option<UnixTime>) -> Params {
    let (params, _) = Params::from_pairs_lenient(pushed.parameters.iter().cloned());
    if signed_in_at.is_none_or(|at| at < pushed.opened_at) {
        return params;
    }
    let answered = after_sign_in(&params)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect::<Vec<_>>();
    Params::from_pairs_lenient(answered).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::tests::test_client as client;

    fn pushed(pairs: &[(&str, &str)]) -> PushedRequest {
        PushedRequest {
            parameters: pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            opened_at: 1_000,
        }
    }

    #[test]
    fn a_request_uri_names_only_a_pushed_request_of_ours() {
        let uri = request_uri("tgp_abc");
        assert_eq!(uri, "urn:ietf:params:oauth:request_uri:tgp_abc");
        assert_eq!(reference(&uri), Some(SecretHash::of("tgp_abc")));
        for other in [
            "tgp_abc",
            "https://client.example/request.jwt",
            "urn:ietf:params:oauth:request_uri:tga_abc",
            "urn:ietf:params:oauth:request_uri:",
            "",
        ] {
            assert_eq!(reference(other), None, "{other}");
        }
    }

    #[test]
    fn a_push_keeps_the_request_without_the_clients_authentication() {
        let params = Params::parse(
            "response_type=code&client_secret=s&scope=openid\
             &client_assertion=x&client_assertion_type=y&resource=https%3A%2F%2Fapi",
        )
        .unwrap();
        assert_eq!(
            to_keep(&params, "c").unwrap(),
            [
                ("client_id", "c"),
                ("resource", "https://api"),
                ("response_type", "code"),
                ("scope", "openid"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        let nested = Params::parse("response_type=code&request_uri=urn%3Ax").unwrap();
        let error = to_keep(&nested, "c").unwrap_err();
        assert_eq!(error.code, crate::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn kept_parameters_read_back_as_they_were() {
        let pairs: Vec<(String, String)> = [("claims", "{\"a\": [1, \"&=\"]}"), ("scope", "a b")]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .into();
        assert_eq!(decode(&encode(&pairs)), pairs);
    }

    #[test]
    fn pushing_is_required_by_the_server_or_the_client() {
        let mut app = client();
        assert!(!required(false, &app));
        assert!(required(true, &app));
        app.security.require_pushed_authorization_requests = true;
        assert!(required(false, &app));
    }

    #[test]
    fn a_sign_in_during_the_request_answers_prompt_login_and_max_age() {
        let request = pushed(&[
            ("prompt", "login consent"),
            ("max_age", "0"),
            ("id_token_hint", "x"),
            ("scope", "openid"),
        ]);
        for before in [None, Some(999)] {
            let params = resolve(&request, before);
            assert_eq!(params.get("prompt"), Some("login consent"));
            assert_eq!(params.get("max_age"), Some("0"));
            assert_eq!(params.get("id_token_hint"), Some("x"));
        }
        for during in [1_000, 1_500] {
            let params = resolve(&request, Some(during));
            assert_eq!(params.get("prompt"), Some("consent"));
            assert_eq!(params.get("max_age"), None);
            assert_eq!(params.get("id_token_hint"), None);
            assert_eq!(params.get("scope"), Some("openid"));
        }
    }
}
