use tollgate::core::client::secret_read_back;
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::redirect_uri::split_list;
use tollgate::core::secret::random_id;
use tollgate::core::{ApplicationSpec, Clock};
use tollgate::credentials::{generate_client_secret, hash_client_secret};
use tollgate::sealing::{Purpose, Sealer};
use tollgate::store::{Store, StoreError};
use tollgate::system::{OsEntropy, SystemClock};

use super::output::{self, print_json};
use super::{Failure, fail, open_store};
use crate::cli::CreateApplication;
use crate::config::Config;

pub async fn run(config: &Config, args: CreateApplication) -> Result<(), Failure> {
    let spec = ApplicationSpec {
        client_type: args.client_type,
        grant_types: args.grant_types,
        redirect_uris: split_list(&args.redirect_uris),
        post_logout_redirect_uris: split_list(&args.post_logout_redirect_uris),
        allowed_origins: split_list(&args.allowed_origins),
        algorithm: args.algorithm,
        security: ClientSecurity {
            dpop_bound_access_tokens: args.dpop_bound_access_tokens,
            require_pushed_authorization_requests: args.require_pushed_authorization_requests,
            jwks: args.jwks_file.as_deref().map(read_jwks).transpose()?,
            jwks_uri: args
                .jwks_uri
                .as_deref()
                .map(tollgate::core::outbound::remote_url)
                .transpose()
                .map_err(|e| fail(format!("--jwks-uri: {e}")))?,
            token_endpoint_auth_method: args.token_endpoint_auth_method,
            backchannel_logout_uri: args
                .backchannel_logout_uri
                .as_deref()
                .map(tollgate::core::outbound::remote_url)
                .transpose()
                .map_err(|e| fail(format!("--backchannel-logout-uri: {e}")))?,
            backchannel_logout_session_required: args.backchannel_logout_session_required,
        },
    };
    spec.validate(&config.provider.allowed_redirect_uri_schemes)?;
    // HS256 and client_secret_jwt read the client secret back, so it is kept sealed, which needs a key.
    let sealer = match secret_read_back(spec.algorithm, &spec.security) {
        true => Some(config.provider.sealer().ok_or_else(|| {
            fail(
                "--algorithm HS256 and --token-endpoint-auth-method client_secret_jwt keep the \
                 client secret sealed, which needs the configuration key `secret_key` (32 \
                 characters or more)",
            )
        })?),
        false => None,
    };
    let client_id = match args.client_id {
        Some(id) if is_client_id(&id) => id,
        Some(id) => {
            return Err(fail(format!(
                "invalid client id `{id}`: 1 to 255 printable ASCII characters, no spaces"
            )));
        }
        None => random_id(20, &OsEntropy),
    };
    let (secret_hash, sealed, shown_secret) = client_secret(
        spec.has_secret(),
        args.client_secret,
        sealer.as_ref(),
        &client_id,
    )
    .await?;
    let store = open_store(config).await?;
    let owner_id = match &args.user {
        Some(username) => Some(owner(&store, username).await?),
        None => None,
    };
    let new = NewApplication {
        client_secret_hash: secret_hash,
        client_secret_sealed: sealed,
        userinfo_signed: args.userinfo_signed,
        skip_authorization: args.skip_authorization,
        owner_id,
        ..spec.into_application(client_id, args.name)
    };
    let app = store
        .create_application(&new, SystemClock.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => fail(format!(
                "an application with client_id `{}` already exists",
                new.client_id
            )),
            other => other.into(),
        })?;
    if args.output.json {
        let mut document = output::application(&app);
        // Shown this once; only its hash is kept.
        document["client_secret"] = shown_secret.into();
        print_json(&document);
        return Ok(());
    }
    let label = if app.name.is_empty() {
        &app.client_id
    } else {
        &app.name
    };
    println!("New application {label} created successfully.");
    println!("client_id: {}", app.client_id);
    if let Some(secret) = shown_secret {
        println!("client_secret: {secret}");
        println!("Keep the secret now: it cannot be shown again.");
    }
    Ok(())
}

/// The client's secret: its hash, its sealed copy (HS256) and, when generated,
/// the plaintext to show once. A chosen secret is hashed with argon2id.
async fn client_secret(
    has_secret: bool,
    chosen: Option<String>,
    sealer: Option<&Sealer>,
    client_id: &str,
) -> Result<(Option<String>, Option<String>, Option<String>), Failure> {
    match (has_secret, chosen) {
        (false, Some(_)) => Err(fail(
            "a public client has no secret, nor does a private_key_jwt one: drop --client-secret",
        )),
        (false, None) => Ok((None, None, None)),
        // RFC 7518 §3.2: an HS256 key has at least 256 bits; a short one would also
        // fall to an offline search from any ID token.
        (true, Some(chosen)) if sealer.is_some() && chosen.len() < 32 => Err(fail(
            "a secret that signs (HS256, client_secret_jwt) must be at least 32 bytes (RFC 7518 §3.2); \
                 leave out --client-secret to have one generated",
        )),
        (true, Some(chosen)) => {
            let sealed = sealer.map(|s| s.seal(&chosen, Purpose::ClientSecret(client_id)));
            let hash =
                tokio::task::spawn_blocking(move || hash_client_secret(&chosen, false)).await??;
            Ok((Some(hash), sealed, None))
        }
        (true, None) => {
            let secret = generate_client_secret(&OsEntropy, sealer, client_id);
            Ok((Some(secret.hash), secret.sealed, Some(secret.plaintext)))
        }
    }
}

/// The id of the user named to own the client.
async fn owner(store: &Store, username: &str) -> Result<i64, Failure> {
    let user = store.user_by_username(username).await?.ok_or_else(|| {
        fail(format!(
            "no user named `{username}` (create it with createuser)"
        ))
    })?;
    Ok(user.id)
}

/// RFC 6749 Appendix A.1: `client-id = *VSCHAR`; Tollgate also refuses spaces.
fn is_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The public JWK Set in `path`, as it is kept; the error names the file.
fn read_jwks(path: &std::path::Path) -> Result<String, Failure> {
    let problem = |e: &dyn std::fmt::Display| fail(format!("--jwks-file {}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| problem(&e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| problem(&e))?;
    tollgate::core::jwks::public_jwks(&value).map_err(|e| problem(&e))
}
