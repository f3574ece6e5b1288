//! DOT's `COMPLIANT_BCP_RFC9700_*` switches over HTTP: what they turn off is
//! refused with the protocol's error and no longer advertised.

use crate::support::*;

async fn access_tokens_in_the_redirect_can_be_turned_off(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| s.compliant_bcp_rfc9700_implicit_grant = true)
        .on(db, "rfc9700")
        .start()
        .await
    else {
        return;
    };
    app.sign_in("alice").await;
    let request = |response_type: &'static str| {
        vec![
            ("client_id", "rp"),
            ("redirect_uri", RP_REDIRECT),
            ("response_type", response_type),
            ("scope", "openid"),
            ("nonce", "n"),
            ("state", "s"),
        ]
    };
    for response_type in ["token", "id_token token", "code id_token token"] {
        let response = app.authorize(&request(response_type)).await;
        let location = location(&response);
        let (_, fragment) = location.split_once('#').expect("answered in the fragment");
        let params: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(fragment.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(
            params["error"], "unsupported_response_type",
            "{response_type}"
        );
        assert_eq!(params["state"], "s");
    }
    // An ID token alone carries no access token: still served.
    let response = app.authorize(&request("id_token")).await;
    assert!(
        location(&response).contains("id_token="),
        "{}",
        location(&response)
    );
    let doc = app.discovery().await;
    let types: Vec<&str> = doc["response_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types, ["code", "id_token", "code id_token"]);
}

async fn the_password_grant_and_plain_pkce_can_be_turned_off(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| {
            s.compliant_bcp_rfc9700_password_grant = true;
            s.pkce_plain_allowed = true;
            s.compliant_bcp_rfc9700_pkce_method = true;
        })
        .on(db, "rfc9700")
        .start()
        .await
    else {
        return;
    };
    let response = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["error"], "unauthorized_client");
    let doc = json(
        app.http
            .get(app.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let grants = doc["grant_types_supported"].to_string();
    assert!(!grants.contains("password"), "{grants}");
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );

    app.sign_in("alice").await;
    let mut plain = web_request();
    plain.retain(|(n, _)| !n.starts_with("code_challenge"));
    plain.extend([
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ]);
    let params = location_params(&location(&app.authorize(&plain).await));
    assert_eq!(params["error"], "invalid_request", "{params:?}");
}

on_both_databases!(
    access_tokens_in_the_redirect_can_be_turned_off,
    the_password_grant_and_plain_pkce_can_be_turned_off,
);
