//! HTML pages: rendered from replaceable templates, sent with headers that keep
//! them out of frames and caches and allow no script but our own.

pub(crate) mod cookies;
pub(crate) mod csrf;
pub(crate) mod device;
pub(crate) mod extract;
pub(crate) mod i18n;
pub(crate) mod login;
pub(crate) mod manage;
pub(crate) mod session;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use std::borrow::Cow;
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;
use tollgate_core::model::Application;
use tollgate_store::StoreError;

use crate::provider::BuildError;

use crate::provider::Inner;

use crate::provider::Shared;

const TEMPLATES: [(&str, &str); 22] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("grant.html", include_str!("../../templates/grant.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
    (
        "signed_out.html",
        include_str!("../../templates/signed_out.html"),
    ),
    (
        "form_post.html",
        include_str!("../../templates/form_post.html"),
    ),
    ("manage.html", include_str!("../../templates/manage.html")),
    (
        "applications.html",
        include_str!("../../templates/applications.html"),
    ),
    (
        "application.html",
        include_str!("../../templates/application.html"),
    ),
    (
        "application_form.html",
        include_str!("../../templates/application_form.html"),
    ),
    (
        "application_delete.html",
        include_str!("../../templates/application_delete.html"),
    ),
    (
        "authorized_tokens.html",
        include_str!("../../templates/authorized_tokens.html"),
    ),
    ("admin.html", include_str!("../../templates/admin.html")),
    (
        "admin_applications.html",
        include_str!("../../templates/admin_applications.html"),
    ),
    (
        "admin_users.html",
        include_str!("../../templates/admin_users.html"),
    ),
    (
        "admin_tokens.html",
        include_str!("../../templates/admin_tokens.html"),
    ),
    (
        "admin_keys.html",
        include_str!("../../templates/admin_keys.html"),
    ),
    ("device.html", include_str!("../../templates/device.html")),
    (
        "device_confirm.html",
        include_str!("../../templates/device_confirm.html"),
    ),
    (
        "device_done.html",
        include_str!("../../templates/device_done.html"),
    ),
];

pub(crate) const STYLESHEET: &str = include_str!("../../static/tollgate.css");
/// The one script of the pages (the copy button), served from our origin as the CSP requires.
pub(crate) const SCRIPT: &str = include_str!("../../static/tollgate.js");

/// The default templates, by name.
pub(crate) fn default_templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    TEMPLATES.into_iter()
}

/// The page templates: the defaults compiled in, replaced by the files of the
/// same name in `dir`, then by `overrides` (name, source).
pub(crate) fn templates(
    dir: Option<&Path>,
    overrides: Vec<(String, String)>,
) -> Result<Environment<'static>, BuildError> {
    let mut env = Environment::new();
    env.add_filter("datetime", datetime);
    crate::pages::i18n::install(&mut env);
    let problem = |name: &str, problem: String| BuildError::Template {
        name: name.to_owned(),
        problem,
    };
    let mut sources: Vec<(String, String)> = default_templates()
        .map(|(name, source)| (name.to_owned(), source.to_owned()))
        .collect();
    if let Some(dir) = dir {
        for (name, source) in &mut sources {
            match std::fs::read_to_string(dir.join(&*name)) {
                Ok(text) => *source = text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(problem(
                        name,
                        format!("cannot read it from {}: {e}", dir.display()),
                    ));
                }
            }
        }
    }
    sources.extend(overrides);
    for (name, source) in sources {
        env.add_template_owned(name.clone(), source)
            .map_err(|e| problem(&name, e.to_string()))?;
    }
    Ok(env)
}

/// A Unix time as `2026-11-28 17:49 UTC`, for the pages.
fn datetime(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60
    )
}

/// Content-Security-Policy of every page: nothing from elsewhere, no script.
/// No `form-action`: Chromium applies it to the redirects after a submission too,
/// and the sign-in and consent forms end in a redirect to the client.
pub(crate) const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The management pages may also run our one script file (the copy button).
pub(crate) const CSP_WITH_SCRIPT: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Renders page `name` in language `lang` (see [`crate::pages::i18n`]).
pub(crate) fn render(
    env: &Environment<'_>,
    status: StatusCode,
    name: &str,
    lang: &str,
    context: impl Serialize,
) -> Response {
    let context =
        minijinja::context! { lang, ..minijinja::Value::from(minijinja::value::Serde(&context)) };
    match env.get_template(name).and_then(|t| t.render(context)) {
        Ok(html) => secure((status, Html(html)).into_response(), CSP),
        Err(e) => {
            tracing::error!(template = name, error = %e, "template failed to render");
            secure(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<h1>Error</h1><p>The page could not be shown.</p>"),
                )
                    .into_response(),
                CSP,
            )
        }
    }
}

pub(crate) fn secure(mut response: Response, csp: &str) -> Response {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(CONTENT_SECURITY_POLICY, v);
    }
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not `no-referrer`: under it browsers send `Origin: null` with our own forms.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    static_base: String,
    title: &'a str,
    message: &'a str,
    error: Option<&'a str>,
}

/// Why a page request went no further, shown on the error page (no
/// redirect: for requests no client may be told about). Handlers return
/// `Result<_, PageError>` and use `?`; [`render_errors`] renders it in the
/// visitor's language.
#[derive(Debug, Clone)]
pub(crate) struct PageError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// The OAuth error code shown beside the message, when there is one.
    code: Option<&'static str>,
    outage: bool,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        PageError {
            status,
            message: message.into(),
            code: None,
            outage: false,
        }
    }

    /// The page names the OAuth error code too.
    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn not_found() -> Self {
        PageError::new(StatusCode::NOT_FOUND, "There is no such page.")
    }
}

/// A storage failure: the detail goes to the log, the visitor gets a generic
/// page; an outage is asked to be retried later.
impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        let outage = crate::http::outage::is_outage(&e);
        if outage {
            tracing::warn!(error = %e, "the database is unavailable");
        } else {
            tracing::error!(error = %e, "storage failed");
        }
        PageError {
            outage,
            ..PageError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is unavailable. Try again shortly.",
            )
        }
    }
}

pub(crate) type PageResult<T = Response> = Result<T, PageError>;

/// Left in the response for [`render_errors`], which has the templates.
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The layer of the pages: a [`PageError`] a handler returned becomes the error page.
pub(crate) async fn render_errors(
    State(inner): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<PageError>() {
        Some(error) => error.render(&inner),
        None => response,
    }
}

impl PageError {
    /// The error page (no redirect: for requests no client may be told about).
    fn render(&self, inner: &Inner) -> Response {
        let title = if self.status.is_server_error() {
            "Something went wrong"
        } else {
            "This request cannot be completed"
        };
        let page = render(
            &inner.templates,
            self.status,
            "error.html",
            crate::pages::i18n::current(),
            ErrorPage {
                static_base: inner.endpoints.path("/static"),
                title,
                message: &self.message,
                error: self.code,
            },
        );
        match self.outage {
            true => crate::http::outage::retry_later(page),
            false => page,
        }
    }
}

/// What the pages call a client: its name, or its `client_id` when it has none.
pub(crate) fn client_name(client: &Application) -> &str {
    if client.name.is_empty() {
        &client.client_id
    } else {
        &client.name
    }
}

/// A request POSTed from another site comes without our `SameSite=Lax` session
/// cookie; sent on as a GET of the same parameters (a 303), the browser's
/// top-level navigation carries it.
pub(crate) fn as_get(path: &str, pairs: &[(String, String)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut response = redirect(&format!("{path}?{query}"));
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// Sends the visitor to sign in (on Tollgate's page, or the application's own
/// `login_url`), and from there back to the local path `next`.
pub(crate) fn to_login(inner: &Inner, next: &str, login_hint: Option<&str>) -> Response {
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("next", next);
    if let Some(hint) = login_hint {
        login.append_pair("login_hint", hint);
    }
    let login = match &inner.login_url {
        Some(url) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}{}", login.finish())
        }
        None => format!(
            "{}/login/?{}",
            inner.endpoints.public_base(),
            login.finish()
        ),
    };
    redirect(&login)
}

/// A 302 to `location`, never cached. Locations are built from registered URIs
/// and local paths, printable ASCII; anything else gets a 400, not a redirect.
pub(crate) fn redirect(location: &str) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    let Ok(location) = HeaderValue::from_str(location) else {
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    *response.status_mut() = StatusCode::FOUND;
    response.headers_mut().insert(LOCATION, location);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::datetime;

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(datetime(1_795_887_000), "2026-11-28 17:30 UTC");
        assert_eq!(datetime(-1), "1969-12-31 23:59 UTC");
    }
}
