//! OpenID Connect Back-Channel Logout 1.0: each client with a
//! `backchannel_logout_uri` that a session signed in to is POSTed a signed
//! logout token when the session ends (§2.5), and when the user revokes the
//! client's authorization. Deliveries run in a task of their own, through the
//! outbound client's SSRF defences, retried on no answer or a 5xx
//! (`backchannel_logout_attempts`, waits from `backchannel_logout_retry_seconds`
//! doubling): the request that ended the session never waits for them. A
//! delivery under way when its process stops is lost; the token would have
//! expired by a restart anyway.

use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tollgate_core::logout_token::{LogoutTokenClaims, TYP};
use tollgate_core::model::{Application, Session, SessionClient};
use tollgate_core::secret::random_id;
use tollgate_store::StoreError;
use url::Url;

use crate::oidc::id_token::sign_for;
use crate::outbound::Limits;
use crate::provider::{Inner, Shared};

/// Deliveries under way at once, per process: past it a logout token is not
/// sent (and the log says so), so relying parties that never answer cannot
/// pile up tasks without end.
pub(crate) const MAX_IN_FLIGHT: usize = 1024;

/// One POST: §2.5 gives the client no time limit; five seconds keeps a slow
/// one from holding a delivery long. Nothing of its answer is read.
const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(5),
    max_bytes: 0,
};

/// Notes that `session` signed in to `client`, if the client is to be told
/// when the session ends.
pub(crate) async fn signed_in_to(
    inner: &Inner,
    session: &Session,
    client: &Application,
) -> Result<(), StoreError> {
    if client.security.backchannel_logout_uri.is_none() {
        return Ok(());
    }
    inner
        .store
        .add_session_client(session.id, client.id, inner.clock.now())
        .await
}

/// Tells each client that the session it signed in through has ended.
pub(crate) async fn sessions_ended(inner: &Shared, ended: Vec<SessionClient>) {
    for session in ended {
        if let Some(client) = client(inner, session.application_id).await {
            notify(inner, &client, session.user_id, session.sid.as_deref()).await;
        }
    }
}

/// Tells a client whose authorization the user revoked that the user's
/// sessions there are over: every one at once (a token with no `sid`), or
/// session by session for a client that requires `sid`.
pub(crate) async fn authorization_revoked(
    inner: &Shared,
    user_id: i64,
    application_id: i64,
    sessions: Vec<SessionClient>,
) {
    let Some(client) = client(inner, application_id).await else {
        return;
    };
    if !client.security.backchannel_logout_session_required {
        return notify(inner, &client, user_id, None).await;
    }
    for session in sessions.iter().filter(|s| s.sid.is_some()) {
        notify(inner, &client, user_id, session.sid.as_deref()).await;
    }
}

/// The client to tell, if it still has a back-channel logout URI.
async fn client(inner: &Inner, application_id: i64) -> Option<Application> {
    match inner.store.application_by_id(application_id).await {
        Ok(client) => client.filter(|c| c.security.backchannel_logout_uri.is_some()),
        Err(e) => {
            tracing::warn!(error = %e, application_id, "back-channel logout: the client could not be read");
            None
        }
    }
}

/// Signs a logout token for `client` and sends it off; a client that needs a
/// `sid` is not sent one without.
async fn notify(inner: &Shared, client: &Application, user_id: i64, sid: Option<&str>) {
    let Some(uri) = client.security.backchannel_logout_uri.as_deref() else {
        return;
    };
    if sid.is_none() && client.security.backchannel_logout_session_required {
        tracing::debug!(client_id = %client.client_id, "back-channel logout: no sid for a client that requires one");
        return;
    }
    let jti = random_id(16, inner.entropy.as_ref());
    let subject = user_id.to_string();
    let claims = LogoutTokenClaims {
        issuer: &inner.settings.issuer,
        client_id: &client.client_id,
        subject: &subject,
        sid,
        issued_at: inner.clock.now(),
        jti: &jti,
    }
    .to_json();
    let token = match sign_for(inner, client, &claims, TYP).await {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, client_id = %client.client_id, "back-channel logout: the token could not be signed");
            return;
        }
    };
    let Ok(url) = Url::parse(uri) else {
        return;
    };
    let Ok(permit) = inner.backchannel_deliveries.clone().try_acquire_owned() else {
        tracing::warn!(client_id = %client.client_id, "back-channel logout not sent: {MAX_IN_FLIGHT} deliveries are under way");
        return;
    };
    let client_id = client.client_id.clone();
    tokio::spawn(deliver(inner.clone(), client_id, url, token, permit));
}

/// POSTs the token until the client takes it, refuses it, or the attempts run
/// out, holding its place among the deliveries under way.
async fn deliver(
    inner: Shared,
    client_id: String,
    url: Url,
    token: String,
    _permit: OwnedSemaphorePermit,
) {
    let attempts = inner.settings.backchannel_logout_attempts;
    let mut wait = Duration::from_secs(inner.settings.backchannel_logout_retry_seconds);
    for attempt in 1..=attempts {
        let posted = inner
            .outbound
            .post_form(
                &url,
                &[("logout_token", &token)],
                LIMITS,
                "backchannel_logout",
            )
            .await;
        match posted {
            Ok(status) if status.is_success() => {
                tracing::debug!(%client_id, attempt, "back-channel logout delivered");
                return;
            }
            // §2.8: a 400 is the client's answer that the logout failed; asking again will not help.
            Ok(status) if status.is_client_error() => {
                tracing::warn!(%client_id, %status, "back-channel logout refused by the client");
                return;
            }
            Ok(status) => {
                tracing::warn!(%client_id, %status, attempt, "back-channel logout not taken")
            }
            Err(error) => tracing::warn!(%client_id, %error, attempt, "back-channel logout failed"),
        }
        if attempt < attempts {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
    tracing::warn!(%client_id, attempts, "back-channel logout given up");
}
