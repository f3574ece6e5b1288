//! CSRF protection for every form: a random cookie, and in each form a token
//! derived from it that a cross-site page can neither read nor compute. Requests
//! whose Origin or Sec-Fetch-Site show another site are refused outright.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tollgate_core::{NewSecret, Params, SecretKind};

use crate::pages::cookies;
use crate::provider::Inner;

/// The token for a form, and the cookie to set when the browser had none.
pub(crate) struct FormToken {
    pub token: String,
    pub set_cookie: Option<HeaderValue>,
}

pub(crate) fn form_token(inner: &Inner, headers: &HeaderMap) -> FormToken {
    match cookies::get(headers, inner.cookies.csrf).filter(|c| c.len() >= 40) {
        Some(cookie) => FormToken {
            token: derive(cookie),
            set_cookie: None,
        },
        None => {
            let secret = NewSecret::generate(SecretKind::Session, inner.entropy.as_ref());
            FormToken {
                token: derive(&secret.plaintext),
                set_cookie: Some(
                    inner
                        .cookies
                        .set(inner.cookies.csrf, &secret.plaintext, None),
                ),
            }
        }
    }
}

/// Whether a form submission comes from our own page.
pub(crate) fn verify(inner: &Inner, headers: &HeaderMap, params: &Params) -> bool {
    if !same_origin(inner, headers) {
        return false;
    }
    let (Some(cookie), Some(sent)) = (
        cookies::get(headers, inner.cookies.csrf),
        params.get("csrf_token"),
    ) else {
        return false;
    };
    derive(cookie).as_bytes().ct_eq(sent.as_bytes()).into()
}

/// Whether the browser says the request comes from the issuer's own origin (or
/// says nothing, as non-browser clients do).
pub(crate) fn same_origin(inner: &Inner, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return false;
    }
    header("origin").is_none_or(|origin| origin == issuer_origin(&inner.settings.issuer))
}

fn derive(cookie: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("tollgate-csrf-v1:{cookie}").as_bytes(),
    ))
}

/// `https://host[:port]` of the issuer: what a same-origin form's Origin header says.
fn issuer_origin(issuer: &str) -> &str {
    let after_scheme = issuer.find("://").map_or(0, |i| i + 3);
    match issuer[after_scheme..].find('/') {
        Some(i) => &issuer[..after_scheme + i],
        None => issuer,
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_origin;

    #[test]
    fn origin_of_issuer() {
        assert_eq!(
            issuer_origin("https://idp.example/o"),
            "https://idp.example"
        );
        assert_eq!(
            issuer_origin("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000"
        );
    }
}
