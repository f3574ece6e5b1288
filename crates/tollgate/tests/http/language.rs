//! The sign-in, consent and sign-out pages speak the visitor's language:
//! `ui_locales` first, then `Accept-Language`, English otherwise.

use crate::support::*;

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut query = web_request();
    query.extend_from_slice(extra);
    query
}

#[tokio::test]
async fn the_sign_in_page_follows_the_requests_ui_locales() {
    let app = TestApp::new().start().await;
    let response = app.authorize(&with(&[("ui_locales", "de fr-CA")])).await;
    let login = app
        .browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap();
    let html = login.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains("<h1>Se connecter</h1>") && html.contains("Mot de passe"));
    // A refused password is said in French too.
    let form = [
        ("username", "alice".to_owned()),
        ("password", "wrong".to_owned()),
        ("csrf_token", hidden(&html, "csrf_token").unwrap()),
        ("next", hidden(&html, "next").unwrap()),
    ];
    let again = app
        .browser
        .post(app.url("/o/login/"))
        .header("origin", &app.base)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.contains("Le nom d&#x27;utilisateur ou le mot de passe est incorrect."),
        "{again}"
    );
    // Without ui_locales, and with a language there is no translation for: English.
    let response = app.authorize(&with(&[("ui_locales", "de")])).await;
    let html = app
        .browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>Sign in</h1>"));
}

#[tokio::test]
async fn the_consent_page_follows_ui_locales_before_accept_language() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let consent = |query: Vec<(&'static str, &'static str)>, accept: &'static str| {
        let request = app
            .browser
            .get(app.url("/o/authorize/"))
            .query(&query)
            .header("accept-language", accept);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let french = consent(web_request(), "fr-FR,fr;q=0.9,en;q=0.8").await;
    assert!(
        french.contains("<h1>Autoriser The web app ?</h1>"),
        "{french}"
    );
    assert!(french.contains(">Autoriser</button>") && french.contains(">Annuler</button>"));
    let english = consent(with(&[("ui_locales", "en")]), "fr").await;
    assert!(
        english.contains("<h1>Authorize The web app?</h1>"),
        "{english}"
    );
    // The approval still works from the translated page: the button's value is not translated.
    assert!(french.contains("name=\"allow\" value=\"Authorize\""));
}

#[tokio::test]
async fn the_sign_out_confirmation_follows_ui_locales() {
    let app = TestApp::new()
        .settings(|s| s.oidc_rp_initiated_logout_always_prompt = true)
        .start()
        .await;
    app.sign_in("alice").await;
    let page = app
        .browser
        .get(app.url("/o/logout/"))
        .query(&[("ui_locales", "fr")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<h1>Se déconnecter ?</h1>") && html.contains("Rester connecté"),
        "{html}"
    );
    assert_eq!(
        hidden(&html, "ui_locales").as_deref(),
        Some("fr"),
        "carried to the signed-out page"
    );
}

#[tokio::test]
async fn error_pages_follow_the_requests_language() {
    let app = TestApp::new().start().await;
    let response = app
        .browser
        .get(app.url("/o/authorize/"))
        .query(&[
            ("client_id", "nobody"),
            ("response_type", "code"),
            ("ui_locales", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(
        html.contains("<h1>Cette demande ne peut pas aboutir</h1>"),
        "{html}"
    );
    // Outside the page routes nothing is negotiated.
    let english = app
        .browser
        .get(app.url("/o/authorize/"))
        .query(&[("client_id", "nobody"), ("response_type", "code")])
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        english.contains("<h1>This request cannot be completed</h1>"),
        "{english}"
    );
}

#[tokio::test]
async fn the_device_pages_speak_french_when_asked() {
    let app = TestApp::new().start().await;
    tv_client(&app).await;
    app.sign_in("alice").await;
    let page = |path: &str| {
        let request = app
            .browser
            .get(app.url(path))
            .header("accept-language", "fr-FR, en;q=0.5");
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let html = page("/o/device/").await;
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains("<h1>Connecter un appareil</h1>"), "{html}");
    // A wrong code is refused in French.
    let form = [
        ("csrf_token", hidden(&html, "csrf_token").unwrap()),
        ("user_code", "BBBB-BBBB".to_owned()),
    ];
    let refused = app
        .browser
        .post(app.url("/o/device/"))
        .header("origin", &app.base)
        .header("accept-language", "fr")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Ce code n&#x27;est pas le bon."), "{html}");
    // English otherwise.
    let english = app
        .browser
        .get(app.url("/o/device/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<h1>Connect a device</h1>"), "{english}");
}
