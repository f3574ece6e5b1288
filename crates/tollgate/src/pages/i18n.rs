//! The sign-in, consent and sign-out pages in the visitor's language: the
//! OIDC `ui_locales` request parameter first, then the browser's
//! `Accept-Language`; English where no translation exists. Templates mark
//! text with `_("…")`; the English text is the key.

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;
use minijinja::{Environment, State};

tokio::task_local! {
    /// The language negotiated for the page request being served.
    static LANGUAGE: &'static str;
}

/// Middleware of the page routes: negotiates the request's language once, for
/// the pages rendered with no request parameters at hand (error pages).
pub(crate) async fn negotiate(request: Request, next: Next) -> Response {
    let ui_locales = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "ui_locales")
            .map(|(_, value)| value.into_owned())
    });
    let lang = language(ui_locales.as_deref(), request.headers());
    LANGUAGE.scope(lang, next.run(request)).await
}

/// The language [`negotiate`] chose for this request; English outside a page route.
pub(crate) fn current() -> &'static str {
    LANGUAGE.try_with(|lang| *lang).unwrap_or("en")
}

/// The languages the default templates are translated into; English first.
pub(crate) const LANGUAGES: [&str; 2] = ["en", "fr"];

const FRENCH: &[(&str, &str)] = &[
    ("Sign in", "Se connecter"),
    ("You are signed in as", "Vous êtes connecté en tant que"),
    ("Username", "Nom d'utilisateur"),
    ("Your applications", "Vos applications"),
    ("Authorized applications", "Applications autorisées"),
    ("Password", "Mot de passe"),
    ("Authorize %s", "Autoriser %s"),
    ("Authorize %s?", "Autoriser %s ?"),
    ("Signed in as", "Connecté en tant que"),
    ("asks to:", "demande à :"),
    ("Only at:", "Uniquement auprès de :"),
    (
        "This application is not registered here. It describes itself at",
        "Cette application n’est pas enregistrée ici. Elle se décrit sur",
    ),
    ("Authorize", "Autoriser"),
    ("Cancel", "Annuler"),
    ("Sign out", "Se déconnecter"),
    ("Sign out?", "Se déconnecter ?"),
    (
        "asks to sign you out of your account",
        "demande à vous déconnecter de votre compte",
    ),
    ("Sign out of your account", "Se déconnecter de votre compte"),
    ("Stay signed in", "Rester connecté"),
    ("Signed out", "Déconnecté"),
    ("Still signed in", "Toujours connecté"),
    ("You are signed out.", "Vous êtes déconnecté."),
    ("You did not sign out.", "Vous n'avez pas été déconnecté."),
    ("Error", "Erreur"),
    ("Continue", "Continuer"),
    (
        "Enter your username and password.",
        "Saisissez votre nom d'utilisateur et votre mot de passe.",
    ),
    (
        "The username or password is not correct.",
        "Le nom d'utilisateur ou le mot de passe est incorrect.",
    ),
    (
        "The service is unavailable. Try again shortly.",
        "Le service est indisponible. Réessayez dans un instant.",
    ),
    (
        "This request cannot be completed",
        "Cette demande ne peut pas aboutir",
    ),
    ("Something went wrong", "Une erreur s'est produite"),
    ("Connect a device", "Connecter un appareil"),
    (
        "Type the code your device shows.",
        "Saisissez le code qu'affiche votre appareil.",
    ),
    ("Code", "Code"),
    (
        "That code is not right. Check it on your device and type it again.",
        "Ce code n'est pas le bon. Vérifiez-le sur votre appareil et saisissez-le à nouveau.",
    ),
    (
        "That code has already been used.",
        "Ce code a déjà été utilisé.",
    ),
    (
        "That code has expired. Start again on your device.",
        "Ce code a expiré. Recommencez sur votre appareil.",
    ),
    (
        "Too many wrong codes. Try again in %s seconds.",
        "Trop de codes erronés. Réessayez dans %s secondes.",
    ),
    ("Connect %s?", "Connecter %s ?"),
    ("The device showing", "L'appareil qui affiche"),
    ("Connect", "Connecter"),
    ("Deny", "Refuser"),
    ("Device connected", "Appareil connecté"),
    ("Device not connected", "Appareil non connecté"),
    (
        "You can go back to your device: it signs in by itself.",
        "Vous pouvez revenir à votre appareil : il se connecte tout seul.",
    ),
    (
        "You denied the request; the device gets no access.",
        "Vous avez refusé la demande ; l'appareil n'a aucun accès.",
    ),
];

fn catalog(lang: &str) -> &'static [(&'static str, &'static str)] {
    match lang {
        "fr" => FRENCH,
        _ => &[],
    }
}

/// The language of a page: the first of `ui_locales` (space-separated BCP 47
/// tags, in order of preference) that has a translation, else the best of
/// `Accept-Language` that has one, else English.
pub(crate) fn language(ui_locales: Option<&str>, headers: &HeaderMap) -> &'static str {
    let ui = ui_locales.into_iter().flat_map(str::split_whitespace);
    if let Some(lang) = ui.filter_map(supported).next() {
        return lang;
    }
    let accept = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // RFC 9110 §12.5.4: ranges weighted by q, 1 when not given; q=0 is "not this".
    let mut ranges: Vec<(f32, &str)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let tag = parts.next().filter(|t| !t.is_empty())?;
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
            (q > 0.0).then_some((q, tag))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges
        .into_iter()
        .find_map(|(_, tag)| supported(tag))
        .unwrap_or("en")
}

/// The translated language a tag asks for (`fr-CA` → `fr`), if there is one.
fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES.into_iter().find(|l| *l == primary)
}

/// `_("text")` in templates: `text` in the page's `lang`, or as it is.
fn translate(state: &State<'_, '_>, text: &str) -> String {
    let lang = state.lookup("lang");
    let lang = lang.as_ref().and_then(|v| v.as_str()).unwrap_or("en");
    catalog(lang)
        .iter()
        .find(|(english, _)| *english == text)
        .map_or(text, |(_, translated)| translated)
        .to_owned()
}

pub(crate) fn install(env: &mut Environment<'_>) {
    env.add_function("_", translate);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn ui_locales_come_first_then_accept_language_then_english() {
        let none = HeaderMap::new();
        assert_eq!(language(Some("de fr-CA en"), &none), "fr");
        assert_eq!(language(Some("en fr"), &accept("fr")), "en");
        assert_eq!(language(Some("de"), &accept("fr-FR,fr;q=0.9")), "fr");
        assert_eq!(language(None, &accept("de;q=1, fr;q=0.5, en;q=0.8")), "en");
        assert_eq!(language(None, &accept("en;q=0, fr;q=0.1")), "fr");
        assert_eq!(language(None, &accept("*")), "en");
        assert_eq!(language(None, &accept("fr;q=nonsense, ;;, FR")), "fr");
        assert_eq!(language(None, &none), "en");
    }

    #[test]
    fn every_marked_text_of_the_default_pages_has_a_french_translation() {
        let marked: Vec<String> = crate::pages::default_templates()
            .flat_map(|(_, source)| {
                ["_(\"", "_('"]
                    .into_iter()
                    .flat_map(|open| source.split(open).skip(1))
                    .map(|rest| rest[..rest.find(['"', '\'']).unwrap()].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(marked.len() >= 15, "{marked:?}");
        for text in marked {
            assert!(
                FRENCH.iter().any(|(en, _)| *en == text),
                "no French for {text:?}"
            );
        }
    }

    #[test]
    fn marked_text_is_translated_in_the_pages_language() {
        let mut env = Environment::new();
        install(&mut env);
        let render = |lang: &str| {
            env.render_str(
                "{{ _('Sign in') }}|{{ _('Not in the catalog') }}",
                minijinja::context! { lang },
            )
            .unwrap()
        };
        assert_eq!(render("fr"), "Se connecter|Not in the catalog");
        assert_eq!(render("en"), "Sign in|Not in the catalog");
    }
}
