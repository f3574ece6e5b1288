use std::io::BufRead;

use tollgate::core::Clock;
use tollgate::core::model::NewUser;
use tollgate::credentials::hash_password;
use tollgate::store::StoreError;
use tollgate::system::SystemClock;

use super::output::{self, print_json};
use super::{Failure, fail, open_store};
use crate::cli::CreateUser;
use crate::config::Config;

/// Django's limit, so usernames move between the two.
const MAX_USERNAME: usize = 150;

pub async fn run(config: &Config, args: CreateUser) -> Result<(), Failure> {
    let username = args.username.trim();
    if username.is_empty()
        || username.len() > MAX_USERNAME
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(fail(format!(
            "invalid username `{}`: 1 to {MAX_USERNAME} characters, no spaces",
            args.username
        )));
    }
    let password = match (args.password, args.password_stdin) {
        (Some(p), _) => Some(p),
        (None, true) => Some(read_password_line()?),
        (None, false) => None,
    };
    if password.as_deref() == Some("") {
        return Err(fail("the password is empty"));
    }
    let password_hash = match password {
        // argon2 takes tens of milliseconds: off the async executor.
        Some(p) => Some(tokio::task::spawn_blocking(move || hash_password(&p)).await??),
        None => None,
    };
    let has_password = password_hash.is_some();
    let store = open_store(config).await?;
    let new = NewUser {
        username: username.to_owned(),
        password_hash,
        email: args.email,
        email_verified: args.email_verified,
        given_name: args.given_name,
        family_name: args.family_name,
        phone_number: args.phone_number,
        phone_number_verified: args.phone_number_verified,
        address: args.address,
        staff: args.staff,
    };
    let user = store
        .create_user(&new, SystemClock.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => {
                fail(format!("a user named `{username}` already exists"))
            }
            other => other.into(),
        })?;
    if args.output.json {
        print_json(&output::user(&user));
        if !has_password {
            eprintln!("It has no password, so it cannot sign in until one is set.");
        }
        return Ok(());
    }
    println!("User `{}` created (id {}).", user.username, user.id);
    if !has_password {
        println!("It has no password, so it cannot sign in until one is set.");
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
pub(super) fn read_password_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
