//! `tollgate users list|show|delete` and `tollgate changepassword`: users, without SQL.

use serde_json::Value;
use tollgate::Store;
use tollgate::core::Clock;
use tollgate::core::model::User;
use tollgate::credentials::hash_password;
use tollgate::system::SystemClock;

use super::create_user::read_password_line;
use super::output::{self, print_json};
use super::{Failure, fail, open_store};
use crate::cli::Users;
use crate::config::Config;

pub async fn run(config: &Config, command: Users) -> Result<(), Failure> {
    let store = open_store(config).await?;
    match command {
        Users::List { output } => {
            let users = store.users().await?;
            if output.json {
                print_json(&Value::Array(users.iter().map(output::user).collect()));
                return Ok(());
            }
            if users.is_empty() {
                println!("No users yet: `tollgate createuser` creates one.");
                return Ok(());
            }
            println!(
                "{:<8} {:<32} {:<32} ACTIVE STAFF",
                "ID", "USERNAME", "EMAIL"
            );
            for user in &users {
                println!(
                    "{:<8} {:<32} {:<32} {:<6} {}",
                    user.id, user.username, user.email, user.active, user.staff
                );
            }
        }
        Users::Show { username, output } => {
            let user = find(&store, &username).await?;
            if output.json {
                print_json(&output::user(&user));
                return Ok(());
            }
            println!("id: {}", user.id);
            println!("username: {}", user.username);
            println!("email: {} (verified: {})", user.email, user.email_verified);
            println!("name: {} {}", user.given_name, user.family_name);
            println!("active: {}", user.active);
            println!("staff: {}", user.staff);
            println!("has_password: {}", user.password_hash.is_some());
        }
        Users::Delete { username } => {
            let user = find(&store, &username).await?;
            store.delete_user(user.id).await?;
            println!(
                "User `{username}` deleted, with their tokens, codes, consents, sessions and the applications they owned."
            );
        }
    }
    Ok(())
}

/// `tollgate changepassword USERNAME --password-stdin`, as Django's `changepassword`.
pub async fn change_password(config: &Config, username: &str) -> Result<(), Failure> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(fail(
            "--password-stdin reads the password from a pipe or file, not a terminal (it would echo): \
             `read -rs p && printf '%s\\n' \"$p\" | tollgate changepassword USERNAME --password-stdin`",
        ));
    }
    let password = read_password_line()?;
    if password.is_empty() {
        return Err(fail("the password is empty"));
    }
    let store = open_store(config).await?;
    let user = find(&store, username).await?;
    // argon2 takes tens of milliseconds: off the async executor.
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    store
        .set_user_password(user.id, &hash, SystemClock.now())
        .await?;
    println!("Password changed for `{username}`; their sessions are ended.");
    Ok(())
}

async fn find(store: &Store, username: &str) -> Result<User, Failure> {
    store
        .user_by_username(username)
        .await?
        .ok_or_else(|| fail(format!("no user is named `{username}`")))
}
