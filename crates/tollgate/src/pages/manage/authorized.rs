//! `/o/authorized_tokens/`: what the user granted to which client; revoking
//! takes back the tokens and the remembered consent (DOT's authorized tokens).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use minijinja::context;

use crate::pages::extract::Submission;

use crate::pages::extract::Visitor;

use super::page;

use super::see_other;
use crate::events::Event;
use crate::oidc::backchannel;
use crate::pages::PageResult;
use crate::provider::Shared;

pub(crate) async fn list(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
) -> PageResult {
    let now = inner.clock.now();
    let granted: Vec<_> = inner
        .store
        .authorized_applications(user.id, now)
        .await?
        .into_iter()
        .map(|g| {
            context! {
                application_id => g.application_id,
                client_id => g.client_id,
                name => g.name,
                scopes => g.scope.split_whitespace().map(str::to_owned).collect::<Vec<_>>(),
                granted_at => g.granted_at,
                last_used_at => g.last_used_at,
                live_tokens => g.live_tokens,
            }
        })
        .collect();
    let context = context! { authorizations => granted };
    Ok(page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "authorized_tokens.html",
        context,
    ))
}

pub(crate) async fn revoke(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    Path(application_id): Path<i64>,
    Submission(_): Submission,
) -> PageResult {
    let now = inner.clock.now();
    let sessions = inner
        .store
        .user_session_clients(user.id, Some(application_id), now)
        .await?;
    inner
        .store
        .revoke_authorization(user.id, application_id, now)
        .await?;
    backchannel::authorization_revoked(&inner, user.id, application_id, sessions).await;
    inner.events.emit(&Event::AuthorizationRevoked {
        user_id: user.id,
        application_id,
    });
    Ok(see_other(&inner, "/authorized_tokens/"))
}
