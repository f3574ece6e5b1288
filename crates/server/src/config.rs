//! Configuration: a TOML file, then `TOLLGATE_<KEY>` environment variables over
//! it, or `TOLLGATE_<KEY>_FILE` naming a file that holds the value (the
//! container and systemd credentials convention). Every error names the key and
//! where its value came from, on one line, and never a secret's value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tollgate::Settings;
use tollgate::store::SqliteSynchronous;

use crate::http::Limits;

/// The server's own keys; every other key belongs to the provider's [`Settings`].
const BIND: &str = "bind";
const METRICS_BIND: &str = "metrics_bind";
const DATABASE_URL: &str = "database_url";
const DATABASE_TIMEOUT_SECONDS: &str = "database_timeout_seconds";
const SQLITE_SYNCHRONOUS: &str = "sqlite_synchronous";
const HTTP_HEADER_READ_TIMEOUT_SECONDS: &str = "http_header_read_timeout_seconds";
const HTTP_MAX_CONNECTIONS: &str = "http_max_connections";
const HTTP_SHUTDOWN_TIMEOUT_SECONDS: &str = "http_shutdown_timeout_seconds";
const DEFAULT_BIND: &str = "127.0.0.1:8000";
const DEFAULT_DATABASE_URL: &str = "sqlite://tollgate.db";
const DEFAULT_FILE: &str = "tollgate.toml";
const ENV_PREFIX: &str = "TOLLGATE_";
/// `TOLLGATE_<KEY>_FILE`: the value is the named file's content. No setting's name ends so.
const FILE_SUFFIX: &str = "_file";
/// Keys whose values are secrets: always read as strings, so no type error can
/// quote them (a TOML number or boolean would be named in the message).
const SECRET_KEYS: [&str; 2] = ["secret_key", DATABASE_URL];
/// Environment variables the command line reads itself (see `cli.rs`).
const CLI_ENV: [&str; 2] = ["TOLLGATE_CONFIG", "TOLLGATE_LOG_FORMAT"];

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Where Prometheus scrapes `/metrics`; `None`: no metrics listener.
    pub metrics_bind: Option<SocketAddr>,
    pub database_url: String,
    /// How long a request waits for a PostgreSQL connection before it is told
    /// the service is unavailable.
    pub database_timeout: Duration,
    /// SQLite: `normal` (a commit survives the process, not always power loss) or `full`.
    pub sqlite_synchronous: SqliteSynchronous,
    pub http: Limits,
    pub provider: Settings,
    /// The issuer was not configured but derived from `bind` (`http://<bind>`);
    /// with port 0 the server derives it again from the port it gets.
    pub issuer_from_bind: bool,
}

#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Where each key's value came from, to name it in errors.
#[derive(Default)]
struct Sources(BTreeMap<String, String>);

impl Sources {
    fn error(&self, key: &str, problem: impl fmt::Display) -> ConfigError {
        match self.0.get(key) {
            Some(source) => ConfigError(format!("configuration key `{key}` ({source}): {problem}")),
            None => ConfigError(format!("configuration key `{key}`: {problem}")),
        }
    }
}

/// Reads `file` (or ./tollgate.toml when present), then the environment.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut sources = Sources::default();
    let mut table = match file {
        Some(path) => read_file(path, &mut sources)?,
        None if Path::new(DEFAULT_FILE).exists() => {
            read_file(Path::new(DEFAULT_FILE), &mut sources)?
        }
        None => toml::Table::new(),
    };
    let mut from_env = BTreeSet::new();
    for (name, value) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if CLI_ENV.contains(&name.as_str()) {
            continue;
        }
        let key = key.to_ascii_lowercase();
        let (key, value, source) = match key.strip_suffix(FILE_SUFFIX) {
            Some(key) => (
                key.to_owned(),
                read_value_file(&name, &value)?,
                format!("from the file {value} named by {name}"),
            ),
            None => (key, value, format!("from {name}")),
        };
        if !from_env.insert(key.clone()) {
            let twin = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
            return Err(ConfigError(format!(
                "configuration key `{key}` is set by both {twin} and {twin}_FILE: keep one"
            )));
        }
        sources.0.insert(key.clone(), source);
        let value = if SECRET_KEYS.contains(&key.as_str()) {
            toml::Value::String(value)
        } else {
            env_value(&value)
        };
        table.insert(key, value);
    }
    build(table, &sources)
}

/// The content of the file a `TOLLGATE_<KEY>_FILE` variable names, without the
/// line ending editors and `echo` add.
fn read_value_file(variable: &str, path: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {path} (named by {variable}): {e}")))?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    Ok(value.strip_suffix('\r').unwrap_or(value).to_owned())
}

fn read_file(path: &Path, sources: &mut Sources) -> Result<toml::Table, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read configuration file {shown}: {e}")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
        ConfigError(format!("{shown} line {line}: {}", e.message().trim()))
    })?;
    for key in table.keys() {
        sources.0.insert(key.clone(), format!("in {shown}"));
    }
    Ok(table)
}

/// An environment value is read as a TOML value (`3600`, `true`, `["a", "b"]`)
/// when it is one, and as a plain string otherwise.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn take_string(
    table: &mut toml::Table,
    key: &str,
    sources: &Sources,
) -> Result<Option<String>, ConfigError> {
    match table.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(sources.error(
            key,
            format!("expected a string, found {}", other.type_str()),
        )),
    }
}

/// A whole number of at least 1, or `default` when the key is absent.
fn take_count(
    table: &mut toml::Table,
    key: &str,
    default: u64,
    sources: &Sources,
) -> Result<u64, ConfigError> {
    match table.remove(key) {
        None => Ok(default),
        Some(toml::Value::Integer(n)) if n >= 1 => Ok(n.unsigned_abs()),
        Some(other) => Err(sources.error(
            key,
            format!("expected a whole number of at least 1, found {other}"),
        )),
    }
}

fn build(mut table: toml::Table, sources: &Sources) -> Result<Config, ConfigError> {
    let bind_text = take_string(&mut table, BIND, sources)?;
    let bind: SocketAddr = bind_text
        .as_deref()
        .unwrap_or(DEFAULT_BIND)
        .parse()
        .map_err(|_| sources.error(BIND, "expected an address and port, like 127.0.0.1:8000"))?;
    let metrics_bind = take_string(&mut table, METRICS_BIND, sources)?
        .map(|text| {
            text.parse::<SocketAddr>().map_err(|_| {
                sources.error(
                    METRICS_BIND,
                    "expected an address and port, like 127.0.0.1:9464",
                )
            })
        })
        .transpose()?;
    if metrics_bind.is_some_and(|m| m == bind && bind.port() != 0) {
        return Err(sources.error(
            METRICS_BIND,
            "must differ from `bind`: metrics are never served on the public port",
        ));
    }
    let database_url = take_string(&mut table, DATABASE_URL, sources)?
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    if !["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|p| database_url.starts_with(p))
    {
        return Err(sources.error(DATABASE_URL, "expected sqlite:PATH or postgres://…"));
    }
    let database_timeout = Duration::from_secs(take_count(
        &mut table,
        DATABASE_TIMEOUT_SECONDS,
        2,
        sources,
    )?);
    let sqlite_synchronous = match take_string(&mut table, SQLITE_SYNCHRONOUS, sources)?.as_deref()
    {
        None | Some("normal") => SqliteSynchronous::Normal,
        Some("full") => SqliteSynchronous::Full,
        Some(_) => return Err(sources.error(SQLITE_SYNCHRONOUS, "expected `normal` or `full`")),
    };
    let http = http_limits(&mut table, sources)?;
    let issuer_given = table.contains_key("issuer");

    let mut provider = provider_settings(table, sources)?;
    if !issuer_given {
        if !bind.ip().is_loopback() {
            return Err(sources.error(
                "issuer",
                format!("must be set when `bind` ({bind}) is not a loopback address"),
            ));
        }
        provider.issuer = format!("http://{bind}");
    }
    provider
        .validate()
        .map_err(|e| sources.error(e.key, e.problem))?;
    Ok(Config {
        bind,
        metrics_bind,
        database_url,
        database_timeout,
        sqlite_synchronous,
        http,
        provider,
        issuer_from_bind: !issuer_given,
    })
}

/// The HTTP server's limits: header-read timeout, connections, shutdown deadline.
fn http_limits(table: &mut toml::Table, sources: &Sources) -> Result<Limits, ConfigError> {
    Ok(Limits {
        header_read_timeout: Duration::from_secs(take_count(
            table,
            HTTP_HEADER_READ_TIMEOUT_SECONDS,
            10,
            sources,
        )?),
        max_connections: usize::try_from(take_count(table, HTTP_MAX_CONNECTIONS, 1000, sources)?)
            .unwrap_or(usize::MAX),
        shutdown_timeout: Duration::from_secs(take_count(
            table,
            HTTP_SHUTDOWN_TIMEOUT_SECONDS,
            30,
            sources,
        )?),
    })
}

/// The library's settings: every key not taken by the server, or which key is wrong.
fn provider_settings(table: toml::Table, sources: &Sources) -> Result<Settings, ConfigError> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let key = e
            .path()
            .iter()
            .next()
            .map(|s| s.to_string())
            .unwrap_or_default();
        // toml appends "in `key`" on a line of its own; the key is named already.
        let inner = e.into_inner().to_string();
        let inner = inner.lines().next().unwrap_or_default().to_owned();
        match inner
            .strip_prefix("unknown field `")
            .and_then(|r| r.split_once('`'))
        {
            Some((unknown, _)) => sources.error(
                unknown,
                "is not a setting Tollgate knows (see docs/CONFIGURATION.md)",
            ),
            None => sources.error(&key, inner),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate::RegistrationAccess;
    use tollgate::core::authorize::ApprovalPrompt;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A TOML file that removes itself.
    struct TempToml(std::path::PathBuf);

    impl Drop for TempToml {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn file(text: &str) -> TempToml {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("tollgate-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempToml(path)
    }

    fn load_from(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let f = file(text);
        load(Some(&f.0), env(vars))
    }

    #[test]
    fn no_configuration_gives_the_defaults() {
        let c = load_from("", &[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(c.database_url, "sqlite://tollgate.db");
        assert_eq!(c.provider.issuer, "http://127.0.0.1:8000");
        assert!(c.issuer_from_bind);
        assert_eq!(c.provider.access_token_expire_seconds, 36_000);
        assert_eq!(c.database_timeout, Duration::from_secs(2));
        assert_eq!(
            c.http,
            Limits {
                header_read_timeout: Duration::from_secs(10),
                max_connections: 1000,
                shutdown_timeout: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn sqlite_synchronous_is_normal_unless_set_to_full() {
        let normal = load_from("", &[]).unwrap();
        assert_eq!(normal.sqlite_synchronous, SqliteSynchronous::Normal);
        let full = load_from("", &[("TOLLGATE_SQLITE_SYNCHRONOUS", "full")]).unwrap();
        assert_eq!(full.sqlite_synchronous, SqliteSynchronous::Full);
        let err = load_from("sqlite_synchronous = \"off\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`sqlite_synchronous`") && err.contains("`normal` or `full`"),
            "{err}"
        );
    }

    #[test]
    fn server_limits_are_read_and_must_be_positive() {
        let c = load_from(
            "http_max_connections = 50\n",
            &[("TOLLGATE_HTTP_HEADER_READ_TIMEOUT_SECONDS", "3")],
        )
        .unwrap();
        assert_eq!(c.http.max_connections, 50);
        assert_eq!(c.http.header_read_timeout, Duration::from_secs(3));
        let err = load_from("http_shutdown_timeout_seconds = 0\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`http_shutdown_timeout_seconds`") && err.contains("at least 1"),
            "{err}"
        );
        let err = load_from("database_timeout_seconds = 0\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`database_timeout_seconds`") && err.contains("at least 1"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_the_file_with_typed_values() {
        let c = load_from(
            "issuer = \"https://idp.example.com\"\naccess_token_expire_seconds = 60\n",
            &[
                ("TOLLGATE_ACCESS_TOKEN_EXPIRE_SECONDS", "120"),
                ("TOLLGATE_ROTATE_REFRESH_TOKEN", "false"),
                ("TOLLGATE_DEFAULT_SCOPES", "[\"read\"]"),
                (
                    "TOLLGATE_DATABASE_URL",
                    "postgres://postgres@127.0.0.1:5432/x",
                ),
                ("TOLLGATE_BIND", "0.0.0.0:9000"),
                ("TOLLGATE_CONFIG", "ignored: read by the command line"),
                ("OTHER_VARIABLE", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(c.provider.issuer, "https://idp.example.com");
        assert!(!c.issuer_from_bind);
        assert_eq!(c.provider.access_token_expire_seconds, 120);
        assert!(!c.provider.rotate_refresh_token);
        assert_eq!(c.provider.default_scopes, vec!["read".to_owned()]);
        assert_eq!(c.database_url, "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn choices_are_read_into_their_enums_and_a_wrong_one_names_its_key() {
        let c = load_from(
            "request_approval_prompt = \"force\"\n",
            &[("TOLLGATE_DCR_REGISTRATION_ACCESS", "open")],
        )
        .unwrap();
        assert_eq!(c.provider.request_approval_prompt, ApprovalPrompt::Force);
        assert_eq!(c.provider.dcr_registration_access, RegistrationAccess::Open);
        for (file, env) in [
            ("request_approval_prompt = \"sometimes\"\n", vec![]),
            ("", vec![("TOLLGATE_DCR_REGISTRATION_ACCESS", "anyone")]),
        ] {
            let err = load_from(file, &env).unwrap_err().to_string();
            let key = if file.is_empty() {
                "`dcr_registration_access`"
            } else {
                "`request_approval_prompt`"
            };
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn bad_toml_names_the_file_and_line() {
        let f = file("issuer = \"https://x.example\"\nscopes = [oops\n");
        let err = load(Some(&f.0), env(&[])).unwrap_err().to_string();
        assert!(
            err.contains(&f.0.display().to_string()) && err.contains("line 2"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn wrong_type_names_the_key_and_the_variable() {
        let err = load_from("", &[("TOLLGATE_ACCESS_TOKEN_EXPIRE_SECONDS", "soon")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`access_token_expire_seconds`"), "{err}");
        assert!(
            err.contains("TOLLGATE_ACCESS_TOKEN_EXPIRE_SECONDS"),
            "{err}"
        );
        let err = load_from("pkce_required = 3\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`pkce_required`") && err.contains("in "),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = load_from("acess_token_expire_seconds = 5\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`acess_token_expire_seconds`") && err.contains("not a setting"),
            "{err}"
        );
        let err = load_from("", &[("TOLLGATE_PKCE_REQUIRD", "true")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("TOLLGATE_PKCE_REQUIRD"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let err = load_from("default_scopes = [\"admin\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("configuration key `default_scopes`"),
            "{err}"
        );
        let err = load_from("", &[("TOLLGATE_BIND", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`bind`"), "{err}");
        let err = load_from("database_url = \"mysql://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`database_url`"), "{err}");
        let err = load_from("bind = 8000\n", &[]).unwrap_err().to_string();
        assert!(
            err.contains("`bind`") && err.contains("expected a string"),
            "{err}"
        );
    }

    #[test]
    fn public_bind_needs_an_explicit_issuer() {
        let err = load_from("bind = \"0.0.0.0:8000\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`issuer`") && err.contains("loopback"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = load(Some(Path::new("/nonexistent/tollgate.toml")), env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/tollgate.toml"),
            "{err}"
        );
    }

    #[test]
    fn a_file_variable_gives_the_files_content_without_its_line_ending() {
        let secret = file("s3cret-from-a-file-0123456789abcdef\n");
        let url = file("postgres://u:pw@db.internal/tollgate\r\n");
        let expiry = file("120\n");
        let c = load_from(
            "",
            &[
                ("TOLLGATE_SECRET_KEY_FILE", &secret.0.display().to_string()),
                ("TOLLGATE_DATABASE_URL_FILE", &url.0.display().to_string()),
                (
                    "TOLLGATE_ACCESS_TOKEN_EXPIRE_SECONDS_FILE",
                    &expiry.0.display().to_string(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            c.provider.secret_key.as_ref().map(|s| s.0.as_str()),
            Some("s3cret-from-a-file-0123456789abcdef")
        );
        assert_eq!(c.database_url, "postgres://u:pw@db.internal/tollgate");
        assert_eq!(c.provider.access_token_expire_seconds, 120);
    }

    #[test]
    fn a_file_variable_and_its_plain_twin_are_refused_together() {
        let secret = file("first-secret-value\n");
        let err = load_from(
            "",
            &[
                ("TOLLGATE_SECRET_KEY", "second-secret-value"),
                ("TOLLGATE_SECRET_KEY_FILE", &secret.0.display().to_string()),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("TOLLGATE_SECRET_KEY and TOLLGATE_SECRET_KEY_FILE"),
            "{err}"
        );
        assert!(!err.contains("secret-value"), "{err}");
    }

    #[test]
    fn a_missing_file_names_the_variable() {
        let err = load_from(
            "",
            &[("TOLLGATE_SECRET_KEY_FILE", "/nonexistent/credentials/key")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("/nonexistent/credentials/key")
                && err.contains("TOLLGATE_SECRET_KEY_FILE"),
            "{err}"
        );
    }

    #[test]
    fn errors_never_quote_a_secret() {
        // A secret that reads as a TOML number is still a string: no type error to quote it.
        let digits = file("12345678901234567890123456789012\n");
        let c = load_from(
            "",
            &[("TOLLGATE_SECRET_KEY_FILE", &digits.0.display().to_string())],
        )
        .unwrap();
        assert_eq!(
            c.provider.secret_key.map(|s| s.0),
            Some("12345678901234567890123456789012".to_owned())
        );
        let short = file("tiny\n");
        let err = load_from(
            "",
            &[("TOLLGATE_SECRET_KEY_FILE", &short.0.display().to_string())],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`secret_key`") && !err.contains("tiny"),
            "{err}"
        );
        let err = load_from("", &[("TOLLGATE_DATABASE_URL", "mysql://u:hunter2@h/db")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`database_url`") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn metrics_are_off_unless_bound_and_never_on_the_public_port() {
        assert_eq!(load_from("", &[]).unwrap().metrics_bind, None);
        let c = load_from("metrics_bind = \"127.0.0.1:9464\"\n", &[]).unwrap();
        assert_eq!(c.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        let err = load_from(
            "bind = \"127.0.0.1:8000\"\nmetrics_bind = \"127.0.0.1:8000\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`metrics_bind`") && err.contains("public port"),
            "{err}"
        );
        let err = load_from("", &[("TOLLGATE_METRICS_BIND", "9464")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`metrics_bind`"), "{err}");
    }

    #[test]
    fn env_value_parsing() {
        assert_eq!(env_value("42"), toml::Value::Integer(42));
        assert_eq!(
            env_value("sqlite://x.db"),
            toml::Value::String("sqlite://x.db".into())
        );
        assert_eq!(
            env_value("https://a.example"),
            toml::Value::String("https://a.example".into())
        );
    }
}
