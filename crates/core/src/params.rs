//! Form and query parameters as OAuth reads them: each at most once
//! (RFC 6749 §3.1, §3.2) but `resource` (RFC 8707 §2), and an empty value the
//! same as an absent one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::OAuthError;

/// A request's decoded parameters: each name at most once, but `resource`, which may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    single: HashMap<String, String>,
    resources: Vec<String>,
}

/// The one parameter that may repeat (RFC 8707 §2).
const RESOURCE: &str = "resource";

impl Params {
    /// Collects decoded pairs; a repeated name is `invalid_request`.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, OAuthError> {
        let (params, repeated) = Self::from_pairs_lenient(pairs);
        match repeated.first() {
            Some(name) => Err(OAuthError::invalid_request(format!(
                "the parameter `{name}` is repeated"
            ))),
            None => Ok(params),
        }
    }

    /// Keeps the first value of each name and reports the repeated names, for the
    /// authorization endpoint, which must know whether it may still redirect.
    pub fn from_pairs_lenient(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> (Self, Vec<String>) {
        let mut map = HashMap::new();
        let mut resources = Vec::new();
        let mut repeated = Vec::new();
        for (name, value) in pairs {
            if name == RESOURCE {
                if !value.is_empty() {
                    resources.push(value);
                }
                continue;
            }
            match map.entry(name) {
                Entry::Occupied(e) => repeated.push(e.key().clone()),
                Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        let params = Params {
            single: map,
            resources,
        };
        (params, repeated)
    }

    /// Decodes an `application/x-www-form-urlencoded` string.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        Self::from_pairs(url::form_urlencoded::parse(encoded.as_bytes()).into_owned())
    }

    /// The value, treating an empty one as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.single
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value, or `invalid_request` naming the missing parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("the parameter `{name}` is missing"))
        })
    }

    /// The `resource` values, in the order sent.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Every name and value, `resource` once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.single
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(self.resources.iter().map(|v| (RESOURCE, v.as_str())))
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
    fn resource_may_repeat() {
        let p = Params::parse(
            "resource=https%3A%2F%2Fa.example%2F&a=1&resource=&resource=https%3A%2F%2Fb.example%2F",
        )
        .unwrap();
        assert_eq!(p.resources(), ["https://a.example/", "https://b.example/"]);
        assert_eq!(p.get("resource"), None);
        let mut all: Vec<_> = p.iter().collect();
        all.sort();
        assert_eq!(
            all,
            [
                ("a", "1"),
                ("resource", "https://a.example/"),
                ("resource", "https://b.example/")
            ]
        );
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
