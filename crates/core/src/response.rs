//! Delivering an authorization response to the client's redirect URI
//! (RFC 6749 §4.1.2, §4.2.2; OAuth 2.0 Form Post Response Mode).

use url::form_urlencoded;

/// How the authorization response reaches the redirect URI: the `response_mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the query; the default for a lone `code` (RFC 6749 §4.1.2).
    Query,
    /// In the fragment; the default when tokens are returned (RFC 6749 §4.2.2).
    Fragment,
    /// In a self-submitting form POSTed to the redirect URI (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

impl ResponseMode {
    /// Reads a `response_mode` value; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }

    /// The `response_mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }
}

/// How the browser carries the response back: a redirect, or a self-submitting form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Send the browser to this URL, the response in its query or fragment.
    Redirect(String),
    /// Show a form that POSTs `fields` to `action`.
    FormPost {
        /// The redirect URI the form posts to.
        action: String,
        /// The response parameters, in order.
        fields: Vec<(String, String)>,
    },
}

/// Puts `fields` where `mode` says; a query already in the redirect URI is kept.
pub fn deliver(redirect_uri: &str, mode: ResponseMode, fields: Vec<(String, String)>) -> Delivery {
    let encoded = || {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish()
    };
    match mode {
        ResponseMode::Query => {
            // The registered query stays; the response is appended to it (RFC 6749 §3.1.2).
            let joiner = if redirect_uri.contains('?') { '&' } else { '?' };
            Delivery::Redirect(format!("{redirect_uri}{joiner}{}", encoded()))
        }
        ResponseMode::Fragment => Delivery::Redirect(format!("{redirect_uri}#{}", encoded())),
        ResponseMode::FormPost => Delivery::FormPost {
            action: redirect_uri.to_owned(),
            fields,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<(String, String)> {
        vec![
            ("code".into(), "a b".into()),
            ("state".into(), "x&y".into()),
        ]
    }

    #[test]
    fn query_appends_to_an_existing_query() {
        assert_eq!(
            deliver("https://a.example/cb", ResponseMode::Query, fields()),
            Delivery::Redirect("https://a.example/cb?code=a+b&state=x%26y".into())
        );
        assert_eq!(
            deliver("https://a.example/cb?k=v", ResponseMode::Query, fields()),
            Delivery::Redirect("https://a.example/cb?k=v&code=a+b&state=x%26y".into())
        );
    }

    #[test]
    fn fragment_and_form_post() {
        assert_eq!(
            deliver("https://a.example/cb", ResponseMode::Fragment, fields()),
            Delivery::Redirect("https://a.example/cb#code=a+b&state=x%26y".into())
        );
        assert!(matches!(
            deliver("https://a.example/cb", ResponseMode::FormPost, fields()),
            Delivery::FormPost { action, fields } if action == "https://a.example/cb" && fields.len() == 2
        ));
    }
}
