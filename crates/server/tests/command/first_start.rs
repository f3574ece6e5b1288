//! Nodes of a cluster starting together on one PostgreSQL database: the first
//! start (creating the database, migrating, making the signing keys) is done
//! once, whichever node gets there first, and every node signs with a key
//! every node publishes.

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Rounds of nodes started together: 2, 3 and 4 nodes, twice each.
const ROUNDS: [usize; 6] = [2, 3, 4, 2, 3, 4];

#[tokio::test]
async fn nodes_starting_together_create_a_missing_database_once() {
    for (round, nodes) in ROUNDS.into_iter().enumerate() {
        let Some(db) = tollgate_testkit::postgres("nodes_create_a_missing_database_once").await
        else {
            return;
        };
        // A name no database has: the nodes are to create it.
        db.destroy();
        let dir = TempDir::new();
        let servers = Server::start_together(nodes, &dir.0, &[("TOLLGATE_DATABASE_URL", &db.url)]);
        for server in &servers {
            let health = reqwest::get(format!("{}/health", server.base))
                .await
                .unwrap();
            assert_eq!(
                health.status(),
                200,
                "round {round}, {nodes} nodes: {}",
                server.log_text()
            );
        }
    }
}

#[tokio::test]
async fn nodes_starting_together_sign_with_a_key_every_node_publishes() {
    for (round, nodes) in ROUNDS.into_iter().enumerate() {
        let Some(db) =
            tollgate_testkit::postgres("nodes_sign_with_a_key_every_node_publishes").await
        else {
            return;
        };
        let dir = TempDir::new();
        let env = [
            ("TOLLGATE_DATABASE_URL", db.url.as_str()),
            // JWT access tokens: signed with the RS256 key by client credentials alone.
            ("TOLLGATE_ACCESS_TOKEN_FORMAT", "jwt"),
        ];
        // Migrated, with a client, and no signing key yet.
        let secret = generated_secret(&run(tollgate(&dir.0)
            .args(["createapplication", "confidential", "client-credentials"])
            .args(["--client-id", "svc", "--name", "Service"])
            .envs(env)));
        let servers = Server::start_together(nodes, &dir.0, &env);
        let http = reqwest::Client::new();
        let mut published = Vec::new();
        for server in &servers {
            let jwks: Value = http
                .get(format!("{}/o/.well-known/jwks.json", server.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut kids: Vec<String> = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect();
            kids.sort_unstable();
            published.push(kids);
        }
        assert_eq!(published[0].len(), 3, "one key per algorithm");
        assert!(
            published.iter().all(|kids| *kids == published[0]),
            "round {round}: every node publishes the same keys: {published:?}"
        );
        for server in &servers {
            let answer: Value = http
                .post(format!("{}/o/token/", server.base))
                .basic_auth("svc", Some(&secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = answer["access_token"].as_str().expect("an access token");
            let header = token.split('.').next().unwrap();
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            let kid = header["kid"].as_str().unwrap().to_owned();
            assert!(
                published.iter().all(|kids| kids.contains(&kid)),
                "round {round}, {nodes} nodes: {} signs with {kid}, not published by all: {published:?}",
                server.base
            );
        }
    }
}
