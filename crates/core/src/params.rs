//! Form and query parameters as OAuth reads them: each at most once
//! (RFC 6749 §3.1, §3.2), and an empty value the same as an absent one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::OAuthError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Collects decoded pairs; a repeated name is `invalid_request`.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            if map.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter `{name}` is repeated"
                )));
            }
        }
        Ok(Params(map))
    }

    /// Keeps the first value of each name and reports the repeated names, for the
    /// authorization endpoint, which must know whether it may still redirect.
    pub fn from_pairs_lenient(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> (Self, Vec<String>) {
        let mut map = HashMap::new();
        let mut repeated = Vec::new();
        for (name, value) in pairs {
            match map.entry(name) {
                Entry::Occupied(e) => repeated.push(e.key().clone()),
                Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        (Params(map), repeated)
    }

    /// Decodes an `application/x-www-form-urlencoded` string.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        Self::from_pairs(url::form_urlencoded::parse(encoded.as_bytes()).into_owned())
    }

    /// The value, treating an empty one as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("the parameter `{name}` is missing"))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeated_parameter_is_invalid_request() {
        let err = Params::parse("a=1&b=2&a=3").unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidRequest);
        assert!(err.description.contains("`a`"));
    }

    #[test]
    fn empty_is_absent() {
        let p = Params::parse("a=&b=x%20y").unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x y"));
        assert!(p.require("a").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = Params::parse(&text);
        }
    }
}
