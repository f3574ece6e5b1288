//! One module per command; each loads what it needs and reports one line on failure.

mod applications;
mod check;
mod clear_tokens;
mod create_application;
mod create_user;
mod import_dot;
mod keys;
mod output;
mod serve;
mod users;

use std::fmt;

use tollgate::Store;
use tollgate::store::{ConnectOptions, StoreError};

use crate::cli::{Cli, Command};
use crate::config::{self, Config};

/// A command's failure, shown as `error: <message>`.
#[derive(Debug)]
pub struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub fn fail(message: impl Into<String>) -> Failure {
    Failure(message.into())
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    // Needs no configuration: a package's build script runs it without one.
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "tollgate", &mut std::io::stdout());
        return Ok(());
    }
    let config = config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command {
        Command::Serve => serve::run(config).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!(
                "The database at {} is up to date.",
                redact(&config.database_url)
            );
            Ok(())
        }
        Command::CreateApplication(args) => create_application::run(&config, args).await,
        Command::CreateUser(args) => create_user::run(&config, args).await,
        Command::ImportDot(args) => import_dot::run(&config, args).await,
        Command::ClearTokens => clear_tokens::run(&config).await,
        Command::Keys(command) => keys::run(&config, command).await,
        Command::Check { deploy, output } => check::run(&config, deploy, output).await,
        Command::Applications(command) => applications::run(&config, command).await,
        Command::Users(command) => users::run(&config, command).await,
        Command::ChangePassword { username, .. } => {
            users::change_password(&config, &username).await
        }
        Command::Completions { .. } => unreachable!("answered before the configuration is read"),
    }
}

/// Connects and applies pending migrations: every command works on a fresh database.
pub async fn open_store(config: &Config) -> Result<Store, Failure> {
    let shown = redact(&config.database_url);
    let options = ConnectOptions {
        timeout: config.database_timeout,
        sqlite_synchronous: config.sqlite_synchronous,
    };
    let store = Store::connect_with(&config.database_url, options)
        .await
        .map_err(|e| match e {
            StoreError::Connect(inner) => {
                fail(format!("cannot open the database {shown}: {inner}"))
            }
            other => fail(format!("cannot open the database {shown}: {other}")),
        })?;
    store
        .migrate()
        .await
        .map_err(|e| fail(format!("cannot migrate the database {shown}: {e}")))?;
    Ok(store)
}

/// A database URL fit for messages and logs: the password replaced.
pub fn redact(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => database_url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://tollgate.db"), "sqlite://tollgate.db");
    }
}
