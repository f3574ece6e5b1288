//! The store contract: every test runs once on SQLite and once on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tollgate_core::device::DeviceStatus;
use tollgate_core::model::*;
use tollgate_core::{ClientType, GrantType, SecretHash, SigningAlgorithm};
use tollgate_store::{Db, Store, StoreError};

const NOW: i64 = 1_800_000_000;

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = tollgate_testkit::sqlite();
                    super::$name(&super::open(&db.url).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = tollgate_testkit::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&super::open(&db.url).await).await;
                }
            )*
        }
    };
}

contract!(
    migrations_are_idempotent,
    a_newer_versions_migrations_let_an_older_node_start,
    users_round_trip_and_usernames_are_unique,
    applications_round_trip_with_several_grant_types,
    client_id_is_unique,
    access_token_is_found_by_hash_only,
    authorization_code_is_redeemed_at_most_once_under_concurrency,
    unknown_code_is_unknown,
    code_replay_revokes_what_the_code_produced,
    refresh_token_family_revocation_spares_other_families,
    a_users_tokens_are_revoked_and_no_one_elses,
    clear_expired_works_in_batches_and_keeps_live_rows,
    clear_expired_keeps_revoked_refresh_tokens_for_grace_and_reuse_detection,
    a_new_signing_key_supersedes_those_of_its_algorithm,
    of_first_keys_made_at_once_one_per_algorithm_is_kept,
    consent_is_remembered_and_replaced,
    sessions_expire_and_can_be_deleted,
    issued_tokens_are_described_with_client_and_user,
    a_bearer_token_comes_with_its_client_and_user,
    rotation_retires_a_refresh_token_once,
    a_code_replayed_while_it_is_redeemed_leaves_no_token_working,
    a_refresh_token_used_at_once_by_many_takes_its_family_down,
    a_refresh_in_grace_never_outlives_its_familys_revocation,
    revoking_an_access_token_revokes_its_refresh_token,
    reattaching_replaces_the_carried_access_token,
    reattaching_and_revoking_at_once_never_deadlock,
    concurrent_token_inserts_all_land_and_a_duplicate_fails_alone,
    a_failing_token_write_leaves_nothing_and_spares_the_others,
    a_directory_user_is_mirrored_under_its_own_id,
    owners_list_update_and_delete_their_applications,
    a_new_client_secret_replaces_the_old,
    authorized_applications_merge_consent_and_live_tokens,
    revoking_an_authorization_spares_other_clients_and_users,
    tokens_are_found_by_client_and_user,
    revoking_a_refresh_token_by_id_revokes_its_family,
    users_are_listed_and_a_new_password_ends_their_sessions,
    a_device_code_is_decided_once_and_consumed_once,
    a_registration_token_finds_its_client_only,
    a_metadata_document_client_is_kept_and_replaced_never_a_registered_one,
    resources_are_kept_with_codes_and_tokens,
    stale_document_clients_with_nothing_live_are_cleared,
    a_cached_token_is_gone_once_revoked_or_its_user_or_client_changes,
    revocations_racing_cached_lookups_are_never_undone,
    a_deleted_users_id_is_never_given_again,
    a_pushed_request_is_its_clients_and_answered_once,
    a_jwt_id_is_used_once_until_it_expires,
    a_sessions_back_channel_clients_are_read_as_it_ends,
);

async fn open(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn hash(text: &str) -> SecretHash {
    SecretHash::of(text)
}

async fn user(store: &Store, username: &str) -> User {
    let new = NewUser {
        username: username.to_owned(),
        ..NewUser::default()
    };
    store.create_user(&new, NOW).await.unwrap()
}

fn new_app(client_id: &str) -> NewApplication {
    NewApplication {
        client_id: client_id.to_owned(),
        client_secret_hash: Some("sha256:00".to_owned()),
        client_secret_sealed: None,
        client_type: ClientType::Confidential,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        redirect_uris: vec![
            "https://a.example/cb".into(),
            "https://a.example/cb2".into(),
        ],
        post_logout_redirect_uris: vec!["https://a.example/bye".into()],
        allowed_origins: vec!["https://a.example".into()],
        algorithm: SigningAlgorithm::RS256,
        userinfo_signed: false,
        skip_authorization: true,
        name: "Example".into(),
        owner_id: None,
        security: Default::default(),
    }
}

async fn app(store: &Store, client_id: &str) -> Application {
    store
        .create_application(&new_app(client_id), NOW)
        .await
        .unwrap()
}

fn new_code(text: &str, app: &Application, user: &User, expires_at: i64) -> NewAuthorizationCode {
    NewAuthorizationCode {
        dpop_jkt: None,
        code_hash: hash(text),
        application_id: app.id,
        user_id: user.id,
        redirect_uri: "https://a.example/cb".into(),
        redirect_uri_given: true,
        scope: "openid read".into(),
        resource: Default::default(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        claims: None,
        auth_time: NOW - 5,
        expires_at,
        sid: None,
    }
}

fn new_access(text: &str, app: &Application, expires_at: i64) -> NewAccessToken {
    NewAccessToken {
        dpop_jkt: None,
        token_hash: hash(text),
        application_id: app.id,
        user_id: None,
        scope: "read".into(),
        resource: Default::default(),
        expires_at,
        authorization_code_id: None,
        claims: None,
    }
}

/// An access token and the refresh token that carries it, in one family.
async fn token_pair(store: &Store, name: &str, app: &Application, family: &str) -> (i64, i64) {
    let at = store
        .insert_access_token(&new_access(&format!("at-{name}"), app, NOW + 3600), NOW)
        .await
        .unwrap();
    let rt = store
        .insert_refresh_token(
            &NewRefreshToken {
                dpop_jkt: None,
                token_hash: hash(&format!("rt-{name}")),
                application_id: app.id,
                user_id: None,
                access_token_id: Some(at),
                family: family.to_owned(),
                scope: "read".into(),
                resource: Default::default(),
                expires_at: None,
                authorization_code_id: None,
                auth_time: None,
                claims: None,
                sid: None,
            },
            NOW,
        )
        .await
        .unwrap();
    (at, rt)
}

async fn migrations_are_idempotent(store: &Store) {
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

/// A rolling upgrade: a node of the next version migrated first; this one
/// restarts, migrates (nothing to do) and counts itself current.
async fn a_newer_versions_migrations_let_an_older_node_start(store: &Store) {
    let sql = "INSERT INTO tollgate_migrations (version, description, success, checksum, execution_time) \
               VALUES (99990101000000, 'from a newer version', TRUE, $1, 0)";
    let checksum = vec![0u8; 48];
    match store.db() {
        Db::Sqlite(sqlite) => drop(
            sqlx::query(sql)
                .bind(checksum)
                .execute(&sqlite.write)
                .await
                .unwrap(),
        ),
        Db::Postgres(pool) => drop(sqlx::query(sql).bind(checksum).execute(pool).await.unwrap()),
    }
    store.migrate().await.unwrap();
    assert_eq!(store.migrations_pending().await.unwrap(), 0);
}

async fn users_round_trip_and_usernames_are_unique(store: &Store) {
    let new = NewUser {
        username: "alice".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        email: "alice@example.com".into(),
        email_verified: true,
        given_name: "Alice".into(),
        family_name: "Liddell".into(),
        phone_number: "+44 1865 000000".into(),
        phone_number_verified: true,
        address: "Christ Church, Oxford".into(),
        staff: true,
    };
    let alice = store.create_user(&new, NOW).await.unwrap();
    let alice_id = alice.id;
    assert!(alice.active && alice.staff && alice.email_verified);
    assert_eq!(
        store.user_by_username("alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.user_by_id(alice.id).await.unwrap(), Some(alice));
    assert!(matches!(
        store.create_user(&new, NOW).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.user_by_username("bob").await.unwrap(), None);
    store
        .set_user_active(alice_id, false, NOW + 1)
        .await
        .unwrap();
    let inactive = store.user_by_id(alice_id).await.unwrap().unwrap();
    assert_eq!((inactive.active, inactive.updated_at), (false, NOW + 1));
    assert!(matches!(
        store.set_user_active(9999, true, NOW).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn applications_round_trip_with_several_grant_types(store: &Store) {
    let owner = user(store, "owner").await;
    let new = NewApplication {
        owner_id: Some(owner.id),
        client_secret_sealed: Some("sealed-v1:abc".into()),
        userinfo_signed: true,
        ..new_app("client-1")
    };
    let created = store.create_application(&new, NOW).await.unwrap();
    let found = store
        .application_by_client_id("client-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(found.client_secret_sealed.as_deref(), Some("sealed-v1:abc"));
    assert!(found.userinfo_signed);
    assert_eq!(
        found.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::ClientCredentials]
    );
    assert_eq!(found.redirect_uris, new.redirect_uris);
    assert_eq!(found.allowed_origins, new.allowed_origins);
    assert_eq!(found.owner_id, Some(owner.id));
    assert!(found.skip_authorization);
    assert_eq!(
        store.application_by_client_id("client-2").await.unwrap(),
        None
    );
}

async fn client_id_is_unique(store: &Store) {
    app(store, "dup").await;
    let err = store
        .create_application(&new_app("dup"), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains("client_id"), "{err}");
}

async fn access_token_is_found_by_hash_only(store: &Store) {
    let app = app(store, "c").await;
    let id = store
        .insert_access_token(&new_access("tga_one", &app, NOW + 60), NOW)
        .await
        .unwrap();
    let found = store
        .access_token_by_hash(&hash("tga_one"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.application_id, found.expires_at),
        (id, app.id, NOW + 60)
    );
    assert_eq!(
        store.access_token_by_hash(&hash("tga_two")).await.unwrap(),
        None
    );
}

async fn authorization_code_is_redeemed_at_most_once_under_concurrency(store: &Store) {
    let (app, user) = (app(store, "c").await, user(store, "u").await);
    let id = store
        .insert_authorization_code(&new_code("tgc_race", &app, &user, NOW + 60), NOW)
        .await
        .unwrap();
    // Another client presenting it finds nothing.
    let other = store
        .create_application(&new_app("other"), NOW)
        .await
        .unwrap();
    let stolen = store
        .authorization_code(&hash("tgc_race"), other.id)
        .await
        .unwrap();
    assert_eq!(stolen, CodeRedemption::Unknown);
    match store
        .authorization_code(&hash("tgc_race"), app.id)
        .await
        .unwrap()
    {
        CodeRedemption::Redeemable(code) => {
            assert_eq!((code.id, code.nonce.as_deref()), (id, Some("n-0S6_WzA2Mj")))
        }
        other => panic!("{other:?}"),
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let attempts = (0..8).map(|i| {
        let (store, barrier, app) = (store.clone(), barrier.clone(), app.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let access = new_access(&format!("at-{i}"), &app, NOW + 60);
            let refresh = new_refresh(&format!("rt-{i}"), &app, None, &format!("f{i}"));
            store
                .issue_tokens(&access, Some(&refresh), Some(Spend::Code(id)), NOW)
                .await
                .unwrap()
        })
    });
    let results = futures_join_all(attempts).await;
    assert_eq!(results.iter().flatten().count(), 1, "{results:?}");
    // The losers wrote nothing.
    for (i, written) in results.iter().enumerate() {
        let found = store
            .refresh_token_by_hash(&hash(&format!("rt-{i}")))
            .await
            .unwrap();
        assert_eq!(found.is_some(), written.is_some(), "{i}");
    }
    assert_eq!(
        store
            .authorization_code(&hash("tgc_race"), app.id)
            .await
            .unwrap(),
        CodeRedemption::Replayed { code_id: id }
    );
    assert!(!store.spend(Spend::Code(id), NOW).await.unwrap());
}

async fn futures_join_all<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

async fn unknown_code_is_unknown(store: &Store) {
    let result = store
        .authorization_code(&hash("tgc_nope"), 1)
        .await
        .unwrap();
    assert_eq!(result, CodeRedemption::Unknown);
}

async fn code_replay_revokes_what_the_code_produced(store: &Store) {
    let (app, user) = (app(store, "c").await, user(store, "u").await);
    let code = store
        .insert_authorization_code(&new_code("tgc_x", &app, &user, NOW + 60), NOW)
        .await
        .unwrap();
    let at = store
        .insert_access_token(
            &NewAccessToken {
                authorization_code_id: Some(code),
                claims: None,
                ..new_access("at", &app, NOW + 60)
            },
            NOW,
        )
        .await
        .unwrap();
    store
        .insert_refresh_token(
            &NewRefreshToken {
                dpop_jkt: None,
                token_hash: hash("rt"),
                application_id: app.id,
                user_id: Some(user.id),
                access_token_id: Some(at),
                family: "f".into(),
                scope: "read".into(),
                resource: Default::default(),
                expires_at: None,
                authorization_code_id: Some(code),
                auth_time: None,
                claims: None,
                sid: None,
            },
            NOW,
        )
        .await
        .unwrap();
    let (_, other_rt) = token_pair(store, "other", &app, "g").await;
    assert_eq!(store.revoke_tokens_of_code(code, NOW).await.unwrap(), 1);
    assert_eq!(store.access_token_by_hash(&hash("at")).await.unwrap(), None);
    let rt = store
        .refresh_token_by_hash(&hash("rt"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt.revoked_at, Some(NOW));
    let other = store
        .refresh_token_by_hash(&hash("rt-other"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((other.id, other.revoked_at), (other_rt, None));
}

async fn a_users_tokens_are_revoked_and_no_one_elses(store: &Store) {
    let (app, alice, bob) = (
        app(store, "c").await,
        user(store, "alice").await,
        user(store, "bob").await,
    );
    for (name, owner) in [("a1", &alice), ("a2", &alice), ("b1", &bob)] {
        let access = NewAccessToken {
            user_id: Some(owner.id),
            ..new_access(&format!("at-{name}"), &app, NOW + 60)
        };
        let refresh = new_refresh(&format!("rt-{name}"), &app, Some(owner), name);
        store
            .issue_tokens(&access, Some(&refresh), None, NOW)
            .await
            .unwrap();
    }
    assert_eq!(store.revoke_user_tokens(alice.id, NOW).await.unwrap(), 2);
    for (name, gone) in [("a1", true), ("a2", true), ("b1", false)] {
        let access = store
            .access_token_by_hash(&hash(&format!("at-{name}")))
            .await
            .unwrap();
        assert_eq!(access.is_none(), gone, "{name}");
        let refresh = store
            .refresh_token_by_hash(&hash(&format!("rt-{name}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(refresh.revoked_at.is_some(), gone, "{name}");
    }
}

async fn refresh_token_family_revocation_spares_other_families(store: &Store) {
    let app = app(store, "c").await;
    let (_, rt1) = token_pair(store, "1", &app, "family-a").await;
    let (_, rt2) = token_pair(store, "2", &app, "family-a").await;
    let (at3, rt3) = token_pair(store, "3", &app, "family-b").await;

    assert_eq!(
        store
            .revoke_refresh_token_family("family-a", NOW + 1)
            .await
            .unwrap(),
        2
    );
    for (name, id) in [("1", rt1), ("2", rt2)] {
        let rt = store
            .refresh_token_by_hash(&hash(&format!("rt-{name}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (rt.id, rt.revoked_at, rt.access_token_id),
            (id, Some(NOW + 1), None)
        );
        let at = store
            .access_token_by_hash(&hash(&format!("at-{name}")))
            .await
            .unwrap();
        assert_eq!(at, None, "access token of a revoked family must be gone");
    }
    let rt = store
        .refresh_token_by_hash(&hash("rt-3"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rt.id, rt.revoked_at, rt.access_token_id),
        (rt3, None, Some(at3))
    );
    // Revoking again changes nothing: already-revoked tokens keep their time.
    assert_eq!(
        store
            .revoke_refresh_token_family("family-a", NOW + 9)
            .await
            .unwrap(),
        0
    );
}

async fn clear_expired_works_in_batches_and_keeps_live_rows(store: &Store) {
    let (app, user) = (app(store, "c").await, user(store, "u").await);
    for i in 0..25 {
        store
            .insert_access_token(&new_access(&format!("old{i}"), &app, NOW - 1), NOW - 100)
            .await
            .unwrap();
    }
    for i in 0..3 {
        store
            .insert_access_token(&new_access(&format!("live{i}"), &app, NOW + 100), NOW)
            .await
            .unwrap();
    }
    store
        .insert_authorization_code(&new_code("old-code", &app, &user, NOW - 1), NOW)
        .await
        .unwrap();
    store
        .insert_authorization_code(&new_code("live-code", &app, &user, NOW + 60), NOW)
        .await
        .unwrap();
    for (name, expires_at) in [("old", NOW - 1), ("live", NOW + 60)] {
        store
            .insert_id_token(
                &NewIdToken {
                    jti: name.into(),
                    application_id: app.id,
                    user_id: Some(user.id),
                    scope: "openid".into(),
                    expires_at,
                },
                NOW,
            )
            .await
            .unwrap();
        store
            .create_session(
                &NewSession {
                    session_hash: hash(&format!("session-{name}")),
                    user_id: user.id,
                    auth_time: NOW,
                    expires_at,
                    sid: format!("sid-{name}"),
                },
                NOW,
            )
            .await
            .unwrap();
    }

    let policy = ExpiryPolicy {
        now: NOW,
        refresh_token_grace_period_seconds: 0,
        refresh_token_reuse_protection: false,
        batch_size: 10,
    };
    let mut batches = Vec::new();
    let counts = store
        .clear_expired(&policy, |c| batches.push(*c))
        .await
        .unwrap();
    assert_eq!(counts.access_tokens, 25);
    assert_eq!(
        (
            counts.authorization_codes,
            counts.id_tokens,
            counts.sessions
        ),
        (1, 1, 1)
    );
    assert_eq!(counts.total(), 28);
    let at_batches: Vec<u64> = batches.iter().map(|c| c.access_tokens).collect();
    assert!(
        at_batches.windows(2).any(|w| w == [10, 20]),
        "batches of 10: {at_batches:?}"
    );
    for i in 0..3 {
        assert!(
            store
                .access_token_by_hash(&hash(&format!("live{i}")))
                .await
                .unwrap()
                .is_some()
        );
    }
    assert!(
        store
            .access_token_by_hash(&hash("old0"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_by_hash(&hash("session-live"), NOW)
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .authorization_code(&hash("live-code"), app.id)
            .await
            .unwrap(),
        CodeRedemption::Redeemable(_)
    ));
    assert_eq!(
        store.clear_expired(&policy, |_| {}).await.unwrap().total(),
        0
    );
}

async fn clear_expired_keeps_revoked_refresh_tokens_for_grace_and_reuse_detection(store: &Store) {
    let app = app(store, "c").await;
    let insert = |name: &'static str, expires_at: Option<i64>| {
        let store = store.clone();
        let app_id = app.id;
        async move {
            store
                .insert_refresh_token(
                    &NewRefreshToken {
                        dpop_jkt: None,
                        token_hash: hash(name),
                        application_id: app_id,
                        user_id: None,
                        access_token_id: None,
                        family: name.into(),
                        scope: "read".into(),
                        resource: Default::default(),
                        expires_at,
                        authorization_code_id: None,
                        auth_time: None,
                        claims: None,
                        sid: None,
                    },
                    NOW - 1000,
                )
                .await
                .unwrap();
        }
    };
    insert("revoked-long-ago", Some(NOW + 500)).await;
    insert("revoked-in-grace", None).await;
    insert("expired", Some(NOW - 1)).await;
    insert("live", Some(NOW + 500)).await;
    store
        .revoke_refresh_token_family("revoked-long-ago", NOW - 300)
        .await
        .unwrap();
    store
        .revoke_refresh_token_family("revoked-in-grace", NOW - 30)
        .await
        .unwrap();

    let mut policy = ExpiryPolicy {
        now: NOW,
        refresh_token_grace_period_seconds: 120,
        refresh_token_reuse_protection: true,
        batch_size: 100,
    };
    // Reuse protection: a revoked but unexpired token stays, to recognise its replay.
    assert_eq!(
        store
            .clear_expired(&policy, |_| {})
            .await
            .unwrap()
            .refresh_tokens,
        1
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("revoked-long-ago"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("expired"))
            .await
            .unwrap()
            .is_none()
    );

    policy.refresh_token_reuse_protection = false;
    assert_eq!(
        store
            .clear_expired(&policy, |_| {})
            .await
            .unwrap()
            .refresh_tokens,
        1
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("revoked-long-ago"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("revoked-in-grace"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("live"))
            .await
            .unwrap()
            .is_some()
    );
}

/// Nodes starting together each make a first key: one per algorithm is kept,
/// and every other node is told so and signs with that one.
async fn of_first_keys_made_at_once_one_per_algorithm_is_kept(store: &Store) {
    let key = |kid: String, algorithm| NewSigningKey {
        kid,
        algorithm,
        private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
        public_jwk: "{}".into(),
        activates_at: NOW,
    };
    let attempts = (0..8).flat_map(|node| {
        [SigningAlgorithm::RS256, SigningAlgorithm::ES256].map(|algorithm| {
            let store = store.clone();
            let new = key(format!("{}-{node}", algorithm.as_str()), algorithm);
            tokio::spawn(async move { store.insert_first_signing_key(&new, NOW).await })
        })
    });
    let mut kept = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        if let Some(key) = attempt.await.unwrap().unwrap() {
            kept.push(key.algorithm);
        }
    }
    kept.sort_by_key(|a| a.as_str());
    assert_eq!(kept, [SigningAlgorithm::ES256, SigningAlgorithm::RS256]);
    let keys = store.signing_keys(NOW).await.unwrap();
    assert_eq!(keys.len(), 2, "one key per algorithm, no other stored");
    assert!(
        store
            .insert_first_signing_key(&key("late".into(), SigningAlgorithm::RS256), NOW + 60)
            .await
            .unwrap()
            .is_none(),
        "a later node keeps the stored key"
    );
}

async fn a_new_signing_key_supersedes_those_of_its_algorithm(store: &Store) {
    let key = |kid: &str, algorithm, activates_at| NewSigningKey {
        kid: kid.into(),
        algorithm,
        private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        activates_at,
    };
    let first = store
        .insert_signing_key(&key("k1", SigningAlgorithm::RS256, NOW), NOW, NOW)
        .await
        .unwrap();
    assert_eq!((first.activates_at, first.retire_at), (NOW, None));
    store
        .insert_signing_key(&key("e1", SigningAlgorithm::ES256, NOW), NOW, NOW)
        .await
        .unwrap();
    store
        .insert_signing_key(
            &key("k2", SigningAlgorithm::RS256, NOW + 60),
            NOW + 3600,
            NOW + 1,
        )
        .await
        .unwrap();
    let summary = |keys: Vec<SigningKey>| -> Vec<(String, i64, Option<i64>)> {
        keys.into_iter()
            .map(|k| (k.kid, k.activates_at, k.retire_at))
            .collect()
    };
    assert_eq!(
        summary(store.signing_keys(NOW + 1).await.unwrap()),
        vec![
            ("k2".into(), NOW + 60, None),
            ("e1".into(), NOW, None),
            ("k1".into(), NOW, Some(NOW + 3600)),
        ],
        "newest first; only the RS256 key is superseded"
    );
    assert_eq!(
        summary(store.signing_keys(NOW + 3600).await.unwrap()).len(),
        2,
        "a retired key leaves the list"
    );
    assert!(matches!(
        store
            .insert_signing_key(&key("k2", SigningAlgorithm::RS256, NOW), NOW, NOW)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    // An emergency key retires the others now; a later date never postpones a retirement.
    store
        .insert_signing_key(
            &key("k3", SigningAlgorithm::RS256, NOW + 2),
            NOW + 2,
            NOW + 2,
        )
        .await
        .unwrap();
    store
        .insert_signing_key(
            &key("k4", SigningAlgorithm::RS256, NOW + 3),
            NOW + 9999,
            NOW + 3,
        )
        .await
        .unwrap();
    let rs256: Vec<_> = summary(store.signing_keys(NOW + 2).await.unwrap())
        .into_iter()
        .filter(|(kid, _, _)| kid.starts_with('k'))
        .map(|(kid, _, retire)| (kid, retire))
        .collect();
    assert_eq!(
        rs256,
        vec![("k4".to_owned(), None), ("k3".to_owned(), Some(NOW + 9999))],
        "k1 and k2 retired at NOW + 2"
    );
}

async fn consent_is_remembered_and_replaced(store: &Store) {
    let (app, user) = (app(store, "c").await, user(store, "u").await);
    assert_eq!(store.consent(user.id, app.id).await.unwrap(), None);
    store
        .remember_consent(user.id, app.id, "read", &Default::default(), NOW)
        .await
        .unwrap();
    store
        .remember_consent(user.id, app.id, "read write", &Default::default(), NOW + 5)
        .await
        .unwrap();
    let consent = store.consent(user.id, app.id).await.unwrap().unwrap();
    assert_eq!(
        (
            consent.scope.as_str(),
            consent.created_at,
            consent.updated_at
        ),
        ("read write", NOW, NOW + 5)
    );
}

async fn sessions_expire_and_can_be_deleted(store: &Store) {
    let user = user(store, "u").await;
    let new = NewSession {
        session_hash: hash("tgx_s"),
        user_id: user.id,
        auth_time: NOW,
        expires_at: NOW + 60,
        sid: "sid-s".into(),
    };
    let id = store.create_session(&new, NOW).await.unwrap();
    let found = store
        .session_by_hash(&hash("tgx_s"), NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.user_id, found.auth_time),
        (id, user.id, NOW)
    );
    assert_eq!(
        store
            .session_by_hash(&hash("tgx_s"), NOW + 60)
            .await
            .unwrap(),
        None
    );
    store.delete_session(&hash("tgx_s")).await.unwrap();
    assert_eq!(
        store.session_by_hash(&hash("tgx_s"), NOW).await.unwrap(),
        None
    );
}

fn new_refresh(
    text: &str,
    app: &Application,
    user: Option<&User>,
    family: &str,
) -> NewRefreshToken {
    NewRefreshToken {
        dpop_jkt: None,
        token_hash: hash(text),
        application_id: app.id,
        user_id: user.map(|u| u.id),
        access_token_id: None,
        family: family.into(),
        scope: "read write".into(),
        resource: Default::default(),
        expires_at: Some(NOW + 999),
        authorization_code_id: None,
        auth_time: None,
        claims: None,
        sid: None,
    }
}

async fn a_bearer_token_comes_with_its_client_and_user(store: &Store) {
    let (app, user) = (app(store, "client-b").await, user(store, "yan").await);
    let with_user = NewAccessToken {
        user_id: Some(user.id),
        claims: Some("{}".into()),
        ..new_access("at-user", &app, NOW + 60)
    };
    store.insert_access_token(&with_user, NOW).await.unwrap();
    store
        .insert_access_token(&new_access("at-machine", &app, NOW + 60), NOW)
        .await
        .unwrap();
    let found = store.bearer_token(&hash("at-user")).await.unwrap().unwrap();
    assert_eq!(found.client_id, "client-b");
    assert_eq!(found.user, Some(user));
    assert_eq!(
        (found.token.scope.as_str(), found.token.claims.as_deref()),
        ("read", Some("{}"))
    );
    let machine = store
        .bearer_token(&hash("at-machine"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((machine.user, machine.token.user_id), (None, None));
    assert_eq!(store.bearer_token(&hash("nope")).await.unwrap(), None);
}

async fn issued_tokens_are_described_with_client_and_user(store: &Store) {
    let (app, user) = (app(store, "client-x").await, user(store, "zoe").await);
    let claims = Some(r#"{"userinfo":{"email":null}}"#.to_owned());
    let access = NewAccessToken {
        user_id: Some(user.id),
        claims: claims.clone(),
        ..new_access("at", &app, NOW + 60)
    };
    let refresh = NewRefreshToken {
        auth_time: Some(NOW - 5),
        claims: claims.clone(),
        ..new_refresh("rt", &app, Some(&user), "fam")
    };
    let at = store
        .issue_tokens(&access, Some(&refresh), None, NOW)
        .await
        .unwrap()
        .unwrap();
    // What OpenID Connect needs later: the claims request for UserInfo, the sign-in time for refresh.
    let stored = store
        .access_token_by_hash(&hash("at"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.claims, claims);
    let stored = store
        .refresh_token_by_hash(&hash("rt"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.auth_time, stored.claims), (Some(NOW - 5), claims));
    let details = store
        .token_details(&hash("at"), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.kind, TokenKind::Access);
    assert_eq!(
        (
            details.id,
            details.client_id.as_str(),
            details.username.as_deref()
        ),
        (at, "client-x", Some("zoe"))
    );
    assert_eq!(
        (details.expires_at, details.revoked_at, details.family),
        (Some(NOW + 60), None, None)
    );
    let details = store
        .token_details(&hash("rt"), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.kind, TokenKind::Refresh);
    assert_eq!(
        (details.family.as_deref(), details.scope.as_str()),
        (Some("fam"), "read write")
    );
    let rt = store
        .refresh_token_by_hash(&hash("rt"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt.access_token_id, Some(at));
    // A client-credentials token has no user and no refresh token.
    store
        .issue_tokens(&new_access("cc", &app, NOW + 60), None, None, NOW)
        .await
        .unwrap();
    let cc = store
        .token_details(&hash("cc"), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cc.kind, cc.username), (TokenKind::Access, None));
    assert_eq!(
        store.token_details(&hash("nothing"), false).await.unwrap(),
        None
    );
}

async fn rotation_retires_a_refresh_token_once(store: &Store) {
    let app = app(store, "c").await;
    let (at, rt) = token_pair(store, "r", &app, "fam").await;
    let attempts = (0..4).map(|i| {
        let (store, app) = (store.clone(), app.clone());
        tokio::spawn(async move {
            let access = new_access(&format!("at-next{i}"), &app, NOW + 60);
            let refresh = new_refresh(&format!("rt-next{i}"), &app, None, "fam");
            let spends = Some(Spend::RefreshToken(rt));
            store
                .issue_tokens(&access, Some(&refresh), spends, NOW)
                .await
                .unwrap()
        })
    });
    let won = futures_join_all(attempts)
        .await
        .into_iter()
        .flatten()
        .count();
    assert_eq!(won, 1, "exactly one concurrent rotation wins");
    let old = store
        .refresh_token_by_hash(&hash("rt-r"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (old.revoked_at, old.access_token_id, old.rotated),
        (Some(NOW), None, true)
    );
    assert!(
        store
            .access_token_by_hash(&hash("at-r"))
            .await
            .unwrap()
            .is_none(),
        "old access token {at} deleted"
    );
    // Revoking the family takes the rotated member's grace away, keeping its time.
    assert_eq!(
        store
            .revoke_refresh_token_family("fam", NOW + 5)
            .await
            .unwrap(),
        2
    );
    let old = store
        .refresh_token_by_hash(&hash("rt-r"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((old.revoked_at, old.rotated), (Some(NOW), false));
}

/// Races are tested many times: one round rarely hits the bad interleaving.
const ROUNDS: usize = 50;

/// Runs `uses` at once; what each returned.
async fn at_once<F>(uses: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(uses.len()));
    let tasks = uses.into_iter().map(|one| {
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            one.await
        })
    });
    futures_join_all(tasks).await
}

/// Whether the tokens written under `name` (`at-…`, `rt-…`) would still work.
async fn works(store: &Store, name: &str) -> bool {
    let (access, refresh) = (hash(&format!("at-{name}")), hash(&format!("rt-{name}")));
    let refresh = store.refresh_token_by_hash(&refresh).await.unwrap();
    let access = store.access_token_by_hash(&access).await.unwrap();
    access.is_some() || refresh.is_some_and(|t| t.revoked_at.is_none())
}

/// The token endpoint's use of a code, at the store: its tokens written as it is
/// redeemed, or what it produced revoked. `true` if this use got the tokens.
async fn use_code(store: Store, app: Application, code: SecretHash, name: String) -> bool {
    let code_id = match store.authorization_code(&code, app.id).await.unwrap() {
        CodeRedemption::Redeemable(code) => {
            let access = NewAccessToken {
                authorization_code_id: Some(code.id),
                ..new_access(&format!("at-{name}"), &app, NOW + 60)
            };
            let refresh = NewRefreshToken {
                authorization_code_id: Some(code.id),
                ..new_refresh(&format!("rt-{name}"), &app, None, &name)
            };
            let spends = Some(Spend::Code(code.id));
            let written = store.issue_tokens(&access, Some(&refresh), spends, NOW);
            if written.await.unwrap().is_some() {
                return true;
            }
            code.id
        }
        CodeRedemption::Replayed { code_id } => code_id,
        CodeRedemption::Unknown => panic!("the code is unknown"),
    };
    store.revoke_tokens_of_code(code_id, NOW).await.unwrap();
    false
}

async fn a_code_replayed_while_it_is_redeemed_leaves_no_token_working(store: &Store) {
    let (app, user) = (app(store, "c").await, user(store, "u").await);
    let mut live = Vec::new();
    for round in 0..ROUNDS {
        let code = format!("tgc_{round}");
        store
            .insert_authorization_code(&new_code(&code, &app, &user, NOW + 60), NOW)
            .await
            .unwrap();
        let names: Vec<String> = (0..8).map(|i| format!("{round}-{i}")).collect();
        let uses = names
            .iter()
            .map(|name| use_code(store.clone(), app.clone(), hash(&code), name.clone()))
            .collect();
        let won = at_once(uses).await;
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "round {round}");
        for name in &names {
            if works(store, name).await {
                live.push(name.clone());
            }
        }
    }
    assert_eq!(live, Vec::<String>::new(), "tokens left working");
}

/// The token endpoint's use of a refresh token, at the store: rotated with its
/// successor written, or its family revoked. `true` if this use got the tokens.
async fn use_refresh_token(
    store: Store,
    app: Application,
    presented: String,
    name: String,
) -> bool {
    let found = store.refresh_token_by_hash(&hash(&presented)).await;
    let token = found.unwrap().unwrap();
    if token.revoked_at.is_none() {
        let access = new_access(&format!("at-{name}"), &app, NOW + 60);
        let refresh = new_refresh(&format!("rt-{name}"), &app, None, &token.family);
        let spends = Some(Spend::RefreshToken(token.id));
        let written = store.issue_tokens(&access, Some(&refresh), spends, NOW);
        if written.await.unwrap().is_some() {
            return true;
        }
    }
    store
        .revoke_refresh_token_family(&token.family, NOW)
        .await
        .unwrap();
    false
}

async fn a_refresh_token_used_at_once_by_many_takes_its_family_down(store: &Store) {
    let app = app(store, "c").await;
    let mut live = Vec::new();
    for round in 0..ROUNDS {
        // The family's first token, rotated once: using it again is a replay too.
        let (first, second) = (format!("{round}-first"), format!("{round}-second"));
        token_pair(store, &first, &app, &format!("fam-{round}")).await;
        assert!(
            use_refresh_token(
                store.clone(),
                app.clone(),
                format!("rt-{first}"),
                second.clone()
            )
            .await
        );
        let names: Vec<String> = (0..16).map(|i| format!("{round}-{i}")).collect();
        let uses = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let presented = if i < 12 { &second } else { &first };
                let presented = format!("rt-{presented}");
                use_refresh_token(store.clone(), app.clone(), presented, name.clone())
            })
            .collect();
        let won = at_once(uses).await;
        assert!(won.iter().filter(|w| **w).count() <= 1, "round {round}");
        for name in names.iter().chain([&first, &second]) {
            if works(store, name).await {
                live.push(name.clone());
            }
        }
    }
    assert_eq!(live, Vec::<String>::new(), "tokens left working");
}

/// Inside the grace period a rotated token is refreshed again without using
/// anything up; a revocation of its family at the same moment still takes
/// down whatever that refresh writes.
async fn a_refresh_in_grace_never_outlives_its_familys_revocation(store: &Store) {
    let app = app(store, "c").await;
    let mut live = Vec::new();
    for round in 0..ROUNDS {
        let family = format!("grace-{round}");
        let (first, second) = (format!("g{round}-first"), format!("g{round}-second"));
        token_pair(store, &first, &app, &family).await;
        let presented = format!("rt-{first}");
        assert!(use_refresh_token(store.clone(), app.clone(), presented.clone(), second).await);
        let rotated = store
            .refresh_token_by_hash(&hash(&presented))
            .await
            .unwrap()
            .unwrap();
        let names: Vec<String> = (0..4).map(|i| format!("g{round}-{i}")).collect();
        let refreshes = names.iter().map(|name| {
            let (store, app, name) = (store.clone(), app.clone(), name.clone());
            let family = family.clone();
            Box::pin(async move {
                let access = new_access(&format!("at-{name}"), &app, NOW + 60);
                let refresh = new_refresh(&format!("rt-{name}"), &app, None, &family);
                let spends = Some(Spend::Grace(rotated.id));
                store
                    .issue_tokens(&access, Some(&refresh), spends, NOW)
                    .await
                    .unwrap();
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        });
        let revocation = {
            let (store, family) = (store.clone(), family.clone());
            Box::pin(async move {
                store
                    .revoke_refresh_token_family(&family, NOW)
                    .await
                    .unwrap();
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        at_once(refreshes.chain([revocation]).collect()).await;
        for name in &names {
            if works(store, name).await {
                live.push(name.clone());
            }
        }
    }
    assert_eq!(live, Vec::<String>::new(), "tokens left working");
}

async fn revoking_an_access_token_revokes_its_refresh_token(store: &Store) {
    let app = app(store, "c").await;
    let (at, _) = token_pair(store, "v", &app, "fam").await;
    let (_, other) = token_pair(store, "w", &app, "fam2").await;
    store.revoke_access_token(at, NOW).await.unwrap();
    assert!(
        store
            .access_token_by_hash(&hash("at-v"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .refresh_token_by_hash(&hash("rt-v"))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(NOW)
    );
    let untouched = store
        .refresh_token_by_hash(&hash("rt-w"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((untouched.id, untouched.revoked_at), (other, None));
}

/// `Spend::Carry` writes the new access token for the refresh token to carry.
async fn carry(
    store: &Store,
    refresh_token_id: i64,
    access: &str,
    app: &Application,
) -> Option<i64> {
    let new = new_access(access, app, NOW + 60);
    store
        .issue_tokens(&new, None, Some(Spend::Carry(refresh_token_id)), NOW)
        .await
        .unwrap()
}

async fn reattaching_replaces_the_carried_access_token(store: &Store) {
    let app = app(store, "c").await;
    let (_, rt) = token_pair(store, "k", &app, "fam").await;
    let new_at = carry(store, rt, "at-new", &app).await.expect("carried");
    assert!(
        store
            .access_token_by_hash(&hash("at-k"))
            .await
            .unwrap()
            .is_none()
    );
    let kept = store
        .refresh_token_by_hash(&hash("rt-k"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.access_token_id, kept.revoked_at),
        (Some(new_at), None)
    );
    // Revoked in between: the new access token does not survive beside it.
    store.revoke_refresh_token_family("fam", NOW).await.unwrap();
    assert_eq!(carry(store, rt, "at-late", &app).await, None);
    assert!(
        store
            .access_token_by_hash(&hash("at-late"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Without rotation a refresh reattaches its token while a revocation may be
/// taking the family down: both lock the refresh token first, so neither fails.
async fn reattaching_and_revoking_at_once_never_deadlock(store: &Store) {
    let app = app(store, "c").await;
    for round in 0..40 {
        let family = format!("fam-{round}");
        let (at, rt) = token_pair(store, &format!("k{round}"), &app, &family).await;
        let new = new_access(&format!("new-{round}"), &app, NOW + 60);
        let (reattach, revoke, revoke_access) = tokio::join!(
            store.issue_tokens(&new, None, Some(Spend::Carry(rt)), NOW),
            store.revoke_refresh_token_family(&family, NOW),
            store.revoke_access_token(at, NOW),
        );
        reattach.unwrap_or_else(|e| panic!("round {round}: reattaching: {e}"));
        revoke.unwrap_or_else(|e| panic!("round {round}: revoking the family: {e}"));
        revoke_access.unwrap_or_else(|e| panic!("round {round}: revoking the access token: {e}"));
        assert!(
            store
                .access_token_by_hash(&hash(&format!("new-{round}")))
                .await
                .unwrap()
                .is_none(),
            "round {round}: nothing of the family stays live"
        );
    }
}

async fn concurrent_token_inserts_all_land_and_a_duplicate_fails_alone(store: &Store) {
    let app = app(store, "c").await;
    store
        .insert_access_token(&new_access("taken", &app, NOW + 60), NOW)
        .await
        .unwrap();
    // 300 at once: on SQLite they arrive in group-committed batches.
    let inserts = (0..300).map(|i| {
        let (store, app) = (store.clone(), app.clone());
        tokio::spawn(async move {
            let name = if i == 151 {
                "taken".to_owned()
            } else {
                format!("t{i}")
            };
            if i % 2 == 0 {
                store
                    .insert_access_token(&new_access(&name, &app, NOW + 60), NOW)
                    .await
            } else {
                let refresh = new_refresh(&format!("r{i}"), &app, None, &format!("f{i}"));
                store
                    .issue_tokens(
                        &new_access(&name, &app, NOW + 60),
                        Some(&refresh),
                        None,
                        NOW,
                    )
                    .await
                    .map(Option::unwrap)
            }
        })
    });
    let results = futures_join_all(inserts).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, vec![151], "only the duplicate fails");
    assert!(matches!(results[151], Err(StoreError::Conflict { .. })));
    let mut ids: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 299, "distinct ids");
    // Each write answers its own token's id, and each refresh token carries its
    // own access token (a batch's rows come back from SQLite in no set order).
    for (i, result) in results.iter().enumerate().filter(|(i, _)| *i != 151) {
        let found = store
            .access_token_by_hash(&hash(&format!("t{i}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(result.as_ref().ok(), Some(&found.id), "write {i}");
        if i % 2 == 1 {
            let pair = store
                .refresh_token_by_hash(&hash(&format!("r{i}")))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(pair.access_token_id, Some(found.id), "write {i}");
        }
    }
    // The duplicate's refresh token was not written either.
    assert!(
        store
            .refresh_token_by_hash(&hash("r151"))
            .await
            .unwrap()
            .is_none()
    );
}

/// An application's database with its own `users` and `sessions` tables and its
/// own sqlx migration history: Tollgate migrates beside them and touches neither.
async fn migrates_beside_an_applications_own_tables(url: &str) {
    use sqlx::{Connection, Executor};
    let app_tables = [
        "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL)",
        "CREATE TABLE sessions (id BIGINT PRIMARY KEY)",
        "CREATE INDEX sessions_user ON sessions (id)",
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL)",
        "INSERT INTO _sqlx_migrations VALUES (1, 'the application''s own')",
        "INSERT INTO users VALUES (7, 'app@example.com')",
    ];
    let store = Store::connect(url).await.expect("connect");
    let count = "SELECT COUNT(*) FROM users";
    let rows: i64 = if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        for sql in app_tables {
            c.execute(sql).await.unwrap();
        }
        store
            .migrate()
            .await
            .expect("migrate beside the application");
        sqlx::query_scalar(count).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        for sql in app_tables {
            c.execute(sql).await.unwrap();
        }
        store
            .migrate()
            .await
            .expect("migrate beside the application");
        sqlx::query_scalar(count).fetch_one(&mut c).await.unwrap()
    };
    assert_eq!(rows, 1, "the application's users table is untouched");
    let ours = user(&store, "alice").await;
    assert_eq!(
        store.user_by_username("alice").await.unwrap().unwrap().id,
        ours.id
    );
}

#[tokio::test]
async fn sqlite_migrates_beside_an_applications_own_tables() {
    let db = tollgate_testkit::sqlite();
    migrates_beside_an_applications_own_tables(&db.url).await;
}

#[tokio::test]
async fn postgres_migrates_beside_an_applications_own_tables() {
    if let Some(db) = tollgate_testkit::postgres("migrates_beside").await {
        migrates_beside_an_applications_own_tables(&db.url).await;
    }
}

async fn a_directory_user_is_mirrored_under_its_own_id(store: &Store) {
    let mut outside = User {
        password_hash: Some("never stored".into()),
        email: "dana@example.com".into(),
        email_verified: true,
        given_name: "Dana".into(),
        ..User::new(4242, "dana")
    };
    let first = store.mirror_user(&outside, NOW).await.unwrap();
    assert_eq!((first.id, first.password_hash), (4242, None));
    outside.email = "dana@new.example".into();
    outside.active = false;
    store.mirror_user(&outside, NOW + 5).await.unwrap();
    let again = store.user_by_id(4242).await.unwrap().unwrap();
    assert_eq!(
        (
            again.email.as_str(),
            again.active,
            again.created_at,
            again.updated_at
        ),
        ("dana@new.example", false, NOW, NOW + 5)
    );
    user(store, "erin").await;
    outside.id = 4343;
    outside.username = "erin".into();
    assert!(matches!(
        store.mirror_user(&outside, NOW).await,
        Err(StoreError::Conflict { .. })
    ));
}

#[tokio::test]
async fn an_in_memory_database_is_one_database() {
    let store = open("sqlite::memory:").await;
    let alice = user(&store, "alice").await;
    let found = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found.id, alice.id);
}

async fn owners_list_update_and_delete_their_applications(store: &Store) {
    let (alice, bob) = (user(store, "alice").await, user(store, "bob").await);
    let mine = |client_id: &str, name: &str, owner: &User| NewApplication {
        name: name.into(),
        owner_id: Some(owner.id),
        ..new_app(client_id)
    };
    let b = store
        .create_application(&mine("b", "Beta", &alice), NOW)
        .await
        .unwrap();
    store
        .create_application(&mine("a", "Alpha", &alice), NOW)
        .await
        .unwrap();
    store
        .create_application(&mine("c", "Bob's", &bob), NOW)
        .await
        .unwrap();
    let names = |apps: Vec<Application>| apps.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.applications(Some(alice.id)).await.unwrap()),
        ["Alpha", "Beta"]
    );
    assert_eq!(
        names(store.applications(None).await.unwrap()),
        ["Alpha", "Beta", "Bob's"]
    );

    let changes = ApplicationChanges {
        name: "Beta 2".into(),
        grant_types: vec![GrantType::AuthorizationCode],
        redirect_uris: vec!["https://b.example/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec!["https://b.example".into()],
        security: Default::default(),
    };
    let updated = store
        .update_application(b.id, &changes, NOW + 5)
        .await
        .unwrap();
    assert_eq!(updated.name, "Beta 2");
    assert_eq!(updated.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(updated.redirect_uris, ["https://b.example/cb"]);
    assert!(updated.post_logout_redirect_uris.is_empty());
    assert_eq!((updated.created_at, updated.updated_at), (NOW, NOW + 5));
    assert_eq!(store.application_by_id(b.id).await.unwrap(), Some(updated));

    let (at, _) = token_pair(store, "b", &b, "fb").await;
    store.delete_application(b.id).await.unwrap();
    assert_eq!(store.application_by_id(b.id).await.unwrap(), None);
    assert!(
        store
            .access_token_by_hash(&hash("at-b"))
            .await
            .unwrap()
            .is_none(),
        "{at}"
    );
    assert!(
        store
            .refresh_token_by_hash(&hash("rt-b"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.delete_application(b.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.update_application(b.id, &changes, NOW).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_new_client_secret_replaces_the_old(store: &Store) {
    let app = app(store, "c").await;
    store
        .set_client_secret(app.id, "sha256:11", Some("sealed"), NOW + 1)
        .await
        .unwrap();
    let after = store.application_by_id(app.id).await.unwrap().unwrap();
    assert_eq!(after.client_secret_hash.as_deref(), Some("sha256:11"));
    assert_eq!(after.client_secret_sealed.as_deref(), Some("sealed"));
    assert!(matches!(
        store
            .set_client_secret(app.id + 100, "sha256:22", None, NOW)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// Alice's grants: consent to `a` (read) plus a live token with `write`; an
/// expired token of `b`; a live refresh token of `c`.
async fn alice_grants(store: &Store) -> (User, User, [Application; 3]) {
    let (alice, bob) = (user(store, "alice").await, user(store, "bob").await);
    let named = |id: &str, name: &str| NewApplication {
        name: name.into(),
        ..new_app(id)
    };
    let a = store
        .create_application(&named("a", "Alpha"), NOW)
        .await
        .unwrap();
    let b = store
        .create_application(&named("b", "Beta"), NOW)
        .await
        .unwrap();
    let c = store
        .create_application(&named("c", "Gamma"), NOW)
        .await
        .unwrap();
    // Alice consented at NOW - 100 and was asked again at NOW - 30.
    for (owner, at) in [(&alice, NOW - 100), (&alice, NOW - 30), (&bob, NOW - 10)] {
        store
            .remember_consent(owner.id, a.id, "read", &Default::default(), at)
            .await
            .unwrap();
    }
    for (text, owner) in [("code-alice", &alice), ("code-bob", &bob)] {
        store
            .insert_authorization_code(&new_code(text, &a, owner, NOW + 60), NOW)
            .await
            .unwrap();
    }
    let access =
        |text: &str, app: &Application, owner: &User, scope: &str, expires_at| NewAccessToken {
            user_id: Some(owner.id),
            scope: scope.into(),
            ..new_access(text, app, expires_at)
        };
    for (text, app, owner, scope, expires) in [
        ("a-alice", &a, &alice, "read write", NOW + 60),
        ("b-alice", &b, &alice, "read", NOW - 1),
        ("a-bob", &a, &bob, "read", NOW + 60),
    ] {
        store
            .insert_access_token(&access(text, app, owner, scope, expires), NOW)
            .await
            .unwrap();
    }
    store
        .insert_refresh_token(&new_refresh("c-alice", &c, Some(&alice), "fc"), NOW - 50)
        .await
        .unwrap();
    (alice, bob, [a, b, c])
}

async fn authorized_applications_merge_consent_and_live_tokens(store: &Store) {
    let (alice, _, [a, _, c]) = alice_grants(store).await;
    let list = store.authorized_applications(alice.id, NOW).await.unwrap();
    assert_eq!(
        list,
        [
            AuthorizedApplication {
                application_id: a.id,
                client_id: "a".into(),
                name: "Alpha".into(),
                scope: "read write".into(),
                granted_at: NOW - 100,
                last_used_at: NOW,
                live_tokens: 1,
            },
            AuthorizedApplication {
                application_id: c.id,
                client_id: "c".into(),
                name: "Gamma".into(),
                scope: "read write".into(),
                granted_at: NOW - 50,
                last_used_at: NOW - 50,
                live_tokens: 1,
            },
        ]
    );
}

async fn revoking_an_authorization_spares_other_clients_and_users(store: &Store) {
    let (alice, bob, [a, _, c]) = alice_grants(store).await;
    // Bob's refresh token for `a`, and one of Alice's for `c` retired by rotation (in its grace).
    store
        .insert_refresh_token(&new_refresh("a-bob-rt", &a, Some(&bob), "fab"), NOW)
        .await
        .unwrap();
    let graced = store
        .insert_refresh_token(
            &new_refresh("c-alice-old", &c, Some(&alice), "fc"),
            NOW - 60,
        )
        .await
        .unwrap();
    let retired = store.spend(Spend::RefreshToken(graced), NOW - 55).await;
    assert!(retired.unwrap());
    store
        .revoke_authorization(alice.id, a.id, NOW)
        .await
        .unwrap();
    let (alice_code, bob_code) = (hash("code-alice"), hash("code-bob"));
    let redeemed = |code| store.authorization_code(code, a.id);
    assert_eq!(
        redeemed(&alice_code).await.unwrap(),
        CodeRedemption::Unknown
    );
    assert!(matches!(
        redeemed(&bob_code).await.unwrap(),
        CodeRedemption::Redeemable(_)
    ));
    assert!(store.consent(bob.id, a.id).await.unwrap().is_some());
    let bobs = store
        .refresh_token_by_hash(&hash("a-bob-rt"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bobs.revoked_at, None);
    assert!(
        store
            .access_token_by_hash(&hash("a-alice"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.consent(alice.id, a.id).await.unwrap().is_none());
    assert!(
        store
            .access_token_by_hash(&hash("a-bob"))
            .await
            .unwrap()
            .is_some()
    );
    let left = store.authorized_applications(alice.id, NOW).await.unwrap();
    assert_eq!(
        left.iter().map(|g| g.application_id).collect::<Vec<_>>(),
        [c.id]
    );
    assert_eq!(
        store
            .authorized_applications(bob.id, NOW)
            .await
            .unwrap()
            .len(),
        1
    );

    store
        .revoke_authorization(alice.id, c.id, NOW)
        .await
        .unwrap();
    let refresh = store
        .refresh_token_by_hash(&hash("c-alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refresh.revoked_at, Some(NOW));
    // The rotated one loses its grace: a revoked family is unusable whole.
    let old = store
        .refresh_token_by_hash(&hash("c-alice-old"))
        .await
        .unwrap()
        .unwrap();
    assert!(!old.rotated && old.revoked_at.is_some());
    assert!(
        store
            .authorized_applications(alice.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn tokens_are_found_by_client_and_user(store: &Store) {
    alice_grants(store).await;
    let found = |client: Option<&'static str>, username: Option<&'static str>| async move {
        let mut ids: Vec<(TokenKind, String, Option<String>)> = store
            .find_tokens(client, username)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.client_id, t.username))
            .collect();
        ids.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
        ids
    };
    let alice = Some("alice".to_owned());
    assert_eq!(
        found(None, Some("alice")).await,
        [
            (TokenKind::Access, "a".into(), alice.clone()),
            (TokenKind::Access, "b".into(), alice.clone()),
            (TokenKind::Refresh, "c".into(), alice.clone()),
        ]
    );
    assert_eq!(
        found(Some("a"), None).await,
        [
            (TokenKind::Access, "a".into(), alice.clone()),
            (TokenKind::Access, "a".into(), Some("bob".into())),
        ]
    );
    assert_eq!(found(Some("a"), Some("bob")).await.len(), 1);
    assert_eq!(found(None, None).await.len(), 4);
    assert!(found(Some("nobody"), None).await.is_empty());
}

async fn revoking_a_refresh_token_by_id_revokes_its_family(store: &Store) {
    let app = app(store, "c").await;
    let (at1, rt1) = token_pair(store, "one", &app, "f1").await;
    let (_, rt2) = token_pair(store, "two", &app, "f1").await;
    let (_, rt3) = token_pair(store, "three", &app, "f2").await;
    assert_eq!(store.revoke_refresh_token(rt1, NOW).await.unwrap(), 2);
    for (name, id, revoked) in [
        ("one", rt1, true),
        ("two", rt2, true),
        ("three", rt3, false),
    ] {
        let rt = store
            .refresh_token_by_hash(&hash(&format!("rt-{name}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((rt.id, rt.revoked_at.is_some()), (id, revoked), "{name}");
    }
    assert!(
        store
            .access_token_by_hash(&hash("at-one"))
            .await
            .unwrap()
            .is_none(),
        "{at1}"
    );
    assert!(
        store
            .access_token_by_hash(&hash("at-three"))
            .await
            .unwrap()
            .is_some()
    );
}

async fn users_are_listed_and_a_new_password_ends_their_sessions(store: &Store) {
    let bob = user(store, "bob").await;
    user(store, "alice").await;
    user(store, "Carol").await;
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        ["alice", "bob", "Carol"],
        "case does not decide the order"
    );
    let session = NewSession {
        session_hash: hash("s-bob"),
        user_id: bob.id,
        auth_time: NOW,
        expires_at: NOW + 600,
        sid: "sid-bob".into(),
    };
    store.create_session(&session, NOW).await.unwrap();
    store
        .set_user_password(bob.id, "$argon2id$new", NOW + 1)
        .await
        .unwrap();
    let after = store.user_by_id(bob.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(
        store
            .session_by_hash(&hash("s-bob"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.set_user_password(bob.id + 100, "x", NOW).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_device_code_is_decided_once_and_consumed_once(store: &Store) {
    let (app, alice) = (app(store, "tv").await, user(store, "alice").await);
    let new = |device: &str, user_code: &str| NewDeviceCode {
        device_code_hash: hash(device),
        user_code_hash: hash(user_code),
        application_id: app.id,
        scope: "read".into(),
        resource: Default::default(),
        poll_interval: 5,
        expires_at: NOW + 600,
    };
    let id = store
        .insert_device_code(&new("d1", "BCDFGHJK"), NOW)
        .await
        .unwrap();
    assert!(matches!(
        store.insert_device_code(&new("d2", "BCDFGHJK"), NOW).await,
        Err(StoreError::Conflict { .. })
    ));
    let found = store
        .device_code_by_user_code(&hash("BCDFGHJK"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.status, found.user_id),
        (id, DeviceStatus::Pending, None)
    );
    assert_eq!(
        store.device_code_by_device_code(&hash("d1")).await.unwrap(),
        Some(found)
    );

    store.record_device_poll(id, true, NOW + 1).await.unwrap();
    let polled = store
        .device_code_by_device_code(&hash("d1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (polled.poll_interval, polled.last_polled_at),
        (10, Some(NOW + 1))
    );

    assert!(
        !store.consume_device_code(id).await.unwrap(),
        "pending is not consumed"
    );
    assert!(
        !store
            .decide_device_code(id, alice.id, true, NOW, NOW + 600)
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        store
            .decide_device_code(id, alice.id, true, NOW - 3, NOW + 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_device_code(id, alice.id, false, NOW, NOW + 3)
            .await
            .unwrap(),
        "decided once"
    );
    let approved = store
        .device_code_by_device_code(&hash("d1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (approved.status, approved.user_id, approved.auth_time),
        (DeviceStatus::Approved, Some(alice.id), Some(NOW - 3))
    );
    let (a, b) = tokio::join!(store.consume_device_code(id), store.consume_device_code(id));
    assert!(a.unwrap() ^ b.unwrap(), "exactly one consumes it");
    let used = store
        .device_code_by_device_code(&hash("d1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.status, DeviceStatus::Used);
}

async fn a_registration_token_finds_its_client_only(store: &Store) {
    let (a, b) = (app(store, "a").await, app(store, "b").await);
    store
        .set_registration_token(a.id, &hash("rat-a"), NOW)
        .await
        .unwrap();
    store
        .set_registration_token(b.id, &hash("rat-b"), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .registered_application("a", &hash("rat-a"))
            .await
            .unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store
            .registered_application("a", &hash("rat-b"))
            .await
            .unwrap(),
        None
    );
    store
        .set_registration_token(a.id, &hash("rat-a2"), NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        store
            .registered_application("a", &hash("rat-a"))
            .await
            .unwrap(),
        None,
        "rotated"
    );
    assert!(
        store
            .registered_application("a", &hash("rat-a2"))
            .await
            .unwrap()
            .is_some()
    );
    store.delete_application(a.id).await.unwrap();
    assert_eq!(
        store
            .registered_application("a", &hash("rat-a2"))
            .await
            .unwrap(),
        None
    );
}

async fn a_metadata_document_client_is_kept_and_replaced_never_a_registered_one(store: &Store) {
    const URL: &str = "https://client.example/app.json";
    let described = NewApplication {
        client_secret_hash: None,
        client_type: ClientType::Public,
        grant_types: vec![GrantType::AuthorizationCode],
        ..new_app(URL)
    };
    assert!(store.application_and_document(URL).await.unwrap().is_none());
    let first = store
        .save_document_client(&described, NOW + 300, NOW)
        .await
        .unwrap();
    let (found, expires) = store.application_and_document(URL).await.unwrap().unwrap();
    assert_eq!((found.id, expires), (first.id, Some(NOW + 300)));
    let user = user(store, "consenting").await.id;
    let consent = |store: &Store| {
        let store = store.clone();
        async move { store.consent(user, first.id).await.unwrap().is_some() }
    };
    store
        .remember_consent(
            user,
            first.id,
            "openid",
            &tollgate_core::resource_indicator::Resources::default(),
            NOW,
        )
        .await
        .unwrap();
    store
        .save_document_client(&described, NOW + 300, NOW + 5)
        .await
        .unwrap();
    assert!(consent(store).await, "the same document keeps consent");
    // A new copy replaces what the old one said, on the same client.
    let changed = NewApplication {
        name: "Renamed".into(),
        redirect_uris: vec!["https://client.example/new".into()],
        ..described.clone()
    };
    let second = store
        .save_document_client(&changed, NOW + 900, NOW + 10)
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    let (found, expires) = store.application_and_document(URL).await.unwrap().unwrap();
    assert_eq!(found.name, "Renamed");
    assert_eq!(found.redirect_uris, vec!["https://client.example/new"]);
    assert_eq!(expires, Some(NOW + 900));
    assert!(
        !consent(store).await,
        "consent to send users to the old redirect URIs is not consent to the new"
    );
    // A client registered here is not described by a document, and not overwritten by one.
    let registered = app(store, "https://registered.example/c").await;
    let (found, expires) = store
        .application_and_document(&registered.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, expires), (registered.id, None));
    let hijack = NewApplication {
        client_id: registered.client_id.clone(),
        ..described
    };
    assert!(matches!(
        store.save_document_client(&hijack, NOW + 300, NOW).await,
        Err(StoreError::Conflict { .. })
    ));
    let (kept, _) = store
        .application_and_document(&registered.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, registered);
}

async fn resources_are_kept_with_codes_and_tokens(store: &Store) {
    use tollgate_core::resource_indicator::Resources;
    let (app, alice) = (app(store, "rs").await, user(store, "alice").await);
    let both = Resources::stored("https://api.example/ https://files.example/");
    let code = NewAuthorizationCode {
        resource: both.clone(),
        ..new_code("code-r", &app, &alice, NOW + 60)
    };
    store.insert_authorization_code(&code, NOW).await.unwrap();
    match store
        .authorization_code(&hash("code-r"), app.id)
        .await
        .unwrap()
    {
        CodeRedemption::Redeemable(found) => assert_eq!(found.resource, both),
        other => panic!("{other:?}"),
    }
    let one = Resources::stored("https://api.example/");
    let access = NewAccessToken {
        resource: one.clone(),
        ..new_access("at-r", &app, NOW + 60)
    };
    let refresh = NewRefreshToken {
        resource: both.clone(),
        ..new_refresh("rt-r", &app, Some(&alice), "fam-r")
    };
    store
        .issue_tokens(&access, Some(&refresh), None, NOW)
        .await
        .unwrap();
    let bearer = store.bearer_token(&hash("at-r")).await.unwrap().unwrap();
    assert_eq!(bearer.token.resource, one);
    let rt = store
        .refresh_token_by_hash(&hash("rt-r"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt.resource, both);
    let details = store
        .token_details(&hash("at-r"), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.resource, one);
    let details = store
        .token_details(&hash("rt-r"), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.resource, both);
}

async fn stale_document_clients_with_nothing_live_are_cleared(store: &Store) {
    let described = |url: &str| NewApplication {
        client_secret_hash: None,
        client_type: ClientType::Public,
        grant_types: vec![GrantType::AuthorizationCode],
        ..new_app(url)
    };
    let save = |url: &'static str, fresh_until: i64| {
        let new = described(url);
        async move {
            store
                .save_document_client(&new, fresh_until, NOW)
                .await
                .unwrap()
        }
    };
    let idle = save("https://a.example/idle", NOW - 1).await;
    let busy = save("https://a.example/busy", NOW - 1).await;
    let fresh = save("https://a.example/fresh", NOW + 300).await;
    let registered = app(store, "https://a.example/registered").await;
    store
        .insert_access_token(&new_access("busy-token", &busy, NOW + 60), NOW)
        .await
        .unwrap();
    let policy = ExpiryPolicy {
        now: NOW,
        refresh_token_grace_period_seconds: 0,
        refresh_token_reuse_protection: true,
        batch_size: 10,
    };
    let counts = store.clear_expired(&policy, |_| {}).await.unwrap();
    assert_eq!(counts.document_clients, 1);
    assert!(store.application_by_id(idle.id).await.unwrap().is_none());
    for kept in [busy.id, fresh.id, registered.id] {
        assert!(
            store.application_by_id(kept).await.unwrap().is_some(),
            "{kept}"
        );
    }
}

/// On SQLite, the token writer's one connection, held so that the writes sent
/// meanwhile queue up: released, they commit in at most two batches.
async fn hold_the_writer(store: &Store) -> Option<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
    match store.db() {
        Db::Sqlite(sqlite) => Some(sqlite.write.acquire().await.unwrap()),
        Db::Postgres(_) => None,
    }
}

/// A token write that fails on its refresh token leaves nothing of its own —
/// no access token, the code it spends unspent — while writes beside it (on
/// SQLite, in the same group commit) land.
async fn a_failing_token_write_leaves_nothing_and_spares_the_others(store: &Store) {
    let (app, alice) = (app(store, "c").await, user(store, "alice").await);
    let taken = new_refresh("taken", &app, None, "f-taken");
    store
        .issue_tokens(
            &new_access("a-taken", &app, NOW + 60),
            Some(&taken),
            None,
            NOW,
        )
        .await
        .unwrap();
    let write = |access: String, refresh: String, spends| {
        let refresh = new_refresh(&refresh, &app, None, &format!("f-{access}"));
        let access = new_access(&access, &app, NOW + 60);
        async move {
            store
                .issue_tokens(&access, Some(&refresh), spends, NOW)
                .await
        }
    };
    for round in 0..20 {
        let code = format!("code{round}");
        let code_id = store
            .insert_authorization_code(&new_code(&code, &app, &alice, NOW + 60), NOW)
            .await
            .unwrap();
        let held = hold_the_writer(store).await;
        // Sent in this order before the writer is released, so whichever two
        // batches they fall into, the failing write shares one with a good one.
        let (before, bad, after, ()) = tokio::join!(
            biased;
            write(format!("before{round}"), format!("r-before{round}"), None),
            write(format!("bad{round}"), "taken".into(), Some(Spend::Code(code_id))),
            write(format!("after{round}"), format!("r-after{round}"), None),
            async { drop(held) },
        );
        assert!(matches!(bad, Err(StoreError::Conflict { .. })), "{bad:?}");
        for good in [before, after] {
            assert!(matches!(good, Ok(Some(_))), "round {round}: {good:?}");
        }
        let orphan = store
            .access_token_by_hash(&hash(&format!("bad{round}")))
            .await
            .unwrap();
        assert!(
            orphan.is_none(),
            "round {round}: the failed write's access token was kept"
        );
        assert!(
            matches!(
                store
                    .authorization_code(&hash(&code), app.id)
                    .await
                    .unwrap(),
                CodeRedemption::Redeemable(_)
            ),
            "round {round}: the failed write spent its code"
        );
        for good in ["before", "after"] {
            let landed = hash(&format!("{good}{round}"));
            assert!(store.access_token_by_hash(&landed).await.unwrap().is_some());
        }
    }
}

/// A table as both databases describe it: its columns, its named indexes
/// (name → columns, unique), and the unique constraints' indexes, whose names
/// each database makes up itself.
#[derive(Debug, PartialEq, Eq, Default)]
struct TableShape {
    columns: BTreeSet<String>,
    indexes: BTreeMap<String, (String, bool)>,
    unique_constraints: BTreeSet<String>,
}

type Schema = BTreeMap<String, TableShape>;

async fn sqlite_schema(url: &str) -> Schema {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        // Migration 0011's floor stands in for PostgreSQL's identity sequence.
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'tollgate_%' \
         AND name <> 'tollgate_user_id_floor'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let mut shape = TableShape {
            columns: sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect(),
            ..TableShape::default()
        };
        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap();
        for (name, unique, origin) in indexes {
            let columns: Vec<Option<String>> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let columns = columns
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "<expression>".into()))
                .collect::<Vec<_>>()
                .join(",");
            match origin.as_str() {
                "c" => drop(shape.indexes.insert(name, (columns, unique))),
                "u" => drop(shape.unique_constraints.insert(columns)),
                _ => {} // the primary key: its columns are compared as columns
            }
        }
        schema.insert(table, shape);
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name LIKE 'tollgate_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let mut shape = TableShape {
            columns: sqlx::query_scalar(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect(),
            ..TableShape::default()
        };
        let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
            "SELECT CAST(i.relname AS TEXT), ix.indisunique, ix.indisprimary, \
                    EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid), \
                    array_to_string(ARRAY(SELECT COALESCE(CAST(a.attname AS TEXT), '<expression>') \
                        FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                        ORDER BY k.ord), ',') \
             FROM pg_class t JOIN pg_index ix ON ix.indrelid = t.oid \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             WHERE t.relname = $1 AND t.relnamespace = CAST(current_schema() AS regnamespace)",
        )
        .bind(&table)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (name, unique, primary, constraint, columns) in indexes {
            match (primary, constraint) {
                (true, _) => {} // the primary key: its columns are compared as columns
                (false, true) => drop(shape.unique_constraints.insert(columns)),
                (false, false) => drop(shape.indexes.insert(name, (columns, unique))),
            }
        }
        schema.insert(table, shape);
    }
    schema
}

/// The migrations of the two databases make the same tables, columns and
/// indexes: a column or index added to one only fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_agree() {
    let Some(pg) = tollgate_testkit::postgres("schemas_agree").await else {
        return;
    };
    let lite = tollgate_testkit::sqlite();
    open(&lite.url).await;
    open(&pg.url).await;
    let (sqlite, postgres) = (
        sqlite_schema(&lite.url).await,
        postgres_schema(&pg.url).await,
    );
    assert!(sqlite.len() > 10, "{:?}", sqlite.keys());
    let names = |s: &Schema| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&sqlite), names(&postgres), "the same tables");
    for (table, shape) in &sqlite {
        assert_eq!(
            shape, &postgres[table],
            "table {table}: SQLite, then PostgreSQL"
        );
    }
}

/// A user's access token carried by a refresh token, both named after `name`;
/// looked up once each way, so that a cache keeps them.
async fn cached_pair(store: &Store, name: &str, app: &Application, user: &User) -> (i64, i64) {
    let access = NewAccessToken {
        user_id: Some(user.id),
        ..new_access(&format!("at-{name}"), app, NOW + 3600)
    };
    let refresh = new_refresh(&format!("rt-{name}"), app, Some(user), &format!("f-{name}"));
    let at = store
        .issue_tokens(&access, Some(&refresh), None, NOW)
        .await
        .unwrap()
        .unwrap();
    let rt = store
        .refresh_token_by_hash(&hash(&format!("rt-{name}")))
        .await
        .unwrap()
        .unwrap()
        .id;
    for _ in 0..2 {
        assert!(
            store
                .bearer_token(&hash(&format!("at-{name}")))
                .await
                .unwrap()
                .is_some()
        );
        assert!(lookup_details(store, name).await.is_some());
    }
    (at, rt)
}

async fn lookup_details(store: &Store, name: &str) -> Option<TokenDetails> {
    store
        .token_details(&hash(&format!("at-{name}")), false)
        .await
        .unwrap()
}

/// Whether the access token named `name` is still live by both lookups.
async fn live(store: &Store, name: &str) -> (bool, bool) {
    let bearer = store
        .bearer_token(&hash(&format!("at-{name}")))
        .await
        .unwrap();
    let details = lookup_details(store, name).await;
    (
        bearer.is_some_and(|b| b.user.is_none_or(|u| u.active)),
        details.is_some_and(|d| d.revoked_at.is_none() && d.user_active != Some(false)),
    )
}

/// With the token cache on, every way of revoking a token, and every change of
/// its user or client that a lookup reports, is seen by the next lookup.
async fn a_cached_token_is_gone_once_revoked_or_its_user_or_client_changes(store: &Store) {
    store.cache_tokens(Duration::from_secs(3600));
    let (app, alice) = (app(store, "c").await, user(store, "alice").await);
    let gone = (false, false);

    let (at, _) = cached_pair(store, "revoked", &app, &alice).await;
    store.revoke_access_token(at, NOW).await.unwrap();
    assert_eq!(live(store, "revoked").await, gone, "revoke_access_token");

    let (_, rt) = cached_pair(store, "family", &app, &alice).await;
    store.revoke_refresh_token(rt, NOW).await.unwrap();
    assert_eq!(live(store, "family").await, gone, "revoke_refresh_token");

    let (_, rt) = cached_pair(store, "rotated", &app, &alice).await;
    let successor = new_access("at-successor", &app, NOW + 3600);
    let rotated = store
        .issue_tokens(&successor, None, Some(Spend::RefreshToken(rt)), NOW)
        .await
        .unwrap();
    assert!(rotated.is_some());
    assert_eq!(live(store, "rotated").await, gone, "rotation");

    let (_, rt) = cached_pair(store, "reattached", &app, &alice).await;
    assert!(carry(store, rt, "at-next", &app).await.is_some());
    assert_eq!(live(store, "reattached").await, gone, "Spend::Carry");

    cached_pair(store, "authorization", &app, &alice).await;
    store
        .revoke_authorization(alice.id, app.id, NOW)
        .await
        .unwrap();
    assert_eq!(
        live(store, "authorization").await,
        gone,
        "revoke_authorization"
    );

    cached_pair(store, "user-tokens", &app, &alice).await;
    store.revoke_user_tokens(alice.id, NOW).await.unwrap();
    assert_eq!(live(store, "user-tokens").await, gone, "revoke_user_tokens");

    cached_pair(store, "deactivated", &app, &alice).await;
    store.set_user_active(alice.id, false, NOW).await.unwrap();
    assert_eq!(live(store, "deactivated").await, gone, "set_user_active");
    store.set_user_active(alice.id, true, NOW).await.unwrap();
    assert_eq!(
        live(store, "deactivated").await,
        (true, true),
        "reactivated"
    );

    cached_pair(store, "client-deleted", &app, &alice).await;
    store.delete_application(app.id).await.unwrap();
    assert_eq!(
        live(store, "client-deleted").await,
        gone,
        "delete_application"
    );

    let other = store.create_application(&new_app("d"), NOW).await.unwrap();
    let carol = user(store, "carol").await;
    cached_pair(store, "user-deleted", &other, &carol).await;
    store.delete_user(carol.id).await.unwrap();
    assert_eq!(live(store, "user-deleted").await, gone, "delete_user");
    assert_eq!(store.user_by_id(carol.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_user(carol.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store.application_by_id(other.id).await.unwrap().is_some(),
        "a client the user does not own stays"
    );
}

/// Lookups racing a revocation cannot put back what it took away: once the
/// revocation returns, no lookup finds the token, 50 rounds of 4 readers each.
async fn revocations_racing_cached_lookups_are_never_undone(store: &Store) {
    store.cache_tokens(Duration::from_secs(3600));
    let (app, alice) = (app(store, "c").await, user(store, "alice").await);
    for round in 0..50 {
        let name = format!("race{round}");
        let (at, _) = cached_pair(store, &name, &app, &alice).await;
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (store, stop, token) =
                    (store.clone(), stop.clone(), hash(&format!("at-{name}")));
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        store.bearer_token(&token).await.unwrap();
                        store.token_details(&token, false).await.unwrap();
                        // A cached answer never waits: let the revoking task run.
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        store.revoke_access_token(at, NOW).await.unwrap();
        assert_eq!(
            live(store, &name).await,
            (false, false),
            "round {round}, at once"
        );
        for _ in 0..20 {
            tokio::task::yield_now().await;
            assert_eq!(
                live(store, &name).await,
                (false, false),
                "round {round}, later"
            );
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.await.unwrap();
        }
        assert_eq!(
            live(store, &name).await,
            (false, false),
            "round {round}, after"
        );
    }
}

/// Two processes on one PostgreSQL: a token one of them caches stops being
/// served once the other revokes it, by the `tollgate_tokens` notification;
/// and when the listener's connection is cut, the cache serves nothing until it
/// listens again, so a revocation meanwhile is not missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_by_another_process_reaches_a_cache_on_postgres() {
    let Some(db) = tollgate_testkit::postgres("cross_process_revocation").await else {
        return;
    };
    let (node_a, node_b) = (open(&db.url).await, open(&db.url).await);
    node_a.cache_tokens(Duration::from_secs(3600));
    let (app, alice) = (app(&node_b, "c").await, user(&node_b, "alice").await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !node_a.token_cache_serving() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node A never listened"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Node A serves from memory: a row deleted with triggers off is still found.
    let (at, _) = cached_pair(&node_a, "silent", &app, &alice).await;
    let Db::Postgres(pool) = node_b.db() else {
        unreachable!()
    };
    let mut quiet = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *quiet)
        .await
        .unwrap();
    sqlx::query("DELETE FROM tollgate_access_tokens WHERE id = $1")
        .bind(at)
        .execute(&mut *quiet)
        .await
        .unwrap();
    quiet.commit().await.unwrap();
    assert_eq!(
        live(&node_a, "silent").await,
        (true, true),
        "served from memory"
    );
    for round in 0..10 {
        let name = format!("n{round}");
        let (at, _) = cached_pair(&node_a, &name, &app, &alice).await;
        if round % 2 == 1 {
            // Cut node A's listener; its revocation notice may then be lost.
            let Db::Postgres(pool) = node_b.db() else {
                unreachable!()
            };
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE query LIKE 'LISTEN %tollgate_tokens%' AND pid <> pg_backend_pid()",
            )
            .execute(pool)
            .await
            .unwrap();
        }
        node_b.revoke_access_token(at, NOW).await.unwrap();
        // Bounded by the notification (or the lost connection) reaching node A:
        // a few milliseconds; ten seconds only to fail rather than hang.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while live(&node_a, &name).await != (false, false) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: node A still serves a revoked token"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    node_a.close().await;
}

/// `SqliteSynchronous` reaches the connection that commits: NORMAL (1) by
/// default, FULL (2) when asked.
#[tokio::test]
async fn sqlite_commits_are_synced_as_asked() {
    use tollgate_store::{ConnectOptions, SqliteSynchronous};
    for (asked, pragma) in [(SqliteSynchronous::Normal, 1), (SqliteSynchronous::Full, 2)] {
        let db = tollgate_testkit::sqlite();
        let options = ConnectOptions {
            sqlite_synchronous: asked,
            ..ConnectOptions::default()
        };
        let store = Store::connect_with(&db.url, options).await.unwrap();
        let Db::Sqlite(sqlite) = store.db() else {
            unreachable!()
        };
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&sqlite.write)
            .await
            .unwrap();
        assert_eq!(level, pragma, "{asked:?}");
    }
}

/// The partial indexes of migration 0010 still serve the lookups on their
/// columns: by user, by code, by carried access token, and cleartokens' passes.
#[tokio::test]
async fn lookups_on_nullable_token_columns_use_their_partial_indexes() {
    let db = tollgate_testkit::sqlite();
    let store = open(&db.url).await;
    let Db::Sqlite(sqlite) = store.db() else {
        unreachable!()
    };
    let uses = [
        (
            "DELETE FROM tollgate_access_tokens WHERE user_id = 1",
            "tollgate_access_tokens_user",
        ),
        (
            "DELETE FROM tollgate_access_tokens WHERE authorization_code_id = 1",
            "tollgate_access_tokens_code",
        ),
        (
            "SELECT id FROM tollgate_refresh_tokens WHERE user_id = 1",
            "tollgate_refresh_tokens_user",
        ),
        (
            "SELECT id FROM tollgate_refresh_tokens WHERE authorization_code_id = 1",
            "tollgate_refresh_tokens_code",
        ),
        (
            "SELECT id FROM tollgate_refresh_tokens WHERE revoked_at IS NOT NULL AND revoked_at <= 1",
            "tollgate_refresh_tokens_revoked",
        ),
        (
            "SELECT id FROM tollgate_refresh_tokens \
             WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= 1",
            "tollgate_refresh_tokens_expires",
        ),
    ];
    for (query, index) in uses {
        // Rows of id, parent, unused, detail.
        let plan: Vec<String> = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(
            format!("EXPLAIN QUERY PLAN {query}"),
        ))
        .fetch_all(&sqlite.read)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.3)
        .collect();
        assert!(
            plan.iter().any(|step| step.contains(index)),
            "{query}: {plan:?}"
        );
    }
}

/// A user's id is the OIDC `sub` a relying party keys its accounts on: the
/// next user never gets the id of one deleted, newest or not, and a mirrored
/// directory user's is not given either once they are deleted.
async fn a_deleted_users_id_is_never_given_again(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    store.delete_user(bob.id).await.unwrap();
    let carol = user(store, "carol").await;
    assert!(
        carol.id > bob.id,
        "carol {} reuses bob's {}",
        carol.id,
        bob.id
    );

    store.delete_user(carol.id).await.unwrap();
    store.delete_user(alice.id).await.unwrap();
    let dave = user(store, "dave").await;
    assert!(
        dave.id > carol.id,
        "dave {} reuses carol's {}",
        dave.id,
        carol.id
    );

    let mirrored = User {
        id: dave.id + 100,
        username: "erin".into(),
        ..dave.clone()
    };
    store.mirror_user(&mirrored, NOW).await.unwrap();
    store.delete_user(mirrored.id).await.unwrap();
    let frank = user(store, "frank").await;
    let deleted = [bob.id, carol.id, alice.id, mirrored.id];
    assert!(
        !deleted.contains(&frank.id),
        "frank {} reuses one of {deleted:?}",
        frank.id
    );
    store.migrate().await.unwrap();
    let grace = user(store, "grace").await;
    assert_eq!(
        grace.id,
        frank.id + 1,
        "numbering goes on after a new migrate"
    );
}

/// RFC 9126: a pushed request opens for its own client only, lives on once
/// opened, and of 8 concurrent answers exactly one deletes it, 10 rounds.
async fn a_pushed_request_is_its_clients_and_answered_once(store: &Store) {
    let (app, other) = (app(store, "c").await, app(store, "d").await);
    let mut must_push = new_app("bank");
    must_push.security.require_pushed_authorization_requests = true;
    let bank = store.create_application(&must_push, NOW).await.unwrap();
    let read = store
        .application_by_client_id("bank")
        .await
        .unwrap()
        .unwrap();
    assert!(bank.security.require_pushed_authorization_requests);
    assert_eq!(read, bank);
    let push = |name: &str, expires_at: i64| NewPushedRequest {
        request_uri_hash: hash(name),
        application_id: app.id,
        parameters: vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("scope".to_owned(), "a b&c=d".to_owned()),
        ],
        expires_at,
    };
    store.push_request(&push("p", NOW + 60), NOW).await.unwrap();
    let theirs = store
        .open_pushed_request(&hash("p"), other.id, NOW, 900)
        .await;
    assert_eq!(theirs.unwrap(), None, "another client's");
    let opened = store
        .open_pushed_request(&hash("p"), app.id, NOW + 10, 900)
        .await;
    let opened = opened.unwrap().expect("opened");
    assert_eq!(opened.parameters, push("p", 0).parameters);
    assert_eq!(opened.opened_at, NOW + 10);
    // Past its first deadline, but opened: it lasts the interaction, from the first opening.
    let again = store
        .open_pushed_request(&hash("p"), app.id, NOW + 500, 900)
        .await;
    assert_eq!(again.unwrap().expect("still open").opened_at, NOW + 10);
    let late = store
        .open_pushed_request(&hash("p"), app.id, NOW + 910, 900)
        .await;
    assert_eq!(late.unwrap(), None, "the interaction is over");

    store
        .push_request(&push("unopened", NOW + 60), NOW)
        .await
        .unwrap();
    let expired = store
        .open_pushed_request(&hash("unopened"), app.id, NOW + 60, 900)
        .await;
    assert_eq!(expired.unwrap(), None);
    assert!(
        !store
            .answer_pushed_request(&hash("unopened"), NOW + 60)
            .await
            .unwrap()
    );

    for round in 0..10 {
        let name = format!("race-{round}");
        store
            .push_request(&push(&name, NOW + 60), NOW)
            .await
            .unwrap();
        let answers = answer_at_once(store, &name).await;
        assert_eq!(answers.iter().filter(|a| **a).count(), 1, "round {round}");
        let gone = store
            .open_pushed_request(&hash(&name), app.id, NOW, 900)
            .await;
        assert_eq!(gone.unwrap(), None, "round {round}");
    }

    let policy = ExpiryPolicy {
        now: NOW + 1000,
        refresh_token_grace_period_seconds: 0,
        refresh_token_reuse_protection: false,
        batch_size: 10,
    };
    let cleared = store.clear_expired(&policy, |_| {}).await.unwrap();
    assert_eq!(cleared.authorization_codes, 2, "p and unopened");
}

/// Eight answers of the pushed request `name` at once.
async fn answer_at_once(store: &Store, name: &str) -> Vec<bool> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, name) = (store.clone(), name.to_owned());
            tokio::spawn(async move {
                store
                    .answer_pushed_request(&hash(&name), NOW)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// A JWT id is used once while it is remembered, by one of eight callers at
/// once (10 rounds), again after it expired, and cleared then; a client's keys
/// are kept as registered.
async fn a_jwt_id_is_used_once_until_it_expires(store: &Store) {
    let mut keyed = new_app("signer");
    keyed.security.jwks = Some(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}"#.into());
    let created = store.create_application(&keyed, NOW).await.unwrap();
    let read = store.application_by_client_id("signer").await.unwrap();
    assert_eq!(read.as_ref(), Some(&created));
    assert_eq!(created.security.jwks, keyed.security.jwks);

    assert!(store.use_jwt_id(&hash("j"), NOW + 60, NOW).await.unwrap());
    assert!(
        !store
            .use_jwt_id(&hash("j"), NOW + 60, NOW + 59)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_jwt_id(&hash("j"), NOW + 200, NOW + 60)
            .await
            .unwrap(),
        "expired, it may be used again (its JWT would be refused by then)"
    );
    assert!(
        !store
            .use_jwt_id(&hash("j"), NOW + 200, NOW + 100)
            .await
            .unwrap()
    );

    for round in 0..10 {
        let digest = hash(&format!("race-{round}"));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.use_jwt_id(&digest, NOW + 60, NOW).await.unwrap() })
            })
            .collect();
        let mut firsts = 0;
        for task in tasks {
            firsts += usize::from(task.await.unwrap());
        }
        assert_eq!(firsts, 1, "round {round}");
    }

    let policy = ExpiryPolicy {
        now: NOW + 100,
        refresh_token_grace_period_seconds: 0,
        refresh_token_reuse_protection: false,
        batch_size: 3,
    };
    let cleared = store.clear_expired(&policy, |_| {}).await.unwrap();
    assert_eq!(cleared.used_jwt_ids, 10, "the races' ids, not j");
}

async fn a_sessions_back_channel_clients_are_read_as_it_ends(store: &Store) {
    let alice = user(store, "alice").await;
    let mut told = new_app("told");
    told.security.backchannel_logout_uri = Some("https://told.example/logout".into());
    let told = store.create_application(&told, NOW).await.unwrap();
    let silent = app(store, "silent").await;
    let session = |name: &str, expires_at| NewSession {
        session_hash: hash(name),
        user_id: alice.id,
        auth_time: NOW,
        expires_at,
        sid: format!("sid-{name}"),
    };
    let one = store
        .create_session(&session("one", NOW + 60), NOW)
        .await
        .unwrap();
    let two = store
        .create_session(&session("two", NOW + 60), NOW)
        .await
        .unwrap();
    let old = store
        .create_session(&session("old", NOW + 1), NOW)
        .await
        .unwrap();
    for id in [one, two, old] {
        store.add_session_client(id, told.id, NOW).await.unwrap();
        // Twice is no error; a client without a back-channel URI is never listed.
        store.add_session_client(id, told.id, NOW).await.unwrap();
        store.add_session_client(id, silent.id, NOW).await.unwrap();
    }
    let of = |sid: &str| SessionClient {
        application_id: told.id,
        user_id: alice.id,
        sid: Some(sid.into()),
    };
    // The live sessions only, for every client or the one named.
    let live = store
        .user_session_clients(alice.id, None, NOW + 10)
        .await
        .unwrap();
    assert_eq!(live, vec![of("sid-one"), of("sid-two")]);
    let named = store
        .user_session_clients(alice.id, Some(silent.id), NOW + 10)
        .await
        .unwrap();
    assert_eq!(named, vec![]);
    // Ending a session says whom to tell, once.
    assert_eq!(
        store.delete_session(&hash("one")).await.unwrap(),
        vec![of("sid-one")]
    );
    assert_eq!(store.delete_session(&hash("one")).await.unwrap(), vec![]);
    let found = store
        .session_by_hash(&hash("two"), NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.sid.as_deref(), Some("sid-two"));
    // Deactivating a user ends their sessions.
    store.set_user_active(alice.id, false, NOW).await.unwrap();
    assert_eq!(
        store.session_by_hash(&hash("two"), NOW).await.unwrap(),
        None
    );
}
