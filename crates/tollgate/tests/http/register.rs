//! Dynamic client registration (RFC 7591) and client management with the
//! registration access token (RFC 7592) over HTTP, in each access mode.

use crate::support::*;
use serde_json::{Value, json};
use tollgate::RegistrationAccess;

const SCOPE: &str = "oauth2_provider:registration";

async fn enabled(db: Db, access: RegistrationAccess) -> Option<App> {
    TestApp::new()
        .settings(move |s| {
            s.dcr_enabled = true;
            s.dcr_registration_access = access;
            s.scopes.insert(SCOPE.into(), "Register clients".into());
        })
        .on(db, "register")
        .start()
        .await
}

impl App {
    async fn register(&self, bearer: Option<&str>, body: &Value) -> (u16, Value, Option<String>) {
        let mut request = self.http.post(self.url("/o/register/")).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
            challenge,
        )
    }

    async fn manage(
        &self,
        method: reqwest::Method,
        uri: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, uri).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// A token of alice's, with `extra` parameters (a scope, a resource).
    async fn alice_token(&self, extra: &[(&str, &str)]) -> String {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        form.extend_from_slice(extra);
        let tokens = json(self.token(&form, Some(("pw", SECRET))).await).await;
        tokens["access_token"].as_str().unwrap().to_owned()
    }
}

fn service() -> Value {
    json!({"client_name": "Nightly job", "grant_types": ["client_credentials"]})
}

async fn registration_is_off_unless_enabled(db: Db) {
    let Some(app) = TestApp::new().on(db, "register").start().await else {
        return;
    };
    let (status, _, _) = app.register(None, &service()).await;
    assert_eq!(status, 404);
    let doc = json(
        app.http
            .get(app.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(doc.get("registration_endpoint").is_none(), "{doc}");
}

async fn a_signed_in_user_registers_reads_replaces_and_deletes_a_client(db: Db) {
    let Some(app) = enabled(db, RegistrationAccess::Authenticated).await else {
        return;
    };
    let doc = json(
        app.http
            .get(app.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(doc["registration_endpoint"], app.url("/o/register/"));
    let (status, body, challenge) = app.register(None, &service()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(
        challenge.unwrap().starts_with("Bearer "),
        "RFC 6750 challenge"
    );

    let (status, client, _) = app
        .register(
            Some(&app.alice_token(&[("scope", SCOPE)]).await),
            &service(),
        )
        .await;
    assert_eq!(status, 201, "{client}");
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    let token = client["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = client["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(uri, app.url(&format!("/o/register/{client_id}/")));
    assert_eq!(
        (
            client["client_secret_expires_at"].as_i64(),
            client["client_name"].as_str()
        ),
        (Some(0), Some("Nightly job"))
    );
    assert_eq!(client["grant_types"], json!(["client_credentials"]));
    let owner = app
        .store
        .application_by_client_id(&client_id)
        .await
        .unwrap()
        .unwrap()
        .owner_id;
    assert_eq!(
        owner,
        app.store
            .user_by_username("alice")
            .await
            .unwrap()
            .map(|u| u.id)
    );
    let cc = app
        .token(
            &[("grant_type", "client_credentials")],
            Some((&client_id, &secret)),
        )
        .await;
    assert_eq!(cc.status(), 200);

    // Read: the metadata, never the secret; only with this client's token.
    let (status, read) = app.manage(reqwest::Method::GET, &uri, &token, None).await;
    assert_eq!(status, 200);
    assert!(
        read.get("client_secret").is_none() && read.get("registration_access_token").is_none(),
        "{read}"
    );
    assert_eq!(read["client_name"], "Nightly job");
    let (status, _) = app
        .manage(reqwest::Method::GET, &uri, "tgm_wrong", None)
        .await;
    assert_eq!(status, 401);
    let (_, other, _) = app
        .register(
            Some(&app.alice_token(&[("scope", SCOPE)]).await),
            &service(),
        )
        .await;
    let other_token = other["registration_access_token"].as_str().unwrap();
    let (status, _) = app
        .manage(reqwest::Method::GET, &uri, other_token, None)
        .await;
    assert_eq!(status, 401, "another client's token does not open this one");

    // Replace: the whole metadata; the token rotates.
    let replacement = json!({
        "client_name": "Nightly job v2",
        "grant_types": ["client_credentials", "authorization_code"],
        "redirect_uris": ["https://jobs.example/cb"],
    });
    let (status, replaced) = app
        .manage(reqwest::Method::PUT, &uri, &token, Some(&replacement))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["client_name"], "Nightly job v2");
    assert_eq!(
        replaced["redirect_uris"],
        json!(["https://jobs.example/cb"])
    );
    let new_token = replaced["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_token, token);
    assert_eq!(
        app.manage(reqwest::Method::GET, &uri, &token, None).await.0,
        401,
        "the old token is spent"
    );
    let public = json!({"token_endpoint_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["https://jobs.example/cb"]});
    let (status, refused) = app
        .manage(reqwest::Method::PUT, &uri, &new_token, Some(&public))
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let bad = json!({"grant_types": ["authorization_code"], "redirect_uris": ["https://jobs.example/cb#x"]});
    let (status, refused) = app
        .manage(reqwest::Method::PUT, &uri, &new_token, Some(&bad))
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .starts_with("redirect_uris:")
    );

    // Delete: the client is gone, its secret and its token with it.
    let (status, _) = app
        .manage(reqwest::Method::DELETE, &uri, &new_token, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.manage(reqwest::Method::GET, &uri, &new_token, None)
            .await
            .0,
        401
    );
    let cc = app
        .token(
            &[("grant_type", "client_credentials")],
            Some((&client_id, &secret)),
        )
        .await;
    assert_eq!(cc.status(), 401);
}

async fn a_signed_in_browser_registers_from_this_site_only(db: Db) {
    let Some(app) = enabled(db, RegistrationAccess::Authenticated).await else {
        return;
    };
    app.sign_in("alice").await;
    let post = |origin: &str| {
        app.browser
            .post(app.url("/o/register/"))
            .header("origin", origin)
            .json(&service())
            .send()
    };
    assert_eq!(post(&app.base).await.unwrap().status(), 201);
    assert_eq!(post("https://evil.example").await.unwrap().status(), 401);
}

async fn token_mode_needs_the_registration_scope_and_open_mode_nothing(db: Db) {
    let Some(app) = enabled(db, RegistrationAccess::Token).await else {
        return;
    };
    let (status, body, _) = app
        .register(Some(&app.alice_token(&[]).await), &service())
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let scoped = json(
        app.token(
            &[("grant_type", "client_credentials"), ("scope", SCOPE)],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    let (status, body, _) = app
        .register(scoped["access_token"].as_str(), &service())
        .await;
    assert_eq!(status, 201, "{body}");

    let Some(open) = enabled(db, RegistrationAccess::Open).await else {
        return;
    };
    let public = json!({
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": ["https://spa.example/cb"],
    });
    let (status, body, _) = open.register(None, &public).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.get("client_secret").is_none(),
        "a public client gets no secret: {body}"
    );
    assert_eq!(body["token_endpoint_auth_method"], "none");
    let (status, body, _) = open
        .register(None, &json!({"grant_types": ["authorization_code"]}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
}

/// Only a token meant for this server, with the registration scope asked for
/// by name, of a user still active, registers clients in a user's name.
async fn a_users_token_registers_only_when_meant_to(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| {
            s.dcr_enabled = true;
            s.scopes.insert(SCOPE.into(), "Register clients".into());
            s.default_scopes = vec!["__all__".into()];
        })
        .on(db, "register_rights")
        .start()
        .await
    else {
        return;
    };
    let refused = |(status, body, _): (u16, Value, Option<String>)| {
        assert!(matches!(status, 401 | 403), "{status} {body}");
        body["error"].as_str().unwrap().to_owned()
    };
    let by_default = app.alice_token(&[]).await;
    assert_eq!(
        refused(app.register(Some(&by_default), &service()).await),
        "insufficient_scope",
        "__all__ does not grant the registration scope"
    );
    let foreign = app
        .alice_token(&[
            ("scope", SCOPE),
            ("resource", "https://api.thirdparty.example/"),
        ])
        .await;
    assert_eq!(
        refused(app.register(Some(&foreign), &service()).await),
        "invalid_token",
        "a token for another resource"
    );
    let meant = app.alice_token(&[("scope", SCOPE)]).await;
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    app.store.set_user_active(alice.id, false, 0).await.unwrap();
    assert_eq!(
        refused(app.register(Some(&meant), &service()).await),
        "invalid_token",
        "a deactivated user's token"
    );
    app.store.set_user_active(alice.id, true, 0).await.unwrap();
    assert_eq!(app.register(Some(&meant), &service()).await.0, 201);
}

/// RFC 7591 `jwks`: public keys are kept and read back, and then verify the
/// client's request objects; a private key is refused.
async fn a_client_registers_its_public_keys(db: Db) {
    let Some(app) = enabled(db, RegistrationAccess::Open).await else {
        return;
    };
    let jwks: Value = serde_json::from_str(tollgate_testkit::client_keys::JWKS).unwrap();
    let with_keys = json!({
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://keyed.example/cb"],
        "jwks": jwks,
    });
    let (status, body, _) = app.register(None, &with_keys).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["jwks"], jwks);
    let client_id = body["client_id"].as_str().unwrap();
    let stored = app
        .store
        .application_by_client_id(client_id)
        .await
        .unwrap()
        .unwrap();
    let stored: Value = serde_json::from_str(stored.security.jwks.as_deref().unwrap()).unwrap();
    assert_eq!(stored, jwks);
    let (_, read) = app
        .manage(
            reqwest::Method::GET,
            body["registration_client_uri"].as_str().unwrap(),
            body["registration_access_token"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(read["jwks"], jwks);

    let private = json!({
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://keyed.example/cb"],
        "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]},
    });
    let (status, body, _) = app.register(None, &private).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("jwks:"),
        "{body}"
    );
}

on_both_databases!(
    a_client_registers_its_public_keys,
    a_users_token_registers_only_when_meant_to,
    registration_is_off_unless_enabled,
    a_signed_in_user_registers_reads_replaces_and_deletes_a_client,
    a_signed_in_browser_registers_from_this_site_only,
    token_mode_needs_the_registration_scope_and_open_mode_nothing,
);
