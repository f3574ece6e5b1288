//! Django's password hashes, as `tollgate import-dot` brings them over: checked
//! as Django's `check_password` does, so users sign in with the password they
//! had, then re-hashed to argon2id (as Django re-hashes on login). Client
//! secrets DOT hashed use the same formats.
//!
//! Written here rather than taken from `djangohashers`, which would add a second
//! argon2 implementation and RustCrypto's slower PBKDF2 beside aws-lc-rs's: the
//! five formats Django still ships are a few lines each over crates in the tree.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The costs a stored hash may ask for (Django 5.2 uses 1,000,000 PBKDF2
/// rounds, scrypt's 16 MiB, argon2's 100 MiB, bcrypt 2^12): a hash asking for
/// more does not verify, rather than taking a process's memory or minutes.
const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;
const MAX_SCRYPT_BYTES: u64 = 64 << 20;
const MAX_ARGON2_KIB: u64 = 1 << 20;
const MAX_BCRYPT_COST: u32 = 16;

/// Whether `encoded` is one of Django's hashes, or its mark of an unusable password.
pub fn is_django_hash(encoded: &str) -> bool {
    encoded.starts_with('!') || algorithm(encoded).is_some()
}

/// The algorithm name Django put first, if it is one Django defines (never
/// anything else of the hash, which may then be shown).
pub fn algorithm(encoded: &str) -> Option<&str> {
    let (name, _) = encoded.split_once('$')?;
    [
        "pbkdf2_sha256",
        "pbkdf2_sha1",
        "argon2",
        "bcrypt_sha256",
        "bcrypt",
        "scrypt",
        "md5",
        "sha1",
        "unsalted_md5",
        "unsalted_sha1",
        "crypt",
    ]
    .contains(&name)
    .then_some(name)
}

/// Whether Tollgate can check passwords against this Django hash (the weak,
/// unsalted and `crypt` formats Django dropped are not read: those users reset).
pub fn is_checkable(encoded: &str) -> bool {
    matches!(
        algorithm(encoded),
        Some("pbkdf2_sha256" | "pbkdf2_sha1" | "argon2" | "bcrypt_sha256" | "bcrypt" | "scrypt")
    )
}

/// Checks `password` against a Django hash; an unusable (`!`), unknown or
/// malformed one never matches. Slow on purpose, like the hash: call it off the
/// async executor.
pub fn verify(password: &str, encoded: &str) -> bool {
    let fields: Vec<&str> = encoded.split('$').collect();
    match fields.as_slice() {
        ["pbkdf2_sha256", iterations, salt, hash] => pbkdf2_matches(
            pbkdf2::PBKDF2_HMAC_SHA256,
            32,
            password,
            iterations,
            salt,
            hash,
        ),
        ["pbkdf2_sha1", iterations, salt, hash] => pbkdf2_matches(
            pbkdf2::PBKDF2_HMAC_SHA1,
            20,
            password,
            iterations,
            salt,
            hash,
        ),
        // `argon2` before a PHC string: `argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
        ["argon2", _, _, params, _, _] if argon2_affordable(params) => {
            crate::credentials::verify_password(password, &encoded["argon2".len()..])
        }
        // bcrypt of the hex SHA-256, so passwords past bcrypt's 72 bytes still count.
        ["bcrypt_sha256", "", _, cost, _] if bcrypt_affordable(cost) => {
            let digest = hex(&Sha256::digest(password.as_bytes()));
            bcrypt::verify(digest, &encoded["bcrypt_sha256$".len()..]).unwrap_or(false)
        }
        ["bcrypt", "", _, cost, _] if bcrypt_affordable(cost) => {
            bcrypt::verify(password, &encoded["bcrypt$".len()..]).unwrap_or(false)
        }
        ["scrypt", n, salt, r, p, hash] => scrypt_matches(password, n, salt, r, p, hash),
        _ => false,
    }
}

fn pbkdf2_matches(
    algorithm: pbkdf2::Algorithm,
    length: usize,
    password: &str,
    iterations: &str,
    salt: &str,
    hash: &str,
) -> bool {
    let Some(iterations) = iterations
        .parse()
        .ok()
        .filter(|n| *n <= MAX_PBKDF2_ITERATIONS)
        .and_then(NonZeroU32::new)
    else {
        return false;
    };
    match STANDARD.decode(hash) {
        Ok(expected) if expected.len() == length => pbkdf2::verify(
            algorithm,
            iterations,
            salt.as_bytes(),
            password.as_bytes(),
            &expected,
        )
        .is_ok(),
        _ => false,
    }
}

fn scrypt_matches(password: &str, n: &str, salt: &str, r: &str, p: &str, hash: &str) -> bool {
    let (Ok(n), Ok(r), Ok(p), Ok(expected)) = (
        n.parse::<u64>(),
        r.parse::<u32>(),
        p.parse::<u32>(),
        STANDARD.decode(hash),
    ) else {
        return false;
    };
    let memory = 128u64
        .saturating_mul(u64::from(r))
        .saturating_mul(n.saturating_add(u64::from(p)));
    if !n.is_power_of_two() || expected.is_empty() || memory > MAX_SCRYPT_BYTES {
        return false;
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    let Ok(params) = scrypt::Params::new(log_n, r, p) else {
        return false;
    };
    let mut derived = vec![0u8; expected.len()];
    scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut derived).is_ok()
        && bool::from(derived.ct_eq(&expected))
}

/// Argon2's `m=KiB,t=passes,p=lanes`, within what a sign-in may cost.
fn argon2_affordable(params: &str) -> bool {
    let value = |name: &str| {
        params
            .split(',')
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<u64>().ok())
    };
    matches!(
        (value("m"), value("t"), value("p")),
        (Some(m), Some(t), Some(p)) if m <= MAX_ARGON2_KIB && t <= 64 && p <= 64
    )
}

fn bcrypt_affordable(cost: &str) -> bool {
    cost.parse::<u32>().is_ok_and(|c| c <= MAX_BCRYPT_COST)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each made by Django 5.2's own hashers (cheap parameters) for "django-password".
    const PBKDF2_SHA256: &str =
        "pbkdf2_sha256$1000$tollgatesalt$5u9LYmfVQx7nl3cF4od1HWs8v0fJH3Ep+HbzNhtQ2cA=";
    const PBKDF2_SHA1: &str = "pbkdf2_sha1$1000$tollgatesalt$X+bAoV4ACmB4bvCQyPTk1f4tXtw=";
    const ARGON2: &str = "argon2$argon2id$v=19$m=1024,t=2,p=1$dG9sbGdhdGVzYWx0$DM7q69qIUbNosbKnUPGL3+VciB/Rk/EztvsWyJljL3I";
    const BCRYPT_SHA256: &str =
        "bcrypt_sha256$$2b$04$UKNrhc1Pva.6tpS2f0jd.Oft/2BkrvO27zfFP/FfI.Eifjb8QkffC";
    const SCRYPT: &str = "scrypt$1024$tollgatesalt$8$1$t/E+oc+QXKymr5B1FzJZdfqCxCNuJBWEEOjS3NMA8vEPIRYIF0pry+H2eUYR6NAjq4EAFNYM+BnCE37szu0fCg==";

    #[test]
    fn each_django_format_checks_the_password_it_was_made_from() {
        for encoded in [PBKDF2_SHA256, PBKDF2_SHA1, ARGON2, BCRYPT_SHA256, SCRYPT] {
            assert!(
                is_django_hash(encoded) && is_checkable(encoded),
                "{encoded}"
            );
            assert!(verify("django-password", encoded), "{encoded}");
            assert!(!verify("django-passwore", encoded), "{encoded}");
            assert!(!verify("", encoded), "{encoded}");
        }
    }

    #[test]
    fn unusable_unknown_and_malformed_hashes_never_match() {
        for encoded in [
            "!x7GkQmW2s9aE0vLz",
            "md5$salt$0137e4d74cb2d9ed9cb1a5f391f6175e",
            "pbkdf2_sha256$0$tollgatesalt$5u9LYmfVQx7nl3cF4od1HWs8v0fJH3Ep+HbzNhtQ2cA=",
            "pbkdf2_sha256$1000$tollgatesalt$AAAA",
            "pbkdf2_sha256$many$salt$hash",
            "scrypt$1000$tollgatesalt$8$1$AAAA",
            "bcrypt_sha256$$2b$04$short",
            "argon2$not-phc",
            // Costs past what a sign-in may take: refused before any work.
            "scrypt$1099511627776$tollgatesalt$8$1$t/E+oc+QXKymr5B1FzJZdfqCxCNuJBWEEOjS3NMA8vEPIRYIF0pry+H2eUYR6NAjq4EAFNYM+BnCE37szu0fCg==",
            "pbkdf2_sha256$4294967295$tollgatesalt$5u9LYmfVQx7nl3cF4od1HWs8v0fJH3Ep+HbzNhtQ2cA=",
            "argon2$argon2id$v=19$m=4294967295,t=2,p=1$dG9sbGdhdGVzYWx0$DM7q69qIUbNosbKnUPGL3+VciB/Rk/EztvsWyJljL3I",
            "bcrypt_sha256$$2b$31$UKNrhc1Pva.6tpS2f0jd.Oft/2BkrvO27zfFP/FfI.Eifjb8QkffC",
            "$argon2id$v=19$m=1024,t=2,p=1$dG9sbGdhdGVzYWx0$DM7q69qIUbNosbKnUPGL3+VciB/Rk/EztvsWyJljL3I",
            "",
        ] {
            assert!(!verify("django-password", encoded), "{encoded}");
        }
        for unreadable in [
            "!x7GkQmW2s9aE0vLz",
            "md5$salt$0137e4d74cb2d9ed9cb1a5f391f6175e",
            "",
        ] {
            assert!(!is_checkable(unreadable), "{unreadable}");
        }
        assert!(is_django_hash("!x7GkQmW2s9aE0vLz"));
        assert!(is_django_hash("md5$salt$0137e4d74cb2d9ed9cb1a5f391f6175e"));
        assert!(!is_django_hash(
            "$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$aGFzaA"
        ));
        assert!(!is_django_hash("sha256:00"));
    }
}
