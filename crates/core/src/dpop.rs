//! DPoP proofs (RFC 9449 §4): what a proof's header and claims must say for
//! the request it comes with, the JWK thumbprint (RFC 7638) a token is bound
//! to, and what makes a proof single use. The signature is checked by the
//! caller, with the key the header carries.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::env::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use crate::jwks::is_public_key;
use crate::jwt_claims::numeric_date;
use crate::request_object::{CLOCK_SKEW_SECONDS, SIGNING_ALGORITHMS};
use crate::secret::SecretHash;

/// RFC 9449 §4.2: the `typ` of a proof.
pub const PROOF_TYPE: &str = "dpop+jwt";

/// The algorithms a proof may be signed with, as `dpop_signing_alg_values_supported` says.
pub const ALGORITHMS: [&str; 4] = SIGNING_ALGORITHMS;

/// How old a proof's `iat` may be (RFC 9449 §11.1: a short window, and its
/// `jti` is remembered that long).
pub const PROOF_MAX_AGE_SECONDS: i64 = 300;

/// How long a server nonce is good for (RFC 9449 §8): it changes every
/// window, and the one before is still accepted.
pub const NONCE_WINDOW_SECONDS: i64 = 300;

/// Which nonce window `now` falls in.
pub fn nonce_window(now: UnixTime) -> i64 {
    now.div_euclid(NONCE_WINDOW_SECONDS)
}

/// `use_dpop_nonce` (RFC 9449 §8): the client must send the proof again with the nonce.
pub fn use_nonce() -> OAuthError {
    OAuthError::new(
        ErrorCode::UseDpopNonce,
        "the DPoP proof must carry the nonce in the DPoP-Nonce header",
    )
}

/// `invalid_dpop_proof` (RFC 9449 §5.2, §7.1).
pub fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, description.into())
}

/// The request a proof must be for.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the URL the request was made to, as this server is reached.
    pub url: &'a str,
    /// Now, by the server's clock.
    pub now: UnixTime,
    /// At a protected resource, the access token it comes with (`ath`).
    pub access_token: Option<&'a str>,
}

/// A proof that holds: the thumbprint of its key, and what the store must
/// record to use its `jti` once, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// RFC 7638 thumbprint of the proof's key: `cnf.jkt` of the tokens it binds.
    pub jkt: String,
    /// The `jti`'s digest, scoped to the key.
    pub replay: SecretHash,
    /// Until when the `jti` must not be seen again.
    pub replay_until: UnixTime,
    /// The server nonce it carries (RFC 9449 §8), if any.
    pub nonce: Option<String>,
}

/// Checks a proof's protected header and claims (RFC 9449 §4.3): `typ`, an
/// accepted asymmetric `alg`, a public `jwk`; `jti`, `htm`, `htu` (query and
/// fragment ignored), `iat` within [`PROOF_MAX_AGE_SECONDS`], and `ath` at a
/// protected resource.
pub fn check(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<Proven, OAuthError> {
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYPE) {
        return Err(invalid("the DPoP proof's typ is not dpop+jwt"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ALGORITHMS.contains(&alg) {
        return Err(invalid(format!(
            "DPoP proofs signed with `{alg}` are not accepted"
        )));
    }
    let jwk = header
        .get("jwk")
        .and_then(Value::as_object)
        .filter(|jwk| is_public_key(jwk))
        .ok_or_else(|| invalid("the DPoP proof's header has no public jwk"))?;
    let jkt = thumbprint(jwk).ok_or_else(|| invalid("the DPoP proof's jwk is malformed"))?;
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let jti = text("jti").ok_or_else(|| invalid("the DPoP proof has no jti"))?;
    if text("htm") != Some(expected.method) {
        return Err(invalid(format!(
            "the DPoP proof's htm is not {}",
            expected.method
        )));
    }
    if !text("htu").is_some_and(|htu| same_target(htu, expected.url)) {
        return Err(invalid(format!(
            "the DPoP proof's htu is not {}",
            expected.url
        )));
    }
    let iat = numeric_date(claims, "iat")
        .ok()
        .flatten()
        .ok_or_else(|| invalid("the DPoP proof has no iat"))?;
    if iat > expected.now.saturating_add(CLOCK_SKEW_SECONDS)
        || iat < expected.now.saturating_sub(PROOF_MAX_AGE_SECONDS)
    {
        return Err(invalid("the DPoP proof's iat is not recent"));
    }
    if let Some(token) = expected.access_token
        && text("ath") != Some(&token_hash(token))
    {
        return Err(invalid(
            "the DPoP proof's ath is not the access token's hash",
        ));
    }
    Ok(Proven {
        nonce: text("nonce").map(str::to_owned),
        replay: SecretHash::of(&format!("dpop\n{jkt}\n{jti}")),
        replay_until: iat.saturating_add(PROOF_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS),
        jkt,
    })
}

/// RFC 9449 §4.2 `ath`: base64url of the access token's SHA-256.
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// RFC 7638: the SHA-256 of the key's required members, in lexical order with
/// no whitespace, base64url; `None` for a key type without them.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = Map::new();
    for member in members {
        canonical.insert(
            (*member).to_owned(),
            Value::String(jwk.get(*member)?.as_str()?.to_owned()),
        );
    }
    // serde_json's Map is ordered by key, and to_string writes no whitespace.
    let text = Value::Object(canonical).to_string();
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

/// RFC 9449 §4.3: `htu` names the request's URL, without query and fragment,
/// compared after RFC 3986 §6.2.2–3 normalisation (case, default port, dot segments).
fn same_target(htu: &str, url: &str) -> bool {
    let target = |text: &str| {
        let mut url = url::Url::parse(text).ok()?;
        url.set_query(None);
        url.set_fragment(None);
        Some(url)
    };
    target(htu).is_some_and(|htu| Some(htu) == target(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: UnixTime = 3_000_000;
    const URL: &str = "https://op.example/o/token/";

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn header() -> Map<String, Value> {
        object(json!({
            "typ": "dpop+jwt", "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"},
        }))
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut claims = json!({"jti": "j-1", "htm": "POST", "htu": URL, "iat": NOW});
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        object(claims)
    }

    fn expected() -> Expected<'static> {
        Expected {
            method: "POST",
            url: URL,
            now: NOW,
            access_token: None,
        }
    }

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = object(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(thumbprint(&object(json!({"kty": "oct", "k": "AA"}))), None);
        assert_eq!(
            thumbprint(&object(json!({"kty": "EC", "crv": "P-256", "x": "AA"}))),
            None
        );
    }

    #[test]
    fn a_proof_for_this_request_holds_once() {
        let proven = check(&header(), &claims(json!({})), &expected()).unwrap();
        assert_eq!(
            proven.jkt,
            thumbprint(header()["jwk"].as_object().unwrap()).unwrap()
        );
        assert_eq!(
            proven.replay_until,
            NOW + PROOF_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS
        );
        let again = check(&header(), &claims(json!({"iat": NOW - 10})), &expected()).unwrap();
        assert_eq!(again.replay, proven.replay, "the same jti of the same key");
        // Query and fragment are not compared, and URLs are normalised.
        let loose = claims(json!({"htu": "HTTPS://OP.example:443/o/token/?x=1#f"}));
        assert!(check(&header(), &loose, &expected()).is_ok());
        assert_eq!(proven.nonce, None);
        let with_nonce = check(&header(), &claims(json!({"nonce": "n-1"})), &expected()).unwrap();
        assert_eq!(with_nonce.nonce.as_deref(), Some("n-1"));
        assert_eq!(nonce_window(NOW), NOW / NONCE_WINDOW_SECONDS);
        assert_eq!(
            nonce_window(NOW + NONCE_WINDOW_SECONDS),
            nonce_window(NOW) + 1
        );
        let token = "tga_token";
        let at_resource = Expected {
            method: "GET",
            url: "https://api.example/v1",
            access_token: Some(token),
            ..expected()
        };
        let bound = claims(
            json!({"htm": "GET", "htu": "https://api.example/v1", "ath": token_hash(token)}),
        );
        assert!(check(&header(), &bound, &at_resource).is_ok());
    }

    #[test]
    fn proofs_that_do_not_fit_the_request_are_invalid() {
        let mut no_jwk = header();
        no_jwk.remove("jwk");
        let mut private = header();
        private["jwk"]["d"] = json!("AA");
        let mut hs = header();
        hs["alg"] = json!("HS256");
        let mut untyped = header();
        untyped["typ"] = json!("JWT");
        for (what, header) in [
            ("no jwk", no_jwk),
            ("private jwk", private),
            ("HS256", hs),
            ("typ", untyped),
        ] {
            let e = check(&header, &claims(json!({})), &expected()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidDpopProof, "{what}");
        }
        let mut no_jti = claims(json!({}));
        no_jti.remove("jti");
        for (what, claims) in [
            ("no jti", no_jti),
            ("htm", claims(json!({"htm": "GET"}))),
            (
                "htu",
                claims(json!({"htu": "https://op.example/o/token/other"})),
            ),
            (
                "htu host",
                claims(json!({"htu": "https://evil.example/o/token/"})),
            ),
            (
                "old",
                claims(json!({"iat": NOW - PROOF_MAX_AGE_SECONDS - 1})),
            ),
            (
                "future",
                claims(json!({"iat": NOW + CLOCK_SKEW_SECONDS + 1})),
            ),
            ("iat text", claims(json!({"iat": "now"}))),
        ] {
            let e = check(&header(), &claims, &expected()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidDpopProof, "{what}");
        }
        let at_resource = Expected {
            access_token: Some("tga_token"),
            ..expected()
        };
        for ath in [json!(null), json!(token_hash("another")), json!(5)] {
            let e = check(&header(), &claims(json!({"ath": ath})), &at_resource).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidDpopProof, "{ath}");
        }
    }
}
