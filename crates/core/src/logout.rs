//! RP-Initiated Logout 1.0 §2–3: whether a logout request may send the browser
//! back to the client, and whether the user must confirm first.

use crate::client::ClientType;
use crate::model::Application;

/// What the caller found in `id_token_hint` after checking its signature and issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// No `id_token_hint` was sent.
    Absent,
    /// Signed by this server for `client_id`, about `subject`.
    Valid {
        /// The hint's `aud`: the client it was issued to.
        client_id: String,
        /// The hint's `sub`: the user it was about.
        subject: String,
    },
    /// Unsigned, badly signed, from another issuer, or expired when that is refused.
    Invalid,
}

/// DOT's `oidc_rp_initiated_logout_*` settings that shape the decision.
#[derive(Debug, Clone, Copy)]
pub struct LogoutPolicy {
    /// `oidc_rp_initiated_logout_always_prompt`: ask even when the hint names the signed-in user.
    pub always_prompt: bool,
    /// http post-logout URIs only for confidential clients.
    pub strict_redirect_uris: bool,
}

/// What a logout request that passed the checks leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutPlan {
    /// Where to send the browser afterwards, `state` included; `None`: the signed-out page.
    pub redirect: Option<String>,
    /// Ask the signed-in user to confirm before signing them out.
    pub must_prompt: bool,
}

/// Checks a logout request. `client` is the application named by the hint or
/// `client_id`; `session_subject` the signed-in user, if any.
pub fn plan(
    hint: &Hint,
    client_id: Option<&str>,
    client: Option<&Application>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
    session_subject: Option<&str>,
    policy: LogoutPolicy,
) -> Result<LogoutPlan, String> {
    let hint_client = match hint {
        Hint::Invalid => {
            return Err("The ID token hint is expired, malformed or not issued here.".into());
        }
        Hint::Valid { client_id, .. } => Some(client_id.as_str()),
        Hint::Absent => None,
    };
    if let (Some(from_hint), Some(given)) = (hint_client, client_id)
        && from_hint != given
    {
        return Err("The ID token hint was issued to another client than client_id names.".into());
    }
    let redirect = match post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let Some(client) =
                client.filter(|c| Some(c.client_id.as_str()) == hint_client.or(client_id))
            else {
                return Err("A post-logout redirect needs the client named by client_id or the ID token hint.".into());
            };
            // Exact text, as for redirect URIs, but no loopback port leeway: logout has no PKCE-like binding.
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err(
                    "The post-logout redirect URI is not registered for this client.".into(),
                );
            }
            if policy.strict_redirect_uris
                && client.client_type == ClientType::Public
                && uri.starts_with("http:")
            {
                return Err("Public clients may not be sent back to http post-logout URIs.".into());
            }
            Some(with_state(uri, state))
        }
    };
    let hint_subject = match hint {
        Hint::Valid { subject, .. } => Some(subject.as_str()),
        _ => None,
    };
    // §2: the OP MUST ask unless a hint shows the request comes from the signed-in
    // user's client; nobody signed in, nothing to confirm.
    let must_prompt =
        session_subject.is_some_and(|user| policy.always_prompt || hint_subject != Some(user));
    Ok(LogoutPlan {
        redirect,
        must_prompt,
    })
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    match state {
        None => uri.to_owned(),
        Some(state) => {
            let joiner = if uri.contains('?') { '&' } else { '?' };
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish();
            format!("{uri}{joiner}{encoded}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{GrantType, SigningAlgorithm};

    fn client(client_type: ClientType) -> Application {
        Application {
            id: 1,
            client_id: "web".into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![
                "https://rp.example/bye".into(),
                "http://rp.example/bye".into(),
            ],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            userinfo_signed: false,
            skip_authorization: false,
            name: String::new(),
            owner_id: None,
            created_at: 0,
            updated_at: 0,
            security: Default::default(),
        }
    }

    const POLICY: LogoutPolicy = LogoutPolicy {
        always_prompt: false,
        strict_redirect_uris: true,
    };

    fn valid(sub: &str) -> Hint {
        Hint::Valid {
            client_id: "web".into(),
            subject: sub.into(),
        }
    }

    #[test]
    fn a_valid_hint_and_registered_uri_redirect_with_state() {
        let c = client(ClientType::Confidential);
        let p = plan(
            &valid("1"),
            None,
            Some(&c),
            Some("https://rp.example/bye"),
            Some("a b"),
            Some("1"),
            POLICY,
        )
        .unwrap();
        assert_eq!(
            p.redirect.as_deref(),
            Some("https://rp.example/bye?state=a+b")
        );
        assert!(!p.must_prompt);
        let p = plan(
            &valid("1"),
            Some("web"),
            Some(&c),
            Some("https://rp.example/bye"),
            None,
            None,
            POLICY,
        )
        .unwrap();
        assert_eq!(p.redirect.as_deref(), Some("https://rp.example/bye"));
    }

    #[test]
    fn never_a_redirect_to_what_is_not_exactly_registered() {
        let c = client(ClientType::Confidential);
        for uri in [
            "https://rp.example/bye?foo=bar",
            "https://rp.example/bye/",
            "https://evil.example/bye",
        ] {
            assert!(
                plan(
                    &valid("1"),
                    None,
                    Some(&c),
                    Some(uri),
                    None,
                    Some("1"),
                    POLICY
                )
                .is_err(),
                "{uri}"
            );
        }
        // No client to check the URI against.
        assert!(
            plan(
                &Hint::Absent,
                None,
                None,
                Some("https://rp.example/bye"),
                None,
                None,
                POLICY
            )
            .is_err()
        );
        // A bad hint, or a hint for another client than client_id.
        assert!(
            plan(
                &Hint::Invalid,
                None,
                Some(&c),
                Some("https://rp.example/bye"),
                None,
                None,
                POLICY
            )
            .is_err()
        );
        assert!(plan(&Hint::Invalid, None, None, None, None, None, POLICY).is_err());
        assert!(
            plan(
                &valid("1"),
                Some("other"),
                Some(&c),
                None,
                None,
                None,
                POLICY
            )
            .is_err()
        );
        // A client that is not the one named.
        assert!(
            plan(
                &Hint::Absent,
                Some("other"),
                Some(&c),
                Some("https://rp.example/bye"),
                None,
                None,
                POLICY
            )
            .is_err()
        );
        // Strict: a public client's http URI.
        let public = client(ClientType::Public);
        assert!(
            plan(
                &valid("1"),
                None,
                Some(&public),
                Some("http://rp.example/bye"),
                None,
                None,
                POLICY
            )
            .is_err()
        );
        let lax = LogoutPolicy {
            strict_redirect_uris: false,
            ..POLICY
        };
        assert!(
            plan(
                &valid("1"),
                None,
                Some(&public),
                Some("http://rp.example/bye"),
                None,
                None,
                lax
            )
            .is_ok()
        );
    }

    #[test]
    fn prompting() {
        let c = client(ClientType::Confidential);
        let uri = Some("https://rp.example/bye");
        let prompt = |hint: &Hint, uri, session, policy| {
            plan(hint, Some("web"), Some(&c), uri, None, session, policy)
                .unwrap()
                .must_prompt
        };
        assert!(
            prompt(&Hint::Absent, None, Some("1"), POLICY),
            "no hint: the user confirms, even without a redirect"
        );
        assert!(
            !prompt(&valid("1"), None, Some("1"), POLICY),
            "the signed-in user's own ID token"
        );
        assert!(
            prompt(&Hint::Absent, uri, Some("1"), POLICY),
            "a redirect without a hint"
        );
        assert!(
            prompt(&valid("2"), uri, Some("1"), POLICY),
            "the hint names someone else"
        );
        assert!(
            !prompt(&Hint::Absent, uri, None, POLICY),
            "no session, nothing to confirm"
        );
        let always = LogoutPolicy {
            always_prompt: true,
            ..POLICY
        };
        assert!(prompt(&valid("1"), uri, Some("1"), always));
    }
}
