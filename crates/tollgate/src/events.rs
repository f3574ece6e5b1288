//! What happened, for audit logs: DOT's `app_authorized` signal and its kin.

/// Something an audit log records. New kinds may be added, so match with `_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Tokens were issued: by the token endpoint (`grant_type` as sent) or by the
    /// authorization endpoint (`implicit`). `user_id` is `None` for client credentials.
    TokenIssued {
        client_id: &'a str,
        user_id: Option<i64>,
        grant_type: &'a str,
        scope: &'a str,
    },
    /// A client revoked one of its tokens (RFC 7009).
    TokenRevoked {
        client_id: &'a str,
        user_id: Option<i64>,
    },
    /// A user approved a client's request for these scopes on the consent page.
    ConsentGranted {
        client_id: &'a str,
        user_id: i64,
        scope: &'a str,
    },
    /// A user signed out through RP-initiated logout; `tokens_revoked` counts
    /// the access and refresh tokens revoked with the session.
    SignedOut { user_id: i64, tokens_revoked: u64 },
    /// A username and password did not match (sign-in page or password grant).
    LoginFailed { username: &'a str, address: &'a str },
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
