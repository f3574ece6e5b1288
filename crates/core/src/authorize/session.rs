//! Whether the browser's signed-in session may answer an authorization request
//! (OIDC Core §3.1.2.1: `prompt`, `max_age`, `id_token_hint`; §5.5.1: a `claims`
//! request for `sub`), and the request to come back to after signing in.

use super::AuthorizationRequest;
use crate::env::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use crate::logout::Hint;
use crate::params::Params;

/// Who is signed in, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The user's subject identifier, as ID tokens name them.
    pub subject: String,
    /// When they signed in.
    pub auth_time: UnixTime,
}

/// What the authorization endpoint does with the browser's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionVerdict {
    /// The signed-in user answers the request.
    Use,
    /// Send the user to sign in, then back to the request ([`after_sign_in`]).
    SignIn,
    /// Send this error to the client: the hint is not one of ours, or
    /// `prompt=none` forbids the sign-in page.
    Refuse(OAuthError),
}

/// Decides whether `user` may answer `request` at `now`. `hint` is what the
/// caller found in the request's `id_token_hint`; an expired one still names the user.
pub fn session_verdict(
    request: &AuthorizationRequest,
    hint: &Hint,
    user: Option<&SessionUser>,
    now: UnixTime,
) -> SessionVerdict {
    if *hint == Hint::Invalid {
        return SessionVerdict::Refuse(OAuthError::invalid_request(
            "id_token_hint is not an ID token issued by this server",
        ));
    }
    if user.is_some_and(|user| acceptable(request, hint, user, now)) {
        SessionVerdict::Use
    } else if request.prompt.none {
        SessionVerdict::Refuse(OAuthError::new(
            ErrorCode::LoginRequired,
            "the user is not signed in, or not as the request requires",
        ))
    } else {
        SessionVerdict::SignIn
    }
}

fn acceptable(
    request: &AuthorizationRequest,
    hint: &Hint,
    user: &SessionUser,
    now: UnixTime,
) -> bool {
    let fresh = request.max_age.is_none_or(|max| {
        now.saturating_sub(user.auth_time) <= i64::try_from(max).unwrap_or(i64::MAX)
    });
    // The hint names the user the client expects (OIDC Core §3.1.2.1).
    let hinted = match hint {
        Hint::Valid { subject, .. } => *subject == user.subject,
        _ => true,
    };
    // OIDC Core §5.5.1: a `sub` value in the claims request names the only acceptable user.
    let required = request
        .claims
        .as_ref()
        .and_then(|c| c.required_subjects())
        .is_none_or(|subjects| subjects.contains(&user.subject.as_str()));
    fresh && hinted && required && !request.prompt.login
}

/// The request to come back to after signing in, as pairs sorted by name: without
/// `prompt=login` (or `select_account`, which asks for a sign-in too), `max_age` and
/// `id_token_hint`, which the new sign-in answers (the user chose whom to sign in
/// as, and must not be sent round again).
pub fn after_sign_in(params: &Params) -> Vec<(&str, String)> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| !matches!(*name, "max_age" | "id_token_hint"))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .filter_map(|(name, value)| {
            if name != "prompt" {
                return Some((name, value.to_owned()));
            }
            let rest: Vec<&str> = value
                .split(' ')
                .filter(|v| !matches!(*v, "login" | "select_account" | ""))
                .collect();
            (!rest.is_empty()).then(|| (name, rest.join(" ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::tests::code_request;
    use crate::claims::ClaimsRequest;

    /// Signed in 60 seconds before [`verdict`] asks.
    fn alice() -> Option<SessionUser> {
        Some(SessionUser {
            subject: "7".into(),
            auth_time: 1_000,
        })
    }

    fn verdict(
        request: &AuthorizationRequest,
        hint: &Hint,
        user: Option<SessionUser>,
    ) -> SessionVerdict {
        session_verdict(request, hint, user.as_ref(), 1_060)
    }

    fn refused_with(verdict: SessionVerdict) -> ErrorCode {
        match verdict {
            SessionVerdict::Refuse(error) => error.code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn prompt_none(mut request: AuthorizationRequest) -> AuthorizationRequest {
        request.prompt.none = true;
        request
    }

    fn hinting(subject: &str) -> Hint {
        Hint::Valid {
            client_id: "c1".into(),
            subject: subject.into(),
        }
    }

    #[test]
    fn a_session_answers_a_plain_request() {
        let request = code_request();
        assert_eq!(
            verdict(&request, &Hint::Absent, alice()),
            SessionVerdict::Use
        );
        assert_eq!(
            verdict(&prompt_none(request), &Hint::Absent, alice()),
            SessionVerdict::Use
        );
    }

    #[test]
    fn nobody_signed_in_signs_in_unless_prompt_none() {
        let request = code_request();
        assert_eq!(
            verdict(&request, &Hint::Absent, None),
            SessionVerdict::SignIn
        );
        assert_eq!(
            refused_with(verdict(&prompt_none(request), &Hint::Absent, None)),
            ErrorCode::LoginRequired
        );
    }

    #[test]
    fn max_age_counts_from_the_sign_in() {
        let with_max_age = |max_age| AuthorizationRequest {
            max_age: Some(max_age),
            ..code_request()
        };
        assert_eq!(
            verdict(&with_max_age(60), &Hint::Absent, alice()),
            SessionVerdict::Use
        );
        assert_eq!(
            verdict(&with_max_age(u64::MAX), &Hint::Absent, alice()),
            SessionVerdict::Use
        );
        assert_eq!(
            verdict(&with_max_age(59), &Hint::Absent, alice()),
            SessionVerdict::SignIn
        );
        assert_eq!(
            refused_with(verdict(
                &prompt_none(with_max_age(59)),
                &Hint::Absent,
                alice()
            )),
            ErrorCode::LoginRequired
        );
        let just_now = session_verdict(&with_max_age(0), &Hint::Absent, alice().as_ref(), 1_000);
        assert_eq!(just_now, SessionVerdict::Use);
    }

    #[test]
    fn prompt_login_always_signs_in_again() {
        let mut request = code_request();
        request.prompt.login = true;
        assert_eq!(
            verdict(&request, &Hint::Absent, alice()),
            SessionVerdict::SignIn
        );
        assert_eq!(
            verdict(&request, &Hint::Absent, None),
            SessionVerdict::SignIn
        );
    }

    #[test]
    fn a_hint_naming_someone_else_signs_in_as_them() {
        let request = code_request();
        assert_eq!(
            verdict(&request, &hinting("7"), alice()),
            SessionVerdict::Use
        );
        assert_eq!(
            verdict(&request, &hinting("8"), alice()),
            SessionVerdict::SignIn
        );
        assert_eq!(
            refused_with(verdict(&prompt_none(request), &hinting("8"), alice())),
            ErrorCode::LoginRequired
        );
    }

    #[test]
    fn a_hint_not_from_this_server_is_refused_whoever_is_signed_in() {
        for user in [alice(), None] {
            assert_eq!(
                refused_with(verdict(&code_request(), &Hint::Invalid, user)),
                ErrorCode::InvalidRequest
            );
        }
    }

    #[test]
    fn a_claims_request_for_sub_names_the_only_acceptable_user() {
        let asking_for = |json: &str| AuthorizationRequest {
            claims: Some(ClaimsRequest::parse(json).unwrap()),
            ..code_request()
        };
        let seven = asking_for(r#"{"id_token":{"sub":{"value":"7"}}}"#);
        assert_eq!(verdict(&seven, &Hint::Absent, alice()), SessionVerdict::Use);
        let others = asking_for(r#"{"userinfo":{"sub":{"values":["8","9"]}}}"#);
        assert_eq!(
            verdict(&others, &Hint::Absent, alice()),
            SessionVerdict::SignIn
        );
        let anyone = asking_for(r#"{"id_token":{"sub":{"essential":true}}}"#);
        assert_eq!(
            verdict(&anyone, &Hint::Absent, alice()),
            SessionVerdict::Use
        );
    }

    #[test]
    fn the_way_back_drops_what_the_sign_in_answers() {
        let back = |query: &str| {
            let params = Params::parse(query).unwrap();
            after_sign_in(&params)
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            back(
                "state=s&prompt=login%20consent&max_age=0&id_token_hint=h&client_id=c1&resource=b&resource=a"
            ),
            [
                "client_id=c1",
                "prompt=consent",
                "resource=a",
                "resource=b",
                "state=s"
            ]
        );
        assert_eq!(back("prompt=login&client_id=c1"), ["client_id=c1"]);
        assert_eq!(back("prompt=select_account&client_id=c1"), ["client_id=c1"]);
        assert_eq!(back("prompt=&client_id=c1"), ["client_id=c1"]);
    }
}
