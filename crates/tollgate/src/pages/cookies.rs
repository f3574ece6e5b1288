//! The two cookies Tollgate sets (login session, CSRF), HttpOnly and SameSite=Lax;
//! `__Host-` prefixed and Secure when the issuer is https.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn for_issuer(issuer: &str) -> Self {
        if issuer.starts_with("https://") {
            CookieNames {
                session: "__Host-tollgate_session",
                csrf: "__Host-tollgate_csrf",
                secure: true,
            }
        } else {
            CookieNames {
                session: "tollgate_session",
                csrf: "tollgate_csrf",
                secure: false,
            }
        }
    }

    pub fn set(&self, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).expect("cookie values are generated ASCII")
    }
}

/// The value of a cookie the browser sent, if any.
pub(crate) fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("a=1; tollgate_session=tgx_abc; b=2"),
        );
        assert_eq!(get(&h, "tollgate_session"), Some("tgx_abc"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn https_issuers_get_host_prefixed_secure_cookies() {
        let names = CookieNames::for_issuer("https://idp.example");
        let v = names.set(names.session, "x", None);
        assert!(names.session.starts_with("__Host-"));
        assert_eq!(
            v,
            "__Host-tollgate_session=x; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let plain = CookieNames::for_issuer("http://127.0.0.1:8000");
        assert!(
            !plain
                .set(plain.csrf, "x", Some(5))
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
