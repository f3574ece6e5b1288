//! The authorization endpoint `/o/authorize/`: validate, sign in, ask consent,
//! answer with a code or a token (RFC 6749 §4.1, §4.2; RFC 9207).

use crate::events::Event;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use tollgate_core::authorize::{
    self, AuthorizationRequest, AuthorizeError, ConsentNeed, ConsentVerdict, Policy, SessionUser,
    SessionVerdict,
};
use tollgate_core::claims::ClaimsRequest;
use tollgate_core::logout::Hint;
use tollgate_core::model::{Application, NewAuthorizationCode, NewPushedRequest};
use tollgate_core::response::{Delivery, ResponseMode, deliver};
use tollgate_core::{ErrorCode, NewSecret, OAuthError, Params, SecretHash, SecretKind, par};
use url::form_urlencoded;

use crate::http::form;
use crate::oauth2::request_object::{self, ObjectError};
use crate::oauth2::token::issue::Grant;
use crate::oauth2::token::issue::issue_access_token;
use crate::oidc::backchannel;
use crate::oidc::claims::subject;
use crate::oidc::id_token;
use crate::oidc::id_token::Mint;
use crate::oidc::id_token::read_hint;
use crate::pages;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::pages::csrf;
use crate::pages::extract::from_our_page;
use crate::pages::i18n;
use crate::pages::session;
use crate::pages::session::SignedIn;
use crate::provider::Inner;
use crate::provider::Shared;

/// The consent form is a POST to this endpoint carrying this field.
const CSRF_FIELD: &str = "csrf_token";
/// What the form_post page runs; its hash is the only script the page's CSP allows.
const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";

pub(crate) async fn get(State(inner): State<Shared>, headers: HeaderMap, uri: Uri) -> PageResult {
    let pairs = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned();
    handle(&inner, &headers, pairs.collect(), false).await
}

/// The consent form, or an authorization request sent as a form (OIDC Core
/// §3.1.2.1), which goes on as the same request by GET.
pub(crate) async fn post(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    if !form::is_form(&headers) {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "The request must be form-encoded.",
        ));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    if !pairs.iter().any(|(name, _)| name == CSRF_FIELD) {
        return Ok(pages::as_get(&inner.endpoints.path("/authorize/"), &pairs));
    }
    handle(&inner, &headers, pairs, true).await
}

/// How the request reached the endpoint, and so what the sign-in and consent
/// pages carry back to it: the whole request, or only its `request_uri`.
enum Via {
    Url,
    /// RFC 9126: the pushed request, deleted once it is answered; pushed by the
    /// client to `/o/par/`, or by this endpoint for a request object sent by value.
    Pushed {
        hash: SecretHash,
        request_uri: String,
        by_client: bool,
    },
}

async fn handle(
    inner: &Inner,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
    consent_submission: bool,
) -> PageResult {
    let (sent, repeated) = Params::from_pairs_lenient(pairs);
    let client = match sent.get("client_id") {
        Some(id) => inner.client(id).await?,
        None => None,
    };
    let signed_in = session::current(inner, headers).await?;
    let signed_in_at = signed_in.as_ref().map(|s| s.session.auth_time);
    let (pushed, via) = match (sent.get("request_uri"), sent.get("request")) {
        // RFC 9126 §4: whatever is sent beside a request_uri is ignored.
        (Some(uri), _) => {
            let (params, hash) = open_pushed(inner, uri, client.as_deref(), signed_in_at).await?;
            let via = Via::Pushed {
                hash,
                request_uri: uri.to_owned(),
                by_client: true,
            };
            (Some(params), via)
        }
        (None, Some(object)) => {
            let (params, via) = push_object(inner, object, client.as_deref(), signed_in_at).await?;
            (Some(params), via)
        }
        (None, None) => (None, Via::Url),
    };
    let (params, repeated) = match &pushed {
        Some(params) => (params, &[][..]),
        None => (&sent, &repeated[..]),
    };
    let request = match validate(inner, params, repeated, client.as_deref()) {
        Ok(r) => r,
        Err(AuthorizeError::Fatal(message)) => {
            // Never a redirect: the client or its redirect URI is not to be trusted.
            tracing::debug!(%message, "authorization request refused");
            return Err(fatal("invalid_request", message));
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            mode,
            state,
            error,
        }) => {
            return Ok(redirect_error(
                inner,
                &redirect_uri,
                mode,
                state.as_deref(),
                &error,
            ));
        }
    };
    let client = client.expect("validate accepts only a known client");
    let settings = &inner.settings;
    if !matches!(
        via,
        Via::Pushed {
            by_client: true,
            ..
        }
    ) && par::required(settings.pushed_authorization_required(), &client)
    {
        let e = OAuthError::invalid_request(
            "this client's authorization requests must be pushed to the pushed authorization \
             request endpoint first (RFC 9126)",
        );
        return Ok(refuse(inner, &request, &e));
    }
    if request.is_openid() && !id_token::can_sign_for(inner, &client) {
        return Ok(refuse(inner, &request, &unsignable()));
    }
    let asked = Asked {
        sent: &sent,
        params,
        via: &via,
    };
    if consent_submission {
        consent_given(inner, headers, &asked, &client, &request, signed_in).await
    } else {
        answer(inner, headers, &asked, &client, &request, signed_in).await
    }
}

/// A request as sent (with the consent form's fields), the authorization
/// parameters it stands for, and how it came.
struct Asked<'a> {
    sent: &'a Params,
    params: &'a Params,
    via: &'a Via,
}

/// The pushed request `request_uri` names, as the authorization endpoint acts
/// on it, and its hash; an unknown, expired, answered or another client's
/// request is an error page (no redirect URI can be trusted without it), and
/// another client's is left as it was.
async fn open_pushed(
    inner: &Inner,
    request_uri: &str,
    client: Option<&Application>,
    signed_in_at: Option<i64>,
) -> Result<(Params, SecretHash), PageError> {
    let client = named(client)?;
    let unknown = || {
        fatal(
            "invalid_request_uri",
            "the request_uri is unknown, expired or already used",
        )
    };
    if !request_uri.starts_with(par::REQUEST_URI_PREFIX) {
        // OIDC Core §6.2: a request_uri to fetch is not supported, only those /o/par/ gives.
        return Err(fatal(
            "request_uri_not_supported",
            "only a request_uri from the pushed authorization request endpoint is accepted",
        ));
    }
    let hash = par::reference(request_uri).ok_or_else(unknown)?;
    let now = inner.clock.now();
    let pushed = inner
        .store
        .open_pushed_request(&hash, client.id, now, par::INTERACTION_SECONDS)
        .await?
        .ok_or_else(unknown)?;
    Ok((par::resolve(&pushed, signed_in_at), hash))
}

/// A request object sent by value (RFC 9101), read and kept as a pushed
/// request, so the sign-in and consent pages carry only its reference, a
/// sign-in answers its `prompt=login`, and the object itself is used once. An
/// object that is not accepted is an error page: the redirect URI it names is not trusted.
async fn push_object(
    inner: &Inner,
    object: &str,
    client: Option<&Application>,
    signed_in_at: Option<i64>,
) -> Result<(Params, Via), PageError> {
    let client = named(client)?;
    let pairs = match request_object::read(inner, client, object).await {
        Ok(pairs) => pairs,
        Err(ObjectError::Invalid(e)) => return Err(fatal("invalid_request_object", e.description)),
        Err(ObjectError::Store(e)) => return Err(e.into()),
    };
    let kept = Params::from_pairs(pairs)
        .and_then(|params| par::to_keep(&params, &client.client_id))
        .map_err(|e| fatal("invalid_request_object", e.description))?;
    let secret = NewSecret::generate(SecretKind::PushedRequest, inner.entropy.as_ref());
    let now = inner.clock.now();
    let new = NewPushedRequest {
        request_uri_hash: secret.hash,
        application_id: client.id,
        parameters: kept,
        expires_at: now.saturating_add(par::INTERACTION_SECONDS),
    };
    inner.store.push_request(&new, now).await?;
    let request_uri = par::request_uri(&secret.plaintext);
    let (params, hash) = open_pushed(inner, &request_uri, Some(client), signed_in_at).await?;
    let via = Via::Pushed {
        hash,
        request_uri,
        by_client: false,
    };
    Ok((params, via))
}

/// The client a request by reference names: without one, nothing can be looked up.
fn named(client: Option<&Application>) -> Result<&Application, PageError> {
    client.ok_or_else(|| fatal("invalid_request", "the client_id is missing or unknown"))
}

/// An error shown to the user, never redirected to the client.
fn fatal(code: &'static str, message: impl Into<Cow<'static, str>>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message).with_code(code)
}

/// OpenID Connect for a client whose ID tokens this server cannot sign.
pub(crate) fn unsignable() -> OAuthError {
    OAuthError::unauthorized_client(
        "this client's ID tokens cannot be signed: its HS256 secret is not kept \
         sealed under this server's secret_key; register the client again",
    )
}

/// Checks the request against what the server and the client allow.
pub(crate) fn validate(
    inner: &Inner,
    params: &Params,
    repeated: &[String],
    client: Option<&Application>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let (known_scopes, default_scopes) = inner.scope_rules(client);
    let policy = Policy {
        known_scopes: known_scopes.iter().map(String::as_str).collect(),
        default_scopes: default_scopes.iter().map(String::as_str).collect(),
        pkce_required: inner.settings.pkce_always_required(),
        pkce_plain_allowed: inner.settings.pkce_plain_accepted(),
        front_channel_access_tokens: inner.settings.front_channel_access_tokens(),
        code_only: inner.settings.fapi2_security_profile,
        served_resources: &inner.settings.allowed_resources,
    };
    authorize::validate(params, repeated, client, &policy)
}

/// The consent form's answer: remembered when it allows, then delivered.
async fn consent_given(
    inner: &Inner,
    headers: &HeaderMap,
    asked: &Asked<'_>,
    client: &Application,
    request: &AuthorizationRequest,
    signed_in: Option<SignedIn>,
) -> PageResult {
    from_our_page(inner, headers, asked.sent)?;
    let Some(signed_in) = signed_in else {
        return Ok(to_login(inner, asked));
    };
    if asked.sent.get("allow").is_none() {
        return Ok(refuse(
            inner,
            request,
            &OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
        ));
    }
    remember(inner, &signed_in, client, request).await?;
    inner.events.emit(&Event::ConsentGranted {
        client_id: &client.client_id,
        user_id: signed_in.user.id,
        scope: &request.scope.to_string(),
    });
    issue(inner, client, request, &signed_in, asked.via).await
}

/// A request to answer: by the signed-in user if the session will do, after
/// their consent if it is needed.
async fn answer(
    inner: &Inner,
    headers: &HeaderMap,
    asked: &Asked<'_>,
    client: &Application,
    request: &AuthorizationRequest,
    signed_in: Option<SignedIn>,
) -> PageResult {
    // An expired hint still names the user the client expects.
    let hint = match &request.id_token_hint {
        Some(token) => read_hint(inner, token, true).await,
        None => Hint::Absent,
    };
    let user = signed_in.as_ref().map(|s| SessionUser {
        subject: subject(&s.user),
        auth_time: s.session.auth_time,
    });
    let verdict = authorize::session_verdict(request, &hint, user.as_ref(), inner.clock.now());
    let signed_in = match (verdict, signed_in) {
        (SessionVerdict::Use, Some(signed_in)) => signed_in,
        (SessionVerdict::Refuse(error), _) => return Ok(refuse(inner, request, &error)),
        _ => return Ok(to_login(inner, asked)),
    };
    let need = authorize::consent_need(request, client, inner.settings.request_approval_prompt);
    let remembered = match need {
        ConsentNeed::UnlessRemembered => inner.store.consent(signed_in.user.id, client.id).await?,
        ConsentNeed::Never | ConsentNeed::Always => None,
    };
    match authorize::consent_verdict(request, need, remembered.as_ref()) {
        ConsentVerdict::Skip => issue(inner, client, request, &signed_in, asked.via).await,
        ConsentVerdict::Ask => Ok(consent_page(
            inner, headers, client, request, asked, &signed_in,
        )),
        ConsentVerdict::Refuse(error) => Ok(refuse(inner, request, &error)),
    }
}

/// Remembers the consent just given, with what it adds to
/// ([`authorize::consent_to_remember`]).
async fn remember(
    inner: &Inner,
    signed_in: &SignedIn,
    client: &Application,
    request: &AuthorizationRequest,
) -> Result<(), tollgate_store::StoreError> {
    let before = inner.store.consent(signed_in.user.id, client.id).await?;
    let scope = authorize::consent_to_remember(request, before.as_ref());
    inner
        .store
        .remember_consent(
            signed_in.user.id,
            client.id,
            &scope.to_string(),
            &request.resources,
            inner.clock.now(),
        )
        .await
}

#[derive(Serialize)]
struct ScopeLine<'a> {
    name: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
struct ConsentPage<'a> {
    static_base: String,
    action: String,
    application: &'a str,
    /// The host of a client ID metadata document: who speaks for the client.
    described_at: Option<String>,
    username: &'a str,
    scopes: Vec<ScopeLine<'a>>,
    /// RFC 8707: where the tokens will be usable, when the client said.
    resources: Vec<&'a str>,
    csrf_token: &'a str,
    fields: Vec<(&'a str, &'a str)>,
}

fn consent_page(
    inner: &Inner,
    headers: &HeaderMap,
    client: &Application,
    request: &AuthorizationRequest,
    asked: &Asked<'_>,
    signed_in: &SignedIn,
) -> Response {
    let token = csrf::form_token(inner, headers);
    let params = asked.params;
    // The request travels in hidden fields and is validated again, whole, on POST.
    let mut fields: Vec<(&str, &str)> = match asked.via {
        Via::Url => params
            .iter()
            .filter(|(name, _)| !matches!(*name, "prompt" | "allow" | CSRF_FIELD))
            .collect(),
        Via::Pushed { request_uri, .. } => {
            pushed_reference(&request.client_id, request_uri).to_vec()
        }
    };
    fields.sort();
    let application = pages::client_name(client);
    let consented = request.consent_scope();
    let scopes = consented
        .iter()
        .map(|name| ScopeLine {
            name,
            description: inner.settings.scope_description(name),
        })
        .collect();
    let mut response = pages::render(
        &inner.templates,
        StatusCode::OK,
        "consent.html",
        i18n::language(params.get("ui_locales"), headers),
        ConsentPage {
            static_base: inner.endpoints.path("/static"),
            action: inner.endpoints.path("/authorize/"),
            application,
            described_at: tollgate_core::cimd::is_document_url(&client.client_id)
                .then(|| url::Url::parse(&client.client_id).ok())
                .flatten()
                .and_then(|u| u.host_str().map(str::to_owned)),
            username: &signed_in.user.username,
            scopes,
            resources: request.resources.iter().collect(),
            csrf_token: &token.token,
            fields,
        },
    );
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// What stands for a pushed request on the way back to this endpoint.
fn pushed_reference<'a>(client_id: &'a str, request_uri: &'a str) -> [(&'a str, &'a str); 2] {
    [("client_id", client_id), ("request_uri", request_uri)]
}

/// Sends the user to sign in, then back to this request, less what the new
/// sign-in answers ([`authorize::after_sign_in`]; for a pushed request,
/// [`par::resolve`]).
fn to_login(inner: &Inner, asked: &Asked<'_>) -> Response {
    let params = asked.params;
    let mut query = form_urlencoded::Serializer::new(String::new());
    match asked.via {
        Via::Url => {
            for (name, value) in authorize::after_sign_in(params) {
                // The consent form's own fields are not part of the request.
                if !matches!(name, "allow" | CSRF_FIELD) {
                    query.append_pair(name, &value);
                }
            }
        }
        Via::Pushed { request_uri, .. } => {
            let client_id = params.get("client_id").unwrap_or_default();
            query.extend_pairs(pushed_reference(client_id, request_uri));
        }
    }
    let next = format!(
        "{}/authorize/?{}",
        inner.endpoints.public_base(),
        query.finish()
    );
    pages::to_login(inner, &next, params.get("login_hint"))
}

/// Issues what the request asked for (a code, an access token, an ID token, or
/// several) and delivers it to the client. A pushed request is answered once:
/// whoever deletes it first issues.
async fn issue(
    inner: &Inner,
    client: &Application,
    request: &AuthorizationRequest,
    signed_in: &SignedIn,
    via: &Via,
) -> PageResult {
    if let Via::Pushed { hash, .. } = via
        && !inner
            .store
            .answer_pushed_request(hash, inner.clock.now())
            .await?
    {
        let e = OAuthError::new(
            ErrorCode::InvalidRequestUri,
            "the request_uri was already used",
        );
        return Ok(refuse(inner, request, &e));
    }
    if request.is_openid() {
        backchannel::signed_in_to(inner, &signed_in.session, client).await?;
    }
    Ok(
        match issue_fields(inner, client, request, signed_in).await {
            Ok(mut fields) => {
                if let Some(state) = &request.state {
                    fields.push(("state".into(), state.clone()));
                }
                fields.push(("iss".into(), inner.settings.issuer.clone()));
                respond(
                    inner,
                    deliver(&request.redirect_uri, request.response_mode, fields),
                )
            }
            Err(e) => {
                tracing::error!(error = %e, "authorization endpoint: issuing failed");
                refuse(
                    inner,
                    request,
                    &OAuthError::new(
                        ErrorCode::ServerError,
                        "the server could not complete the request",
                    ),
                )
            }
        },
    )
}

async fn issue_fields(
    inner: &Inner,
    client: &Application,
    request: &AuthorizationRequest,
    signed_in: &SignedIn,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error + Send + Sync>> {
    let rt = request.response_type;
    let claims = request.claims.as_ref().map(ClaimsRequest::to_json);
    let mut fields: Vec<(String, String)> = Vec::new();
    let code = if rt.code {
        Some(new_code(inner, client, request, signed_in, claims.clone()).await?)
    } else {
        None
    };
    let token = if rt.token {
        let grant = Grant {
            grant_type: "implicit",
            client,
            user: Some(&signed_in.user),
            scope: &request.scope,
            resource: request.resources.clone(),
            refresh: None,
            // A `code token` access token is revoked with the code if the code is replayed.
            authorization_code_id: code.as_ref().map(|(id, _)| *id),
            auth_time: Some(signed_in.session.auth_time),
            claims,
            nonce: None,
            spends: None,
            // RFC 9449 §5: DPoP binds tokens the token endpoint issues, not the front channel's.
            dpop_jkt: None,
            sid: signed_in.session.sid.as_deref(),
        };
        Some(issue_access_token(inner, grant).await?)
    } else {
        None
    };
    if let Some((_, code)) = &code {
        fields.push(("code".into(), code.clone()));
    }
    if let Some(token) = &token {
        fields.push(("access_token".into(), token.access_token.clone()));
        fields.push(("token_type".into(), token.token_type.into()));
        fields.push(("expires_in".into(), token.expires_in.to_string()));
        fields.push(("scope".into(), token.scope.clone()));
    }
    if rt.id_token {
        let mint = Mint {
            client,
            user: &signed_in.user,
            scope: &request.scope,
            auth_time: signed_in.session.auth_time,
            nonce: request.nonce.as_deref(),
            access_token: token.as_ref().map(|t| t.access_token.as_str()),
            code: code.as_ref().map(|(_, c)| c.as_str()),
            sid: signed_in.session.sid.as_deref(),
            request: request.claims.as_ref(),
            // With no access token to fetch them from UserInfo, the scope claims
            // travel in the ID token (OIDC Core §5.4).
            claims_by_scope: !rt.code && !rt.token,
        };
        fields.push(("id_token".into(), id_token::mint(inner, mint).await?));
    }
    Ok(fields)
}

/// Writes an authorization code for the request; its row id and the code itself.
async fn new_code(
    inner: &Inner,
    client: &Application,
    request: &AuthorizationRequest,
    signed_in: &SignedIn,
    claims: Option<String>,
) -> Result<(i64, String), tollgate_store::StoreError> {
    let now = inner.clock.now();
    let code = NewSecret::generate(SecretKind::AuthorizationCode, inner.entropy.as_ref());
    let lifetime = i64::try_from(inner.settings.authorization_code_lifetime()).unwrap_or(60);
    let (challenge, method) = match &request.code_challenge {
        Some((c, m)) => (Some(c.clone()), Some(m.as_str().to_owned())),
        None => (None, None),
    };
    let new = NewAuthorizationCode {
        code_hash: code.hash,
        application_id: client.id,
        user_id: signed_in.user.id,
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        scope: request.scope.to_string(),
        resource: request.resources.clone(),
        code_challenge: challenge,
        code_challenge_method: method,
        nonce: request.nonce.clone(),
        claims,
        auth_time: signed_in.session.auth_time,
        expires_at: now + lifetime,
        dpop_jkt: request.dpop_jkt.clone(),
        sid: signed_in.session.sid.clone(),
    };
    let id = inner.store.insert_authorization_code(&new, now).await?;
    Ok((id, code.plaintext))
}

fn redirect_error(
    inner: &Inner,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    error: &OAuthError,
) -> Response {
    let mut fields = vec![
        ("error".to_owned(), error.code.as_str().to_owned()),
        ("error_description".to_owned(), error.description.clone()),
    ];
    if let Some(state) = state {
        fields.push(("state".into(), state.to_owned()));
    }
    fields.push(("iss".into(), inner.settings.issuer.clone()));
    respond(inner, deliver(redirect_uri, mode, fields))
}

/// Sends `error` to the client of a valid request, where its answer would have gone.
fn refuse(inner: &Inner, request: &AuthorizationRequest, error: &OAuthError) -> Response {
    redirect_error(
        inner,
        &request.redirect_uri,
        request.response_mode,
        request.state.as_deref(),
        error,
    )
}

#[derive(Serialize)]
struct FormPostPage<'a> {
    static_base: String,
    action: &'a str,
    fields: &'a [(String, String)],
    script: &'a str,
}

fn respond(inner: &Inner, delivery: Delivery) -> Response {
    match delivery {
        Delivery::Redirect(location) => pages::redirect(&location),
        Delivery::FormPost { action, fields } => {
            let response = pages::render(
                &inner.templates,
                StatusCode::OK,
                "form_post.html",
                "en",
                FormPostPage {
                    static_base: inner.endpoints.path("/static"),
                    action: &action,
                    fields: &fields,
                    script: FORM_POST_SCRIPT,
                },
            );
            let script_hash = STANDARD.encode(Sha256::digest(FORM_POST_SCRIPT.as_bytes()));
            let csp = format!(
                "default-src 'none'; style-src 'self'; script-src 'sha256-{script_hash}'; \
                 form-action {}; frame-ancestors 'none'; base-uri 'none'",
                form_action_source(&action)
            );
            pages::secure(response, &csp)
        }
    }
}

/// The CSP source that lets the form_post page submit to the client.
fn form_action_source(action: &str) -> String {
    match action.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => format!("{}:", action.split(':').next().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::form_action_source;

    #[test]
    fn form_action_is_the_clients_origin() {
        assert_eq!(
            form_action_source("https://a.example:8443/cb?x=1"),
            "https://a.example:8443"
        );
        assert_eq!(
            form_action_source("com.example.app:/cb"),
            "com.example.app:"
        );
    }
}
