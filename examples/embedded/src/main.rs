//! Runs the notes service on 127.0.0.1:3000 with a demo person and a demo client.
//!
//! ```text
//! cargo run -p tollgate-example-embedded
//! ```

use tollgate::core::model::NewApplication;
use tollgate::core::{ClientType, GrantType, SigningAlgorithm};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = "http://127.0.0.1:3000";
    let site = tollgate_example_embedded::build(std::path::Path::new("notes.db"), issuer).await?;
    let store = site.provider.store();
    if store.application_by_client_id("notes-cli").await?.is_none() {
        tollgate_example_embedded::add_person(
            &site.pool,
            "ada@example.com",
            "Ada Lovelace",
            "Engines",
            "analytical",
        )
        .await?;
        let client = NewApplication {
            client_id: "notes-cli".into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type: ClientType::Public,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            userinfo_signed: false,
            skip_authorization: false,
            name: "Notes command line".into(),
            owner_id: None,
        };
        store.create_application(&client, 0).await?;
        println!("person ada@example.com / analytical, public client notes-cli");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("{issuer}/.well-known/openid-configuration");
    axum::serve(
        listener,
        site.router
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
