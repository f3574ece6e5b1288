//! Which scopes a client may ask for: DOT's `SCOPES_BACKEND_CLASS`.

use tollgate_core::model::Application;

/// Narrows the server's scopes per client. A request for a scope outside
/// [`available`](ScopePolicy::available) gets `invalid_scope`, at the
/// authorization endpoint and the token endpoint alike.
///
/// ```
/// use tollgate::core::model::Application;
/// use tollgate::scope_policy::ScopePolicy;
///
/// /// Only first-party clients (client ids starting `internal-`) get `admin`.
/// struct AdminForInternalClients;
///
/// impl ScopePolicy for AdminForInternalClients {
///     fn available(&self, client: &Application, known: Vec<String>) -> Vec<String> {
///         let internal = client.client_id.starts_with("internal-");
///         known.into_iter().filter(|s| internal || s != "admin").collect()
///     }
/// }
/// ```
pub trait ScopePolicy: Send + Sync + 'static {
    /// The scopes `client` may be granted, out of every scope the server knows.
    /// The default: all of them.
    fn available(&self, client: &Application, known: Vec<String>) -> Vec<String> {
        let _ = client;
        known
    }

    /// The scopes granted when `client` names none (`default_scopes` is the
    /// configured list). Scopes outside [`available`](ScopePolicy::available)
    /// are dropped from it. The default: the configured list.
    fn default_scopes(&self, client: &Application, default_scopes: Vec<String>) -> Vec<String> {
        let _ = client;
        default_scopes
    }
}

/// Every configured scope, for every client.
pub struct AllScopes;

impl ScopePolicy for AllScopes {}
