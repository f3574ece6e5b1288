//! Checking an authorization request (RFC 6749 §4.1.1, §4.2.1; RFC 7636;
//! RFC 9700 §2.1), step by step, in the order that decides whether an error may be redirected.

use super::{ApprovalPrompt, AuthorizationRequest, AuthorizeError, Policy, Prompt, ResponseType};
use crate::claims::ClaimsRequest;
use crate::client::ClientType;
use crate::error::{ErrorCode, OAuthError};
use crate::id_token::ACR_PASSWORD;
use crate::model::Application;
use crate::params::Params;
use crate::pkce::{self, Method};
use crate::redirect_uri::{self, RedirectResolution};
use crate::resource_indicator::Resources;
use crate::response::ResponseMode;
use crate::scope::Scopes;

/// Checks a request. `repeated` lists parameters that appeared more than once;
/// `client` is the application named by `client_id`, if there is one. The steps
/// run in this order because it decides whether an error may be redirected.
pub fn validate(
    params: &Params,
    repeated: &[String],
    client: Option<&Application>,
    policy: &Policy<'_>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let (client, redirect_uri) = trusted_redirect(params, repeated, client)?;
    // From here on the redirect URI is trusted: errors go back to the client.
    let state = params.get("state").map(str::to_owned);
    let response_type = read_response_type(params);
    let requested_mode = requested_mode(params);
    let mode = error_mode(requested_mode, &response_type);
    let fail = |error| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        mode,
        state: state.clone(),
        error,
    };

    unrepeated(repeated).map_err(fail)?;
    let response_type = response_type.map_err(fail)?;
    permitted(response_type, client, policy).map_err(fail)?;
    let response_mode = response_mode(requested_mode, response_type).map_err(fail)?;
    let scope = scope(params, policy).map_err(fail)?;
    let resources =
        Resources::requested(params.resources(), policy.served_resources).map_err(fail)?;
    let nonce = nonce(params, response_type, &scope).map_err(fail)?;
    let pkce_exempt = !policy.code_only && nonce_protects_code(client, &scope, nonce.as_deref());
    let code_challenge =
        code_challenge(params, response_type, pkce_exempt, policy).map_err(fail)?;
    let prompt = prompt(params).map_err(fail)?;
    let max_age = max_age(params).map_err(fail)?;
    let claims = claims(params, policy).map_err(fail)?;
    let dpop_jkt = dpop_jkt(params).map_err(fail)?;

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_given: params.get("redirect_uri").is_some(),
        response_type,
        response_mode,
        scope,
        resources,
        state,
        code_challenge,
        nonce,
        prompt,
        approval_prompt: params
            .get("approval_prompt")
            .and_then(ApprovalPrompt::parse),
        max_age,
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        login_hint: params.get("login_hint").map(str::to_owned),
        dpop_jkt,
        claims,
    })
}

/// The client and the redirect URI to answer it at: until both are known good,
/// every error is [`AuthorizeError::Fatal`].
fn trusted_redirect<'a>(
    params: &Params,
    repeated: &[String],
    client: Option<&'a Application>,
) -> Result<(&'a Application, String), AuthorizeError> {
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
    let redirect_uri = redirect_uri::resolve(&client.redirect_uris, params.get("redirect_uri"))
        .map_err(|e| {
            AuthorizeError::Fatal(match e {
                RedirectResolution::Missing => "The redirect_uri parameter is missing.".into(),
                RedirectResolution::Unregistered => {
                    "The redirect_uri is not registered for this client.".into()
                }
            })
        })?;
    Ok((client, redirect_uri))
}

/// `response_type`, read but not yet checked: its error waits until repeated
/// parameters have been reported, while its mode already decides where errors go.
fn read_response_type(params: &Params) -> Result<ResponseType, OAuthError> {
    match params.get("response_type") {
        Some(text) => ResponseType::parse(text).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type `{text}` is not supported"),
            )
        }),
        None => Err(OAuthError::invalid_request(
            "the parameter `response_type` is missing",
        )),
    }
}

/// `response_mode` as sent, with what it names if Tollgate knows it.
type RequestedMode<'a> = Option<(&'a str, Option<ResponseMode>)>;

fn requested_mode(params: &Params) -> RequestedMode<'_> {
    params
        .get("response_mode")
        .map(|m| (m, ResponseMode::parse(m)))
}

/// How an error reaches the client: as the request asked if it can be read, else
/// as its response type would have been delivered.
fn error_mode(
    requested: RequestedMode<'_>,
    response_type: &Result<ResponseType, OAuthError>,
) -> ResponseMode {
    match (requested, response_type) {
        // The refusal of a query response for tokens must not travel in the query either.
        (Some((_, Some(ResponseMode::Query))), Ok(rt)) => rt.default_mode(),
        (Some((_, Some(mode))), _) => mode,
        (_, Ok(rt)) => rt.default_mode(),
        (_, Err(_)) => ResponseMode::Query,
    }
}

fn unrepeated(repeated: &[String]) -> Result<(), OAuthError> {
    match repeated.first() {
        Some(name) => Err(OAuthError::invalid_request(format!(
            "the parameter `{name}` is repeated"
        ))),
        None => Ok(()),
    }
}

/// Whether the server serves this response type and the client may use it.
fn permitted(
    response_type: ResponseType,
    client: &Application,
    policy: &Policy<'_>,
) -> Result<(), OAuthError> {
    // RFC over DOT: only the types that put an access token in the redirect are turned
    // off, as RFC 9700 §2.1.2 asks; a lone `id_token` carries none.
    if response_type.token && !policy.front_channel_access_tokens {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!(
                "response_type `{}` returns an access token in the redirect, which this \
                 server does not do (RFC 9700 §2.1.2)",
                response_type.as_str()
            ),
        ));
    }
    if policy.code_only && response_type != ResponseType::CODE {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!(
                "response_type `{}` is not served under the FAPI 2.0 profile, only `code`",
                response_type.as_str()
            ),
        ));
    }
    if !client.grant_types.contains(&response_type.grant()) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use response_type `{}`",
            response_type.as_str()
        )));
    }
    // RFC 9449 §5.2: every token of such a client is bound, and one in a redirect cannot be.
    if response_type.token && client.security.dpop_bound_access_tokens {
        return Err(OAuthError::unauthorized_client(format!(
            "response_type `{}` returns an unbound access token in the redirect; this \
             client's tokens must be bound by DPoP at the token endpoint",
            response_type.as_str()
        )));
    }
    Ok(())
}

fn response_mode(
    requested: RequestedMode<'_>,
    response_type: ResponseType,
) -> Result<ResponseMode, OAuthError> {
    match requested {
        None => Ok(response_type.default_mode()),
        Some((text, None)) => Err(OAuthError::invalid_request(format!(
            "response_mode `{text}` is not supported"
        ))),
        // Tokens must never travel in a query string (OAuth 2.0 Multiple Response Types §5).
        Some((_, Some(ResponseMode::Query)))
            if response_type.default_mode() != ResponseMode::Query =>
        {
            Err(OAuthError::invalid_request(format!(
                "response_mode `query` is not allowed for response_type `{}`",
                response_type.as_str()
            )))
        }
        Some((_, Some(mode))) => Ok(mode),
    }
}

/// The scopes asked for, or the default ones; each must be known.
fn scope(params: &Params, policy: &Policy<'_>) -> Result<Scopes, OAuthError> {
    let scope = match params.get("scope") {
        Some(text) => Scopes::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
        None => policy.default_scopes.iter().copied().collect(),
    };
    if let Some(unknown) = scope.iter().find(|s| !policy.known_scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "unknown scope `{unknown}`"
        )));
    }
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "no scope was requested and none is default",
        ));
    }
    Ok(scope)
}

/// RFC 9449 §10: `dpop_jkt`, an RFC 7638 SHA-256 thumbprint (43 base64url characters).
fn dpop_jkt(params: &Params) -> Result<Option<String>, OAuthError> {
    let Some(jkt) = params.get("dpop_jkt") else {
        return Ok(None);
    };
    let well_formed = jkt.len() == 43
        && jkt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "dpop_jkt must be a JWK SHA-256 thumbprint (RFC 7638), base64url",
        ));
    }
    Ok(Some(jkt.to_owned()))
}

/// The `nonce`, which an ID token from this endpoint needs, as it needs `openid`.
fn nonce(
    params: &Params,
    response_type: ResponseType,
    scope: &Scopes,
) -> Result<Option<String>, OAuthError> {
    let nonce = params.get("nonce").map(str::to_owned);
    if response_type.id_token && !scope.contains("openid") {
        return Err(OAuthError::invalid_scope(
            "response_type `id_token` needs the `openid` scope",
        ));
    }
    // OIDC Core §3.2.2.1, §3.3.2.11: an ID token from this endpoint must be bound to a nonce.
    if response_type.id_token && nonce.is_none() {
        return Err(OAuthError::invalid_request(
            "nonce is required when an ID token is returned from the authorization endpoint",
        ));
    }
    Ok(nonce)
}

/// RFC 9700 §2.1.1: a confidential OpenID Connect client's nonce protects its code as PKCE would.
fn nonce_protects_code(client: &Application, scope: &Scopes, nonce: Option<&str>) -> bool {
    scope.contains("openid") && nonce.is_some() && client.client_type == ClientType::Confidential
}

/// The PKCE challenge of a request for a code, required unless `exempt` or the policy waives it.
fn code_challenge(
    params: &Params,
    response_type: ResponseType,
    exempt: bool,
    policy: &Policy<'_>,
) -> Result<Option<(String, Method)>, OAuthError> {
    match (response_type.code, params.get("code_challenge")) {
        (true, Some(challenge)) => {
            let method = pkce::validate_challenge(
                challenge,
                params.get("code_challenge_method"),
                policy.pkce_plain_allowed,
            )?;
            Ok(Some((challenge.to_owned(), method)))
        }
        (true, None) if policy.pkce_required && !exempt => Err(OAuthError::invalid_request(
            "code_challenge is required (PKCE)",
        )),
        _ => Ok(None),
    }
}

fn prompt(params: &Params) -> Result<Prompt, OAuthError> {
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
            // One account per browser session: choosing another means signing in as it.
            "select_account" => prompt.login = true,
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "unknown prompt value `{other}`"
                )));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

fn max_age(params: &Params) -> Result<Option<u64>, OAuthError> {
    params
        .get("max_age")
        .map(|text| {
            text.parse::<u64>()
                .map_err(|_| OAuthError::invalid_request("max_age must be a number of seconds"))
        })
        .transpose()
}

/// The `claims` parameter with `acr_values` folded in, less the claims of scopes
/// the client may not have; `None` when that leaves nothing.
fn claims(params: &Params, policy: &Policy<'_>) -> Result<Option<ClaimsRequest>, OAuthError> {
    let acr_values: Vec<String> = params
        .get("acr_values")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let mut claims = match params.get("claims") {
        Some(text) => ClaimsRequest::parse(text)?,
        None => ClaimsRequest::default(),
    }
    .with_acr_values(&acr_values);
    // A scope the client may not have is not had by naming its claims (OIDC Core §5.5).
    claims.retain_available(&policy.known_scopes);
    if claims.essential_acr_unmet(ACR_PASSWORD) {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the essential acr values requested cannot be met",
        ));
    }
    Ok((!claims.is_empty()).then_some(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::tests::test_client;
    use crate::client::GrantType;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> Application {
        Application {
            redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1/cb".into()],
            ..test_client()
        }
    }

    fn policy() -> Policy<'static> {
        Policy {
            code_only: false,
            known_scopes: vec!["read", "write"],
            default_scopes: vec!["read"],
            pkce_required: true,
            pkce_plain_allowed: false,
            front_channel_access_tokens: true,
            served_resources: &[],
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
        assert_eq!(r.response_type, ResponseType::CODE);
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
            redirected(&format!("{}&prompt=none%20select_account", ok_query())).0,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirected(&format!("{}&prompt=bogus", ok_query())).0,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn resources_may_repeat_and_must_be_absolute() {
        let q = format!(
            "{}&resource=https%3A%2F%2Fapi.example%2F&resource=https%3A%2F%2Ffiles.example%2F",
            ok_query()
        );
        assert_eq!(
            run(&q).unwrap().resources.to_string(),
            "https://api.example/ https://files.example/"
        );
        assert!(run(&ok_query()).unwrap().resources.is_empty());
        for bad in ["%2Fapi", "https%3A%2F%2Fapi.example%2F%23top"] {
            let (code, _, state) = redirected(&format!("{}&resource={bad}", ok_query()));
            assert_eq!(
                (code, state.as_deref()),
                (ErrorCode::InvalidTarget, Some("xyz"))
            );
        }
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

    fn oidc_client(client_type: ClientType) -> Application {
        Application {
            client_type,
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::Implicit,
                GrantType::OpenIdHybrid,
            ],
            ..client()
        }
    }

    fn run_oidc(
        query: &str,
        client_type: ClientType,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let (params, repeated) =
            Params::from_pairs_lenient(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        let policy = Policy {
            known_scopes: vec!["openid", "profile", "read"],
            ..policy()
        };
        validate(&params, &repeated, Some(&oidc_client(client_type)), &policy)
    }

    const OIDC: &str =
        "client_id=c1&redirect_uri=https%3A%2F%2Fa.example%2Fcb&scope=openid&state=s";

    /// The response types that put an access token in the redirect.
    const TOKEN_IN_REDIRECT: [&str; 4] = [
        "token",
        "id_token%20token",
        "code%20token",
        "code%20id_token%20token",
    ];

    /// An OIDC request of `response_type` (nonce and PKCE given) by `client` under `policy`.
    fn run_response_type(
        rt: &str,
        client: &Application,
        policy: &Policy<'_>,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let query = format!(
            "{OIDC}&response_type={rt}&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        let (params, repeated) =
            Params::from_pairs_lenient(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        validate(&params, &repeated, Some(client), policy)
    }

    #[test]
    fn a_dpop_bound_client_gets_no_access_token_in_a_redirect() {
        let policy = Policy {
            known_scopes: vec!["openid", "read"],
            ..policy()
        };
        let mut client = oidc_client(ClientType::Confidential);
        client.security.dpop_bound_access_tokens = true;
        let run = |rt: &str| run_response_type(rt, &client, &policy);
        for rt in TOKEN_IN_REDIRECT {
            match run(rt) {
                Err(AuthorizeError::Redirect { error, .. }) => {
                    assert_eq!(error.code, ErrorCode::UnauthorizedClient, "{rt}")
                }
                other => panic!("{rt}: {other:?}"),
            }
        }
        for rt in ["code", "id_token", "code%20id_token"] {
            assert!(run(rt).is_ok(), "{rt}");
        }
    }
    #[test]
    fn the_fapi2_profile_takes_code_only_and_pkce_always() {
        let fapi = Policy {
            known_scopes: vec!["openid", "read"],
            code_only: true,
            ..policy()
        };
        let client = oidc_client(ClientType::Confidential);
        let run_fapi = |query: &str| {
            let (params, repeated) = Params::from_pairs_lenient(
                url::form_urlencoded::parse(query.as_bytes()).into_owned(),
            );
            validate(&params, &repeated, Some(&client), &fapi)
        };
        let code = format!(
            "{OIDC}&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        assert!(run_fapi(&code).is_ok());
        for (query, code) in [
            (
                format!("{OIDC}&response_type=code%20id_token&nonce=n"),
                ErrorCode::UnsupportedResponseType,
            ),
            (
                format!("{OIDC}&response_type=id_token&nonce=n"),
                ErrorCode::UnsupportedResponseType,
            ),
            // A confidential client's nonce no longer stands in for PKCE.
            (
                format!("{OIDC}&response_type=code&nonce=n"),
                ErrorCode::InvalidRequest,
            ),
        ] {
            match run_fapi(&query) {
                Err(AuthorizeError::Redirect { error, .. }) => {
                    assert_eq!(error.code, code, "{query}")
                }
                other => panic!("{query}: {other:?}"),
            }
        }
        assert!(
            run_oidc(
                &format!("{OIDC}&response_type=code&nonce=n"),
                ClientType::Confidential
            )
            .is_ok(),
            "outside the profile the nonce stands in"
        );
    }

    #[test]
    fn rfc9700_turns_off_access_tokens_in_the_redirect_only() {
        let policy = Policy {
            known_scopes: vec!["openid", "profile", "read"],
            front_channel_access_tokens: false,
            ..policy()
        };
        let client = oidc_client(ClientType::Confidential);
        let run = |rt: &str| run_response_type(rt, &client, &policy);
        for rt in TOKEN_IN_REDIRECT {
            match run(rt) {
                Err(AuthorizeError::Redirect { error, mode, .. }) => {
                    assert_eq!(error.code, ErrorCode::UnsupportedResponseType, "{rt}");
                    assert_eq!(mode, ResponseMode::Fragment, "{rt}");
                }
                other => panic!("{rt}: {other:?}"),
            }
        }
        for rt in ["code", "id_token", "code%20id_token"] {
            assert!(run(rt).is_ok(), "{rt}: {:?}", run(rt));
        }
    }

    #[test]
    fn id_token_responses_need_openid_and_nonce_and_no_query() {
        let implicit = |extra: &str| {
            run_oidc(
                &format!("{OIDC}&response_type=id_token{extra}"),
                ClientType::Public,
            )
        };
        let ok = implicit("&nonce=n").unwrap();
        assert_eq!(ok.response_mode, ResponseMode::Fragment);
        assert_eq!(ok.nonce.as_deref(), Some("n"));
        let code_of = |r: Result<AuthorizationRequest, AuthorizeError>| match r {
            Err(AuthorizeError::Redirect { error, mode, .. }) => (error.code, mode),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code_of(implicit("")),
            (ErrorCode::InvalidRequest, ResponseMode::Fragment),
            "no nonce"
        );
        assert_eq!(
            code_of(implicit("&nonce=n&response_mode=query")),
            (ErrorCode::InvalidRequest, ResponseMode::Fragment),
            "the refusal of a query response does not travel in the query"
        );
        let q =
            format!("{OIDC}&response_type=id_token&nonce=n").replace("scope=openid", "scope=read");
        assert_eq!(
            code_of(run_oidc(&q, ClientType::Public)).0,
            ErrorCode::InvalidScope
        );
        // code token: the ID token comes from the token endpoint, so no nonce is needed.
        let hybrid = format!(
            "{OIDC}&response_type=code%20token&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        assert!(run_oidc(&hybrid, ClientType::Public).is_ok());
    }

    #[test]
    fn a_confidential_oidc_clients_nonce_stands_in_for_pkce() {
        let code = format!("{OIDC}&response_type=code&nonce=n");
        assert!(run_oidc(&code, ClientType::Confidential).is_ok());
        assert!(
            run_oidc(&code, ClientType::Public).is_err(),
            "public clients always need PKCE"
        );
        let no_nonce = format!("{OIDC}&response_type=code");
        assert!(run_oidc(&no_nonce, ClientType::Confidential).is_err());
    }

    #[test]
    fn oidc_parameters_are_read_and_checked() {
        let base = format!("{OIDC}&response_type=id_token&nonce=n");
        let r = run_oidc(
            &format!("{base}&max_age=0&login_hint=alice&id_token_hint=h.h.h&display=popup&ui_locales=fr&claims_locales=fr&acr_values=urn%3Ax&claims=%7B%22userinfo%22%3A%7B%22email%22%3Anull%2C%22name%22%3Anull%7D%7D"),
            ClientType::Public,
        )
        .unwrap();
        assert_eq!(r.max_age, Some(0));
        assert_eq!(r.login_hint.as_deref(), Some("alice"));
        assert_eq!(r.id_token_hint.as_deref(), Some("h.h.h"));
        let claims = r.claims.unwrap();
        assert!(claims.userinfo.contains_key("name"));
        assert!(
            !claims.userinfo.contains_key("email"),
            "the client may not have the email scope, so not its claims either"
        );
        assert!(
            claims.id_token.contains_key("acr"),
            "acr_values become a voluntary acr request"
        );
        for (extra, code) in [
            ("&max_age=-1", ErrorCode::InvalidRequest),
            ("&max_age=soon", ErrorCode::InvalidRequest),
            ("&claims=%5B%5D", ErrorCode::InvalidRequest),
            ("&dpop_jkt=short", ErrorCode::InvalidRequest),
            (
                "&dpop_jkt=NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X%2B",
                ErrorCode::InvalidRequest,
            ),
        ] {
            match run_oidc(&format!("{base}{extra}"), ClientType::Public) {
                Err(AuthorizeError::Redirect { error, .. }) => {
                    assert_eq!(error.code, code, "{extra}")
                }
                other => panic!("{extra}: {other:?}"),
            }
        }
    }
}
