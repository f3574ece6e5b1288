//! Driving the provider as a browser and as a client library's HTTP client.

use reqwest::redirect::Policy;

use crate::{hidden, hidden_fields};

/// The HTTP client of the client libraries under test (`oauth2` and
/// `openidconnect` share its types): reqwest, never following redirects.
pub async fn send(
    request: http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder
        .body(response.bytes().await?.to_vec())
        .expect("a valid response"))
}

/// Where a user's browser ended up after an authorization request.
pub struct Approval {
    /// The redirect to the client.
    pub location: String,
    /// The consent page, when one was shown (and approved).
    pub consent_page: Option<String>,
    /// The browser, signed in, with its cookies.
    pub browser: reqwest::Client,
}

/// A user in a fresh browser: opens `authorize_url` on `base`, signs in on
/// Tollgate's page with `username` and `password`, approves the consent page if
/// one is shown, and returns where the browser was sent.
pub async fn sign_in_and_approve(
    base: &str,
    authorize_url: &str,
    username: &str,
    password: &str,
) -> Approval {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let to_login = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(to_login.status(), 302, "expected the sign-in redirect");
    let login_path = to_login.headers()["location"].to_str().unwrap().to_owned();
    let login = browser
        .get(format!("{base}{login_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("username", username.to_owned()),
        ("password", password.to_owned()),
        ("csrf_token", hidden(&login, "csrf_token").unwrap()),
        ("next", hidden(&login, "next").unwrap()),
    ];
    let signed_in = browser
        .post(format!("{base}/o/login/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "sign-in of {username} failed");
    let next = signed_in.headers()["location"].to_str().unwrap().to_owned();
    let consent = browser.get(format!("{base}{next}")).send().await.unwrap();
    if consent.status() == 302 {
        return Approval {
            location: consent.headers()["location"].to_str().unwrap().to_owned(),
            consent_page: None,
            browser,
        };
    }
    let page = consent.text().await.unwrap();
    let mut fields = hidden_fields(&page);
    fields.push(("allow".into(), "Authorize".into()));
    let approved = browser
        .post(format!("{base}/o/authorize/"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 302, "consent was not accepted");
    Approval {
        location: approved.headers()["location"].to_str().unwrap().to_owned(),
        consent_page: Some(page),
        browser,
    }
}
