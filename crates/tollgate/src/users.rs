//! Who can sign in: Tollgate's own users table by default, or the embedding
//! application's user directory.

use std::future::Future;
use std::pin::Pin;

pub use tollgate_core::model::User;

/// A directory's answer: the user, `None` when the credentials do not match.
pub type DirectoryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<User>, DirectoryError>> + Send + 'a>>;

/// The directory could not answer (its database is down, …). The sign-in page
/// shows "unavailable", never "wrong password".
#[derive(Debug, thiserror::Error)]
#[error("user directory: {0}")]
pub struct DirectoryError(pub String);

/// The application's own users. Tollgate asks it to check a username and
/// password (on the sign-in page and for the password grant) and keeps a copy of
/// the user it returns in its users table, under the same `id`, which becomes the
/// OpenID Connect subject. Tokens, sessions and UserInfo read that copy, so they
/// cost no call into the directory; [`Provider::sync_user`](crate::Provider::sync_user)
/// updates it (to deactivate a user at once, say), and every sign-in refreshes it.
///
/// With a directory, the users table holds only these copies: do not also create
/// users with `tollgate createuser` in the same database.
///
/// ```
/// use tollgate::users::{DirectoryFuture, User, UserDirectory};
///
/// struct OneUser;
///
/// impl UserDirectory for OneUser {
///     fn authenticate<'a>(&'a self, username: &'a str, password: &'a str) -> DirectoryFuture<'a> {
///         Box::pin(async move {
///             // Compare against a password hash in real life.
///             Ok((username == "ada" && password == "analytical").then(|| User {
///                 email: "ada@example.com".into(),
///                 email_verified: true,
///                 given_name: "Ada".into(),
///                 family_name: "Lovelace".into(),
///                 ..User::new(1815, "ada")
///             }))
///         })
///     }
/// }
/// ```
pub trait UserDirectory: Send + Sync + 'static {
    /// The active user with this username and password, or `Ok(None)`. Failed
    /// attempts are throttled by Tollgate before this is called; the check
    /// itself should take the same time whether or not the username exists.
    fn authenticate<'a>(&'a self, username: &'a str, password: &'a str) -> DirectoryFuture<'a>;
}
