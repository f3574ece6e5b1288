//! `/o/applications/`: a user's own clients, registered, shown, changed and
//! deleted (DOT's application views). The secret of a confidential client is
//! generated, shown once, and can be replaced.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;
use tollgate_core::client::secret_read_back;
use tollgate_core::client_auth::TokenEndpointAuthMethod;
use tollgate_core::model::{Application, ApplicationChanges, ClientSecurity, NewApplication, User};
use tollgate_core::redirect_uri::split_list;
use tollgate_core::secret::random_id;
use tollgate_core::{ApplicationSpec, ClientType, GrantType, Params, SigningAlgorithm};

use crate::pages::extract::Submission;

use crate::pages::extract::Visitor;

use super::page;

use super::see_other;
use crate::credentials::generate_client_secret;
use crate::keys::sealing::Sealer;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::provider::Inner;
use crate::provider::Shared;

const ALGORITHMS: [&str; 4] = ["RS256", "ES256", "EdDSA", "HS256"];

/// A client as the pages show it: never its secret or the secret's hash.
#[derive(Serialize)]
pub(super) struct ApplicationView {
    id: i64,
    client_id: String,
    name: String,
    client_type: &'static str,
    grant_types: Vec<&'static str>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    allowed_origins: Vec<String>,
    algorithm: &'static str,
    skip_authorization: bool,
    require_pushed_authorization_requests: bool,
    /// The registered public keys, each as its `kid` (or its type when it has none).
    keys: Vec<String>,
    jwks_uri: Option<String>,
    dpop_bound_access_tokens: bool,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: bool,
    token_endpoint_auth_method: &'static str,
    owner_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> Self {
        ApplicationView {
            id: a.id,
            client_id: a.client_id,
            name: a.name,
            client_type: a.client_type.as_str(),
            grant_types: a.grant_types.iter().map(|g| g.as_str()).collect(),
            redirect_uris: a.redirect_uris,
            post_logout_redirect_uris: a.post_logout_redirect_uris,
            allowed_origins: a.allowed_origins,
            algorithm: a.algorithm.as_str(),
            skip_authorization: a.skip_authorization,
            require_pushed_authorization_requests: a.security.require_pushed_authorization_requests,
            keys: key_names(a.security.jwks.as_deref()),
            jwks_uri: a.security.jwks_uri.clone(),
            dpop_bound_access_tokens: a.security.dpop_bound_access_tokens,
            backchannel_logout_uri: a.security.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: a.security.backchannel_logout_session_required,
            token_endpoint_auth_method: a
                .security
                .token_endpoint_auth_method
                .unwrap_or(TokenEndpointAuthMethod::default_for(a.client_type))
                .as_str(),
            owner_id: a.owner_id,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

fn key_names(jwks: Option<&str>) -> Vec<String> {
    let set: serde_json::Value = jwks
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let keys = set["keys"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    keys.iter()
        .map(|key| {
            let name = key["kid"].as_str().or(key["kty"].as_str()).unwrap_or("?");
            name.to_owned()
        })
        .collect()
}

/// What the registration form holds, as typed, to show again beside its errors.
#[derive(Serialize, Default)]
struct Fields {
    name: String,
    client_type: String,
    grant_types: Vec<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    allowed_origins: String,
    algorithm: String,
}

impl Fields {
    fn read(params: &Params) -> Self {
        let text = |name: &str| params.get(name).unwrap_or_default().trim().to_owned();
        Fields {
            name: text("name"),
            client_type: text("client_type"),
            grant_types: GrantType::ALL
                .iter()
                .map(|g| g.as_str())
                .filter(|g| params.get(&format!("grant:{g}")).is_some())
                .map(str::to_owned)
                .collect(),
            redirect_uris: text("redirect_uris"),
            post_logout_redirect_uris: text("post_logout_redirect_uris"),
            allowed_origins: text("allowed_origins"),
            algorithm: text("algorithm"),
        }
    }

    fn of(a: &Application) -> Self {
        Fields {
            name: a.name.clone(),
            client_type: a.client_type.as_str().to_owned(),
            grant_types: a
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            redirect_uris: a.redirect_uris.join("\n"),
            post_logout_redirect_uris: a.post_logout_redirect_uris.join("\n"),
            allowed_origins: a.allowed_origins.join("\n"),
            algorithm: a.algorithm.as_str().to_owned(),
        }
    }

    /// The registration these fields ask for, checked by the rules every
    /// registration meets, or an error message for each field that breaks one.
    /// `registering`: the secret is about to be made, so it must be sealable.
    fn check(
        &self,
        inner: &Inner,
        registering: bool,
    ) -> Result<ApplicationSpec, BTreeMap<&'static str, String>> {
        let mut errors = BTreeMap::new();
        if self.name.is_empty() || self.name.chars().count() > 255 {
            errors.insert(
                "name",
                "Give the application a name (at most 255 characters).".to_owned(),
            );
        }
        let client_type = self.client_type.parse::<ClientType>();
        if let Err(e) = &client_type {
            errors.insert("client_type", e.clone());
        }
        let algorithm = self.algorithm.parse::<SigningAlgorithm>();
        match &algorithm {
            Err(e) => {
                errors.insert("algorithm", e.clone());
            }
            Ok(algorithm) if registering => {
                if let Err(e) = secret_sealer(inner, *algorithm, &ClientSecurity::default()) {
                    errors.insert("algorithm", e.to_owned());
                }
            }
            Ok(_) => {}
        }
        let (Ok(client_type), Ok(algorithm)) = (client_type, algorithm) else {
            return Err(errors);
        };
        let spec = ApplicationSpec {
            client_type,
            grant_types: self
                .grant_types
                .iter()
                .filter_map(|g| g.parse().ok())
                .collect(),
            redirect_uris: split_list(&self.redirect_uris),
            post_logout_redirect_uris: split_list(&self.post_logout_redirect_uris),
            allowed_origins: split_list(&self.allowed_origins),
            algorithm,
            security: Default::default(),
        };
        if let Err(e) = spec.validate(&inner.settings.allowed_redirect_uri_schemes) {
            errors
                .entry(e.field())
                .or_insert_with(|| capitalised(&e.to_string()));
        }
        if errors.is_empty() {
            Ok(spec)
        } else {
            Err(errors)
        }
    }
}

/// The sealer a new secret is sealed with: only for clients whose secret the
/// server reads back ([`secret_read_back`]).
fn secret_sealer<'a>(
    inner: &'a Inner,
    algorithm: SigningAlgorithm,
    security: &ClientSecurity,
) -> Result<Option<&'a Sealer>, &'static str> {
    match (secret_read_back(algorithm, security), inner.sealer.as_ref()) {
        (true, None) => Err(
            "HS256 and client_secret_jwt keep the client secret sealed, which this server \
             is not configured for (no secret_key): choose RS256, ES256 or EdDSA.",
        ),
        (true, sealer) => Ok(sealer),
        (false, _) => Ok(None),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The visitor's own client named by the path's id; anyone else's, or none, is a 404.
pub(crate) struct Owned {
    user: User,
    app: Application,
}

impl FromRequestParts<Shared> for Owned {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, inner: &Shared) -> Result<Self, Response> {
        let Visitor(user) = Visitor::from_request_parts(parts, inner).await?;
        let owned = async {
            let Ok(Path(id)) = Path::<i64>::from_request_parts(parts, inner).await else {
                return Err(PageError::not_found());
            };
            match inner.store.application_by_id(id).await? {
                Some(app) if app.owner_id == Some(user.id) => Ok(app),
                _ => Err(PageError::not_found()),
            }
        };
        let app = owned.await.map_err(IntoResponse::into_response)?;
        Ok(Owned { user, app })
    }
}

pub(crate) async fn list(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
) -> PageResult {
    let apps = inner.store.applications(Some(user.id)).await?;
    let context = context! { applications => Value::from(Serde(views(apps))) };
    Ok(page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "applications.html",
        context,
    ))
}

fn form_page(
    inner: &Inner,
    headers: &HeaderMap,
    user: &User,
    application: Option<&Application>,
    fields: &Fields,
    errors: &BTreeMap<&'static str, String>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let grants: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    let context = context! {
        application => Value::from(Serde(application.map(|a| ApplicationView::from(a.clone())))),
        fields => Value::from(Serde(fields)),
        errors => Value::from(Serde(errors)),
        grant_choices => grants,
        algorithm_choices => ALGORITHMS,
        hs256_available => inner.sealer.is_some(),
    };
    page(
        inner,
        headers,
        user,
        status,
        "application_form.html",
        context,
    )
}

pub(crate) async fn register_form(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
) -> Response {
    let fields = Fields {
        client_type: "confidential".into(),
        grant_types: vec![GrantType::AuthorizationCode.as_str().into()],
        algorithm: "RS256".into(),
        ..Fields::default()
    };
    form_page(&inner, &headers, &user, None, &fields, &BTreeMap::new())
}

pub(crate) async fn register(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    Submission(params): Submission,
) -> PageResult {
    let fields = Fields::read(&params);
    let spec = match fields.check(&inner, true) {
        Ok(spec) => spec,
        Err(errors) => return Ok(form_page(&inner, &headers, &user, None, &fields, &errors)),
    };
    let client_id = random_id(20, inner.entropy.as_ref());
    let sealer = secret_sealer(&inner, spec.algorithm, &spec.security).unwrap_or(None);
    let secret = (spec.client_type == ClientType::Confidential)
        .then(|| generate_client_secret(inner.entropy.as_ref(), sealer, &client_id));
    let new = NewApplication {
        client_secret_hash: secret.as_ref().map(|s| s.hash.clone()),
        client_secret_sealed: secret.as_ref().and_then(|s| s.sealed.clone()),
        owner_id: Some(user.id),
        ..spec.into_application(client_id, fields.name)
    };
    let app = inner
        .store
        .create_application(&new, inner.clock.now())
        .await?;
    Ok(detail_page(
        &inner,
        &headers,
        &user,
        StatusCode::CREATED,
        app,
        secret.map(|s| s.plaintext),
    ))
}

fn detail_page(
    inner: &Inner,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    app: Application,
    secret: Option<String>,
) -> Response {
    let context =
        context! { application => Value::from(Serde(ApplicationView::from(app))), secret };
    page(inner, headers, user, status, "application.html", context)
}

pub(crate) async fn detail(
    State(inner): State<Shared>,
    Owned { user, app }: Owned,
    headers: HeaderMap,
) -> Response {
    detail_page(&inner, &headers, &user, StatusCode::OK, app, None)
}

pub(crate) async fn update_form(
    State(inner): State<Shared>,
    Owned { user, app }: Owned,
    headers: HeaderMap,
) -> Response {
    let fields = Fields::of(&app);
    form_page(
        &inner,
        &headers,
        &user,
        Some(&app),
        &fields,
        &BTreeMap::new(),
    )
}

pub(crate) async fn update(
    State(inner): State<Shared>,
    Owned { user, app }: Owned,
    headers: HeaderMap,
    Submission(params): Submission,
) -> PageResult {
    // The type and algorithm stay what the secret was made for.
    let fields = Fields {
        client_type: app.client_type.as_str().to_owned(),
        algorithm: app.algorithm.as_str().to_owned(),
        ..Fields::read(&params)
    };
    let spec = match fields.check(&inner, false) {
        Ok(spec) => spec,
        Err(errors) => {
            return Ok(form_page(
                &inner,
                &headers,
                &user,
                Some(&app),
                &fields,
                &errors,
            ));
        }
    };
    let changes = ApplicationChanges {
        name: fields.name,
        grant_types: spec.grant_types,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        allowed_origins: spec.allowed_origins,
        // The form does not offer it: the registration keeps what it has.
        security: app.security.clone(),
    };
    inner
        .store
        .update_application(app.id, &changes, inner.clock.now())
        .await?;
    inner.clients.forget(&app.client_id);
    Ok(see_other(&inner, &format!("/applications/{}/", app.id)))
}

pub(crate) async fn delete_form(
    State(inner): State<Shared>,
    Owned { user, app }: Owned,
    headers: HeaderMap,
) -> Response {
    let (action, cancel) = (
        format!("/applications/{}/delete/", app.id),
        format!("/applications/{}/", app.id),
    );
    let context = delete_context(app, &action, &cancel);
    page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "application_delete.html",
        context,
    )
}

/// The deletion page's context: the client, where the form goes, and where
/// Cancel goes (paths below the prefix).
pub(super) fn delete_context(app: Application, action: &str, cancel: &str) -> Value {
    context! { application => Value::from(Serde(ApplicationView::from(app))), action, cancel }
}

pub(crate) async fn delete(
    State(inner): State<Shared>,
    Owned { app, .. }: Owned,
    Submission(_): Submission,
) -> PageResult {
    delete_application(&inner, &app).await?;
    Ok(see_other(&inner, "/applications/"))
}

/// Deletes a client with everything issued to it.
pub(super) async fn delete_application(inner: &Inner, app: &Application) -> PageResult<()> {
    inner.store.delete_application(app.id).await?;
    inner.clients.forget(&app.client_id);
    Ok(())
}

pub(crate) async fn new_secret(
    State(inner): State<Shared>,
    Owned { user, app }: Owned,
    headers: HeaderMap,
    Submission(_): Submission,
) -> PageResult {
    if app.client_type == ClientType::Public {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "A public client has no secret.",
        ));
    }
    let sealer = secret_sealer(&inner, app.algorithm, &app.security)
        .map_err(|message| PageError::new(StatusCode::CONFLICT, message))?;
    let secret = generate_client_secret(inner.entropy.as_ref(), sealer, &app.client_id);
    let now = inner.clock.now();
    inner
        .store
        .set_client_secret(app.id, &secret.hash, secret.sealed.as_deref(), now)
        .await?;
    inner.clients.forget(&app.client_id);
    Ok(detail_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        app,
        Some(secret.plaintext),
    ))
}

/// Clients as the list pages show them.
pub(super) fn views(apps: Vec<Application>) -> Vec<ApplicationView> {
    apps.into_iter().map(Into::into).collect()
}
