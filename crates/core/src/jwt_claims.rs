//! What the JWTs others sign (request objects, client assertions, DPoP proofs)
//! share: their NumericDate claims (RFC 7519 §2).

use serde_json::{Map, Value};

use crate::env::UnixTime;

/// The NumericDate claim `name`: `Ok(None)` when absent, `Err` when it is not
/// a number. Fractional seconds are allowed (RFC 7519 §2); whole ones are kept.
pub fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<UnixTime>, NotADate> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|t| t.is_finite())
            .map(|t| Some(t as UnixTime))
            .ok_or(NotADate),
    }
}

/// A date claim that is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotADate;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_are_numbers_whole_or_not() {
        let claims = json!({"a": 10, "b": 10.9, "c": "10", "d": null});
        let claims = claims.as_object().unwrap();
        assert_eq!(numeric_date(claims, "a"), Ok(Some(10)));
        assert_eq!(numeric_date(claims, "b"), Ok(Some(10)));
        assert_eq!(numeric_date(claims, "missing"), Ok(None));
        assert_eq!(numeric_date(claims, "c"), Err(NotADate));
        assert_eq!(numeric_date(claims, "d"), Err(NotADate));
    }
}
