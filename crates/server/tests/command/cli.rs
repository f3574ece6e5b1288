//! The commands, run as a user runs them.

use crate::support::*;
use tollgate::Store;
use tollgate::core::Clock;
use tollgate::core::model::{NewAccessToken, NewSession};
use tollgate::core::{GrantType, SecretHash};
use tollgate::credentials::{verify_client_secret, verify_password};
use tollgate::system::SystemClock;

async fn open(dir: &TempDir) -> Store {
    let url = format!("sqlite://{}", dir.0.join("tollgate.db").display());
    Store::connect(&url).await.unwrap()
}

fn create_user(dir: &TempDir, name: &str) {
    let out = run(tollgate(&dir.0).args(["createuser", name, "--password", "pw-1"]));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn help_lists_every_command_and_each_has_help() {
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0).arg("--help"));
    assert!(out.status.success());
    let help = stdout(&out);
    let commands = [
        "serve",
        "migrate",
        "createapplication",
        "createuser",
        "cleartokens",
        "keys",
        "check",
        "applications",
        "users",
        "changepassword",
        "completions",
    ];
    for command in commands {
        assert!(help.contains(command), "{command} missing from:\n{help}");
        let out = run(tollgate(&dir.0).args([command, "--help"]));
        assert!(out.status.success(), "{command} --help: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage: tollgate"), "{command}");
    }
}

#[tokio::test]
async fn generated_client_secret_is_shown_once_and_never_stored() {
    let dir = TempDir::new();
    create_user(&dir, "alice");
    let out = run(tollgate(&dir.0).args([
        "createapplication",
        "confidential",
        "authorization-code",
        "client-credentials",
        "--redirect-uris",
        "https://app.example/cb http://127.0.0.1/cb",
        "--name",
        "Demo",
        "--user",
        "alice",
        "--skip-authorization",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_owned()
    };
    let (client_id, secret) = (field("client_id"), field("client_secret"));
    assert!(secret.starts_with("tgs_") && secret.len() >= 47, "{secret}");

    let store = open(&dir).await;
    let app = store
        .application_by_client_id(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::ClientCredentials]
    );
    assert!(app.skip_authorization && app.owner_id.is_some());
    let stored = app.client_secret_hash.clone().unwrap();
    assert!(verify_client_secret(&secret, &stored));

    // Tokens go in through the same door: only their hashes can be handed to the store.
    let token = "tga_plaintext-access-token-that-must-not-be-stored";
    store
        .insert_access_token(
            &NewAccessToken {
                dpop_jkt: None,
                token_hash: SecretHash::of(token),
                application_id: app.id,
                user_id: None,
                scope: "read".into(),
                resource: Default::default(),
                expires_at: SystemClock.now() + 60,
                authorization_code_id: None,
                claims: None,
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    store.close().await;

    let random_part = &secret["tgs_".len()..];
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in [random_part, &token["tga_".len()..]] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "a plaintext secret was found on disk"
            );
        }
    }
}

#[tokio::test]
async fn chosen_secret_is_argon2_and_users_get_argon2_passwords() {
    let dir = TempDir::new();
    let mut cmd = tollgate(&dir.0);
    cmd.args([
        "createuser",
        "bob",
        "--password-stdin",
        "--email",
        "bob@example.com",
        "--staff",
    ]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"s3cret pass\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(tollgate(&dir.0).args([
        "createapplication",
        "confidential",
        "client_credentials",
        "--client-id",
        "svc",
        "--client-secret",
        "chosen-secret",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("chosen-secret"),
        "a chosen secret is not echoed"
    );

    let store = open(&dir).await;
    let bob = store.user_by_username("bob").await.unwrap().unwrap();
    assert!(bob.staff && bob.active && bob.email == "bob@example.com");
    assert!(verify_password(
        "s3cret pass",
        bob.password_hash.as_deref().unwrap()
    ));
    let app = store
        .application_by_client_id("svc")
        .await
        .unwrap()
        .unwrap();
    let stored = app.client_secret_hash.unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(verify_client_secret("chosen-secret", &stored));
}

#[test]
fn wrong_input_ends_with_one_specific_line() {
    let dir = TempDir::new();
    create_user(&dir, "carol");
    let app = |extra: &[&str]| {
        let mut cmd = tollgate(&dir.0);
        cmd.arg("createapplication").args(extra);
        run(&mut cmd)
    };

    let out = app(&["confidential", "client-credentials", "--client-id", "dup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = one_line_failure(&app(&[
        "confidential",
        "client-credentials",
        "--client-id",
        "dup",
    ]));
    assert!(err.contains("client_id `dup` already exists"), "{err}");

    let err = one_line_failure(&app(&["public", "client-credentials"]));
    assert!(err.contains("confidential clients only"), "{err}");
    let err = one_line_failure(&app(&["public", "authorization-code"]));
    assert!(err.contains("needs at least one redirect URI"), "{err}");
    let err = one_line_failure(&app(&[
        "public",
        "authorization-code",
        "--redirect-uris",
        "https://app.example/cb#frag",
    ]));
    assert!(err.contains("fragment"), "{err}");
    let err = one_line_failure(&app(&["confidential", "password", "--user", "nobody"]));
    assert!(err.contains("no user named `nobody`"), "{err}");
    let err = one_line_failure(&app(&["public", "password", "--client-secret", "x"]));
    assert!(err.contains("public client has no secret"), "{err}");
    let err = one_line_failure(&app(&["confidential", "password", "--algorithm", "HS256"]));
    assert!(
        err.contains("needs the configuration key `secret_key`"),
        "{err}"
    );
    let short = one_line_failure(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args([
            "--redirect-uris",
            "https://a.example/cb",
            "--algorithm",
            "HS256",
        ])
        .args(["--client-secret", "too short"])
        .env(
            "TOLLGATE_SECRET_KEY",
            "a cli test secret key of 32 characters or more",
        )));
    assert!(short.contains("at least 32 bytes"), "{short}");

    // Argument errors are clap's: exit status 2, the bad value named.
    let out = app(&["confidential", "magic-grant"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown grant type `magic-grant`"),
        "{}",
        stderr(&out)
    );
    let out = app(&["secretive", "password"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown client type `secretive`"),
        "{}",
        stderr(&out)
    );

    let err = one_line_failure(&run(tollgate(&dir.0).args([
        "createuser",
        "carol",
        "--password",
        "x",
    ])));
    assert!(err.contains("user named `carol` already exists"), "{err}");
    let err = one_line_failure(&run(tollgate(&dir.0).args(["createuser", "has space"])));
    assert!(err.contains("invalid username"), "{err}");
}

#[test]
fn bad_configuration_and_unreachable_database_stop_with_one_line() {
    let dir = TempDir::new();
    std::fs::write(
        dir.0.join("broken.toml"),
        "issuer = \"https://idp.example\"\npkce_required = maybe\n",
    )
    .unwrap();
    let err = one_line_failure(&run(tollgate(&dir.0).args([
        "--config",
        "broken.toml",
        "migrate",
    ])));
    assert!(err.contains("broken.toml line 2"), "{err}");

    std::fs::write(
        dir.0.join("tollgate.toml"),
        "access_token_expire_seconds = \"long\"\n",
    )
    .unwrap();
    let err = one_line_failure(&run(tollgate(&dir.0).arg("migrate")));
    assert!(
        err.contains("`access_token_expire_seconds` (in tollgate.toml)"),
        "{err}"
    );
    std::fs::remove_file(dir.0.join("tollgate.toml")).unwrap();

    let err = one_line_failure(&run(tollgate(&dir.0)
        .arg("migrate")
        .env("TOLLGATE_DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")));
    assert!(
        err.contains("cannot open the database postgres://postgres@127.0.0.1:1/x"),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");

    let err = one_line_failure(&run(tollgate(&dir.0)
        .arg("serve")
        .env("TOLLGATE_DATABASE_URL", "sqlite:///no/such/dir/t.db")));
    assert!(err.contains("unable to open database file"), "{err}");
}

#[tokio::test]
async fn cleartokens_removes_expired_rows_and_reports_the_count() {
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0).args([
        "createapplication",
        "confidential",
        "client-credentials",
        "--client-id",
        "c",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    create_user(&dir, "dave");
    let store = open(&dir).await;
    let app = store.application_by_client_id("c").await.unwrap().unwrap();
    let user = store.user_by_username("dave").await.unwrap().unwrap();
    let now = SystemClock.now();
    for (i, expires_at) in [now - 10, now - 5, now + 3600].into_iter().enumerate() {
        let token = NewAccessToken {
            dpop_jkt: None,
            token_hash: SecretHash::of(&format!("t{i}")),
            application_id: app.id,
            user_id: None,
            scope: "read".into(),
            resource: Default::default(),
            expires_at,
            authorization_code_id: None,
            claims: None,
        };
        store.insert_access_token(&token, now - 20).await.unwrap();
    }
    let session = NewSession {
        session_hash: SecretHash::of("s"),
        user_id: user.id,
        auth_time: now,
        expires_at: now - 1,
        sid: "sid-1".into(),
    };
    store.create_session(&session, now - 20).await.unwrap();
    store.close().await;

    let out = run(tollgate(&dir.0)
        .arg("cleartokens")
        .env("TOLLGATE_CLEAR_EXPIRED_TOKENS_BATCH_SIZE", "1"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Removed 3 rows")
            && text.contains("2 access tokens")
            && text.contains("1 sessions"),
        "{text}"
    );
    let store = open(&dir).await;
    assert!(
        store
            .access_token_by_hash(&SecretHash::of("t2"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .access_token_by_hash(&SecretHash::of("t0"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn migrate_creates_the_schema_on_postgresql() {
    let Some(db) = tollgate_testkit::postgres("migrate_creates_the_schema_on_postgresql").await
    else {
        return;
    };
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0)
        .arg("migrate")
        .env("TOLLGATE_DATABASE_URL", &db.url));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("up to date"));
    let out = run(tollgate(&dir.0)
        .args(["createuser", "erin"])
        .env("TOLLGATE_DATABASE_URL", &db.url));
    assert!(out.status.success(), "{}", stderr(&out));
    let store = Store::connect(&db.url).await.unwrap();
    assert!(store.user_by_username("erin").await.unwrap().is_some());
    store.close().await;
    assert!(
        !dir.0.join("tollgate.db").exists(),
        "PostgreSQL only: no SQLite file"
    );
}
