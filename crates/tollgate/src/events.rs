//! What happened, for audit logs: DOT's `app_authorized` signal and its kin.

/// Something an audit log records. New kinds may be added, so match with `_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Tokens were issued, by the token endpoint or the authorization endpoint.
    TokenIssued {
        /// The client they were issued to.
        client_id: &'a str,
        /// The end-user's id; `None` for client credentials.
        user_id: Option<i64>,
        /// The grant as the request named it, or `implicit` for the authorization endpoint.
        grant_type: &'a str,
        /// The scopes granted.
        scope: &'a str,
    },
    /// A client revoked one of its tokens (RFC 7009).
    TokenRevoked {
        /// The client that revoked it.
        client_id: &'a str,
        /// The token's end-user; `None` for a client's own token.
        user_id: Option<i64>,
    },
    /// A user approved a client's request on the consent page.
    ConsentGranted {
        /// The client.
        client_id: &'a str,
        /// The user who approved.
        user_id: i64,
        /// The scopes approved.
        scope: &'a str,
    },
    /// A user signed out through RP-initiated logout.
    SignedOut {
        /// The user.
        user_id: i64,
        /// Access and refresh tokens revoked with the session.
        tokens_revoked: u64,
    },
    /// A user took back what they granted a client, on the authorized-tokens page.
    AuthorizationRevoked {
        /// The user.
        user_id: i64,
        /// The client's database id.
        application_id: i64,
    },
    /// A staff member changed something on the admin pages.
    StaffAction {
        /// The staff member.
        staff_user_id: i64,
        /// What they did, such as `user deactivated` or `key rotated`.
        action: &'a str,
        /// What it was done to: a username, a client id, a key id.
        subject: &'a str,
    },
    /// A username and password did not match (sign-in page or password grant).
    LoginFailed {
        /// The username tried.
        username: &'a str,
        /// The client's IP address, or `unknown`.
        address: &'a str,
    },
}

/// Receives every [`Event`]. Called on the request's task, so it must not block:
/// hand slow work (a database write, a queue) to a channel or a spawned task.
///
/// ```
/// use tollgate::events::{Event, Events};
///
/// struct Audit(std::sync::mpsc::Sender<String>);
///
/// impl Events for Audit {
///     fn emit(&self, event: &Event<'_>) {
///         let _ = self.0.send(format!("{event:?}"));
///     }
/// }
/// ```
pub trait Events: Send + Sync + 'static {
    /// One event, as it happens.
    fn emit(&self, event: &Event<'_>);
}

/// The default: each event as a `tracing` record with the target `tollgate::audit`.
pub struct LogEvents;

impl Events for LogEvents {
    fn emit(&self, event: &Event<'_>) {
        tracing::info!(target: "tollgate::audit", ?event);
    }
}
