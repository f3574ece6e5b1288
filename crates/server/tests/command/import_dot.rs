//! `tollgate import-dot` on databases made by the real django-oauth-toolkit
//! 3.4.1 (`tests/fixtures/dot`, remade by its `make.sh`), into SQLite and into
//! PostgreSQL; then a relying party configured for the DOT site, and the
//! tokens DOT issued, work against `tollgate serve` unchanged.

use std::process::Output;
use std::time::Instant;

use crate::support::*;
use openidconnect::core::{
    CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata,
    CoreResponseType,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use serde_json::Value;
use tollgate::Store;
use tollgate::store::dot::DotSource;
use tollgate_testkit::{hidden_fields, location_params};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dot");
const SECRET_KEY: &str = "import-dot test secret key, 32 chars or more";
/// The kid DOT 3.4.1 published for the fixture's key (jwcrypto's RFC 7638 thumbprint).
const DOT_KID: &str = "T4qYNST3JnSLZLsPwL4xZD6x9tAqQ-Ul-mQn0xymrd0";
const CALLBACK: &str = "https://rp.example/callback";
const SIGNED_OUT: &str = "https://rp.example/signed-out";

/// What `make_db.py` wrote down beside a database: ids and plaintexts.
struct Manifest(Value);

impl Manifest {
    fn load(name: &str) -> Self {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
        Manifest(serde_json::from_str(&text).unwrap())
    }

    /// A client's id and plaintext secret.
    fn client(&self, key: &str) -> (String, String) {
        let app = &self.0["applications"][key];
        let text = |field: &str| app[field].as_str().unwrap().to_owned();
        (text("client_id"), text("client_secret"))
    }

    fn password(&self, user: &str) -> String {
        self.0["users"][user]["password"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Every token of `kind` and `status` in the database, with its manifest entry.
    fn tokens(&self, kind: &str, status: &str) -> Vec<&Value> {
        self.0["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == kind && t["status"] == status && t["in_database"] == true)
            .collect()
    }

    fn token(&self, kind: &str, status: &str, user: &str) -> &Value {
        self.tokens(kind, status)
            .into_iter()
            .find(|t| t["user"] == user)
            .unwrap_or_else(|| panic!("no {status} {kind} of {user} in the manifest"))
    }
}

fn value(token: &Value) -> &str {
    token["token"]
        .as_str()
        .or(token["code"].as_str())
        .or(token["jwt"].as_str())
        .unwrap()
}

/// A scratch directory and the environment of a Tollgate with DOT's issuer shape.
struct Site {
    dir: TempDir,
    env: Vec<(String, String)>,
    issuer: String,
}

impl Site {
    fn new(database_url: &str) -> Self {
        let dir = TempDir::new();
        let bind = format!("127.0.0.1:{}", free_port());
        let issuer = format!("http://{bind}/o");
        let env = vec![
            ("TOLLGATE_DATABASE_URL".to_owned(), database_url.to_owned()),
            ("TOLLGATE_ISSUER".to_owned(), issuer.clone()),
            ("TOLLGATE_BIND".to_owned(), bind),
            ("TOLLGATE_SECRET_KEY".to_owned(), SECRET_KEY.to_owned()),
        ];
        Site { dir, env, issuer }
    }

    fn sqlite(name: &str) -> Self {
        let dir = TempDir::new();
        let url = format!("sqlite://{}", dir.0.join(name).display());
        let mut site = Site::new(&url);
        site.dir = dir;
        site
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn database_url(&self) -> &str {
        &self.env[0].1
    }

    fn import(&self, source: &str, extra: &[&str]) -> Output {
        let key = format!("{FIXTURES}/oidc_rsa_private_key.pem");
        run(tollgate(&self.dir.0)
            .args(["import-dot", source, "--oidc-rsa-private-key", &key])
            .args(extra)
            .envs(self.env()))
    }

    fn serve(&self) -> Server {
        Server::start(&self.dir.0, &self.env())
    }
}

/// The line of the summary about `kind`.
fn summary_line(out: &Output, kind: &str) -> String {
    stdout(out)
        .lines()
        .find(|l| l.trim_start().starts_with(kind))
        .unwrap_or_else(|| panic!("no `{kind}` line in: {}", stdout(out)))
        .to_owned()
}

fn sha256_of_file(path: &std::path::Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

async fn post_form(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The fixture's SQLite database imported into `site`: dry run, run, second run.
fn import_the_sqlite_fixture(site: &Site) {
    let source = site.dir.0.join("dot.sqlite3");
    std::fs::copy(format!("{FIXTURES}/dot.sqlite3"), &source).unwrap();
    let source = source.display().to_string();
    let before = sha256_of_file(std::path::Path::new(&source));

    let dry = site.import(&source, &["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("Dry run: nothing was written"),
        "{}",
        stdout(&dry)
    );
    assert!(summary_line(&dry, "users").contains("8 read, 8 added"));

    let started = Instant::now();
    let first = site.import(&source, &[]);
    eprintln!("import of the fixture: {:?}", started.elapsed());
    assert!(first.status.success(), "{}", stderr(&first));
    eprintln!("{}", stdout(&first));
    assert!(summary_line(&first, "users").contains("8 read, 8 added, 0 already here"));
    assert!(summary_line(&first, "applications").contains("11 read, 11 added"));
    assert!(summary_line(&first, "access tokens").contains("6 read, 5 added"));
    assert!(summary_line(&first, "refresh tokens").contains("5 read, 5 added"));
    assert!(summary_line(&first, "authorization codes").contains("2 read, 1 added"));
    assert!(summary_line(&first, "signing keys").contains("1 added"));
    assert!(stdout(&first).contains(DOT_KID));
    assert!(stdout(&first).contains("1 access token: expired"));

    let second = site.import(&source, &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("Nothing changed"),
        "{}",
        stdout(&second)
    );
    assert!(summary_line(&second, "users").contains("0 added, 8 already here"));
    assert!(summary_line(&second, "refresh tokens").contains("0 added, 5 already here"));
    assert_eq!(
        sha256_of_file(std::path::Path::new(&source)),
        before,
        "the source is never written"
    );
}

/// DOT's issuer, client secrets, users' passwords, tokens, codes and key, all
/// working against `tollgate serve` after the import.
async fn a_dot_site_moves_over(site: Site) {
    import_the_sqlite_fixture(&site);
    let manifest = Manifest::load("manifest.sqlite.json");
    let store = Store::connect(site.database_url()).await.unwrap();
    let server = site.serve();
    let issuer = &site.issuer;
    let token_url = format!("{issuer}/token/");

    // Discovery with the DOT issuer gives DOT's URLs.
    let discovery: Value = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/.well-known/jwks.json"),
        ("end_session_endpoint", "/o/logout/"),
    ] {
        assert_eq!(
            discovery[field],
            format!("{}{path}", server.base),
            "{field}"
        );
    }

    // A client secret DOT hashed (PBKDF2, 1,000,000 rounds) is checked once, then is Tollgate's.
    let (reporting, reporting_secret) = manifest.client("reporting");
    let stored = |client_id: String| {
        let store = store.clone();
        async move {
            store
                .application_by_client_id(&client_id)
                .await
                .unwrap()
                .unwrap()
                .client_secret_hash
                .unwrap()
        }
    };
    assert!(
        stored(reporting.clone())
            .await
            .starts_with("pbkdf2_sha256$1000000$")
    );
    for round in ["first", "second"] {
        let started = Instant::now();
        let (status, body) = post_form(
            &token_url,
            &[("grant_type", "client_credentials")],
            Some((&reporting, &reporting_secret)),
        )
        .await;
        eprintln!(
            "client credentials with DOT's secret, {round} call: {:?}",
            started.elapsed()
        );
        assert_eq!(status, 200, "{round}: {body}");
        assert!(
            stored(reporting.clone()).await.starts_with("sha256:"),
            "{round}"
        );
    }
    let (status, _) = post_form(
        &token_url,
        &[("grant_type", "client_credentials")],
        Some((&reporting, "not the secret")),
    )
    .await;
    assert_eq!(status, 401);
    // A short secret a person chose stays slow to guess; one DOT kept in clear was hashed on import.
    let (chosen, chosen_secret) = manifest.client("chosen");
    let (legacy, legacy_secret) = manifest.client("legacy");
    for (client, secret) in [(&chosen, &chosen_secret), (&legacy, &legacy_secret)] {
        let (status, body) = post_form(
            &token_url,
            &[("grant_type", "client_credentials")],
            Some((client, secret)),
        )
        .await;
        assert_eq!(status, 200, "{client}: {body}");
    }
    assert!(stored(chosen).await.starts_with("$argon2id$"));
    assert!(stored(legacy).await.starts_with("sha256:"));

    // DOT's access tokens introspect as DOT issued them; the expired one is not active.
    let dot_tokens = DotSource::open(&format!("{FIXTURES}/dot.sqlite3"))
        .await
        .unwrap()
        .read()
        .await
        .unwrap()
        .access_tokens;
    let introspect = |token: String| {
        let url = format!("{issuer}/introspect/");
        let (legacy, legacy_secret) = manifest.client("legacy");
        async move {
            post_form(&url, &[("token", &token)], Some((&legacy, &legacy_secret)))
                .await
                .1
        }
    };
    for live in manifest.tokens("access_token", "live") {
        let token = value(live);
        let found = introspect(token.to_owned()).await;
        assert_eq!(found["active"], true, "{live}");
        assert_eq!(found["scope"], live["scope"]);
        assert_eq!(found["client_id"], live["client_id"]);
        let dot = dot_tokens.iter().find(|t| t.token == token).unwrap();
        assert_eq!(found["exp"], dot.expires, "the expiry DOT gave it");
        match live["user"].as_str() {
            Some(user) => {
                assert_eq!(found["username"], user);
                assert_eq!(found["sub"], live["user_id"].to_string());
            }
            None => assert!(found.get("username").is_none()),
        }
    }
    let expired = manifest.tokens("access_token", "expired")[0];
    assert_eq!(introspect(value(expired).to_owned()).await["active"], false);

    // DOT's refresh tokens refresh (a family-less one too); rotated and revoked ones do not.
    let (web, web_secret) = manifest.client("web");
    let (password_client, password_secret) = manifest.client("password");
    let refresh = |token: &Value, client: &(String, String)| {
        let (url, token, client) = (token_url.clone(), value(token).to_owned(), client.clone());
        async move {
            post_form(
                &url,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
                Some((&client.0, &client.1)),
            )
            .await
        }
    };
    let web_client = (web.clone(), web_secret.clone());
    let (status, refreshed) = refresh(
        manifest.token("refresh_token", "live", "alice"),
        &web_client,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let id_token = refreshed["id_token"].as_str().expect("an ID token");
    assert_eq!(kid_of(id_token), DOT_KID, "signed with DOT's key");
    let (status, _) = refresh(
        manifest.token("refresh_token", "live", "carol"),
        &web_client,
    )
    .await;
    assert_eq!(status, 200, "a refresh token without a family");
    let (status, _) = refresh(
        manifest.token("refresh_token", "live", "bob"),
        &(password_client.clone(), password_secret.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let rotated = refresh(
        manifest.token("refresh_token", "rotated", "alice"),
        &web_client,
    )
    .await;
    assert_invalid_grant(rotated);
    // That replay was a reuse (RFC 9700 §4.14.2): the family, with the refresh just made, is revoked.
    let successor = refreshed["refresh_token"].as_str().unwrap();
    let after_reuse = post_form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", successor),
        ],
        Some((&web, &web_secret)),
    )
    .await;
    assert_invalid_grant(after_reuse);
    let revoked = manifest.token("refresh_token", "revoked", "alice");
    let public_client_refresh = post_form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", value(revoked)),
            ("client_id", revoked["client_id"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_invalid_grant(public_client_refresh);

    // DOT's pending authorization code is redeemed with its PKCE verifier.
    let code = manifest.token("authorization_code", "live", "alice");
    let (status, body) = post_form(
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", value(code)),
            ("redirect_uri", code["redirect_uri"].as_str().unwrap()),
            ("code_verifier", code["code_verifier"].as_str().unwrap()),
        ],
        Some((&web, &web_secret)),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The ID tokens DOT signed verify against Tollgate's JWKS, under the same kid.
    let jwks: CoreJsonWebKeySet = reqwest::get(format!("{issuer}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for dot_id_token in manifest.tokens("id_token", "live") {
        let token: CoreIdToken = value(dot_id_token).parse().unwrap();
        assert_eq!(kid_of(value(dot_id_token)), DOT_KID);
        // DOT's issuer was the fixture's; the signature and kid are what carry over.
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(web.clone()),
            ClientSecret::new(web_secret.clone()),
            IssuerUrl::new("https://id.example/o".into()).unwrap(),
            jwks.clone(),
        );
        token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .expect("DOT's ID token verifies against Tollgate's JWKS");
    }

    // A relying party configured for the DOT site: discovery, sign-in with the
    // Django password, the code flow, UserInfo, refresh, logout.
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone()).unwrap(), &send)
            .await
            .expect("discovery");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(web.clone()),
        Some(ClientSecret::new(web_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let alice = manifest.password("alice");
    let approval = sign_in_and_approve(&server.base, url.as_str(), "alice", &alice).await;
    let callback = location_params(&approval.location);
    let tokens = rp
        .exchange_code(AuthorizationCode::new(callback["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("the ID token verifies");
    assert_eq!(
        claims.subject().as_str(),
        "2",
        "alice's DOT id is still her sub"
    );
    assert_eq!(kid_of(&id_token.to_string()), DOT_KID);
    let userinfo: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&send)
        .await
        .expect("UserInfo");
    assert_eq!(userinfo.subject().as_str(), "2");
    assert_eq!(userinfo.email().unwrap().as_str(), "alice@example.com");
    let refreshed = rp
        .exchange_refresh_token(&RefreshToken::new(
            tokens.refresh_token().unwrap().secret().clone(),
        ))
        .unwrap()
        .request_async(&send)
        .await
        .expect("refresh");
    assert!(refreshed.id_token().is_some());
    let alice_hash = store
        .user_by_id(2)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(alice_hash.starts_with("$argon2id$"), "re-hashed at sign-in");
    let mut logout = url::Url::parse(&format!("{issuer}/logout/")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token.to_string())
        .append_pair("post_logout_redirect_uri", SIGNED_OUT)
        .append_pair("state", "bye");
    let location = follow_logout(&server.base, logout.as_str()).await;
    assert_eq!(location, format!("{SIGNED_OUT}?state=bye"));

    // Every Django hash format signs in, once as Django's and then as argon2id.
    let password_grant = |user: &'static str, password: String| {
        let (url, client, secret) = (
            token_url.clone(),
            password_client.clone(),
            password_secret.clone(),
        );
        async move {
            let form = [
                ("grant_type", "password"),
                ("username", user),
                ("password", password.as_str()),
            ];
            post_form(&url, &form, Some((&client, &secret))).await
        }
    };
    for user in ["bob", "carol", "dave", "erin", "root"] {
        for _ in 0..2 {
            let (status, body) = password_grant(user, manifest.password(user)).await;
            assert_eq!(status, 200, "{user}: {body}");
        }
        let hash = store
            .user_by_username(user)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{user}: {hash}");
    }
    for (user, password) in [
        ("grace", manifest.password("grace")),
        ("frank", String::new()),
    ] {
        let (status, body) = password_grant(user, password).await;
        assert_eq!(status, 400, "{user} (inactive, unusable password): {body}");
    }

    // What is revoked here stays revoked when the same DOT database is imported again.
    let carol = value(manifest.token("access_token", "live", "carol")).to_owned();
    let (status, _) = post_form(
        &format!("{issuer}/revoke_token/"),
        &[("token", &carol)],
        Some((&web, &web_secret)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(carol.clone()).await["active"], false);
    let again = site.import(&site.dir.0.join("dot.sqlite3").display().to_string(), &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Nothing changed"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        introspect(carol).await["active"],
        false,
        "a second import brought a revoked token back"
    );
}

fn assert_invalid_grant((status, body): (u16, Value)) {
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

/// RP-initiated logout in a browser: confirms if asked; where it was sent back.
async fn follow_logout(base: &str, url: &str) -> String {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut response = browser.get(url).send().await.unwrap();
    if response.status() == 200 {
        let mut fields = hidden_fields(&response.text().await.unwrap());
        fields.push(("allow".into(), "Sign out".into()));
        response = browser
            .post(format!("{base}/o/logout/"))
            .form(&fields)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_dot_site_moves_over_to_sqlite() {
    a_dot_site_moves_over(Site::sqlite("tollgate.db")).await;
}

#[tokio::test]
async fn a_dot_site_moves_over_to_postgres() {
    let Some(db) = tollgate_testkit::postgres("import_dot_target").await else {
        return;
    };
    a_dot_site_moves_over(Site::new(&db.url)).await;
}

/// DOT on PostgreSQL: its dump loaded into a database of its own, then imported.
#[tokio::test]
async fn a_dot_database_on_postgres_is_read() {
    let Some(source) = tollgate_testkit::postgres("import_dot_source").await else {
        return;
    };
    load_dump(&source.url).await;
    let manifest = Manifest::load("manifest.postgres.json");
    let site = Site::sqlite("from-postgres.db");
    let out = site.import(&source.url, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(summary_line(&out, "users").contains("8 read, 8 added"));
    assert!(summary_line(&out, "applications").contains("11 read, 11 added"));
    assert!(summary_line(&out, "access tokens").contains("6 read, 5 added"));
    let server = site.serve();
    let (legacy, legacy_secret) = manifest.client("legacy");
    for live in manifest.tokens("access_token", "live") {
        let (_, found) = post_form(
            &format!("{}/o/introspect/", server.base),
            &[("token", value(live))],
            Some((&legacy, &legacy_secret)),
        )
        .await;
        assert_eq!(found["active"], true, "{live}");
        assert_eq!(found["scope"], live["scope"]);
    }
    let (web, web_secret) = manifest.client("web");
    let (status, body) = post_form(
        &format!("{}/o/token/", server.base),
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                value(manifest.token("refresh_token", "live", "alice")),
            ),
        ],
        Some((&web, &web_secret)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// `dot.postgres.sql` as plain SQL, on a connection of its own (it empties the search path).
async fn load_dump(url: &str) {
    use sqlx::Connection;
    let dump = std::fs::read_to_string(format!("{FIXTURES}/dot.postgres.sql")).unwrap();
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
        .execute(&mut connection)
        .await
        .unwrap();
}

#[test]
fn a_database_that_is_not_dots_is_refused_by_name() {
    let site = Site::sqlite("target.db");
    // Tollgate's own database: a SQLite file without DOT's tables.
    let own = site.dir.0.join("own.db");
    let made = run(tollgate(&site.dir.0).arg("migrate").env(
        "TOLLGATE_DATABASE_URL",
        format!("sqlite://{}", own.display()),
    ));
    assert!(made.status.success(), "{}", stderr(&made));
    let out = site.import(&own.display().to_string(), &[]);
    let line = one_line_failure(&out);
    assert!(line.contains("`django_migrations` is missing"), "{line}");
    assert!(
        line.contains("not a django-oauth-toolkit database"),
        "{line}"
    );
    let missing = site.import(
        &site.dir.0.join("nowhere.sqlite3").display().to_string(),
        &[],
    );
    assert!(one_line_failure(&missing).contains("cannot open the DOT database"));
}

#[test]
fn a_dot_version_it_does_not_know_is_refused_by_name() {
    let site = Site::sqlite("target.db");
    let source = site.dir.0.join("future.sqlite3");
    std::fs::copy(format!("{FIXTURES}/dot.sqlite3"), &source).unwrap();
    sqlite(
        &source,
        "INSERT INTO django_migrations (app, name, applied) VALUES ('oauth2_provider', '0023_from_the_future', '2027-01-01 00:00:00')",
    );
    let line = one_line_failure(&site.import(&source.display().to_string(), &[]));
    assert!(line.contains("`0023_from_the_future`"), "{line}");
    assert!(line.contains("newer than the DOT 3.4"), "{line}");
}

#[test]
fn a_custom_user_model_leaves_users_and_their_tokens_behind() {
    let site = Site::sqlite("target.db");
    let source = site.dir.0.join("custom.sqlite3");
    std::fs::copy(format!("{FIXTURES}/dot.sqlite3"), &source).unwrap();
    sqlite(
        &source,
        "PRAGMA foreign_keys = OFF; DROP TABLE auth_user_groups; DROP TABLE auth_user_user_permissions; DROP TABLE auth_user;",
    );
    let out = site.import(&source.display().to_string(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("custom user model"), "{text}");
    assert!(summary_line(&out, "users").contains("0 read, 0 added"));
    // Client-credentials tokens have no user, and come over.
    assert!(
        summary_line(&out, "access tokens").contains("6 read, 2 added"),
        "{text}"
    );
    assert!(text.contains("its user was not imported"), "{text}");
}

/// Runs SQL on a SQLite file, as a DBA would with the sqlite3 shell.
fn sqlite(path: &std::path::Path, sql: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut connection)
            .await
            .unwrap();
    });
}
