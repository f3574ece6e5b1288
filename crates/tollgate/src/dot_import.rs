//! What `tollgate import-dot` writes for what it read from django-oauth-toolkit:
//! DOT's records turned into Tollgate's, and why any is left behind. Users keep
//! their ids (the `sub` relying parties know them by) and their Django password
//! hashes (checked as Django does, re-hashed at the first sign-in); clients keep
//! their `client_id`; tokens and codes are kept by the same SHA-256 DOT keeps
//! as `token_checksum`, so every one DOT issued keeps working.

use std::collections::{HashMap, HashSet};

use tollgate_core::env::UnixTime;
use tollgate_core::model::{
    NewAccessToken, NewApplication, NewAuthorizationCode, NewIdToken, NewRefreshToken, User,
};
use tollgate_core::resource_indicator::Resources;
use tollgate_core::{ApplicationSpec, ClientType, GrantType, SecretHash, SigningAlgorithm};
use tollgate_store::dot::{
    DotAccessToken, DotApplication, DotExport, DotGrant, DotIdToken, DotRefreshToken, DotUser,
};
use tollgate_store::{
    Import, ImportedAccessToken, ImportedApplication, ImportedCode, ImportedIdToken,
    ImportedRefreshToken,
};

use crate::credentials::GENERATED_SECRET_LENGTH;

use crate::credentials::HashError;

use crate::credentials::hash_client_secret;
use crate::django_password;
use crate::keys::sealing::Purpose;
use crate::settings::Settings;

/// A record left behind (or brought with a caveat), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// What kind of record: `user`, `application`, `access token`, …
    pub kind: &'static str,
    /// Which one, by a name a person knows it by; empty for a counted reason.
    pub what: String,
    /// Why.
    pub why: String,
}

/// What to write, and what was left behind.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The records, ready for [`Store::import`](tollgate_store::Store::import).
    pub import: Import,
    /// Each record left behind, or brought with a caveat.
    pub skipped: Vec<Skip>,
}

impl Plan {
    fn skip(&mut self, kind: &'static str, what: impl Into<String>, why: impl Into<String>) {
        self.skipped.push(Skip {
            kind,
            what: what.into(),
            why: why.into(),
        });
    }
}

/// Turns a DOT export into Tollgate's records as of `now`, by the rules of
/// `settings` (redirect-URI schemes, refresh-token lifetime, the `secret_key`
/// that seals HS256 secrets). `users_here` are the ids of the users Tollgate
/// already has, whose tokens may come over too. Expired tokens and codes are
/// left behind; secrets DOT stored in clear are hashed here (argon2id for
/// short ones, so this is slow in proportion to them).
pub fn plan(
    export: &DotExport,
    settings: &Settings,
    users_here: &HashSet<i64>,
    now: UnixTime,
) -> Result<Plan, HashError> {
    let mut plan = Plan::default();
    let users: HashMap<i64, &DotUser> = match &export.users {
        Some(users) => users.iter().map(|u| (u.id, u)).collect(),
        None => {
            plan.skip(
                "user",
                "",
                "the source has no auth_user table (a custom user model), so no user is read: the tokens of users Tollgate has under the same id come over (a UserDirectory's users are copied at their first sign-in; import again after), the others' are left behind",
            );
            HashMap::new()
        }
    };
    for user in export.users.iter().flatten() {
        let imported = user_of(user, now, &mut plan);
        plan.import.users.push(imported);
    }
    let mut clients: HashMap<i64, &str> = HashMap::new();
    for app in &export.applications {
        match application_of(app, &users, settings)? {
            Ok(application) => {
                clients.insert(app.id, &app.client_id);
                plan.import.applications.push(ImportedApplication {
                    application,
                    created_at: app.created,
                });
            }
            Err(why) => plan.skip("application", describe(app), why),
        }
    }
    let owners = Owners {
        clients: &clients,
        users: &users,
        users_here,
        now,
    };
    let mut access_tokens: HashMap<i64, &DotAccessToken> = HashMap::new();
    for token in &export.access_tokens {
        match owners.access_token(token) {
            Ok(imported) => {
                access_tokens.insert(token.id, token);
                plan.import.access_tokens.push(imported);
            }
            Err(why) => plan.skip("access token", "", why),
        }
    }
    let scopes = RefreshScopes::new(&export.access_tokens);
    let rotated = rotated_tokens(&export.refresh_tokens);
    for token in &export.refresh_tokens {
        let scope = scopes.of(token);
        match owners.refresh_token(token, scope, rotated.contains(&token.id), settings) {
            Ok(mut imported) => {
                imported.access_token = imported
                    .access_token
                    .filter(|id| access_tokens.contains_key(id));
                plan.import.refresh_tokens.push(imported);
            }
            Err(why) => plan.skip("refresh token", "", why),
        }
    }
    for grant in &export.grants {
        match owners.code(grant) {
            Ok(imported) => plan.import.codes.push(imported),
            Err(why) => plan.skip("authorization code", "", why),
        }
    }
    for id_token in &export.id_tokens {
        match owners.id_token(id_token) {
            Ok(imported) => plan.import.id_tokens.push(imported),
            Err(why) => plan.skip("ID token", "", why),
        }
    }
    Ok(plan)
}

fn describe(app: &DotApplication) -> String {
    format!("{} ({})", app.client_id, app.name)
}

fn user_of(user: &DotUser, now: UnixTime, plan: &mut Plan) -> User {
    let password = &user.password;
    let password_hash = if password.is_empty() || password.starts_with('!') {
        None
    } else if django_password::is_checkable(password) {
        Some(password.clone())
    } else {
        let format = match django_password::algorithm(password) {
            Some(name) => format!("a `{name}` hash"),
            None => "a hash in a format Django does not name".to_owned(),
        };
        plan.skip(
            "password",
            &user.username,
            format!(
                "{format}, which Tollgate does not check: the user signs in after a password reset"
            ),
        );
        None
    };
    User {
        password_hash,
        email: user.email.clone(),
        given_name: user.first_name.clone(),
        family_name: user.last_name.clone(),
        active: user.is_active,
        staff: user.is_staff,
        created_at: user.date_joined,
        updated_at: now,
        ..User::new(user.id, user.username.clone())
    }
}

/// DOT keeps one grant type per client; its names are Tollgate's.
fn application_of(
    app: &DotApplication,
    users: &HashMap<i64, &DotUser>,
    settings: &Settings,
) -> Result<Result<NewApplication, String>, HashError> {
    let client_type = match app.client_type.as_str() {
        "confidential" => ClientType::Confidential,
        "public" => ClientType::Public,
        other => return Ok(Err(format!("unknown client type `{other}`"))),
    };
    let grant: GrantType = match app.authorization_grant_type.parse() {
        Ok(grant) => grant,
        Err(_) => {
            return Ok(Err(format!(
                "unknown grant type `{}`",
                app.authorization_grant_type
            )));
        }
    };
    // DOT's "no algorithm" serves no ID token; Tollgate signs every client's with one.
    let algorithm = match app.algorithm.as_str() {
        "" | "RS256" => SigningAlgorithm::RS256,
        "HS256" => SigningAlgorithm::HS256,
        other => return Ok(Err(format!("unknown algorithm `{other}`"))),
    };
    let list = |text: &str| text.split_whitespace().map(str::to_owned).collect();
    let spec = ApplicationSpec {
        client_type,
        grant_types: vec![grant],
        redirect_uris: list(&app.redirect_uris),
        post_logout_redirect_uris: list(&app.post_logout_redirect_uris),
        allowed_origins: list(&app.allowed_origins),
        algorithm,
        security: Default::default(),
    };
    if let Err(e) = spec.validate(&settings.allowed_redirect_uri_schemes) {
        return Ok(Err(format!("{e} ({})", e.field())));
    }
    let (client_secret_hash, client_secret_sealed) = match client_type {
        ClientType::Public => (None, None),
        ClientType::Confidential => match secret_of(app, algorithm, settings)? {
            Ok(secret) => secret,
            Err(why) => return Ok(Err(why)),
        },
    };
    Ok(Ok(NewApplication {
        client_secret_hash,
        client_secret_sealed,
        skip_authorization: app.skip_authorization,
        owner_id: app.user_id.filter(|id| users.contains_key(id)),
        ..spec.into_application(app.client_id.clone(), app.name.clone())
    }))
}

type StoredSecret = (Option<String>, Option<String>);

/// A hash DOT made is kept and replaced at the client's first use; a secret
/// stored in clear is hashed now (and sealed for HS256, which signs with it).
fn secret_of(
    app: &DotApplication,
    algorithm: SigningAlgorithm,
    settings: &Settings,
) -> Result<Result<StoredSecret, String>, HashError> {
    let secret = &app.client_secret;
    let hashed = app.hash_client_secret && django_password::is_django_hash(secret);
    if algorithm == SigningAlgorithm::HS256 {
        if hashed {
            return Ok(Err(
                "HS256 signs with the client secret, and DOT kept only its hash".to_owned(),
            ));
        }
        let Some(sealer) = settings.sealer() else {
            return Ok(Err(
                "HS256 signs with the client secret, which Tollgate keeps sealed: set secret_key and import again".to_owned(),
            ));
        };
        let sealed = sealer.seal(secret, Purpose::ClientSecret(&app.client_id));
        return Ok(Ok((Some(plain_secret_hash(secret)?), Some(sealed))));
    }
    if hashed {
        if !django_password::is_checkable(secret) {
            return Ok(Err(
                "its secret's hash is in a format Tollgate does not check: give it a new secret after the import".to_owned(),
            ));
        }
        return Ok(Ok((Some(secret.clone()), None)));
    }
    if secret.is_empty() {
        return Ok(Err("a confidential client without a secret".to_owned()));
    }
    Ok(Ok((Some(plain_secret_hash(secret)?), None)))
}

fn plain_secret_hash(secret: &str) -> Result<String, HashError> {
    hash_client_secret(secret, secret.chars().count() >= GENERATED_SECRET_LENGTH)
}

/// Which of a token's client and user made it over.
struct Owners<'a> {
    clients: &'a HashMap<i64, &'a str>,
    users: &'a HashMap<i64, &'a DotUser>,
    users_here: &'a HashSet<i64>,
    now: UnixTime,
}

impl Owners<'_> {
    fn client(&self, application_id: Option<i64>) -> Result<String, String> {
        application_id
            .and_then(|id| self.clients.get(&id))
            .map(|c| (*c).to_owned())
            .ok_or_else(|| "its client was not imported".to_owned())
    }

    fn user(&self, user_id: Option<i64>) -> Result<Option<i64>, String> {
        match user_id {
            Some(id) if !self.users.contains_key(&id) && !self.users_here.contains(&id) => {
                Err("its user was not imported".to_owned())
            }
            other => Ok(other),
        }
    }

    fn live(&self, expires: UnixTime) -> Result<(), String> {
        if expires <= self.now {
            Err("expired".to_owned())
        } else {
            Ok(())
        }
    }

    /// When the user last signed in, which DOT gives as `auth_time`.
    fn auth_time(&self, user_id: Option<i64>) -> Option<UnixTime> {
        user_id
            .and_then(|id| self.users.get(&id))
            .and_then(|u| u.last_login)
    }

    fn access_token(&self, token: &DotAccessToken) -> Result<ImportedAccessToken, String> {
        self.live(token.expires)?;
        Ok(ImportedAccessToken {
            source_id: token.id,
            client_id: self.client(token.application_id)?,
            token: NewAccessToken {
                dpop_jkt: None,
                token_hash: token_hash(&token.token_checksum, &token.token)?,
                application_id: 0,
                user_id: self.user(token.user_id)?,
                scope: token.scope.clone(),
                resource: resources(&token.resource)?,
                expires_at: token.expires,
                authorization_code_id: None,
                claims: None,
            },
            created_at: token.created,
        })
    }

    fn refresh_token(
        &self,
        token: &DotRefreshToken,
        scope: Option<&str>,
        rotated: bool,
        settings: &Settings,
    ) -> Result<ImportedRefreshToken, String> {
        let expires_at = settings.refresh_token_expire_seconds.map(|s| {
            token
                .created
                .saturating_add(i64::try_from(s).unwrap_or(i64::MAX))
        });
        if let (None, Some(expires)) = (token.revoked, expires_at) {
            self.live(expires)?;
        }
        // A retired token is kept only to be recognised if replayed: its scope no longer matters.
        let scope = match (scope, token.revoked) {
            (Some(scope), _) => scope.to_owned(),
            (None, Some(_)) => String::new(),
            (None, None) => {
                return Err(
                    "its access token is gone, and with it the scope a refresh would grant"
                        .to_owned(),
                );
            }
        };
        Ok(ImportedRefreshToken {
            client_id: self.client(Some(token.application_id))?,
            access_token: token.access_token_id,
            token: NewRefreshToken {
                dpop_jkt: None,
                token_hash: token_hash(&token.token_checksum, &token.token)?,
                application_id: 0,
                user_id: self.user(Some(token.user_id))?,
                access_token_id: None,
                family: token
                    .token_family
                    .clone()
                    .unwrap_or_else(|| format!("dot-refresh-{}", token.id)),
                scope,
                resource: resources(&token.resource)?,
                expires_at,
                authorization_code_id: None,
                auth_time: self.auth_time(Some(token.user_id)),
                claims: None,
                sid: None,
            },
            created_at: token.created,
            revoked_at: token.revoked,
            rotated,
        })
    }

    fn code(&self, grant: &DotGrant) -> Result<ImportedCode, String> {
        self.live(grant.expires)?;
        if grant.code.is_empty() {
            return Err("the code is not stored".to_owned());
        }
        self.user(Some(grant.user_id))?;
        let given = |text: &str| Some(text.to_owned()).filter(|t| !t.is_empty());
        Ok(ImportedCode {
            client_id: self.client(Some(grant.application_id))?,
            code: NewAuthorizationCode {
                dpop_jkt: None,
                code_hash: SecretHash::of(&grant.code),
                application_id: 0,
                user_id: grant.user_id,
                redirect_uri: grant.redirect_uri.clone(),
                // DOT does not say whether the request named it: the token request must.
                redirect_uri_given: true,
                scope: grant.scope.clone(),
                resource: resources(&grant.resource)?,
                code_challenge: given(&grant.code_challenge),
                code_challenge_method: given(&grant.code_challenge_method),
                nonce: given(&grant.nonce),
                claims: given(&grant.claims).filter(|c| c.trim() != "{}"),
                auth_time: self.auth_time(Some(grant.user_id)).unwrap_or(grant.created),
                expires_at: grant.expires,
                sid: None,
            },
            created_at: grant.created,
        })
    }

    fn id_token(&self, id_token: &DotIdToken) -> Result<ImportedIdToken, String> {
        self.live(id_token.expires)?;
        Ok(ImportedIdToken {
            client_id: self.client(id_token.application_id)?,
            id_token: NewIdToken {
                jti: dashed_uuid(&id_token.jti),
                application_id: 0,
                user_id: self.user(id_token.user_id)?,
                scope: id_token.scope.clone(),
                expires_at: id_token.expires,
            },
            created_at: id_token.created,
        })
    }
}

/// DOT's `token_checksum` is the SHA-256 Tollgate keeps; DOT may have kept
/// only it (`COMPLIANT_BCP_RFC9700_TOKEN_STORAGE`), or (before 3.0's
/// refresh-token checksums) only the token.
fn token_hash(checksum: &str, token: &str) -> Result<SecretHash, String> {
    match SecretHash::from_hex(&checksum.to_ascii_lowercase()) {
        Some(hash) => Ok(hash),
        None if !token.is_empty() => Ok(SecretHash::of(token)),
        None => Err("neither the token nor its checksum is stored".to_owned()),
    }
}

fn resources(json: &str) -> Result<Resources, String> {
    if json.trim().is_empty() {
        return Ok(Resources::default());
    }
    serde_json::from_str::<Vec<String>>(json)
        .map(|list| list.into_iter().collect())
        .map_err(|_| format!("its resources are not a JSON list of URIs: {json}"))
}

/// A jti as the ID token carried it (Python's `str(uuid)`).
fn dashed_uuid(hex: &str) -> String {
    if hex.len() != 32 {
        return hex.to_owned();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The scope a refresh token grants: its access token's, or (once DOT rotated
/// that away) that of the access token it was exchanged for.
struct RefreshScopes<'a> {
    by_id: HashMap<i64, &'a str>,
    by_source: HashMap<i64, &'a str>,
}

impl<'a> RefreshScopes<'a> {
    fn new(tokens: &'a [DotAccessToken]) -> Self {
        RefreshScopes {
            by_id: tokens.iter().map(|t| (t.id, t.scope.as_str())).collect(),
            by_source: tokens
                .iter()
                .filter_map(|t| Some((t.source_refresh_token_id?, t.scope.as_str())))
                .collect(),
        }
    }

    fn of(&self, token: &DotRefreshToken) -> Option<&'a str> {
        token
            .access_token_id
            .and_then(|id| self.by_id.get(&id))
            .or_else(|| self.by_source.get(&token.id))
            .copied()
    }
}

/// DOT marks a refresh token `revoked` both when it rotates it and when it is
/// revoked. One with a younger token in its family was rotated: a replay of it
/// is a reuse (RFC 9700 §4.14.2), as Tollgate treats its own rotated tokens.
fn rotated_tokens(tokens: &[DotRefreshToken]) -> HashSet<i64> {
    let mut newest: HashMap<&str, (UnixTime, i64)> = HashMap::new();
    for token in tokens {
        if let Some(family) = &token.token_family {
            let entry = newest.entry(family).or_insert((token.created, token.id));
            *entry = (*entry).max((token.created, token.id));
        }
    }
    tokens
        .iter()
        .filter(|t| t.revoked.is_some())
        .filter(|t| {
            t.token_family
                .as_deref()
                .and_then(|f| newest.get(f))
                .is_some_and(|&(_, id)| id != t.id)
        })
        .map(|t| t.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_800_000_000;
    const LATER: UnixTime = NOW + 3600;

    fn refresh(id: i64, family: Option<&str>, created: UnixTime, revoked: bool) -> DotRefreshToken {
        DotRefreshToken {
            id,
            token: format!("refresh-{id}"),
            token_checksum: String::new(),
            access_token_id: None,
            application_id: 1,
            user_id: 2,
            created,
            revoked: revoked.then_some(created + 1),
            token_family: family.map(str::to_owned),
            resource: "[]".into(),
        }
    }

    fn access(id: i64, scope: &str, expires: UnixTime, source: Option<i64>) -> DotAccessToken {
        DotAccessToken {
            id,
            token: format!("access-{id}"),
            token_checksum: String::new(),
            application_id: Some(1),
            user_id: Some(2),
            scope: scope.into(),
            expires,
            created: NOW - 10,
            source_refresh_token_id: source,
            resource: r#"["https://api.example/"]"#.into(),
        }
    }

    fn application(client_id: &str, grant: &str, algorithm: &str, secret: &str) -> DotApplication {
        DotApplication {
            id: 1,
            client_id: client_id.into(),
            name: format!("The {client_id}"),
            client_type: "confidential".into(),
            authorization_grant_type: grant.into(),
            client_secret: secret.into(),
            hash_client_secret: false,
            redirect_uris: "https://rp.example/cb".into(),
            post_logout_redirect_uris: String::new(),
            allowed_origins: String::new(),
            algorithm: algorithm.into(),
            skip_authorization: false,
            user_id: Some(2),
            created: NOW - 100,
        }
    }

    fn user(id: i64, username: &str, password: &str) -> DotUser {
        DotUser {
            id,
            username: username.into(),
            password: password.into(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            is_staff: false,
            is_active: true,
            date_joined: NOW - 1000,
            last_login: Some(NOW - 50),
        }
    }

    #[test]
    fn a_revoked_token_with_a_younger_one_in_its_family_was_rotated() {
        let tokens = [
            refresh(1, Some("a"), NOW - 30, true),
            refresh(2, Some("a"), NOW - 20, false),
            refresh(3, Some("b"), NOW - 30, true),
            refresh(4, None, NOW - 30, true),
            refresh(5, Some("a"), NOW - 25, true),
        ];
        let rotated = rotated_tokens(&tokens);
        assert_eq!(rotated, HashSet::from([1, 5]));
    }

    #[test]
    fn a_refresh_token_grants_its_access_tokens_scope_or_that_of_its_successor() {
        let tokens = [
            access(10, "read", LATER, None),
            access(11, "read write", LATER, Some(1)),
        ];
        let scopes = RefreshScopes::new(&tokens);
        let carrying = DotRefreshToken {
            access_token_id: Some(10),
            ..refresh(2, Some("a"), NOW, false)
        };
        assert_eq!(scopes.of(&carrying), Some("read"));
        assert_eq!(
            scopes.of(&refresh(1, Some("a"), NOW, true)),
            Some("read write")
        );
        assert_eq!(scopes.of(&refresh(3, None, NOW, false)), None);
    }

    #[test]
    fn expired_unowned_and_unreadable_records_are_left_behind_with_a_reason() {
        let settings = Settings {
            secret_key: None,
            ..Settings::default()
        };
        let export = DotExport {
            users: Some(vec![
                user(2, "alice", "pbkdf2_sha256$1000$salt$AAAA"),
                user(3, "mallory", "5f4dcc3b5aa765d61d8327deb882cf99"),
                user(4, "frank", "!unusable"),
            ]),
            applications: vec![
                application("web", "authorization-code", "RS256", &"s".repeat(128)),
                DotApplication {
                    id: 2,
                    ..application("hs", "authorization-code", "HS256", &"h".repeat(64))
                },
                DotApplication {
                    id: 3,
                    ..application("saml", "urn:example:saml", "RS256", "x")
                },
            ],
            access_tokens: vec![
                access(10, "read", LATER, None),
                access(11, "read", NOW - 1, None),
                DotAccessToken {
                    application_id: Some(2),
                    ..access(12, "read", LATER, None)
                },
                DotAccessToken {
                    user_id: Some(99),
                    ..access(13, "read", LATER, None)
                },
            ],
            refresh_tokens: vec![refresh(1, None, NOW, false)],
            ..DotExport::default()
        };
        let plan = plan(&export, &settings, &HashSet::new(), NOW).unwrap();
        let users: Vec<_> = plan
            .import
            .users
            .iter()
            .map(|u| (u.id, u.password_hash.is_some()))
            .collect();
        assert_eq!(users, [(2, true), (3, false), (4, false)]);
        let clients: Vec<_> = plan
            .import
            .applications
            .iter()
            .map(|a| a.application.client_id.as_str())
            .collect();
        assert_eq!(clients, ["web"]);
        let web = &plan.import.applications[0].application;
        assert!(
            web.client_secret_hash
                .as_deref()
                .unwrap()
                .starts_with("sha256:")
        );
        assert_eq!(web.owner_id, Some(2));
        assert_eq!(plan.import.access_tokens.len(), 1);
        let token = &plan.import.access_tokens[0].token;
        assert_eq!(token.token_hash, SecretHash::of("access-10"));
        assert_eq!(token.resource.to_string(), "https://api.example/");
        let skipped: Vec<(&str, &str, &str)> = plan
            .skipped
            .iter()
            .map(|s| (s.kind, s.what.as_str(), s.why.as_str()))
            .collect();
        for (kind, what, why) in [
            (
                "password",
                "mallory",
                "a hash in a format Django does not name",
            ),
            ("application", "hs (The hs)", "set secret_key"),
            (
                "application",
                "saml (The saml)",
                "unknown grant type `urn:example:saml`",
            ),
            ("access token", "", "expired"),
            ("access token", "", "its client was not imported"),
            ("access token", "", "its user was not imported"),
            ("refresh token", "", "the scope a refresh would grant"),
        ] {
            assert!(
                skipped
                    .iter()
                    .any(|(k, w, y)| *k == kind && *w == what && y.contains(why)),
                "{kind} {what}: {why} not in {skipped:?}"
            );
        }
        assert!(
            !skipped.iter().any(|(_, _, why)| why.contains("5f4dcc3b")),
            "a hash is never shown"
        );
    }

    #[test]
    fn tokens_of_users_already_here_come_over_without_auth_user() {
        let export = DotExport {
            users: None,
            applications: vec![application(
                "web",
                "authorization-code",
                "RS256",
                &"s".repeat(64),
            )],
            access_tokens: vec![access(10, "read", LATER, None)],
            ..DotExport::default()
        };
        let settings = Settings::default();
        let none = plan(&export, &settings, &HashSet::new(), NOW).unwrap();
        assert!(none.import.access_tokens.is_empty());
        assert!(
            none.skipped
                .iter()
                .any(|s| s.why.contains("custom user model"))
        );
        let here = plan(&export, &settings, &HashSet::from([2]), NOW).unwrap();
        assert_eq!(here.import.access_tokens.len(), 1);
        assert_eq!(here.import.applications[0].application.owner_id, None);
    }
}
