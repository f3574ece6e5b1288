//! Hashing of the secrets people choose (argon2id) and of the secrets Tollgate
//! generates (SHA-256: 256 random bits need no slow hash, and the token endpoint
//! must not spend 30 ms per request on one).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use tollgate_core::SecretHash;

use crate::django_password;

const SHA256_PREFIX: &str = "sha256:";

/// argon2 could not hash the password.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2id with the OWASP parameters, as a PHC string. Slow on purpose: call
/// it off the async executor (`spawn_blocking`).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Checks a password against its PHC string, or a Django hash imported from
/// DOT; a malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if django_password::is_django_hash(phc) {
        return django_password::verify(password, phc);
    }
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Whether a stored password or client secret hash is one Tollgate would not
/// make now (Django's, imported from DOT): after it verifies, it is replaced.
pub fn needs_rehash(stored: &str) -> bool {
    django_password::is_django_hash(stored)
}

/// What replaces a client secret hash imported from DOT once the secret has
/// verified against it: SHA-256 for a secret as long as those DOT generates
/// (128 random characters by default), argon2id for a shorter one a person may
/// have chosen. `None` when the stored hash is Tollgate's own.
pub fn upgraded_client_secret_hash(secret: &str, stored: &str) -> Option<String> {
    needs_rehash(stored)
        .then(|| hash_client_secret(secret, secret.chars().count() >= GENERATED_SECRET_LENGTH).ok())
        .flatten()
}

/// The shortest client secret kept as SHA-256 when it comes from DOT: no
/// person types 64 characters, and DOT's generator makes 128.
pub const GENERATED_SECRET_LENGTH: usize = 64;

/// How a client secret is kept: SHA-256 for one Tollgate generated, argon2id
/// for one a person chose (it may be guessable).
pub fn hash_client_secret(secret: &str, generated: bool) -> Result<String, HashError> {
    if generated {
        Ok(generated_secret_hash(secret))
    } else {
        hash_password(secret)
    }
}

fn generated_secret_hash(secret: &str) -> String {
    format!("{SHA256_PREFIX}{}", SecretHash::of(secret).to_hex())
}

/// A client secret Tollgate made: shown once, kept as its hash (and, for an
/// HS256 client, sealed, because its ID tokens are signed with it).
pub struct GeneratedSecret {
    /// The secret, to show the client's owner once.
    pub plaintext: String,
    /// What the store keeps to check it.
    pub hash: String,
    /// The sealed secret, when a sealer was given.
    pub sealed: Option<String>,
}

/// Makes a new 256-bit client secret for `client_id`; `sealer` only for HS256 clients.
pub fn generate_client_secret(
    entropy: &dyn tollgate_core::Entropy,
    sealer: Option<&crate::keys::sealing::Sealer>,
    client_id: &str,
) -> GeneratedSecret {
    let secret =
        tollgate_core::NewSecret::generate(tollgate_core::SecretKind::ClientSecret, entropy);
    GeneratedSecret {
        hash: generated_secret_hash(&secret.plaintext),
        sealed: sealer.map(|s| {
            s.seal(
                &secret.plaintext,
                crate::keys::sealing::Purpose::ClientSecret(client_id),
            )
        }),
        plaintext: secret.plaintext,
    }
}

/// Constant-time for generated secrets; argon2 (slow) for chosen ones.
pub fn verify_client_secret(secret: &str, stored: &str) -> bool {
    match stored.strip_prefix(SHA256_PREFIX) {
        Some(hex) => SecretHash::from_hex(hex).is_some_and(|hash| hash.matches(secret)),
        None => verify_password(secret, stored),
    }
}

/// Whether checking this stored secret is slow enough to need `spawn_blocking`.
pub fn is_slow_hash(stored: &str) -> bool {
    !stored.starts_with(SHA256_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horse!", &phc));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_client_secret_is_sha256_and_verifies() {
        let stored = hash_client_secret("tgs_secret", true).unwrap();
        assert!(stored.starts_with("sha256:") && !stored.contains("tgs_secret"));
        assert!(!is_slow_hash(&stored));
        assert!(verify_client_secret("tgs_secret", &stored));
        assert!(!verify_client_secret("tgs_secreT", &stored));
    }

    #[test]
    fn chosen_client_secret_is_argon2() {
        let stored = hash_client_secret("hunter2", false).unwrap();
        assert!(is_slow_hash(&stored));
        assert!(verify_client_secret("hunter2", &stored));
        assert!(!verify_client_secret("hunter3", &stored));
    }

    #[test]
    fn django_hashes_verify_and_are_replaced_by_tollgates() {
        let django = "pbkdf2_sha256$1000$tollgatesalt$5u9LYmfVQx7nl3cF4od1HWs8v0fJH3Ep+HbzNhtQ2cA=";
        assert!(verify_password("django-password", django));
        assert!(verify_client_secret("django-password", django));
        assert!(is_slow_hash(django) && needs_rehash(django));
        let chosen = upgraded_client_secret_hash("django-password", django).unwrap();
        assert!(
            chosen.starts_with("$argon2id$"),
            "a short secret stays slow to guess"
        );
        assert!(verify_client_secret("django-password", &chosen));
        let long = "a".repeat(GENERATED_SECRET_LENGTH);
        let generated = upgraded_client_secret_hash(&long, django).unwrap();
        assert!(generated.starts_with("sha256:") && verify_client_secret(&long, &generated));
        let own = hash_client_secret(&long, true).unwrap();
        assert_eq!(upgraded_client_secret_hash(&long, &own), None);
        assert!(!needs_rehash(&hash_password("x").unwrap()));
    }

    #[test]
    fn corrupt_sha256_hash_never_verifies() {
        assert!(!verify_client_secret("x", "sha256:zz"));
        assert!(!verify_client_secret("x", "sha256:abc"));
        assert!(!verify_client_secret("", "sha256:"));
    }
}
