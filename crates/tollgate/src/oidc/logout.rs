//! RP-Initiated Logout `/o/logout/` (RP-Initiated Logout 1.0): ends the login
//! session, after confirmation when the settings or the request call for it, and
//! sends the browser back only to an exactly registered post-logout URI.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;
use tollgate_core::logout::{self, Hint, LogoutPolicy};
use tollgate_core::{Params, SecretHash};
use url::form_urlencoded;

use crate::events::Event;
use crate::http::form;
use crate::oidc::backchannel;
use crate::oidc::claims::subject;
use crate::oidc::id_token::read_hint;
use crate::pages;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::pages::cookies;
use crate::pages::csrf;
use crate::pages::extract::from_our_page;
use crate::pages::i18n;
use crate::pages::session;
use crate::pages::session::SignedIn;
use crate::provider::Inner;
use crate::provider::Shared;

/// The request parameters the confirmation form carries forward.
const CARRIED: [&str; 6] = [
    "id_token_hint",
    "logout_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

pub(crate) async fn get(State(inner): State<Shared>, headers: HeaderMap, uri: Uri) -> PageResult {
    let pairs = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned();
    let (params, _) = Params::from_pairs_lenient(pairs);
    handle(&inner, &headers, &params, false).await
}

pub(crate) async fn post(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let params = form::params(&headers, &body)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.description))?;
    if params.get("csrf_token").is_none() {
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        return Ok(pages::as_get(&inner.endpoints.path("/logout/"), &pairs));
    }
    from_our_page(&inner, &headers, &params)?;
    if params.get("allow").is_none() {
        return Ok(signed_out_page(
            &inner,
            StatusCode::OK,
            i18n::language(params.get("ui_locales"), &headers),
            "Still signed in",
            "You did not sign out.",
        ));
    }
    handle(&inner, &headers, &params, true).await
}

async fn handle(
    inner: &Shared,
    headers: &HeaderMap,
    params: &Params,
    confirmed: bool,
) -> PageResult {
    let settings = &inner.settings;
    let hint = match params.get("id_token_hint") {
        Some(token) => {
            read_hint(
                inner,
                token,
                settings.oidc_rp_initiated_logout_accept_expired_tokens,
            )
            .await
        }
        None => Hint::Absent,
    };
    let named = match &hint {
        Hint::Valid { client_id, .. } => Some(client_id.as_str()),
        _ => params.get("client_id"),
    };
    let client = match named {
        Some(id) => inner.client(id).await?,
        None => None,
    };
    let signed_in = session::current(inner, headers).await?;
    let session_subject = signed_in.as_ref().map(|s| subject(&s.user));
    let policy = LogoutPolicy {
        always_prompt: settings.oidc_rp_initiated_logout_always_prompt,
        strict_redirect_uris: settings.oidc_rp_initiated_logout_strict_redirect_uris,
    };
    let plan = logout::plan(
        &hint,
        params.get("client_id"),
        client.as_deref(),
        params.get("post_logout_redirect_uri"),
        params.get("state"),
        session_subject.as_deref(),
        policy,
    )
    .map_err(|message| {
        tracing::debug!(%message, "logout request refused");
        PageError::new(StatusCode::BAD_REQUEST, message)
    })?;
    if let Some(signed_in) = signed_in
        .as_ref()
        .filter(|_| plan.must_prompt && !confirmed)
    {
        let application = client.as_deref().map(pages::client_name);
        return Ok(confirmation_page(
            inner,
            headers,
            params,
            signed_in,
            application,
        ));
    }
    let mut response = match &plan.redirect {
        Some(location) => pages::redirect(location),
        None => signed_out_page(
            inner,
            StatusCode::OK,
            i18n::language(params.get("ui_locales"), headers),
            "Signed out",
            "You are signed out.",
        ),
    };
    if let Some(signed_in) = signed_in {
        end_session(inner, headers, &signed_in).await?;
        // The cookie goes too, so the browser stops sending a dead session.
        response.headers_mut().append(
            SET_COOKIE,
            inner.cookies.set(inner.cookies.session, "", Some(0)),
        );
    }
    Ok(response)
}

async fn end_session(
    inner: &Shared,
    headers: &HeaderMap,
    signed_in: &SignedIn,
) -> Result<(), tollgate_store::StoreError> {
    if let Some(secret) = cookies::get(headers, inner.cookies.session) {
        let clients = inner.store.delete_session(&SecretHash::of(secret)).await?;
        backchannel::sessions_ended(inner, clients).await;
    }
    let tokens_revoked = if inner.settings.oidc_rp_initiated_logout_delete_tokens {
        inner
            .store
            .revoke_user_tokens(signed_in.user.id, inner.clock.now())
            .await?
    } else {
        0
    };
    inner.events.emit(&Event::SignedOut {
        user_id: signed_in.user.id,
        tokens_revoked,
    });
    Ok(())
}

#[derive(Serialize)]
struct ConfirmationPage<'a> {
    static_base: String,
    action: String,
    application: Option<&'a str>,
    username: &'a str,
    csrf_token: &'a str,
    fields: Vec<(&'a str, &'a str)>,
}

fn confirmation_page(
    inner: &Inner,
    headers: &HeaderMap,
    params: &'_ Params,
    signed_in: &SignedIn,
    application: Option<&str>,
) -> Response {
    let token = csrf::form_token(inner, headers);
    let fields = CARRIED
        .iter()
        .filter_map(|name| Some((*name, params.get(name)?)))
        .collect();
    let mut response = pages::render(
        &inner.templates,
        StatusCode::OK,
        "logout.html",
        i18n::language(params.get("ui_locales"), headers),
        ConfirmationPage {
            static_base: inner.endpoints.path("/static"),
            action: inner.endpoints.path("/logout/"),
            application,
            username: &signed_in.user.username,
            csrf_token: &token.token,
            fields,
        },
    );
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

#[derive(Serialize)]
struct SignedOutPage<'a> {
    static_base: String,
    title: &'a str,
    message: &'a str,
}

fn signed_out_page(
    inner: &Inner,
    status: StatusCode,
    lang: &str,
    title: &str,
    message: &str,
) -> Response {
    pages::render(
        &inner.templates,
        status,
        "signed_out.html",
        lang,
        SignedOutPage {
            static_base: inner.endpoints.path("/static"),
            title,
            message,
        },
    )
}
