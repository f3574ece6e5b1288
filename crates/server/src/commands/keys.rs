//! `tollgate keys generate|list|rotate`: signing keys, rotated publish-first.

use tollgate::core::env::UnixTime;
use tollgate::core::model::SigningKey;
use tollgate::core::{Clock, SigningAlgorithm};
use tollgate::keys::{KEY_ALGORITHMS, KeyStatus, Takeover, rotate};
use tollgate::system::SystemClock;

use serde_json::{Value, json};

use super::output::print_json;
use super::{Failure, open_store};
use crate::cli::Keys;
use crate::config::Config;

pub async fn run(config: &Config, command: Keys) -> Result<(), Failure> {
    let store = open_store(config).await?;
    let settings = &config.provider;
    let sealer = settings.sealer();
    let now = SystemClock.now();
    let existing = store.signing_keys(now).await?;
    let (algorithms, now_flag): (Vec<SigningAlgorithm>, bool) = match command {
        Keys::List { output } if output.json => {
            print_json(&keys_json(&existing, now));
            return Ok(());
        }
        Keys::List { .. } => {
            print_keys(&existing, now);
            return Ok(());
        }
        Keys::Generate { algorithm, now } => (vec![algorithm], now),
        Keys::Rotate {
            algorithm: Some(algorithm),
            now,
        } => (vec![algorithm], now),
        Keys::Rotate {
            algorithm: None,
            now,
        } => (
            KEY_ALGORITHMS
                .into_iter()
                .filter(|a| existing.iter().any(|k| k.algorithm == *a))
                .collect(),
            now,
        ),
    };
    if algorithms.contains(&SigningAlgorithm::HS256) {
        return Err(super::fail(
            "HS256 signs with each client's secret: there is no server key to make",
        ));
    }
    for algorithm in algorithms {
        let takeover = Takeover::for_new_key(&existing, algorithm, now_flag);
        let key = rotate(&store, settings, sealer.as_ref(), algorithm, takeover, now).await?;
        println!(
            "New {} key {}: published now, signs from {}.",
            key.algorithm,
            key.kid,
            when(key.activates_at, now)
        );
    }
    Ok(())
}

fn print_keys(keys: &[SigningKey], now: UnixTime) {
    if keys.is_empty() {
        println!("No signing keys yet: `tollgate serve` makes them on first start.");
        return;
    }
    println!("{:<6} {:<44} STATUS", "ALG", "KID");
    for key in keys {
        let status = match KeyStatus::of(key, keys, now) {
            KeyStatus::Signing => "signing".to_owned(),
            KeyStatus::Published(at) => format!("published, signs from {}", when(at, now)),
            KeyStatus::Superseded(Some(t)) => {
                format!("superseded, leaves the JWKS {}", when(t, now))
            }
            KeyStatus::Superseded(None) => "superseded".to_owned(),
        };
        println!("{:<6} {:<44} {status}", key.algorithm.as_str(), key.kid);
    }
}

/// The keys as `list --json` prints them: `status` is `signing`, `published`
/// (signs from `activates_at`) or `superseded` (leaves the JWKS at `retire_at`).
fn keys_json(keys: &[SigningKey], now: UnixTime) -> Value {
    let status = |key: &SigningKey| match KeyStatus::of(key, keys, now) {
        KeyStatus::Signing => "signing",
        KeyStatus::Published(_) => "published",
        KeyStatus::Superseded(_) => "superseded",
    };
    keys.iter()
        .map(|key| {
            json!({
                "kid": key.kid,
                "alg": key.algorithm.as_str(),
                "status": status(key),
                "created_at": key.created_at,
                "activates_at": key.activates_at,
                "retire_at": key.retire_at,
            })
        })
        .collect()
}

fn when(at: UnixTime, now: UnixTime) -> String {
    if at <= now {
        "now".to_owned()
    } else {
        format!("in {} s (Unix time {at})", at - now)
    }
}
