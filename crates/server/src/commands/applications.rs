//! `tollgate applications list|show|delete`: the registered clients, without SQL.

use serde_json::Value;
use tollgate::Store;
use tollgate::core::model::Application;

use super::output::{self, print_json};
use super::{Failure, fail, open_store};
use crate::cli::Applications;
use crate::config::Config;

pub async fn run(config: &Config, command: Applications) -> Result<(), Failure> {
    let store = open_store(config).await?;
    match command {
        Applications::List { output } => {
            let apps = store.applications(None).await?;
            if output.json {
                print_json(&Value::Array(
                    apps.iter().map(output::application).collect(),
                ));
                return Ok(());
            }
            if apps.is_empty() {
                println!("No applications yet: `tollgate createapplication` registers one.");
                return Ok(());
            }
            println!(
                "{:<40} {:<12} {:<24} GRANT TYPES",
                "CLIENT ID", "TYPE", "NAME"
            );
            for app in &apps {
                println!(
                    "{:<40} {:<12} {:<24} {}",
                    app.client_id,
                    app.client_type.as_str(),
                    app.name,
                    output::grants(app)
                );
            }
        }
        Applications::Show { client_id, output } => {
            let app = find(&store, &client_id).await?;
            if output.json {
                print_json(&output::application(&app));
                return Ok(());
            }
            let list = |items: &[String]| items.join(" ");
            println!("client_id: {}", app.client_id);
            println!("name: {}", app.name);
            println!("client_type: {}", app.client_type.as_str());
            println!("grant_types: {}", output::grants(&app));
            println!("redirect_uris: {}", list(&app.redirect_uris));
            println!(
                "post_logout_redirect_uris: {}",
                list(&app.post_logout_redirect_uris)
            );
            println!("allowed_origins: {}", list(&app.allowed_origins));
            println!("algorithm: {}", app.algorithm.as_str());
            println!("skip_authorization: {}", app.skip_authorization);
        }
        Applications::Delete { client_id } => {
            let app = find(&store, &client_id).await?;
            store.delete_application(app.id).await?;
            println!("Application `{client_id}` deleted, with its codes, tokens and consents.");
        }
    }
    Ok(())
}

async fn find(store: &Store, client_id: &str) -> Result<Application, Failure> {
    store
        .application_by_client_id(client_id)
        .await?
        .ok_or_else(|| fail(format!("no application has the client_id `{client_id}`")))
}
