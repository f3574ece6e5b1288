//! Bad input gets the protocol's own error: a table of malformed requests, none
//! of which may produce a 500, a panic or a non-protocol answer.

use crate::support::*;

struct Case {
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    authorization: Option<&'static str>,
    body: &'static str,
    /// The RFC error code the body must carry, or the page status for HTML endpoints.
    expect: Expect,
}

enum Expect {
    Error(u16, &'static str),
    Page(u16),
    Status(u16),
}

fn post(path: &'static str, body: &'static str, expect: Expect) -> Case {
    Case {
        method: "POST",
        path,
        content_type: Some("application/x-www-form-urlencoded"),
        authorization: None,
        body,
        expect,
    }
}

fn basic(mut case: Case, header: &'static str) -> Case {
    case.authorization = Some(header);
    case
}

fn typed(mut case: Case, content_type: Option<&'static str>) -> Case {
    case.content_type = content_type;
    case
}

fn get(path: &'static str, expect: Expect) -> Case {
    Case {
        method: "GET",
        path,
        content_type: None,
        authorization: None,
        body: "",
        expect,
    }
}

// base64("svc:<SECRET>") is built at run time; these headers are broken on purpose.
const BAD_BASIC: [&str; 6] = [
    "Basic",
    "Basic !!!",
    "Basic Og==",
    "Basic c3Zj",
    "Basic 8J+SqQ==",
    "Basic ZGVhZGJlZWY6",
];

fn cases() -> Vec<Case> {
    use Expect::*;
    let token = "/o/token/";
    let mut cases = vec![
        post(token, "", Error(400, "invalid_request")),
        post(token, "grant_type=", Error(400, "invalid_request")),
        post(
            token,
            "grant_type=client_credentials&grant_type=password",
            Error(400, "invalid_request"),
        ),
        post(
            token,
            "grant_type=magic",
            Error(400, "unsupported_grant_type"),
        ),
        post(
            token,
            "grant_type=authorization_code",
            Error(400, "invalid_request"),
        ),
        post(
            token,
            "grant_type=password&username=alice",
            Error(400, "invalid_request"),
        ),
        post(
            token,
            "grant_type=refresh_token",
            Error(400, "invalid_request"),
        ),
        post(
            token,
            "grant_type=client_credentials",
            Error(401, "invalid_client"),
        ),
        post(
            token,
            "grant_type=client_credentials&client_id=",
            Error(401, "invalid_client"),
        ),
        post(
            token,
            "grant_type=client_credentials&client_id=%00%01",
            Error(401, "invalid_client"),
        ),
        post(
            token,
            "grant_type=client_credentials&client_id=svc&client_secret=%FF%FE",
            Error(401, "invalid_client"),
        ),
        post(
            token,
            "grant_type=client_credentials&client_id=svc&client_id=web",
            Error(400, "invalid_request"),
        ),
        post(token, "%%%%", Error(400, "invalid_request")),
        post(
            token,
            "grant_type=client_credentials&&&==&",
            Error(401, "invalid_client"),
        ),
        post(
            token,
            "grant_type=authorization_code&code=tgc_x&client_id=spa&code_verifier=short",
            Error(400, "invalid_grant"),
        ),
        post(
            token,
            "grant_type=refresh_token&refresh_token=%E2%80%AE&client_id=spa",
            Error(400, "invalid_grant"),
        ),
        post(
            token,
            "grant_type=client_credentials&client_id=svc&client_secret=x&scope=%22",
            Error(401, "invalid_client"),
        ),
        typed(
            post(
                token,
                "grant_type=client_credentials",
                Error(400, "invalid_request"),
            ),
            None,
        ),
        typed(
            post(
                token,
                "{\"grant_type\":\"client_credentials\"}",
                Error(400, "invalid_request"),
            ),
            Some("application/json"),
        ),
        typed(
            post(
                token,
                "grant_type=client_credentials",
                Error(400, "invalid_request"),
            ),
            Some("text/plain"),
        ),
        typed(
            post(
                token,
                "grant_type=client_credentials",
                Error(400, "invalid_request"),
            ),
            Some("multipart/form-data; boundary=x"),
        ),
        typed(
            post(token, "\u{FFFD}", Error(400, "invalid_request")),
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        ),
        get(token, Status(405)),
        post("/o/revoke_token/", "", Error(401, "invalid_client")),
        post(
            "/o/revoke_token/",
            "token=a&token=b&client_id=spa",
            Error(400, "invalid_request"),
        ),
        post(
            "/o/revoke_token/",
            "client_id=spa",
            Error(400, "invalid_request"),
        ),
        typed(
            post(
                "/o/revoke_token/",
                "token=x&client_id=spa",
                Error(400, "invalid_request"),
            ),
            Some("application/json"),
        ),
        post("/o/introspect/", "", Error(401, "invalid_client")),
        post("/o/introspect/", "token=x", Error(401, "invalid_client")),
        basic(
            post("/o/introspect/", "token=x", Error(401, "invalid_client")),
            "Bearer",
        ),
        basic(
            post("/o/introspect/", "token=x", Error(401, "invalid_token")),
            "Bearer tga_nonsense",
        ),
        basic(
            post("/o/introspect/", "token=x", Error(401, "invalid_client")),
            "Negotiate abc",
        ),
        typed(
            post("/o/introspect/", "token=x", Error(400, "invalid_request")),
            Some("application/xml"),
        ),
        get("/o/authorize/", Page(400)),
        get("/o/authorize/?client_id=", Page(400)),
        get("/o/authorize/?client_id=%FF", Page(400)),
        get("/o/authorize/?client_id=web&client_id=web", Page(400)),
        get("/o/authorize/?client_id=web&redirect_uri=%%%", Page(400)),
        get(
            "/o/authorize/?client_id=web&redirect_uri=https://app.example/cb%0D%0ALocation:%20evil",
            Page(400),
        ),
        get(
            "/o/authorize/?client_id=web&redirect_uri=javascript:alert(1)",
            Page(400),
        ),
        get("/o/authorize/?%00=%00", Page(400)),
        get("/o/authorize/?client_id=%3Cscript%3E", Page(400)),
        get(
            "/o/authorize/?client_id=trusted&response_type=code&code_challenge=%00&code_challenge_method=S256",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=trusted&response_type=code&scope=%22%5C",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=trusted&response_type=code%20token",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=trusted&response_type=code&prompt=%00",
            Status(302),
        ),
        typed(
            post("/o/authorize/", "client_id=web", Page(400)),
            Some("application/json"),
        ),
        post(
            "/o/authorize/",
            "client_id=web&csrf_token=x&allow=1",
            Page(400),
        ),
        post("/o/authorize/", "csrf_token=x", Page(400)),
        post("/o/authorize/", "client_id=web", Status(303)),
        post("/o/logout/", "state=a&state=b", Page(400)),
        post("/o/login/", "username=a&password=b", Page(403)),
        typed(
            post("/o/login/", "username=a", Page(400)),
            Some("text/plain"),
        ),
        post("/o/login/", "csrf_token=a&csrf_token=b", Page(400)),
        get("/o/login/?next=%FF%FE", Status(200)),
        get("/o/login/?next=//evil.example", Status(200)),
        // OpenID Connect: UserInfo answers RFC 6750 errors, logout pages never redirect.
        get("/o/userinfo/", Error(401, "invalid_token")),
        basic(get("/o/userinfo/", Error(401, "invalid_token")), "Bearer"),
        basic(
            get("/o/userinfo/", Error(401, "invalid_token")),
            "Bearer %00%FF",
        ),
        basic(
            get("/o/userinfo/", Error(401, "invalid_token")),
            "Basic Og==",
        ),
        post("/o/userinfo/", "access_token=", Error(401, "invalid_token")),
        post(
            "/o/userinfo/",
            "access_token=a&access_token=b",
            Error(400, "invalid_request"),
        ),
        typed(
            post("/o/userinfo/", "%%%", Error(401, "invalid_token")),
            Some("text/plain"),
        ),
        get("/o/logout/?id_token_hint=a.b.c", Page(400)),
        get(
            "/o/logout/?id_token_hint=%FF%00&post_logout_redirect_uri=https://evil.example",
            Page(400),
        ),
        get(
            "/o/logout/?id_token_hint=eyJhbGciOiJub25lIn0.e30.",
            Page(400),
        ),
        get(
            "/o/logout/?post_logout_redirect_uri=https://evil.example",
            Page(400),
        ),
        get(
            "/o/logout/?client_id=%00&post_logout_redirect_uri=x",
            Page(400),
        ),
        post("/o/logout/", "csrf_token=x&allow=1", Page(403)),
        typed(post("/o/logout/", "x", Page(400)), Some("application/json")),
        get(
            "/o/authorize/?client_id=rp&redirect_uri=https://rp.example/cb&response_type=id_token%20id_token",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=rp&redirect_uri=https://rp.example/cb&response_type=code&scope=openid&nonce=n&claims=%7B%7B",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=rp&redirect_uri=https://rp.example/cb&response_type=code&scope=openid&nonce=n&max_age=99999999999999999999",
            Status(302),
        ),
        get(
            "/o/authorize/?client_id=rp&redirect_uri=https://rp.example/cb&response_type=id_token&scope=openid&nonce=n&id_token_hint=%FF&prompt=none",
            Status(302),
        ),
        post("/o/.well-known/jwks.json", "", Status(405)),
    ];
    for header in BAD_BASIC {
        cases.push(basic(
            post(
                token,
                "grant_type=client_credentials",
                Error(401, "invalid_client"),
            ),
            header,
        ));
    }
    cases
}

#[tokio::test]
async fn no_malformed_request_gets_a_500() {
    let app = TestApp::new().start().await;
    let cases = cases();
    assert!(
        cases.len() >= 50,
        "the table keeps at least 50 cases, has {}",
        cases.len()
    );
    for case in cases {
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut request = app.http.request(method, app.url(case.path)).body(case.body);
        if let Some(ct) = case.content_type {
            request = request.header("content-type", ct);
        }
        if let Some(auth) = case.authorization {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let label = format!("{} {} [{}]", case.method, case.path, case.body);
        assert!(status < 500, "{label}: {status}");
        match case.expect {
            Expect::Error(want, code) => {
                assert_eq!(status, want, "{label}");
                let body: serde_json::Value = response
                    .json()
                    .await
                    .unwrap_or_else(|e| panic!("{label}: not JSON: {e}"));
                assert_eq!(body["error"], code, "{label}: {body}");
                assert!(body["error_description"].is_string(), "{label}");
            }
            Expect::Page(want) => {
                assert_eq!(status, want, "{label}");
                assert!(
                    response.headers().get("location").is_none(),
                    "{label}: an error page never redirects"
                );
                let html = response.text().await.unwrap();
                assert!(
                    html.contains("<html") && !html.contains("<script>alert"),
                    "{label}"
                );
            }
            Expect::Status(want) => assert_eq!(status, want, "{label}"),
        }
    }
}
