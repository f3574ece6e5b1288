//! The authorization endpoint's rules (RFC 6749 §4.1, §4.2; OIDC Core §3): what a
//! request may ask for ([`validate`]), whether the signed-in session may
//! answer it ([`session_verdict`]), and whether the user must consent first
//! ([`consent_verdict`]).

mod consent;
mod response_type;
mod session;
mod validate;

pub use consent::{
    ConsentNeed, ConsentVerdict, consent_need, consent_to_remember, consent_verdict,
};
pub use response_type::ResponseType;
pub use session::{SessionUser, SessionVerdict, after_sign_in, session_verdict};
pub use validate::validate;

use crate::claims::ClaimsRequest;
use crate::error::OAuthError;
use crate::pkce::Method;
use crate::resource_indicator::Resources;
use crate::response::ResponseMode;
use crate::scope::Scopes;

/// The OIDC `prompt` values Tollgate acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: the user must not be shown any page; what would need one is an error.
    pub none: bool,
    /// `login` (or `select_account`): the user must sign in again.
    pub login: bool,
    /// `consent`: the user must be asked, even if they agreed before.
    pub consent: bool,
}

/// DOT's `approval_prompt`: `auto` skips the consent page when consent is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalPrompt {
    /// Ask only when no remembered consent covers the request.
    Auto,
    /// Ask every time.
    Force,
}

impl ApprovalPrompt {
    /// Reads `auto` or `force`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(ApprovalPrompt::Auto),
            "force" => Some(ApprovalPrompt::Force),
            _ => None,
        }
    }
}

/// What the server allows, from its settings.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Every scope the server knows.
    pub known_scopes: Vec<&'a str>,
    /// Granted when a request names none.
    pub default_scopes: Vec<&'a str>,
    /// A request for a code must carry a PKCE challenge (RFC 7636), unless a
    /// confidential OpenID Connect client's nonce stands in.
    pub pkce_required: bool,
    /// The `plain` PKCE method is accepted beside `S256`.
    pub pkce_plain_allowed: bool,
    /// Response types that return an access token from this endpoint (RFC 9700 §2.1.2 says no).
    pub front_channel_access_tokens: bool,
    /// The resource indicators clients may ask for; empty: any acceptable URI.
    pub served_resources: &'a [String],
    /// FAPI 2.0 §5.3.2.2: `response_type=code` only, and PKCE even where a nonce would do.
    pub code_only: bool,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client, known and checked.
    pub client_id: String,
    /// Where the answer goes: one of the client's registered redirect URIs.
    pub redirect_uri: String,
    /// Whether the request named the redirect URI; the token request must then repeat it.
    pub redirect_uri_given: bool,
    /// What to return: a code, tokens, or both.
    pub response_type: ResponseType,
    /// How to return it: query, fragment or form_post.
    pub response_mode: ResponseMode,
    /// The scopes asked for (or the default ones), all known.
    pub scope: Scopes,
    /// RFC 8707: the resources the tokens are to be for.
    pub resources: Resources,
    /// The client's value, returned with the answer whatever it is.
    pub state: Option<String>,
    /// RFC 7636: the PKCE challenge and its method, checked when the code is redeemed.
    pub code_challenge: Option<(String, Method)>,
    /// OIDC: the value the ID token must repeat.
    pub nonce: Option<String>,
    /// OIDC: whether to show the sign-in and consent pages.
    pub prompt: Prompt,
    /// DOT's parameter, which overrides `request_approval_prompt` for this request.
    pub approval_prompt: Option<ApprovalPrompt>,
    /// OIDC: the longest time since sign-in the client accepts, in seconds.
    pub max_age: Option<u64>,
    /// OIDC: an ID token naming the user the client expects; verified by the caller.
    pub id_token_hint: Option<String>,
    /// OIDC: who the client thinks is signing in; pre-fills the sign-in form.
    pub login_hint: Option<String>,
    /// OIDC: the `claims` parameter, with `acr_values` folded in, less the
    /// claims of scopes the client may not have.
    pub claims: Option<ClaimsRequest>,
    /// RFC 9449 §10: the thumbprint of the key the code's token request must prove.
    pub dpop_jkt: Option<String>,
}

impl AuthorizationRequest {
    /// An OpenID Connect request, as opposed to plain OAuth 2.0.
    pub fn is_openid(&self) -> bool {
        self.scope.contains("openid")
    }

    /// What the user consents to: the scopes asked for, and those whose claims
    /// the `claims` parameter names (OIDC Core §5.5), so neither way reaches
    /// data the user was not asked about.
    pub fn consent_scope(&self) -> Scopes {
        match &self.claims {
            Some(claims) => self
                .scope
                .iter()
                .map(str::to_owned)
                .chain(claims.scopes().iter().map(str::to_owned))
                .collect(),
            None => self.scope.clone(),
        }
    }
}

/// Why a request was refused, and so how the refusal is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Fatal(String),
    /// Send the error to the client's redirect URI.
    Redirect {
        /// The client's redirect URI, trusted by then.
        redirect_uri: String,
        /// How the error travels: as the request asked, or as its response type would.
        mode: ResponseMode,
        /// The request's `state`, returned with the error.
        state: Option<String>,
        /// The error itself.
        error: OAuthError,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A public client of the code grant, redirecting to `https://a.example/cb`.
    pub(crate) fn test_client() -> crate::model::Application {
        crate::model::Application {
            id: 1,
            client_id: "c1".into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type: crate::client::ClientType::Public,
            grant_types: vec![crate::client::GrantType::AuthorizationCode],
            redirect_uris: vec!["https://a.example/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: crate::client::SigningAlgorithm::RS256,
            userinfo_signed: false,
            skip_authorization: false,
            name: "A".into(),
            owner_id: None,
            created_at: 0,
            updated_at: 0,
            security: Default::default(),
        }
    }

    /// A plain request for a code and the `read` scope, for the verdicts to judge.
    pub(crate) fn code_request() -> AuthorizationRequest {
        AuthorizationRequest {
            dpop_jkt: None,
            client_id: "c1".into(),
            redirect_uri: "https://a.example/cb".into(),
            redirect_uri_given: true,
            response_type: ResponseType::CODE,
            response_mode: ResponseMode::Query,
            scope: Scopes::parse("read").unwrap(),
            resources: Resources::default(),
            state: None,
            code_challenge: None,
            nonce: None,
            prompt: Prompt::default(),
            approval_prompt: None,
            max_age: None,
            id_token_hint: None,
            login_hint: None,
            claims: None,
        }
    }
}
