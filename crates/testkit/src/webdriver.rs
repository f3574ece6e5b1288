//! A small W3C WebDriver client: Debian's headless Chromium, driven through
//! `chromedriver`, for tests that need a real browser (cookies, redirects, CSP).
//!
//! Errors panic with the WebDriver message and the page's URL: these are tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key W3C WebDriver gives element references under.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One headless Chromium, with its own chromedriver and fresh profile.
pub struct Browser {
    driver: Child,
    /// chromedriver's and Chromium's TMPDIR (profile, singleton socket): removed after them.
    _tmp: crate::TempDir,
    port: u16,
    session_id: String,
    /// `http://127.0.0.1:<port>/session/<id>`: every command's prefix.
    session: String,
    http: reqwest::Client,
}

/// An element found on the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver and a Chromium session; `None` (after saying so loudly)
    /// when chromedriver is not installed, except under `CI=true`, where it panics.
    pub async fn start() -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI=true and {CHROMEDRIVER} is missing: install chromium and chromium-driver"
                );
            }
            // The harness names each test's thread after the test.
            let test = std::thread::current().name().unwrap_or("a test").to_owned();
            // Straight to stderr: the test harness captures only the print macros.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! SKIPPED the browser test {test}: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver) !!!"
            );
            return None;
        }
        let port = free_port();
        let tmp = crate::TempDir::new();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // A killed Chromium leaves its profile and socket directories behind.
            .env("TMPDIR", &tmp.0)
            // Its own process group, which Chromium joins: Drop can end them all.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null()) // its "started successfully" banner
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let http = reqwest::Client::new();
        // The browser owns the child from here: a panic below still kills it.
        let mut browser = Browser {
            driver,
            _tmp: tmp,
            port,
            session_id: String::new(),
            session: String::new(),
            http,
        };
        browser.wait_until_ready().await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox", // containers without user namespaces
                    "--disable-gpu",
                    "--disable-dev-shm-usage", // a small /dev/shm crashes tabs
                    "--window-size=1280,1000",
                    "--lang=en-US",
                ],
            },
        }}});
        let created = browser
            .http
            .post(format!("http://127.0.0.1:{port}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json::<Value>()
            .await
            .expect("a JSON answer");
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver could not start Chromium: {created}"));
        browser.session_id = id.to_owned();
        browser.session = format!("http://127.0.0.1:{port}/session/{id}");
        Some(browser)
    }

    /// Polls `GET /status` until chromedriver says it is ready (20 s at most).
    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = format!("http://127.0.0.1:{}/status", self.port);
        loop {
            if let Ok(response) = self.http.get(&status).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            if let Ok(Some(exit)) = self.driver.try_wait() {
                panic!("chromedriver exited before it was ready: {exit}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends one command; the answer's `value`, or `Err` with WebDriver's error.
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, String)> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ("transport".to_owned(), e.to_string()))?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| ("not JSON".to_owned(), e.to_string()))?;
        let value = body["value"].clone();
        match value["error"].as_str() {
            Some(error) => Err((
                error.to_owned(),
                value["message"].as_str().unwrap_or_default().to_owned(),
            )),
            None => Ok(value),
        }
    }

    /// Sends one command, and panics with the error and the page's URL if it fails.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_command(method, path, body).await {
            Ok(value) => value,
            Err((error, message)) => self.fail(path, &error, &message).await,
        }
    }

    async fn fail<T>(&self, what: &str, error: &str, message: &str) -> T {
        let url = self
            .try_command(reqwest::Method::GET, "/url", None)
            .await
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|_| "(unknown)".to_owned());
        panic!("WebDriver {what}: {error}: {message}\n  at {url}");
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current page's `<title>`.
    pub async fn title(&self) -> String {
        self.get("/title")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear
    /// (a click's navigation may still be loading).
    pub async fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let query = json!({ "using": "css selector", "value": css });
        loop {
            match self
                .try_command(reqwest::Method::POST, "/element", Some(query.clone()))
                .await
            {
                Ok(value) => {
                    let id = value[ELEMENT_KEY].as_str().expect("an element reference");
                    return Element {
                        browser: self,
                        id: id.to_owned(),
                    };
                }
                Err((error, message)) if Instant::now() >= deadline => {
                    self.fail(&format!("find {css:?} (10 s)"), &error, &message)
                        .await
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The page's visible text (`innerText` of the body).
    pub async fn page_text(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let body = self.find("body").await;
            match self
                .try_command(reqwest::Method::GET, &body.path("text"), None)
                .await
            {
                Ok(value) => return value.as_str().unwrap_or_default().to_owned(),
                // The page moved on between finding its body and reading it: read the new one.
                Err((error, _))
                    if error == "stale element reference" && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err((error, message)) => {
                    return self.fail("read the page's text", &error, &message).await;
                }
            }
        }
    }

    /// Saves a PNG of the viewport at `path`, creating its directories.
    pub async fn screenshot(&self, path: &Path) {
        let encoded = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 text"))
            .expect("a base64 screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the screenshot directory");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Polls the page's text until it contains `needle` and returns it; panics after `timeout`.
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.page_text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the page did not say {needle:?} within {timeout:?}; it says: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls the URL until `predicate` holds and returns it; panics after `timeout`.
    pub async fn wait_for_url(
        &self,
        predicate: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.url().await;
            if predicate(&url) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "the URL did not change as expected within {timeout:?}; still at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Element<'_> {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    /// Clicks it (WebDriver waits for a navigation it starts to begin loading).
    pub async fn click(&self) {
        self.browser.post(&self.path("click"), json!({})).await;
    }

    /// Clears the field, then types `text` into it.
    pub async fn fill(&self, text: &str) {
        self.browser.post(&self.path("clear"), json!({})).await;
        self.browser
            .post(&self.path("value"), json!({ "text": text }))
            .await;
    }

    /// Its rendered text.
    pub async fn text(&self) -> String {
        let value = self.browser.get(&self.path("text")).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// An attribute (or property, as WebDriver resolves it), `None` when absent.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        let value = self
            .browser
            .get(&self.path(&format!("attribute/{name}")))
            .await;
        value.as_str().map(str::to_owned)
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver quits Chromium and removes its profile), then
    /// chromedriver. Blocking, raw HTTP: Drop cannot await, and may run on a runtime.
    fn drop(&mut self) {
        if !self.session_id.is_empty() {
            let _ = delete_blocking(self.port, &format!("/session/{}", self.session_id));
        }
        // Killing chromedriver alone leaves Chromium running: kill its whole group.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `DELETE path` on chromedriver over a plain socket, waiting at most ~5 s.
fn delete_blocking(port: u16, path: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // Chromedriver answers once Chromium has quit; it may keep the socket open after.
    let mut answer = [0u8; 64];
    match stream.read(&mut answer)? {
        0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
        _ => Ok(()),
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Numbered screenshots of one test: `<dir>/screenshots/<test>/NN-<page>.png`.
pub struct Screenshots {
    dir: PathBuf,
    taken: usize,
}

impl Screenshots {
    /// `target_tmpdir` is the test's `env!("CARGO_TARGET_TMPDIR")`; the test's old
    /// screenshots are removed so the directory shows this run only.
    pub fn new(target_tmpdir: &str, test: &str) -> Self {
        let dir = Path::new(target_tmpdir).join("screenshots").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        Screenshots { dir, taken: 0 }
    }

    /// Saves the browser's viewport as the next numbered screenshot; returns its path.
    pub async fn take(&mut self, browser: &Browser, page: &str) -> PathBuf {
        self.taken += 1;
        let path = self.dir.join(format!("{:02}-{page}.png", self.taken));
        browser.screenshot(&path).await;
        path
    }
}
