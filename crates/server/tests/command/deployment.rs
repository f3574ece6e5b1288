//! What docs/DEPLOYMENT.md ships and says: the systemd unit in contrib/ passes
//! `systemd-analyze verify`, and the guide's nginx and Caddy sub-path
//! configurations serve Tollgate's documents with the client's own address.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::support::*;

const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../contrib/systemd/tollgate.service"
);

/// A tool the test needs is not installed: say so loudly and skip, except under
/// `CI=true`, where it fails (as `tollgate_testkit::postgres` treats PostgreSQL).
fn missing(program: &str, test: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and {program} is not installed");
    }
    // Straight to stderr: the test harness captures only the print macros.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPED {test}: {program} is not installed !!!"
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let found = Command::new("systemd-analyze").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        missing(
            "systemd-analyze",
            "the_systemd_unit_passes_systemd_analyze_verify",
        );
        return;
    }
    let unit = std::fs::read_to_string(UNIT).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/tollgate serve"),
        "{unit}"
    );
    // verify checks that the binary exists: point the unit at the one just built.
    let unit = unit.replace("/usr/local/bin/tollgate", env!("CARGO_BIN_EXE_tollgate"));
    let dir = TempDir::new();
    let path = dir.0.join("tollgate.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    // Unknown or misspelt directives and unparsable values are only warned about
    // (`tollgate.service:19: Unknown key …`, exit status 0): any line about the unit
    // fails. Lines about other units of the host are not this unit's problem.
    let err = stderr(&out);
    let problems: Vec<&str> = err.lines().filter(|l| l.contains("tollgate")).collect();
    assert!(
        out.status.success() && problems.is_empty(),
        "systemd-analyze verify {}: {err}",
        Path::new(UNIT).display(),
    );
}

#[test]
fn the_unit_keeps_its_hardening_and_reads_the_secret_key_as_a_credential() {
    let unit = std::fs::read_to_string(UNIT).unwrap();
    for line in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=tollgate",
        "LoadCredential=secret_key:/etc/tollgate/secret_key",
        "Environment=TOLLGATE_SECRET_KEY_FILE=%d/secret_key",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "{line} missing from the unit"
        );
    }
}

/// The proxies docs/DEPLOYMENT.md configures for a sub-path, as it writes them.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Nginx,
    Caddy,
}

/// A proxy in front of `tollgate serve`, on a port of its own.
struct Proxy {
    child: std::process::Child,
    base: String,
}

impl Proxy {
    /// `None` (said on stderr) where the proxy is not installed, outside CI.
    fn start(kind: Kind, dir: &Path, upstream: &str, port: u16) -> Option<Proxy> {
        let program = match kind {
            Kind::Nginx => "nginx",
            Kind::Caddy => "caddy",
        };
        if Command::new(program).arg("-v").output().is_err()
            && Command::new(program).arg("version").output().is_err()
        {
            missing(program, &format!("Tollgate on a sub-path behind {program}"));
            return None;
        }
        let prefix = dir.join(program);
        std::fs::create_dir_all(&prefix).unwrap();
        let shown = prefix.display();
        let mut command = Command::new(program);
        match kind {
            Kind::Nginx => {
                let conf = format!(
                    r#"worker_processes 1;
pid {shown}/nginx.pid;
events {{}}
http {{
    access_log off;
    client_body_temp_path {shown}/body;
    proxy_temp_path {shown}/proxy;
    server {{
        listen 127.0.0.1:{port};
        location /auth/ {{
            proxy_pass http://{upstream}/;
            proxy_set_header Forwarded "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        location = /.well-known/oauth-authorization-server/auth {{
            proxy_pass http://{upstream};
            proxy_set_header Forwarded "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#
                );
                std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
                command
                    .arg("-p")
                    .arg(&prefix)
                    .arg("-c")
                    .arg(prefix.join("nginx.conf"))
                    .args(["-e", "stderr", "-g", "daemon off;"]);
            }
            Kind::Caddy => {
                // The guide's site block, on plain HTTP: certificates are Caddy's own business.
                let conf = format!(
                    r#"{{
    admin off
    auto_https off
    storage file_system {shown}/data
}}
http://127.0.0.1:{port} {{
    handle_path /auth/* {{
        reverse_proxy {upstream} {{
            header_up -Forwarded
        }}
    }}
    handle /.well-known/oauth-authorization-server/auth {{
        reverse_proxy {upstream} {{
            header_up -Forwarded
        }}
    }}
}}
"#
                );
                std::fs::write(prefix.join("Caddyfile"), conf).unwrap();
                command
                    .args(["run", "--adapter", "caddyfile", "--config"])
                    .arg(prefix.join("Caddyfile"))
                    .env("HOME", &prefix)
                    .env("XDG_CONFIG_HOME", &prefix)
                    .env("XDG_DATA_HOME", &prefix)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
            }
        }
        let mut child = command.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{program} exited: {status}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{program} did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Some(Proxy {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // TERM, not KILL: nginx's master then stops its workers, which a KILL would orphan.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Tollgate at `/auth` behind `kind`, configured as the guide says: its
/// documents at the proxy's URLs, and the client the proxy saw in the log.
async fn on_a_sub_path_behind(kind: Kind) {
    let dir = TempDir::new();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}/auth");
    // Tollgate first (its port is only known once it listens), then the proxy in front.
    let server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_ISSUER", issuer.as_str()),
            ("TOLLGATE_PUBLIC_PATH", "/auth"),
            ("TOLLGATE_TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ],
    );
    let upstream = server.base.trim_start_matches("http://").to_owned();
    let Some(proxy) = Proxy::start(kind, &dir.0, &upstream, port) else {
        return;
    };
    // The browser is at 127.0.0.3, the proxy reaches Tollgate from 127.0.0.1.
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let get = |path: &str| http.get(format!("{}{path}", proxy.base)).send();

    let discovery: serde_json::Value = get("/auth/.well-known/openid-configuration")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str(), "{kind:?}");
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{issuer}/o/authorize/").as_str()
    );
    let metadata = get("/.well-known/oauth-authorization-server/auth")
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200, "{kind:?}");
    let metadata: serde_json::Value = metadata.json().await.unwrap();
    assert_eq!(metadata["issuer"], issuer.as_str());
    let jwks = get("/auth/o/.well-known/jwks.json").await.unwrap();
    assert_eq!(jwks.status(), 200, "{kind:?}");

    // A client cannot name itself: the address the proxy saw is the one logged.
    // Tollgate prefers `Forwarded` to `X-Forwarded-For` and both proxies pass a
    // client's `Forwarded` on untouched, so the guide's blocks remove it.
    let ready = http
        .get(format!("{}/auth/health/ready", proxy.base))
        .header("x-forwarded-for", "198.51.100.1")
        .header("forwarded", "for=198.51.100.2")
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{kind:?}");
    let logs = server.log_text();
    let line = logs
        .lines()
        .find(|l| l.contains("/health/ready") && l.contains("finished processing request"))
        .unwrap_or_else(|| panic!("no request line:\n{logs}"));
    assert!(line.contains("\"127.0.0.3\""), "{kind:?}: {line}");
    assert!(!line.contains("198.51.100."), "{kind:?}: {line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_nginx_on_a_sub_path_as_the_guide_says() {
    on_a_sub_path_behind(Kind::Nginx).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_caddy_on_a_sub_path_as_the_guide_says() {
    on_a_sub_path_behind(Kind::Caddy).await;
}
