//! Whether an authorization request needs the user's consent (DOT's
//! `skip_authorization` and `approval_prompt`; OIDC's `prompt=consent` and
//! `prompt=none`), and what a consent given leaves remembered.

use super::{ApprovalPrompt, AuthorizationRequest};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{Application, Consent};
use crate::scope::Scopes;

/// Whether the user must be asked, as far as is known before any remembered
/// consent is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentNeed {
    /// The client is trusted (`skip_authorization`): never asked.
    Never,
    /// `prompt=consent` or `approval_prompt=force`: asked every time.
    Always,
    /// `approval_prompt=auto`: asked unless a remembered consent covers the request.
    UnlessRemembered,
}

/// What the authorization endpoint does about consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentVerdict {
    /// Issue at once.
    Skip,
    /// Show the consent page.
    Ask,
    /// Send this error to the client: consent is needed and `prompt=none` forbids asking.
    Refuse(OAuthError),
}

/// Whether `request` from `client` needs consent. `approval` is the server's
/// `request_approval_prompt`, which the request's `approval_prompt` overrides.
pub fn consent_need(
    request: &AuthorizationRequest,
    client: &Application,
    approval: ApprovalPrompt,
) -> ConsentNeed {
    if client.skip_authorization {
        return ConsentNeed::Never;
    }
    let approval = request.approval_prompt.unwrap_or(approval);
    if request.prompt.consent || approval == ApprovalPrompt::Force {
        ConsentNeed::Always
    } else {
        ConsentNeed::UnlessRemembered
    }
}

/// Decides, from `need`, whether to ask. `remembered` is what the user agreed to
/// give the client before; it counts only when `need` is
/// [`ConsentNeed::UnlessRemembered`], so it need not be looked up otherwise.
pub fn consent_verdict(
    request: &AuthorizationRequest,
    need: ConsentNeed,
    remembered: Option<&Consent>,
) -> ConsentVerdict {
    let ask = match need {
        ConsentNeed::Never => false,
        ConsentNeed::Always => true,
        ConsentNeed::UnlessRemembered => !remembered.is_some_and(|c| covers(c, request)),
    };
    if !ask {
        ConsentVerdict::Skip
    } else if request.prompt.none {
        ConsentVerdict::Refuse(OAuthError::new(
            ErrorCode::ConsentRequired,
            "the user has not consented to this request",
        ))
    } else {
        ConsentVerdict::Ask
    }
}

/// Whether `consent` gave every scope the request needs consent for, for its resources.
fn covers(consent: &Consent, request: &AuthorizationRequest) -> bool {
    request
        .consent_scope()
        .is_subset(&Scopes::parse(&consent.scope).unwrap_or_default())
        && consent.resource.covers(&request.resources)
}

/// What to remember once the user agrees to `request`: the scopes just granted,
/// added to those given `before` for the same resources; a consent for other
/// resources is replaced, so no scope is ever remembered for more than it was given.
pub fn consent_to_remember(request: &AuthorizationRequest, before: Option<&Consent>) -> Scopes {
    let granted = request.consent_scope();
    before
        .into_iter()
        .filter(|c| c.resource == request.resources)
        .flat_map(|c| c.scope.split(' '))
        .chain(granted.iter())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::tests::{code_request, test_client};
    use crate::claims::ClaimsRequest;
    use crate::resource_indicator::Resources;

    fn client(skip_authorization: bool) -> Application {
        Application {
            skip_authorization,
            ..test_client()
        }
    }

    fn resources(uris: &[&str]) -> Resources {
        let uris: Vec<String> = uris.iter().map(|u| u.to_string()).collect();
        Resources::requested(&uris, &[]).unwrap()
    }

    fn consent(scope: &str, resource: &[&str]) -> Consent {
        Consent {
            user_id: 7,
            application_id: 1,
            scope: scope.into(),
            resource: resources(resource),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn refused_with(verdict: ConsentVerdict) -> ErrorCode {
        match verdict {
            ConsentVerdict::Refuse(error) => error.code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_trusted_client_is_never_asked() {
        let mut request = code_request();
        request.prompt.consent = true;
        request.approval_prompt = Some(ApprovalPrompt::Force);
        let need = consent_need(&request, &client(true), ApprovalPrompt::Force);
        assert_eq!(need, ConsentNeed::Never);
        request.prompt = Default::default();
        request.prompt.none = true;
        assert_eq!(consent_verdict(&request, need, None), ConsentVerdict::Skip);
    }

    #[test]
    fn prompt_consent_and_force_always_ask() {
        let mut request = code_request();
        let need =
            |request: &AuthorizationRequest, server| consent_need(request, &client(false), server);
        assert_eq!(need(&request, ApprovalPrompt::Force), ConsentNeed::Always);
        assert_eq!(
            need(&request, ApprovalPrompt::Auto),
            ConsentNeed::UnlessRemembered
        );
        request.approval_prompt = Some(ApprovalPrompt::Force);
        assert_eq!(need(&request, ApprovalPrompt::Auto), ConsentNeed::Always);
        request.approval_prompt = Some(ApprovalPrompt::Auto);
        assert_eq!(
            need(&request, ApprovalPrompt::Force),
            ConsentNeed::UnlessRemembered,
            "the request's approval_prompt overrides the server's"
        );
        request.prompt.consent = true;
        assert_eq!(need(&request, ApprovalPrompt::Auto), ConsentNeed::Always);
        let everything = consent("read write", &[]);
        assert_eq!(
            consent_verdict(&request, ConsentNeed::Always, Some(&everything)),
            ConsentVerdict::Ask
        );
    }

    #[test]
    fn a_remembered_consent_spares_the_page_when_it_covers_the_request() {
        let request = code_request();
        let verdict = |remembered: Option<&Consent>| {
            consent_verdict(&request, ConsentNeed::UnlessRemembered, remembered)
        };
        assert_eq!(verdict(None), ConsentVerdict::Ask);
        assert_eq!(
            verdict(Some(&consent("read write", &[]))),
            ConsentVerdict::Skip
        );
        assert_eq!(verdict(Some(&consent("write", &[]))), ConsentVerdict::Ask);
    }

    #[test]
    fn claims_asked_for_need_their_scope_consented() {
        let request = AuthorizationRequest {
            claims: Some(ClaimsRequest::parse(r#"{"userinfo":{"email":null}}"#).unwrap()),
            ..code_request()
        };
        let verdict = |scope| {
            let remembered = consent(scope, &[]);
            consent_verdict(&request, ConsentNeed::UnlessRemembered, Some(&remembered))
        };
        assert_eq!(verdict("read"), ConsentVerdict::Ask);
        assert_eq!(verdict("read email"), ConsentVerdict::Skip);
    }

    #[test]
    fn a_consent_for_some_resources_covers_only_those() {
        let api = "https://api.example/";
        let for_api = AuthorizationRequest {
            resources: resources(&[api]),
            ..code_request()
        };
        let verdict = |request: &AuthorizationRequest, given: &[&str]| {
            let remembered = consent("read", given);
            consent_verdict(request, ConsentNeed::UnlessRemembered, Some(&remembered))
        };
        assert_eq!(
            verdict(&for_api, &[]),
            ConsentVerdict::Skip,
            "none in particular: any"
        );
        assert_eq!(verdict(&for_api, &[api]), ConsentVerdict::Skip);
        assert_eq!(
            verdict(&for_api, &["https://files.example/"]),
            ConsentVerdict::Ask
        );
        assert_eq!(
            verdict(&code_request(), &[api]),
            ConsentVerdict::Ask,
            "naming no resource asks for all"
        );
    }

    #[test]
    fn prompt_none_turns_asking_into_consent_required() {
        let mut request = code_request();
        request.prompt.none = true;
        for need in [ConsentNeed::Always, ConsentNeed::UnlessRemembered] {
            assert_eq!(
                refused_with(consent_verdict(&request, need, None)),
                ErrorCode::ConsentRequired
            );
        }
        let remembered = consent("read", &[]);
        assert_eq!(
            consent_verdict(&request, ConsentNeed::UnlessRemembered, Some(&remembered)),
            ConsentVerdict::Skip
        );
    }

    #[test]
    fn a_new_consent_adds_to_the_old_for_the_same_resources_only() {
        let api = "https://api.example/";
        let request = AuthorizationRequest {
            claims: Some(ClaimsRequest::parse(r#"{"userinfo":{"email":null}}"#).unwrap()),
            ..code_request()
        };
        let remember =
            |before: Option<Consent>| consent_to_remember(&request, before.as_ref()).to_string();
        assert_eq!(remember(None), "email read");
        assert_eq!(remember(Some(consent("write", &[]))), "email read write");
        assert_eq!(remember(Some(consent("write", &[api]))), "email read");
    }
}
