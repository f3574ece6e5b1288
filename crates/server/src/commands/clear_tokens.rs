use std::io::{IsTerminal, Write};

use tollgate::core::Clock;
use tollgate::core::model::ExpiryPolicy;
use tollgate::system::SystemClock;

use super::{Failure, open_store};
use crate::config::Config;

pub async fn run(config: &Config) -> Result<(), Failure> {
    let settings = &config.provider;
    if settings.refresh_token_expire_seconds.is_none() {
        eprintln!(
            "note: refresh_token_expire_seconds is not set, so refresh tokens never expire; \
             only revoked ones are removed"
        );
    }
    let store = open_store(config).await?;
    let policy = ExpiryPolicy {
        now: SystemClock.now(),
        refresh_token_grace_period_seconds: i64::try_from(
            settings.refresh_token_grace_period_seconds,
        )
        .unwrap_or(i64::MAX),
        refresh_token_reuse_protection: settings.refresh_token_reuse_protection,
        batch_size: settings.clear_expired_tokens_batch_size,
    };
    let terminal = std::io::stderr().is_terminal();
    let counts = store
        .clear_expired(&policy, |so_far| {
            if terminal {
                eprint!("\rremoving expired rows… {} so far", so_far.total());
                let _ = std::io::stderr().flush();
            }
        })
        .await?;
    if terminal {
        eprintln!();
    }
    println!(
        "Removed {} rows: {} refresh tokens, {} access tokens, {} ID tokens, \
         {} authorization codes, {} sessions, {} clients of stale metadata documents, \
         {} used JWT ids.",
        counts.total(),
        counts.refresh_tokens,
        counts.access_tokens,
        counts.id_tokens,
        counts.authorization_codes,
        counts.sessions,
        counts.document_clients,
        counts.used_jwt_ids
    );
    Ok(())
}
