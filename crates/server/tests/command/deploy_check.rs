//! `tollgate check --deploy` against a real configuration and database, on
//! SQLite and on PostgreSQL: each weakness reported under its identifier, and
//! the exit status failing on errors only.

use crate::support::*;

/// Runs `tollgate check --deploy` with `env` over the base environment.
fn check(dir: &TempDir, base: &[(&str, &str)], env: &[(&str, &str)]) -> (bool, String) {
    let out = run(tollgate(&dir.0)
        .args(["check", "--deploy"])
        .envs(base.iter().copied())
        .envs(env.iter().copied()));
    (out.status.success(), stdout(&out))
}

fn ids(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| {
            let (severity, rest) = l.split_once(' ')?;
            let id = rest.split(':').next()?;
            matches!(severity, "warning" | "error").then(|| format!("{severity} {id}"))
        })
        .collect()
}

fn deploy_check_reports_each_weakness(url: &str) {
    let dir = TempDir::new();
    let base = [("TOLLGATE_DATABASE_URL", url)];
    let setup: [&[&str]; 3] = [
        &[
            "createapplication",
            "confidential",
            "authorization-code",
            "--client-id",
            "web",
            "--redirect-uris",
            "http://web.example/cb",
        ],
        &[
            "createapplication",
            "confidential",
            "password",
            "--client-id",
            "pw",
        ],
        &["keys", "generate", "--alg", "RS256"],
    ];
    for args in setup {
        let out = run(tollgate(&dir.0).args(args).envs(base));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let out = run(tollgate(&dir.0).arg("check").envs(base));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no issues"));

    // The defaults: an http issuer (error), http allowed, an http redirect URI of a
    // confidential client, implicit and password served (warnings).
    let (ok, report) = check(&dir, &base, &[]);
    assert!(!ok, "an error fails the check:\n{report}");
    assert_eq!(
        ids(&report),
        [
            "error T001",
            "warning T002",
            "warning T003",
            "warning T007",
            "warning T008"
        ],
        "{report}"
    );
    assert!(
        report.contains("`web` has http redirect URIs (http://web.example/cb)"),
        "{report}"
    );
    assert!(report.contains("(1 clients registered for it)"), "{report}");
    assert!(
        report.ends_with("System check identified 5 issues (1 error).\n"),
        "{report}"
    );

    let hardened = [
        ("TOLLGATE_ISSUER", "https://idp.example"),
        ("TOLLGATE_ALLOWED_REDIRECT_URI_SCHEMES", "[\"https\"]"),
        ("TOLLGATE_COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT", "true"),
        ("TOLLGATE_COMPLIANT_BCP_RFC9700_PASSWORD_GRANT", "true"),
    ];
    let (ok, report) = check(&dir, &base, &hardened);
    assert!(ok, "warnings alone pass:\n{report}");
    assert_eq!(ids(&report), ["warning T003"], "{report}");

    // The RFC 9700 switches make their warnings errors.
    let mut strict = hardened.to_vec();
    strict.extend([
        ("TOLLGATE_COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME", "true"),
        ("TOLLGATE_PKCE_REQUIRED", "false"),
        ("TOLLGATE_COMPLIANT_BCP_RFC9700_PKCE_REQUIRED", "true"),
        ("TOLLGATE_REFRESH_TOKEN_REUSE_PROTECTION", "false"),
    ]);
    let (ok, report) = check(&dir, &base, &strict);
    assert!(!ok, "{report}");
    assert_eq!(
        ids(&report),
        ["error T003", "error T005", "warning T006"],
        "{report}"
    );

    // The FAPI 2.0 switch: each client and setting outside the profile is an error.
    let mut fapi = hardened.to_vec();
    fapi.extend([
        ("TOLLGATE_FAPI2_SECURITY_PROFILE", "true"),
        ("TOLLGATE_AUTHORIZATION_CODE_EXPIRE_SECONDS", "120"),
    ]);
    let (ok, report) = check(&dir, &base, &fapi);
    assert!(!ok, "{report}");
    assert_eq!(
        ids(&report),
        [
            "warning T003",
            "error F001",
            "error F001",
            "error F002",
            "error F004",
            "error F005"
        ],
        "{report}"
    );
    assert!(
        report.contains("client `pw` is registered for the password grant"),
        "{report}"
    );
}

#[test]
fn deploy_check_on_sqlite() {
    let dir = TempDir::new();
    deploy_check_reports_each_weakness(&format!("sqlite://{}", dir.0.join("check.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_check_on_postgres() {
    let Some(db) = tollgate_testkit::postgres("deploy_check_on_postgres").await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || deploy_check_reports_each_weakness(&url))
        .await
        .unwrap();
}
