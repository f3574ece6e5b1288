//! Commands for scripts and operators: `--json` output, listing, showing and
//! deleting applications and users, `changepassword`, shell completions, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::*;

/// The command's one JSON document, after asserting it succeeded.
fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(out)))
}

/// Runs `cmd` with `input` on its standard input.
fn with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn each_json_command_prints_one_document_without_secrets_at_rest() {
    let dir = TempDir::new();
    let user = json(&run(tollgate(&dir.0)
        .args(["createuser", "carol", "--password", "pw-carol-1"])
        .args(["--email", "carol@example.com", "--json"])));
    assert_eq!(user["username"], "carol");
    assert_eq!(user["email"], "carol@example.com");
    assert_eq!(user["has_password"], true);
    assert!(user["id"].as_i64().is_some());

    let app = json(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args(["--client-id", "json-app", "--name", "JSON app"])
        .args(["--redirect-uris", "https://app.example/cb", "--json"])));
    assert_eq!(app["client_id"], "json-app");
    assert_eq!(app["client_type"], "confidential");
    assert_eq!(
        app["grant_types"],
        serde_json::json!(["authorization-code"])
    );
    assert_eq!(
        app["redirect_uris"],
        serde_json::json!(["https://app.example/cb"])
    );
    let secret = app["client_secret"]
        .as_str()
        .expect("the generated secret, once");
    assert!(secret.starts_with("tgs_"), "{secret}");

    let shown = json(&run(tollgate(&dir.0).args([
        "applications",
        "show",
        "json-app",
        "--json",
    ])));
    assert_eq!(shown["client_id"], "json-app");
    assert!(shown.get("client_secret").is_none(), "{shown}");
    let listed = json(&run(tollgate(&dir.0).args([
        "applications",
        "list",
        "--json",
    ])));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["name"], "JSON app");

    let users = json(&run(tollgate(&dir.0).args(["users", "list", "--json"])));
    assert_eq!(users[0]["username"], "carol");
    let carol = json(&run(
        tollgate(&dir.0).args(["users", "show", "carol", "--json"])
    ));
    assert_eq!(carol, user);
    for document in [&users, &carol, &shown, &listed] {
        let text = document.to_string();
        assert!(
            !text.contains("argon2") && !text.contains("sha256:"),
            "{text}"
        );
    }

    let out = run(tollgate(&dir.0).args(["keys", "generate", "--alg", "ES256"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = json(&run(tollgate(&dir.0).args(["keys", "list", "--json"])));
    assert_eq!(keys[0]["alg"], "ES256");
    assert_eq!(keys[0]["status"], "signing");
    assert!(keys[0]["kid"].as_str().is_some_and(|k| !k.is_empty()));

    let check = json(&run(tollgate(&dir.0).args(["check", "--json"])));
    assert_eq!(check, serde_json::json!({"issues": [], "errors": 0}));
    // The default issuer is plain http: an error, still one document, exit status 1.
    let out = run(tollgate(&dir.0).args(["check", "--deploy", "--json"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("one document");
    assert!(
        report["errors"].as_u64().is_some_and(|n| n >= 1),
        "{report}"
    );
    assert!(
        report["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["severity"] == "error" && i["id"].as_str().is_some()),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn users_and_applications_are_managed_without_sql() {
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0).args(["createuser", "dave", "--password", "old-password"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let app = json(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "password"])
        .args(["--client-id", "cli-app", "--json"])));
    let secret = app["client_secret"].as_str().unwrap().to_owned();
    // Another process changes the SQLite file: the server keeps no token or client in memory.
    let server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_TOKEN_CACHE_SECONDS", "0"),
            ("TOLLGATE_CLIENT_CACHE_SECONDS", "0"),
        ],
    );
    let http = reqwest::Client::new();
    let password_grant = |password: &str| {
        http.post(format!("{}/o/token/", server.base))
            .basic_auth("cli-app", Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "dave"),
                ("password", password),
            ])
            .send()
    };
    assert_eq!(password_grant("old-password").await.unwrap().status(), 200);

    let out = with_stdin(
        tollgate(&dir.0).args(["changepassword", "dave", "--password-stdin"]),
        "new-password\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(password_grant("old-password").await.unwrap().status(), 400);
    let answer: Value = password_grant("new-password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().expect("a token").to_owned();
    let active = |token: String| {
        let request = http
            .post(format!("{}/o/introspect/", server.base))
            .basic_auth("cli-app", Some(&secret))
            .form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["active"].clone() }
    };
    assert_eq!(active(token.clone()).await, true);

    let out = run(tollgate(&dir.0).args(["users", "delete", "dave"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(active(token).await, false, "the deleted user's token");
    let line = one_line_failure(&run(tollgate(&dir.0).args(["users", "show", "dave"])));
    assert!(line.contains("dave"), "{line}");

    let out = run(tollgate(&dir.0).args(["applications", "delete", "cli-app"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let line = one_line_failure(&run(tollgate(&dir.0).args([
        "applications",
        "show",
        "cli-app",
    ])));
    assert!(line.contains("cli-app"), "{line}");
    let after = password_grant("new-password").await.unwrap();
    assert_eq!(
        after.status(),
        401,
        "a deleted client authenticates no more"
    );
    let listed = json(&run(tollgate(&dir.0).args([
        "applications",
        "list",
        "--json",
    ])));
    assert_eq!(listed, serde_json::json!([]));
}

#[test]
fn changepassword_refuses_an_empty_password_and_an_unknown_user() {
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0).args(["createuser", "erin", "--password", "pw-erin"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = with_stdin(
        tollgate(&dir.0).args(["changepassword", "erin", "--password-stdin"]),
        "\n",
    );
    assert!(one_line_failure(&out).contains("empty"));
    let out = with_stdin(
        tollgate(&dir.0).args(["changepassword", "nobody", "--password-stdin"]),
        "pw\n",
    );
    assert!(one_line_failure(&out).contains("nobody"));
}

#[test]
fn completion_scripts_need_no_configuration_and_bash_accepts_its_own() {
    let dir = TempDir::new();
    for shell in ["bash", "zsh", "fish"] {
        // A configuration that does not load: completions do not read it.
        let out = run(tollgate(&dir.0)
            .args(["completions", shell])
            .env("TOLLGATE_CONFIG", "/nonexistent/tollgate.toml"));
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(
            script.contains("changepassword") && script.contains("createapplication"),
            "{shell}"
        );
        if shell == "bash" {
            let path = dir.0.join("tollgate.bash");
            std::fs::write(&path, &script).unwrap();
            let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(checked.status.success(), "bash -n: {}", stderr(&checked));
        }
    }
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    let dir = TempDir::new();
    for args in [
        &["createapplication"][..],
        &["applications", "show"],
        &["changepassword", "erin"],
        &["completions", "powershell-6"],
        &["no-such-command"],
    ] {
        let out = run(tollgate(&dir.0).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = run(tollgate(&dir.0).args(["users", "delete", "nobody"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
