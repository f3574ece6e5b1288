//! Scopes (RFC 6749 §3.3): space-delimited tokens of printable ASCII without `"` or `\`.

use std::collections::BTreeSet;
use std::fmt;

/// A set of scope tokens, kept sorted so equal sets have equal text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<String>);

/// A scope token with a character RFC 6749 §3.3 forbids; holds the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid scope token (RFC 6749 §3.3)")]
pub struct ScopeError(pub String);

/// True for a non-empty run of `%x21 / %x23-5B / %x5D-7E`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

impl Scopes {
    /// Parses a space-delimited list; repeated and surrounding spaces are tolerated.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        text.split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| {
                if is_scope_token(t) {
                    Ok(t.to_owned())
                } else {
                    Err(ScopeError(t.to_owned()))
                }
            })
            .collect::<Result<_, _>>()
            .map(Scopes)
    }

    /// Whether `scope` is in the set (exact, case-sensitive match).
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether each scope here is also in `other`, as a refresh's must be (RFC 6749 §6).
    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// True when the set holds no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scope tokens, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Scopes(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_sorted_and_deduplicated() {
        let s = Scopes::parse("write  read openid read").unwrap();
        assert_eq!(s.to_string(), "openid read write");
    }

    #[test]
    fn rejects_quote_backslash_and_control() {
        for bad in ["a\"b", "a\\b", "a\tb", "é"] {
            assert_eq!(Scopes::parse(bad), Err(ScopeError(bad.to_owned())));
        }
    }

    #[test]
    fn subset() {
        let a = Scopes::parse("read").unwrap();
        let b = Scopes::parse("read write").unwrap();
        assert!(a.is_subset(&b));
        assert!(!b.is_subset(&a));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(text in "\\PC*") {
            if let Ok(s) = Scopes::parse(&text) {
                prop_assert_eq!(Scopes::parse(&s.to_string()).unwrap(), s.clone());
                prop_assert!(s.iter().all(is_scope_token));
            }
        }
    }
}
