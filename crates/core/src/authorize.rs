//! Validation of an authorization request (RFC 6749 §4.1.1, §4.2.1; RFC 7636;
//! RFC 9700 §2.1), in the order that decides whether an error may be redirected.

use crate::client::GrantType;
use crate::error::{ErrorCode, OAuthError};
use crate::model::Application;
use crate::params::Params;
use crate::pkce::{self, Method};
use crate::redirect_uri::{self, RedirectResolution};
use crate::response::ResponseMode;
use crate::scope::Scopes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
        }
    }

    /// Where a response goes unless `response_mode` says otherwise.
    pub fn default_mode(self) -> ResponseMode {
        match self {
            ResponseType::Code => ResponseMode::Query,
            ResponseType::Token => ResponseMode::Fragment,
        }
    }
}

/// The OIDC `prompt` values Tollgate acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// DOT's `approval_prompt`: `auto` skips the consent page when consent is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalPrompt {
    Auto,
    Force,
}

impl ApprovalPrompt {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(ApprovalPrompt::Auto),
            "force" => Some(ApprovalPrompt::Force),
            _ => None,
        }
    }
}

/// What the server allows, from its settings.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Every scope the server knows.
    pub known_scopes: Vec<&'a str>,
    /// Granted when a request names none.
    pub default_scopes: Vec<&'a str>,
    pub pkce_required: bool,
    pub pkce_plain_allowed: bool,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the request named the redirect URI; the token request must then repeat it.
    pub redirect_uri_given: bool,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub scope: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<(String, Method)>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub approval_prompt: Option<ApprovalPrompt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Fatal(String),
    /// Send the error to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        mode: ResponseMode,
        state: Option<String>,
        error: OAuthError,
    },
}

/// Checks a request. `repeated` lists parameters that appeared more than once;
/// `client` is the application named by `client_id`, if there is one.
pub fn validate(
    params: &Params,
    repeated: &[String],
    client: Option<&Application>,
    policy: &Policy<'_>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    if let Some(name) = repeated
        .iter()
        .find(|n| *n == "client_id" || *n == "redirect_uri")
    {
        return Err(AuthorizeError::Fatal(format!(
            "The parameter {name} is repeated."
        )));
    }
    let Some(client_id) = params.get("client_id") else {
        return Err(AuthorizeError::Fatal(
            "The client_id parameter is missing.".into(),
        ));
    };
    let Some(client) = client.filter(|c| c.client_id == client_id) else {
        return Err(AuthorizeError::Fatal(
            "Invalid client_id parameter value.".into(),
        ));
    };
    let requested_uri = params.get("redirect_uri");
    let redirect_uri =
        redirect_uri::resolve(&client.redirect_uris, requested_uri).map_err(|e| {
            AuthorizeError::Fatal(match e {
                RedirectResolution::Missing => "The redirect_uri parameter is missing.".into(),
                RedirectResolution::Unregistered => {
                    "The redirect_uri is not registered for this client.".into()
                }
            })
        })?;

    // From here on the redirect URI is trusted: errors go back to the client.
    let state = params.get("state").map(str::to_owned);
    let response_type = match params.get("response_type") {
        Some("code") => Ok(ResponseType::Code),
        Some("token") => Ok(ResponseType::Token),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!("response_type `{other}` is not supported"),
        )),
        None => Err(OAuthError::invalid_request(
            "the parameter `response_type` is missing",
        )),
    };
    let requested_mode = params
        .get("response_mode")
        .map(|m| (m, ResponseMode::parse(m)));
    let error_mode = match (requested_mode, &response_type) {
        (Some((_, Some(mode))), _) => mode,
        (_, Ok(rt)) => rt.default_mode(),
        (_, Err(_)) => ResponseMode::Query,
    };
    let fail = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        mode: error_mode,
        state: state.clone(),
        error,
    };

    if let Some(name) = repeated.first() {
        return Err(fail(OAuthError::invalid_request(format!(
            "the parameter `{name}` is repeated"
        ))));
    }
    let response_type = response_type.map_err(&fail)?;
    let needed_grant = match response_type {
        ResponseType::Code => GrantType::AuthorizationCode,
        ResponseType::Token => GrantType::Implicit,
    };
    if !client.grant_types.contains(&needed_grant) {
        return Err(fail(OAuthError::unauthorized_client(format!(
            "this client may not use response_type `{}`",
            response_type.as_str()
        ))));
    }
    let response_mode = match requested_mode {
        None => response_type.default_mode(),
        Some((text, None)) => {
            return Err(fail(OAuthError::invalid_request(format!(
                "response_mode `{text}` is not supported"
            ))));
        }
        // Tokens must never travel in a query string (OAuth 2.0 Multiple Response Types §5).
        Some((_, Some(ResponseMode::Query))) if response_type == ResponseType::Token => {
            return Err(fail(OAuthError::invalid_request(
                "response_mode `query` is not allowed for response_type `token`",
            )));
        }
        Some((_, Some(mode))) => mode,
    };

    let scope = match params.get("scope") {
        Some(text) => {
            Scopes::parse(text).map_err(|e| fail(OAuthError::invalid_scope(e.to_string())))?
        }
        None => policy.default_scopes.iter().copied().collect(),
    };
    if let Some(unknown) = scope.iter().find(|s| !policy.known_scopes.contains(s)) {
        return Err(fail(OAuthError::invalid_scope(format!(
            "unknown scope `{unknown}`"
        ))));
    }
    if scope.is_empty() {
        return Err(fail(OAuthError::invalid_scope(
            "no scope was requested and none is default",
        )));
    }

    let code_challenge = match (response_type, params.get("code_challenge")) {
        (ResponseType::Code, Some(challenge)) => {
            let method = pkce::validate_challenge(
                challenge,
                params.get("code_challenge_method"),
                policy.pkce_plain_allowed,
            )
            .map_err(&fail)?;
            Some((challenge.to_owned(), method))
        }
        (ResponseType::Code, None) if policy.pkce_required => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge is required (PKCE)",
            )));
        }
        _ => None,
    };

    let mut prompt = Prompt::default();
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            other => {
                return Err(fail(OAuthError::invalid_request(format!(
                    "unknown prompt value `{other}`"
                ))));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        )));
    }

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_given: requested_uri.is_some(),
        response_type,
        response_mode,
        scope,
        state,
        code_challenge,
        nonce: params.get("nonce").map(str::to_owned),
        prompt,
        approval_prompt: params
            .get("approval_prompt")
            .and_then(ApprovalPrompt::parse),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientType, SigningAlgorithm};

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> Application {
        Application {
            id: 1,
            client_id: "c1".into(),
            client_secret_hash: None,
            client_type: ClientType::Public,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            skip_authorization: false,
            name: "A".into(),
            owner_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn policy() -> Policy<'static> {
        Policy {
            known_scopes: vec!["read", "write"],
            default_scopes: vec!["read"],
            pkce_required: true,
            pkce_plain_allowed: false,
        }
    }

    fn run(query: &str) -> Result<AuthorizationRequest, AuthorizeError> {
        let (params, repeated) =
            Params::from_pairs_lenient(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        validate(&params, &repeated, Some(&client()), &policy())
    }

    fn ok_query() -> String {
        format!(
            "client_id=c1&response_type=code&redirect_uri=https%3A%2F%2Fa.example%2Fcb\
             &state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256"
        )
    }

    fn redirected(query: &str) -> (ErrorCode, ResponseMode, Option<String>) {
        match run(query) {
            Err(AuthorizeError::Redirect {
                error,
                mode,
                state,
                redirect_uri,
            }) => {
                assert_eq!(redirect_uri, "https://a.example/cb");
                (error.code, mode, state)
            }
            other => panic!("expected a redirected error for {query}, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_passes_with_defaults() {
        let r = run(&ok_query()).unwrap();
        assert_eq!(r.response_type, ResponseType::Code);
        assert_eq!(r.response_mode, ResponseMode::Query);
        assert_eq!(r.scope.to_string(), "read");
        assert_eq!(r.state.as_deref(), Some("xyz"));
        assert_eq!(r.code_challenge, Some((CHALLENGE.to_owned(), Method::S256)));
        assert!(r.redirect_uri_given);
    }

    #[test]
    fn untrusted_client_or_redirect_is_fatal() {
        for query in [
            "response_type=code".to_owned(),
            ok_query().replace("client_id=c1", "client_id=other"),
            ok_query().replace("a.example%2Fcb", "evil.example%2Fcb"),
            ok_query().replace("%2Fcb", "%2Fcb%23"),
            format!("{}&client_id=c1", ok_query()),
            format!("{}&redirect_uri=x", ok_query()),
        ] {
            assert!(
                matches!(run(&query), Err(AuthorizeError::Fatal(_))),
                "{query}"
            );
        }
        // Several registered and none requested: no safe default.
        let q = ok_query().replace("&redirect_uri=https%3A%2F%2Fa.example%2Fcb", "");
        assert!(matches!(run(&q), Err(AuthorizeError::Fatal(_))));
    }

    #[test]
    fn loopback_redirect_with_any_port_is_trusted() {
        let q = ok_query().replace(
            "https%3A%2F%2Fa.example%2Fcb",
            "http%3A%2F%2F127.0.0.1%3A4567%2Fcb",
        );
        assert_eq!(run(&q).unwrap().redirect_uri, "http://127.0.0.1:4567/cb");
    }

    #[test]
    fn other_errors_are_redirected_with_state() {
        let q = ok_query().replace("response_type=code", "response_type=WRONG");
        assert_eq!(
            redirected(&q),
            (
                ErrorCode::UnsupportedResponseType,
                ResponseMode::Query,
                Some("xyz".into())
            )
        );
        let q = ok_query().replace("response_type=code", "response_type=token");
        assert_eq!(redirected(&q).0, ErrorCode::UnauthorizedClient);
        assert_eq!(
            redirected(&q).1,
            ResponseMode::Fragment,
            "token errors go in the fragment"
        );
        assert_eq!(
            redirected(&format!("{}&scope=admin", ok_query())).0,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            redirected(&format!("{}&scope=a%22b", ok_query())).0,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            redirected(&format!("{}&state=again", ok_query())).0,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirected(&format!("{}&response_mode=magic", ok_query())).0,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirected(&format!("{}&prompt=none%20login", ok_query())).0,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirected(&format!("{}&prompt=bogus", ok_query())).0,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn pkce_rules() {
        let no_challenge = ok_query().replace(&format!("&code_challenge={CHALLENGE}"), "");
        assert_eq!(redirected(&no_challenge).0, ErrorCode::InvalidRequest);
        let plain = ok_query().replace("S256", "plain");
        assert_eq!(redirected(&plain).0, ErrorCode::InvalidRequest);
        let unknown = ok_query().replace("S256", "S512");
        assert_eq!(redirected(&unknown).0, ErrorCode::InvalidRequest);
        let absent_method = ok_query().replace("&code_challenge_method=S256", "");
        assert_eq!(
            redirected(&absent_method).0,
            ErrorCode::InvalidRequest,
            "absent = plain"
        );
    }

    #[test]
    fn response_mode_and_prompt() {
        let r = run(&format!(
            "{}&response_mode=form_post&prompt=login%20consent",
            ok_query()
        ))
        .unwrap();
        assert_eq!(r.response_mode, ResponseMode::FormPost);
        assert_eq!(
            r.prompt,
            Prompt {
                none: false,
                login: true,
                consent: true
            }
        );
        let r = run(&format!(
            "{}&approval_prompt=auto&unknown=ignored",
            ok_query()
        ))
        .unwrap();
        assert_eq!(r.approval_prompt, Some(ApprovalPrompt::Auto));
    }
}
