//! Runs the notes service on 127.0.0.1:3000 with a demo person and a demo client.
//!
//! ```text
//! cargo run -p tollgate-example-embedded
//! ```

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = "http://127.0.0.1:3000";
    let site = tollgate_example_embedded::build(std::path::Path::new("notes.db"), issuer).await?;
    let store = site.provider.store();
    if store
        .application_by_client_id(tollgate_example_embedded::CLI_CLIENT_ID)
        .await?
        .is_none()
    {
        tollgate_example_embedded::add_person(
            &site.pool,
            "ada@example.com",
            "Ada Lovelace",
            "Engines",
            "analytical",
        )
        .await?;
        tollgate_example_embedded::register_cli_client(&site.provider).await?;
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
