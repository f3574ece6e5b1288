//! Delivering an authorization response to the client's redirect URI
//! (RFC 6749 §4.1.2, §4.2.2; OAuth 2.0 Form Post Response Mode).

use url::form_urlencoded;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }

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
    Redirect(String),
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

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
