//! What an operator runs Tollgate by: the Prometheus listener, liveness and
//! readiness through a database outage, and log files free of escape codes.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::cut::Forwarder;
use crate::support::*;

const PASSWORD: &str = "a long enough password";

/// A Prometheus text exposition as series → value, each series written
/// `name{label="value",…}` with its labels sorted; untouched counters are absent.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let value: f64 = value.parse().expect("a number");
        let series = match series.split_once('{') {
            None => series.to_owned(),
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("labels end with }");
                let mut pairs = split_labels(labels);
                pairs.sort();
                format!("{name}{{{}}}", pairs.join(","))
            }
        };
        assert!(samples.insert(series, value).is_none(), "{line} twice");
    }
    samples
}

/// `a="x",b="y,z"` → [`a="x"`, `b="y,z"`]: commas inside quotes stay.
fn split_labels(labels: &str) -> Vec<String> {
    let (mut pairs, mut current, mut quoted, mut escaped) =
        (Vec::new(), String::new(), false, false);
    for c in labels.chars() {
        match c {
            ',' if !quoted => pairs.push(std::mem::take(&mut current)),
            '"' if !escaped => {
                quoted = !quoted;
                current.push(c);
            }
            _ => current.push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    if !current.is_empty() {
        pairs.push(current);
    }
    pairs
}

struct Scraper {
    url: String,
    http: reqwest::Client,
}

impl Scraper {
    fn of(server: &Server) -> Scraper {
        let address = server
            .logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|event| event["message"] == "metrics listening")
            .and_then(|event| event["address"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no metrics listener: {}", server.log_text()));
        Scraper {
            url: format!("http://{address}/metrics"),
            http: reqwest::Client::new(),
        }
    }

    async fn scrape(&self) -> (String, BTreeMap<String, f64>) {
        let response = self.http.get(&self.url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.unwrap();
        let parsed = samples(&text);
        (text, parsed)
    }
}

/// How much each series moved between two scrapes (a series first seen counts from 0).
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_each_event_exactly_on_their_own_listener() {
    let dir = TempDir::new();
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args(["--client-id", "svc-metrics", "--name", "Service"])));
    let created =
        run(tollgate(&dir.0).args(["createuser", "alice-metrics", "--password", PASSWORD]));
    assert!(created.status.success(), "{}", stderr(&created));
    let server = Server::start(&dir.0, &[("TOLLGATE_METRICS_BIND", "127.0.0.1:0")]);
    let metrics = Scraper::of(&server);
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Warm: the sign-in page, fetched before the first scrape.
    let login = format!("{}/o/login/", server.base);
    let page = http.get(&login).send().await.unwrap().text().await.unwrap();
    let (_, before) = metrics.scrape().await;

    let mut form = tollgate_testkit::hidden_fields(&page);
    form.push(("username".into(), "alice-metrics".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = http.post(&login).form(&form).send().await.unwrap();
    let said = signed_in.text().await.unwrap();
    assert!(said.contains("You are signed in as"), "sign-in: {said}");
    let token_request = |secret: &str| {
        http.post(format!("{}/o/token/", server.base))
            .basic_auth("svc-metrics", Some(secret))
            .form(&[("grant_type", "client_credentials")])
    };
    let answer: Value = token_request(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().expect("a token").to_owned();
    let refused = token_request("not the secret").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let revoked = http
        .post(format!("{}/o/revoke_token/", server.base))
        .basic_auth("svc-metrics", Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let introspection: Value = http
        .post(format!("{}/o/introspect/", server.base))
        .basic_auth("svc-metrics", Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], false);

    let (text, after) = metrics.scrape().await;
    let expected = [
        (r#"tollgate_sign_ins_total{outcome="success"}"#, 1.0),
        (r#"tollgate_sign_ins_total{outcome="failure"}"#, 0.0),
        (
            r#"tollgate_tokens_issued_total{format="opaque",grant_type="client_credentials"}"#,
            1.0,
        ),
        (
            r#"tollgate_client_authentication_failures_total{reason="invalid"}"#,
            1.0,
        ),
        (r#"tollgate_introspections_total{active="false"}"#, 1.0),
        (r#"tollgate_introspections_total{active="true"}"#, 0.0),
        (
            r#"tollgate_http_requests_total{method="POST",route="/o/login/",status="200"}"#,
            1.0,
        ),
        (
            r#"tollgate_http_requests_total{method="POST",route="/o/token/",status="200"}"#,
            1.0,
        ),
        (
            r#"tollgate_http_requests_total{method="POST",route="/o/token/",status="401"}"#,
            1.0,
        ),
        (
            r#"tollgate_http_request_duration_seconds_count{method="POST",route="/o/token/"}"#,
            2.0,
        ),
        (
            r#"tollgate_http_requests_total{method="POST",route="/o/introspect/",status="200"}"#,
            1.0,
        ),
    ];
    for (series, delta) in expected {
        assert_eq!(moved(&before, &after, series), delta, "{series}\n{text}");
    }
    assert!(
        text.contains("# HELP tollgate_tokens_issued_total"),
        "{text}"
    );
    // Gauges sampled at the scrape: SQLite's pools, and the keys that sign.
    assert_eq!(
        after.get(r#"tollgate_db_pool_connections{pool="read",state="max"}"#),
        Some(&8.0),
        "{text}"
    );
    let key_age = after
        .get(r#"tollgate_signing_key_age_seconds{alg="ES256"}"#)
        .unwrap_or_else(|| panic!("a key age: {text}"));
    assert!((0.0..3600.0).contains(key_age), "{key_age}");
    // Labels never carry who asked.
    for who in ["svc-metrics", "alice-metrics", &token] {
        assert!(!text.contains(who), "{who} in the metrics:\n{text}");
    }
    // The public port has no metrics.
    let public = http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_metrics_bind_nothing_listens_for_metrics() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[]);
    let said = server.log_text();
    assert!(!said.contains("metrics listening"), "{said}");
    let public = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}

/// The answer to `url`, which must come within a second.
async fn within_a_second(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(1), http.get(url).send())
        .await
        .unwrap_or_else(|_| panic!("{url} did not answer within a second"))
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{url}: {:?}",
        started.elapsed()
    );
    (status, body)
}

/// Waits (a few seconds at most) for readiness to come back once the database has.
async fn ready_again(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "{url} not ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_database_gone_or_hung_the_process_is_live_and_not_ready_within_a_second() {
    let Some(db) = tollgate_testkit::postgres(
        "with_the_database_gone_or_hung_the_process_is_live_and_not_ready_within_a_second",
    )
    .await
    else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let mut postgres = Forwarder::start(target.parse().unwrap()).await;
    url.set_port(Some(postgres.address.port())).unwrap();
    let dir = TempDir::new();
    let server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_DATABASE_URL", url.as_str()),
            ("TOLLGATE_DATABASE_TIMEOUT_SECONDS", "1"),
        ],
    );
    let http = reqwest::Client::new();
    let live = format!("{}/health/live", server.base);
    let ready = format!("{}/health/ready", server.base);
    assert_eq!(within_a_second(&http, &ready).await.0, 200);

    for outage in ["refused", "hung"] {
        match outage {
            "refused" => postgres.cut(),
            _ => postgres.hang(),
        }
        for round in 0..3 {
            let (status, body) = within_a_second(&http, &live).await;
            assert_eq!(
                (status, &body["status"]),
                (200, &Value::from("ok")),
                "{outage} {round}"
            );
            let (status, body) = within_a_second(&http, &ready).await;
            assert_eq!(status, 503, "{outage} {round}: {body}");
            assert_eq!(body["reason"], "database unavailable", "{outage} {round}");
        }
        postgres.restore().await;
        ready_again(&http, &ready).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_file_has_no_escape_codes_and_request_lines_name_the_forwarded_client() {
    let dir = TempDir::new();
    let log_path = dir.0.join("tollgate.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tollgate(&dir.0)
        .arg("serve")
        .env_remove("NO_COLOR")
        .env("TOLLGATE_BIND", "127.0.0.1:0")
        .env("TOLLGATE_TRUSTED_PROXIES", "[\"127.0.0.1\"]")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let read = || std::fs::read(&log_path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let port = loop {
        let text = String::from_utf8_lossy(&read()).into_owned();
        if let Some(port) = text
            .lines()
            .find(|l| l.contains("listening"))
            .and_then(|l| l.split("127.0.0.1:").nth(1))
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
        {
            break port;
        }
        assert!(Instant::now() < deadline, "serve did not start: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let answered = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health/live"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let bytes = read();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !bytes.contains(&0x1b),
        "an escape code in the log file:\n{text}"
    );
    let request_line = text
        .lines()
        .find(|l| l.contains("/health/live") && l.contains("status=200"))
        .unwrap_or_else(|| panic!("no line for the request:\n{text}"));
    assert!(
        request_line.contains("client=\"203.0.113.7\""),
        "{request_line}"
    );
}

#[test]
fn settings_come_from_files_and_their_secrets_stay_out_of_errors() {
    let dir = TempDir::new();
    let write = |name: &str, text: &str| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let database = write("database_url", "sqlite://from-a-file.db\n");
    let key = write(
        "secret_key",
        "a secret key of thirty-two characters, at least\n",
    );
    let out = run(tollgate(&dir.0)
        .arg("check")
        .env("TOLLGATE_DATABASE_URL_FILE", &database)
        .env("TOLLGATE_SECRET_KEY_FILE", &key));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        dir.0.join("from-a-file.db").exists(),
        "the URL from the file was used"
    );

    let unreachable = write(
        "unreachable_url",
        "postgres://tollgate:hunter2-in-a-file@127.0.0.1:1/tollgate\n",
    );
    let out = run(tollgate(&dir.0)
        .arg("check")
        .env("TOLLGATE_DATABASE_URL_FILE", &unreachable));
    let line = one_line_failure(&out);
    assert!(line.contains("tollgate:***@127.0.0.1:1"), "{line}");
    assert!(
        !stdout(&out).contains("hunter2") && !line.contains("hunter2"),
        "{line}"
    );

    let short = write("short_key", "too-short-a-secret\n");
    let out = run(tollgate(&dir.0)
        .arg("check")
        .env("TOLLGATE_SECRET_KEY_FILE", &short));
    let line = one_line_failure(&out);
    assert!(
        line.contains("`secret_key`") && line.contains("TOLLGATE_SECRET_KEY_FILE"),
        "{line}"
    );
    assert!(!line.contains("too-short-a-secret"), "{line}");
}
