//! A provider served over real HTTP on a loopback port, with its own SQLite
//! database, a user and a few clients; and helpers to drive it like a browser.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::redirect::Policy;
use tollgate::core::model::{NewApplication, NewUser};
use tollgate::core::{ClientType, Clock, GrantType, SigningAlgorithm};
use tollgate::credentials::{hash_client_secret, hash_password};
use tollgate::keys::ensure_signing_keys;
use tollgate::sealing::Purpose;
use tollgate::settings::SecretText;
use tollgate::system::{OsEntropy, SystemClock};
use tollgate::{Provider, ProviderBuilder, Settings, Store};
pub use tollgate_testkit::{TestDatabase, hidden, hidden_fields, location_params};

pub const PASSWORD: &str = "correct horse battery";
pub const SECRET: &str = "tgs_test-secret-of-the-web-client-000000000";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const WEB_REDIRECT: &str = "https://app.example/cb";
/// The OpenID Connect relying party: code, implicit and hybrid, with a post-logout URI.
pub const RP_REDIRECT: &str = "https://rp.example/cb";
pub const RP_LOGOUT: &str = "https://rp.example/bye";
pub const SECRET_KEY: &str = "test secret key, thirty-two characters or more";

pub struct App {
    pub base: String,
    pub store: Store,
    /// A browser: keeps cookies, follows no redirects.
    pub browser: reqwest::Client,
    /// A server-side client: no cookies.
    pub http: reqwest::Client,
    /// The settings it was built with.
    pub settings: Settings,
    /// Its time, which other nodes share.
    pub clock: Arc<dyn Clock>,
    database_url: String,
    /// Dropped with the first node; `None` on the others.
    _db: Option<TestDatabase>,
}

/// Which database a test's provider keeps its data in.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A provider to start over real HTTP, seeded with the users and clients below:
/// `TestApp::new().settings(|s| …).provider(|b| …).on(db, "test").start().await`,
/// every step optional; a step given twice applies both, in order.
pub struct TestApp<'a, Where = FreshSqlite> {
    database: Where,
    clock: Arc<dyn Clock>,
    settings: Box<dyn FnOnce(&mut Settings) + 'a>,
    provider: Box<dyn FnOnce(ProviderBuilder) -> ProviderBuilder + 'a>,
    api: Box<dyn FnOnce(&Provider) -> axum::Router + 'a>,
}

/// A fresh SQLite file: a test that names no database never needs PostgreSQL.
pub struct FreshSqlite;

/// The database `on` chose, and the test's name for when PostgreSQL is skipped.
#[derive(Clone, Copy)]
pub struct On<'a>(Db, &'a str);

impl<'a> TestApp<'a> {
    pub fn new() -> Self {
        TestApp {
            database: FreshSqlite,
            clock: Arc::new(SystemClock),
            settings: Box::new(|_| {}),
            provider: Box::new(|p| p),
            api: Box::new(|_| axum::Router::new()),
        }
    }

    /// On `db` instead of a fresh SQLite file; `test` names the test when its
    /// PostgreSQL half is skipped.
    pub fn on(self, db: Db, test: &'a str) -> TestApp<'a, On<'a>> {
        TestApp {
            database: On(db, test),
            clock: self.clock,
            settings: self.settings,
            provider: self.provider,
            api: self.api,
        }
    }

    pub async fn start(self) -> App {
        self.serve(tollgate_testkit::sqlite()).await
    }
}

impl TestApp<'_, On<'_>> {
    /// `None` when PostgreSQL is unreachable outside CI (said on stderr), so
    /// the scenario is skipped.
    pub async fn start(self) -> Option<App> {
        let On(db, test) = self.database;
        let database = match db {
            Db::Sqlite => tollgate_testkit::sqlite(),
            Db::Postgres => tollgate_testkit::postgres(test).await?,
        };
        Some(self.serve(database).await)
    }
}

impl<'a, Where> TestApp<'a, Where> {
    /// Time from `clock`, which the test moves, from the seeding on.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Changes the settings before the provider is built.
    pub fn settings(mut self, change: impl FnOnce(&mut Settings) + 'a) -> Self {
        let earlier = self.settings;
        self.settings = Box::new(move |s| {
            earlier(s);
            change(s)
        });
        self
    }

    /// Extends the provider before it serves.
    pub fn provider(
        mut self,
        extend: impl FnOnce(ProviderBuilder) -> ProviderBuilder + 'a,
    ) -> Self {
        let earlier = self.provider;
        self.provider = Box::new(move |p| extend(earlier(p)));
        self
    }

    /// The application's own routes, beside the provider's.
    pub fn api(mut self, routes: impl FnOnce(&Provider) -> axum::Router + 'a) -> Self {
        let earlier = self.api;
        self.api = Box::new(move |p| earlier(p).merge(routes(p)));
        self
    }

    async fn serve(self, db: TestDatabase) -> App {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut settings = Settings {
            issuer: base.clone(),
            ..Settings::default()
        };
        settings
            .scopes
            .insert("introspection".into(), "Introspect tokens".into());
        settings.default_scopes = vec!["read".into()];
        settings.secret_key = Some(SecretText(SECRET_KEY.into()));
        (self.settings)(&mut settings);
        seed(&store, &settings, self.clock.now()).await;
        let database_url = db.url.clone();
        let (extend, api) = (self.provider, self.api);
        let routes = |builder| {
            let provider = extend(builder).build().unwrap();
            provider.router().merge(api(&provider))
        };
        listen(
            listener,
            store,
            settings,
            self.clock,
            routes,
            database_url,
            Some(db),
        )
    }
}

/// Runs each `async fn(Db)` scenario as two tests, `<scenario>::sqlite` and
/// `<scenario>::postgres`.
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::$scenario($crate::support::Db::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$scenario($crate::support::Db::Postgres).await
                }
            }
        )*
    };
}
pub(crate) use on_both_databases;

fn listen(
    listener: tokio::net::TcpListener,
    store: Store,
    settings: Settings,
    clock: Arc<dyn Clock>,
    routes: impl FnOnce(ProviderBuilder) -> axum::Router,
    database_url: String,
    db: Option<TestDatabase>,
) -> App {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = routes(
        Provider::builder(settings.clone(), store.clone())
            .environment(clock.clone(), Arc::new(OsEntropy)),
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    App {
        base,
        store,
        browser,
        http,
        settings,
        clock,
        database_url,
        _db: db,
    }
}

async fn seed(store: &Store, settings: &Settings, now: i64) {
    ensure_signing_keys(store, settings.sealer().as_ref(), now)
        .await
        .unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    for (name, active) in [("alice", true), ("bob", true), ("mallory", false)] {
        let user = NewUser {
            username: name.into(),
            password_hash: Some(hash.clone()),
            email: format!("{name}@example.com"),
            email_verified: true,
            given_name: format!("{name}-given"),
            family_name: format!("{name}-family"),
            ..NewUser::default()
        };
        let user = store.create_user(&user, now).await.unwrap();
        if !active {
            store.set_user_active(user.id, false, now).await.unwrap();
        }
    }
    let app = new_client;
    let clients = [
        app(
            "web",
            ClientType::Confidential,
            vec![GrantType::AuthorizationCode],
            &[WEB_REDIRECT, "https://app.example/other?x=1"],
        ),
        NewApplication {
            allowed_origins: vec!["https://spa.example".into()],
            ..app(
                "spa",
                ClientType::Public,
                vec![GrantType::AuthorizationCode, GrantType::Implicit],
                &["http://127.0.0.1/cb"],
            )
        },
        NewApplication {
            skip_authorization: true,
            ..app(
                "trusted",
                ClientType::Confidential,
                vec![GrantType::AuthorizationCode],
                &["https://trusted.example/cb"],
            )
        },
        app(
            "svc",
            ClientType::Confidential,
            vec![GrantType::ClientCredentials],
            &[],
        ),
        app(
            "pw",
            ClientType::Confidential,
            vec![GrantType::Password],
            &[],
        ),
        NewApplication {
            post_logout_redirect_uris: vec![RP_LOGOUT.into()],
            skip_authorization: true,
            ..app(
                "rp",
                ClientType::Confidential,
                vec![
                    GrantType::AuthorizationCode,
                    GrantType::Implicit,
                    GrantType::OpenIdHybrid,
                ],
                &[RP_REDIRECT],
            )
        },
        NewApplication {
            algorithm: SigningAlgorithm::ES256,
            userinfo_signed: true,
            skip_authorization: true,
            ..app(
                "rp-jwt",
                ClientType::Confidential,
                vec![GrantType::AuthorizationCode],
                &["https://rp3.example/cb"],
            )
        },
        NewApplication {
            post_logout_redirect_uris: vec!["https://rp2.example/bye".into()],
            algorithm: SigningAlgorithm::HS256,
            userinfo_signed: false,
            client_secret_sealed: settings
                .sealer()
                .map(|s| s.seal(SECRET, Purpose::ClientSecret("rp-hs"))),
            skip_authorization: true,
            ..app(
                "rp-hs",
                ClientType::Confidential,
                vec![GrantType::AuthorizationCode],
                &["https://rp2.example/cb"],
            )
        },
    ];
    for client in clients {
        store.create_application(&client, now).await.unwrap();
    }
}

impl App {
    /// A second provider process on the same database, settings and clock,
    /// as a cluster's other node (its database outlives neither).
    pub async fn another_node(&self) -> App {
        let store = Store::connect(&self.database_url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listen(
            listener,
            store,
            self.settings.clone(),
            self.clock.clone(),
            |builder| builder.build().unwrap().router(),
            self.database_url.clone(),
            None,
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The OpenID Connect Discovery document.
    pub async fn discovery(&self) -> serde_json::Value {
        let url = self.url("/.well-known/openid-configuration");
        json(self.http.get(url).send().await.unwrap()).await
    }

    /// Signs `username` in through the login form, as a browser does.
    pub async fn sign_in(&self, username: &str) {
        let page = self
            .browser
            .get(self.url("/o/login/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf_token").expect("login form has a CSRF token");
        let response = self
            .browser
            .post(self.url("/o/login/"))
            // What a browser sends with a same-origin form under our referrer policy.
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", "/o/login/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "sign-in of {username} failed");
    }

    pub async fn authorize(&self, query: &[(&str, &str)]) -> reqwest::Response {
        self.browser
            .get(self.url("/o/authorize/"))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    /// Approves (or denies) the consent page the authorization request shows.
    pub async fn consent(&self, query: &[(&str, &str)], allow: bool) -> reqwest::Response {
        let page = self.authorize(query).await;
        assert_eq!(page.status(), 200, "expected the consent page");
        let html = page.text().await.unwrap();
        let mut fields = hidden_fields(&html);
        if allow {
            fields.push(("allow".into(), "Authorize".into()));
        }
        self.browser
            .post(self.url("/o/authorize/"))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// A full code flow for the `web` client (consent once remembered is not
    /// asked again); returns the code.
    pub async fn code_for_web(&self) -> String {
        self.sign_in("alice").await;
        let mut response = self.authorize(&web_request()).await;
        if response.status() == 200 {
            response = self.consent(&web_request(), true).await;
        }
        let location = location(&response);
        location_params(&location)["code"].clone()
    }

    pub async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url("/o/token/")).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }
}

/// A client to register: a confidential one with [`SECRET`] (a public one
/// with none), RS256, consent asked, nothing else; tests set what differs.
pub fn new_client(
    client_id: &str,
    client_type: ClientType,
    grant_types: Vec<GrantType>,
    redirect_uris: &[&str],
) -> NewApplication {
    NewApplication {
        client_id: client_id.into(),
        client_secret_hash: (client_type == ClientType::Confidential)
            .then(|| hash_client_secret(SECRET, true).unwrap()),
        client_secret_sealed: None,
        client_type,
        grant_types,
        redirect_uris: redirect_uris.iter().map(|s| s.to_string()).collect(),
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: SigningAlgorithm::RS256,
        userinfo_signed: false,
        skip_authorization: false,
        name: format!("The {client_id} app"),
        owner_id: None,
        security: Default::default(),
    }
}

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl ManualClock {
    pub fn new() -> Self {
        ManualClock(std::sync::Arc::new(SystemClock.now().into()))
    }

    pub fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Adds `tv`, a public client of the device grant.
pub async fn tv_client(app: &App) {
    let tv = NewApplication {
        client_id: "tv".into(),
        client_secret_hash: None,
        client_secret_sealed: None,
        client_type: ClientType::Public,
        grant_types: vec![GrantType::DeviceCode],
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: SigningAlgorithm::RS256,
        userinfo_signed: false,
        skip_authorization: false,
        name: "Living-room TV".into(),
        owner_id: None,
        security: Default::default(),
    };
    app.store
        .create_application(&tv, app.clock.now())
        .await
        .unwrap();
}

pub fn web_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_REDIRECT),
        ("scope", "read write"),
        ("state", "s-123"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// The token request that exchanges a code `web` got from [`web_request`].
pub fn web_code_exchange(code: &str) -> [(&'static str, &str); 4] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_REDIRECT),
        ("code_verifier", VERIFIER),
    ]
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on a {} response", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// Verifies a JWT this server signed against the published JWKS, as a relying
/// party or resource server must; `expiring` demands an `exp`. Its header and claims.
pub async fn verified_jwt(
    app: &App,
    token: &str,
    audience: &str,
    expiring: bool,
) -> (
    jsonwebtoken::Header,
    serde_json::Map<String, serde_json::Value>,
) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(
        json(
            app.http
                .get(app.url("/o/.well-known/jwks.json"))
                .send()
                .await
                .unwrap(),
        )
        .await,
    )
    .unwrap();
    let kid = header.kid.clone().expect("a kid in the header");
    let jwk = jwks.find(&kid).expect("the kid is published");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&app.base]);
    if !expiring {
        validation.required_spec_claims.clear();
    }
    let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("the JWT verifies")
    .claims;
    (header, claims)
}
