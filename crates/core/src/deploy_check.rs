//! `tollgate check --deploy`: the weaknesses of a deployment, each under a
//! stable identifier, as Django's deploy checks report them. A warning becomes
//! an error where the matching `compliant_bcp_rfc9700_*` switch asks for it.

use std::fmt;

use crate::client::{ClientType, GrantType, SigningAlgorithm};
use crate::client_auth::TokenEndpointAuthMethod;
use crate::env::UnixTime;
use crate::model::Application;

/// How bad a finding is; any error makes `tollgate check --deploy` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Reported; the check still passes.
    Warning,
    /// Reported, and the check fails.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One weakness: its identifier, how bad, what and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable identifier, `T001` to `T010`, and `F001` to `F005` under the FAPI 2.0 profile.
    pub id: &'static str,
    /// An error if the weakness is grave or its [`Strict`] switch is on.
    pub severity: Severity,
    /// What is wrong, why it matters and what to do.
    pub message: String,
}

/// A signing key as the check sees it.
#[derive(Debug, Clone)]
pub struct KeyFacts {
    /// The key's `kid`, which the finding names.
    pub kid: String,
    /// The JWS algorithm it signs with.
    pub algorithm: SigningAlgorithm,
    /// When it was made (Unix seconds); its age is measured from this.
    pub created_at: UnixTime,
    /// Whether it is the key its algorithm signs with now.
    pub signing: bool,
    /// RSA keys: the modulus length.
    pub rsa_bits: Option<u32>,
}

/// Which warnings the RFC 9700 switches turn into errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Strict {
    /// `compliant_bcp_rfc9700_refresh_token`: T006 (no reuse protection) is an error.
    pub refresh_token: bool,
    /// `compliant_bcp_rfc9700_redirect_uri_scheme`: T002 and T003 (http redirect URIs) are errors.
    pub redirect_uri_scheme: bool,
    /// `compliant_bcp_rfc9700_redirect_uri_matching`: T004 (wildcard redirect URIs) is an error.
    pub redirect_uri_matching: bool,
    /// `compliant_bcp_rfc9700_pkce_required`: T005 (PKCE not required) is an error.
    pub pkce_required: bool,
}

/// What the check reads: the settings that matter, the clients and the keys.
#[derive(Debug, Clone)]
pub struct Deployment<'a> {
    /// The `issuer` setting; not https is T001.
    pub issuer: &'a str,
    /// The `pkce_required` setting; off is T005.
    pub pkce_required: bool,
    /// The `refresh_token_reuse_protection` setting; off is T006.
    pub refresh_token_reuse_protection: bool,
    /// The `allowed_redirect_uri_schemes` setting; `http` among them is T002.
    pub allowed_redirect_uri_schemes: &'a [String],
    /// Whether the authorization endpoint may return access tokens (implicit, hybrid): T007.
    pub front_channel_access_tokens: bool,
    /// Whether the password grant is served: T008.
    pub password_grant_allowed: bool,
    /// Every registered client, for T003, T004 and the counts in T007 and T008.
    pub clients: &'a [Application],
    /// Every signing key, for T009 and T010.
    pub keys: &'a [KeyFacts],
    /// `signing_key_max_age_days` in seconds: a signing key older than this is T009.
    pub key_max_age_seconds: i64,
    /// The time key ages are measured at (Unix seconds).
    pub now: UnixTime,
    /// Which warnings are errors.
    pub strict: Strict,
    /// `fapi2_security_profile`: F001–F004 report what breaks the profile.
    pub fapi2: bool,
    /// `authorization_code_expire_seconds`, for F004.
    pub code_lifetime_seconds: u64,
}

const RSA_MIN_BITS: u32 = 2048;

fn level(strict: bool) -> Severity {
    if strict {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// Every finding, in identifier order.
pub fn check(d: &Deployment<'_>) -> Vec<Finding> {
    let mut found = Findings(Vec::new());
    transport(d, &mut found);
    grants(d, &mut found);
    keys(d, &mut found);
    if d.fapi2 {
        let mut profile = Findings(Vec::new());
        fapi2(d, &mut profile);
        // Stable: each identifier's findings stay in the clients' order.
        profile.0.sort_by_key(|f| f.id);
        found.0.extend(profile.0);
    }
    found.0
}

/// F001–F005: what keeps a client, or the server, outside the FAPI 2.0
/// Security Profile the switch enforces (docs/FAPI.md).
fn fapi2(d: &Deployment<'_>, found: &mut Findings) {
    for client in d.clients {
        let method = client
            .security
            .token_endpoint_auth_method
            .unwrap_or(TokenEndpointAuthMethod::default_for(client.client_type));
        if client.client_type == ClientType::Public {
            found.add(
                "F003",
                Severity::Error,
                format!(
                    "client `{}` is public: FAPI 2.0 (§5.3.2.1) serves confidential clients only",
                    client.client_id
                ),
            );
        } else if method != TokenEndpointAuthMethod::PrivateKeyJwt {
            found.add(
                "F001",
                Severity::Error,
                format!(
                    "client `{}` authenticates with {}: under FAPI 2.0 only private_key_jwt is accepted (§5.3.2.1); register its keys and that method",
                    client.client_id,
                    method.as_str()
                ),
            );
        }
        let front_channel = [
            GrantType::Implicit,
            GrantType::OpenIdHybrid,
            GrantType::Password,
        ];
        if let Some(grant) = client
            .grant_types
            .iter()
            .find(|g| front_channel.contains(g))
        {
            found.add(
                "F002",
                Severity::Error,
                format!(
                    "client `{}` is registered for the {} grant, which FAPI 2.0 does not serve (§5.3.2.1, §5.3.2.2)",
                    client.client_id,
                    grant.as_str()
                ),
            );
        }
        let signs_id_tokens = client.grant_types.iter().any(|g| {
            matches!(
                g,
                GrantType::AuthorizationCode | GrantType::DeviceCode | GrantType::OpenIdHybrid
            )
        });
        if signs_id_tokens
            && matches!(
                client.algorithm,
                SigningAlgorithm::RS256 | SigningAlgorithm::HS256
            )
        {
            found.add(
                "F005",
                Severity::Error,
                format!(
                    "client `{}` has its ID tokens signed with {}: FAPI 2.0 (§5.4.1) allows PS256, ES256 or EdDSA; register it with one of them",
                    client.client_id,
                    client.algorithm.as_str()
                ),
            );
        }
    }
    if d.code_lifetime_seconds > FAPI2_CODE_SECONDS {
        found.add(
            "F004",
            Severity::Error,
            format!(
                "`authorization_code_expire_seconds` is {}: FAPI 2.0 allows codes of at most {FAPI2_CODE_SECONDS} seconds (§5.3.2.1); codes are capped, set it to {FAPI2_CODE_SECONDS} or less",
                d.code_lifetime_seconds
            ),
        );
    }
}

/// FAPI 2.0 §5.3.2.1: the longest an authorization code may live.
pub const FAPI2_CODE_SECONDS: u64 = 60;

struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, id: &'static str, severity: Severity, message: String) {
        self.0.push(Finding {
            id,
            severity,
            message,
        });
    }
}

/// T001–T004: the issuer and redirect URIs keep codes and tokens encrypted and exact.
fn transport(d: &Deployment<'_>, found: &mut Findings) {
    if !d.issuer.starts_with("https://") {
        found.add(
            "T001",
            Severity::Error,
            format!(
                "the issuer `{}` is not https: tokens, codes and the session cookie would cross the network in clear (RFC 9700 §2.6); set `issuer` to the https URL clients use",
                d.issuer
            ),
        );
    }
    if d.allowed_redirect_uri_schemes.iter().any(|s| s == "http") {
        found.add("T002", level(d.strict.redirect_uri_scheme),
            "`allowed_redirect_uri_schemes` allows http: codes could be sent over an unencrypted connection (RFC 9700 §2.6); keep https and the custom schemes of native apps".to_owned());
    }
    for client in d.clients {
        let http: Vec<&String> = client
            .redirect_uris
            .iter()
            .filter(|u| u.starts_with("http://"))
            .collect();
        if client.client_type == ClientType::Confidential && !http.is_empty() {
            found.add(
                "T003",
                level(d.strict.redirect_uri_scheme),
                format!(
                    "confidential client `{}` has http redirect URIs ({}): register https ones",
                    client.client_id,
                    http.iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if let Some(wild) = client.redirect_uris.iter().find(|u| u.contains('*')) {
            found.add(
                "T004",
                level(d.strict.redirect_uri_matching),
                format!(
                    "client `{}` has the wildcard redirect URI `{wild}`: Tollgate matches exactly (RFC 9700 §2.1), so it never matches; register each URI",
                    client.client_id
                ),
            );
        }
    }
}

/// T005–T008: the grants and their protections (RFC 9700 §2).
fn grants(d: &Deployment<'_>, found: &mut Findings) {
    if !d.pkce_required {
        found.add("T005", level(d.strict.pkce_required),
            "PKCE is not required (`pkce_required = false`): codes can be injected or replayed (RFC 9700 §2.1.1)".to_owned());
    }
    if !d.refresh_token_reuse_protection {
        found.add("T006", level(d.strict.refresh_token),
            "refresh token reuse protection is off: a stolen, rotated refresh token keeps working (RFC 9700 §4.14.2); set `refresh_token_reuse_protection = true`".to_owned());
    }
    let using = |grants: &[GrantType]| {
        d.clients
            .iter()
            .filter(|c| c.grant_types.iter().any(|g| grants.contains(g)))
            .count()
    };
    if d.front_channel_access_tokens {
        found.add(
            "T007",
            Severity::Warning,
            format!(
                "access tokens may be returned in the redirect (implicit and hybrid response types; {} clients registered for them): set `compliant_bcp_rfc9700_implicit_grant = true` (RFC 9700 §2.1.2)",
                using(&[GrantType::Implicit, GrantType::OpenIdHybrid])
            ),
        );
    }
    if d.password_grant_allowed {
        found.add(
            "T008",
            Severity::Warning,
            format!(
                "the password grant is served ({} clients registered for it): set `compliant_bcp_rfc9700_password_grant = true` (RFC 9700 §2.4)",
                using(&[GrantType::Password])
            ),
        );
    }
}

/// T009–T010: the signing keys' age and strength.
fn keys(d: &Deployment<'_>, found: &mut Findings) {
    for key in d.keys.iter().filter(|k| k.signing) {
        let age = d.now - key.created_at;
        if age > d.key_max_age_seconds {
            found.add(
                "T009",
                Severity::Warning,
                format!(
                    "the {} signing key `{}` is {} days old, past `signing_key_max_age_days`: run `tollgate keys rotate --alg {}`",
                    key.algorithm,
                    key.kid,
                    age / 86_400,
                    key.algorithm
                ),
            );
        }
    }
    for key in d.keys {
        if let Some(bits) = key.rsa_bits.filter(|b| *b < RSA_MIN_BITS) {
            found.add(
                "T010",
                Severity::Error,
                format!(
                    "the RSA key `{}` has {bits} bits, under {RSA_MIN_BITS} (RFC 7518 §3.3): rotate it with `tollgate keys rotate --alg RS256 --now`",
                    key.kid
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(
        id: &str,
        client_type: ClientType,
        grants: Vec<GrantType>,
        uris: &[&str],
    ) -> Application {
        Application {
            id: 1,
            client_id: id.into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type,
            grant_types: grants,
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            post_logout_redirect_uris: vec![],
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

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn key(kid: &str, age_days: i64, signing: bool, rsa_bits: Option<u32>) -> KeyFacts {
        KeyFacts {
            kid: kid.into(),
            algorithm: SigningAlgorithm::RS256,
            created_at: NOW - age_days * DAY,
            signing,
            rsa_bits,
        }
    }

    fn ids(found: &[Finding]) -> Vec<(&'static str, Severity)> {
        found.iter().map(|f| (f.id, f.severity)).collect()
    }

    #[test]
    fn a_hardened_deployment_has_no_findings() {
        let https = vec!["https".to_owned()];
        let clients = [client(
            "web",
            ClientType::Confidential,
            vec![GrantType::AuthorizationCode],
            &["https://a.example/cb"],
        )];
        let keys = [key("k1", 10, true, Some(2048))];
        let d = Deployment {
            code_lifetime_seconds: 60,
            fapi2: false,
            issuer: "https://idp.example",
            pkce_required: true,
            refresh_token_reuse_protection: true,
            allowed_redirect_uri_schemes: &https,
            front_channel_access_tokens: false,
            password_grant_allowed: false,
            clients: &clients,
            keys: &keys,
            key_max_age_seconds: 180 * DAY,
            now: NOW,
            strict: Strict::default(),
        };
        assert_eq!(check(&d), []);
    }

    #[test]
    fn the_fapi2_switch_reports_what_breaks_the_profile() {
        let https = vec!["https".to_owned()];
        let keyed = |id: &str, grants| {
            let mut c = client(
                id,
                ClientType::Confidential,
                grants,
                &["https://a.example/cb"],
            );
            c.security.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::PrivateKeyJwt);
            c.algorithm = SigningAlgorithm::ES256;
            c
        };
        let clients = [
            keyed("bank", vec![GrantType::AuthorizationCode]),
            keyed(
                "legacy",
                vec![GrantType::AuthorizationCode, GrantType::Implicit],
            ),
            client(
                "secret",
                ClientType::Confidential,
                vec![GrantType::ClientCredentials],
                &[],
            ),
            client(
                "spa",
                ClientType::Public,
                vec![GrantType::AuthorizationCode],
                &["https://a.example/cb"],
            ),
        ];
        let d = Deployment {
            code_lifetime_seconds: 120,
            fapi2: true,
            issuer: "https://idp.example",
            pkce_required: true,
            refresh_token_reuse_protection: true,
            allowed_redirect_uri_schemes: &https,
            front_channel_access_tokens: false,
            password_grant_allowed: false,
            clients: &clients,
            keys: &[],
            key_max_age_seconds: 180 * DAY,
            now: NOW,
            strict: Strict::default(),
        };
        let found = check(&d);
        assert_eq!(
            ids(&found),
            [
                ("F001", Severity::Error),
                ("F002", Severity::Error),
                ("F003", Severity::Error),
                ("F004", Severity::Error),
                ("F005", Severity::Error),
            ]
        );
        assert!(found[4].message.contains("`spa`"), "{found:?}");
        assert!(found[1].message.contains("`legacy`"), "{found:?}");
        assert!(
            found[0]
                .message
                .contains("`secret` authenticates with client_secret_basic"),
            "{found:?}"
        );
        let within = Deployment {
            code_lifetime_seconds: 60,
            clients: &clients[..1],
            ..d
        };
        assert_eq!(
            check(&within),
            [],
            "a private_key_jwt code client within the profile"
        );
        let off = Deployment { fapi2: false, ..d };
        assert!(check(&off).iter().all(|f| !f.id.starts_with('F')));
    }

    #[test]
    fn every_weakness_is_found_and_the_switches_make_errors() {
        let schemes = vec!["http".to_owned(), "https".to_owned()];
        let clients = [
            client(
                "conf",
                ClientType::Confidential,
                vec![GrantType::AuthorizationCode],
                &["http://a.example/cb"],
            ),
            client(
                "native",
                ClientType::Public,
                vec![GrantType::AuthorizationCode, GrantType::Implicit],
                &["http://127.0.0.1/cb", "https://*.example/cb"],
            ),
            client(
                "pw",
                ClientType::Confidential,
                vec![GrantType::Password],
                &[],
            ),
        ];
        let keys = [
            key("old", 400, true, Some(2048)),
            key("weak", 500, false, Some(1024)),
        ];
        let mut d = Deployment {
            code_lifetime_seconds: 60,
            fapi2: false,
            issuer: "http://idp.example",
            pkce_required: false,
            refresh_token_reuse_protection: false,
            allowed_redirect_uri_schemes: &schemes,
            front_channel_access_tokens: true,
            password_grant_allowed: true,
            clients: &clients,
            keys: &keys,
            key_max_age_seconds: 180 * DAY,
            now: NOW,
            strict: Strict::default(),
        };
        use Severity::*;
        let lenient = check(&d);
        assert_eq!(
            ids(&lenient),
            [
                ("T001", Error),
                ("T002", Warning),
                ("T003", Warning),
                ("T004", Warning),
                ("T005", Warning),
                ("T006", Warning),
                ("T007", Warning),
                ("T008", Warning),
                ("T009", Warning),
                ("T010", Error),
            ]
        );
        assert!(lenient[2].message.contains("`conf`"), "{:?}", lenient[2]);
        assert!(lenient[6].message.contains("1 clients"), "{:?}", lenient[6]);
        assert!(
            lenient[8].message.contains("`old` is 400 days old"),
            "{:?}",
            lenient[8]
        );
        assert!(lenient[9].message.contains("1024 bits"), "{:?}", lenient[9]);
        d.strict = Strict {
            refresh_token: true,
            redirect_uri_scheme: true,
            redirect_uri_matching: true,
            pkce_required: true,
        };
        let strict = check(&d);
        for id in ["T002", "T003", "T004", "T005", "T006"] {
            assert!(
                strict.iter().any(|f| f.id == id && f.severity == Error),
                "{id}: {strict:?}"
            );
        }
    }
}
